// The bash both generated scripts are written in: a lesson's --script (report/script.ts) and a
// run's (container/script.ts, which `boxlab run` executes). One module renders a command, a file
// write, a step's comments, a requirement, a check, the placeholders and the cleanup stack,
// so the two cannot drift apart again (they had: `set +e` against `set +eu`, a file write split
// by a literal newline, step comments landing after the next step's once batched).
import { comment, literal, quote, render, type Cmd } from '../shell/cmd.js';
import type { Check, Fact, Feature, Requirement } from '../model/lesson.js';
import { isFact } from '../engine/facts.js';
import { SCRIPT_VALUES, WORKSPACE } from '../engine/workspace.js';

/** A command as a script runs it: its shell form where it has one (a builtin, no process). */
export const shellLine = (c: Cmd): string => c.inline ?? render(c);

/** `tee FILE <<< TEXT` as bash's own printf: the same bytes (a here-string ends in a newline),
 *  no process. Undefined for any other command. */
export function fileWrite(c: Cmd): string | undefined {
  if (c.file !== 'tee' || c.args.length !== 1 || c.stdin === undefined) return undefined;
  return `printf '%s\\n' ${quote(c.stdin)} > ${quote(c.args[0]!)}`;
}

/** The placeholders as shell variables, in order (each may use the ones before): the run id
 *  (drawn by the script unless given), the owning process (the script's shell), the workspace. */
export function placeholderLines(runId?: string): string[] {
  // printf -v: the same value as SCRIPT_VALUES.RUN_ID, without the subshell.
  return [runId ? `RUN_ID=${runId}` : `printf -v RUN_ID '%08x' "$SRANDOM"`, `HOST_PID=${SCRIPT_VALUES.HOST_PID}`, ...WORKSPACE.map(([name, template]) => `${name}=${quote(template)}`)];
}

/** The names placeholderLines defines. */
export const PLACEHOLDER_NAMES: readonly string[] = [...Object.keys(SCRIPT_VALUES), ...WORKSPACE.map(([n]) => n)];

/**
 * The cleanup stack: `boxlab_on_exit CMD` records an undo before the thing it undoes is made;
 * on any exit they run in reverse with -e and -u off (one that fails must not stop the rest),
 * and the script exits with the status it had. `say`: each is printed first (a lesson teaches
 * its teardown, and defines boxlab_say); otherwise they run silently (a run's output is its
 * payload's). `first`: undone last, whatever else happens.
 */
export function cleanupStack(o: { say: boolean; first?: string[] }): string[] {
  const each = o.say ? ['    boxlab_say "cleanup: ${BOXLAB_CLEANUP[i]}"', '    eval "${BOXLAB_CLEANUP[i]}"'] : ['    eval "${BOXLAB_CLEANUP[i]}" >/dev/null 2>&1'];
  return [
    `BOXLAB_CLEANUP=(${(o.first ?? []).map(literal).join(' ')})`,
    'boxlab_on_exit() { BOXLAB_CLEANUP+=("$1"); }',
    'boxlab_cleanup() {',
    '  local status=$? i',
    '  set +eu',
    '  for ((i = ${#BOXLAB_CLEANUP[@]} - 1; i >= 0; i--)); do',
    ...each,
    '  done',
    '  exit "$status"',
    '}',
    'trap boxlab_cleanup EXIT',
  ];
}

/** One entry of the cleanup stack; the text is eval'd then, so placeholders stay unexpanded. */
export const onExit = (undo: string): string => `boxlab_on_exit ${literal(undo)}`;

/** `# TEXT`, one line per line of text, control characters shown escaped. */
export const commentLines = (text: string): string[] => text.trim().split('\n').map((l) => `# ${comment(l)}`.trimEnd());

/** The comment naming a step's kernel feature. */
export const featureComment = (f: Feature): string => `# kernel feature: ${comment(`${f.name} — ${f.syscalls.join(', ')} — man ${f.man.join(', ')}`)}`;

/** A bash condition true when the requirement is NOT met (the path is missing, the command fails). */
export const unmet = (r: Requirement): string => ('path' in r ? `[ ! -e ${quote(r.path)} ]` : `! ${render(r.command)} >/dev/null 2>&1`);

/** A fact as a bash word that evaluates to the same text the engine reads. */
export function factWord(f: Fact): string {
  if ('file' in f && f.grep !== undefined) return `"$(grep -F -e ${quote(f.grep)} ${quote(f.file)} 2>/dev/null | head -n 1)"`;
  if ('file' in f) return `"$(cat ${quote(f.file)} 2>/dev/null)"`;
  if ('link' in f) return `"$(readlink ${quote(f.link)})"`;
  if ('out' in f) return `"$(${render(f.out)} 2>/dev/null)"`;
  if ('alive' in f) return `"$(boxlab_alive ${quote(f.alive)})"`;
  return `"$({ ${render(f.status)}; } >/dev/null 2>&1; echo $?)"`;
}

const valueWord = (x: string | Fact): string => (isFact(x) ? factWord(x) : quote(x));

/** A check as a call of the script's boxlab_check. */
export function checkLine(c: Check): string {
  const [op, expected] =
    'equals' in c ? ['equals', valueWord(c.equals)] : 'differs' in c ? ['differs', valueWord(c.differs)] : 'contains' in c ? ['contains', quote(c.contains)] : ['lacks', quote(c.lacks)];
  return `boxlab_check ${quote(c.title)} ${op} ${factWord(c.fact)} ${expected}`;
}
