// The learner's shell for one exercise: bash on the host with the exercise's variables, whose
// prompt hook asks boxlab (on fd 3) to read the kernel's facts again after every command.
import chalk from 'chalk';
import type { Vars } from '../shell/cmd.js';
import type { Runner } from '../shell/spawn.js';
import type { Exercise } from '../engine/exercise.js';
import { exports, privateFile, verify, type CheckLine } from '../engine/practice.js';
import { rmSync } from 'node:fs';
import { evidence, screenWidth } from '../report/terminal.js';
import { wrapText } from '../report/fit.js';

export type Ending = 'solved' | 'skipped' | 'left';

export interface ShellEvents {
  hint(level: number): void;
  check(ok: boolean, lines: CheckLine[]): void;
  solved(): void;
}

/** The bash the learner types into. Functions talk to boxlab on fd 3; answers come back on it. */
export function rcFile(vars: Vars, label: string): string {
  return [
    exports(vars),
    '__boxlab() { printf "%s\\n" "$1" >&3 2>/dev/null && IFS= read -r __boxlab_reply <&3; }',
    'check() { __boxlab check; }',
    'hint() { __boxlab hint; }',
    'goal() { __boxlab goal; }',
    'solution() {',
    '  __boxlab solution',
    '  if [ "$__boxlab_reply" = confirm ]; then',
    '    local a; read -r -p "No hint taken yet. Show the solution anyway? [y/N] " a',
    '    [ "$a" = y ] && __boxlab solution!',
    '  fi',
    '}',
    'next() { __boxlab next; [ "$__boxlab_reply" = next ] && exit 0; }',
    'skip() { __boxlab skip; exit 0; }',
    'PROMPT_COMMAND=\'__boxlab prompt; [ "$__boxlab_reply" = next ] && exit 0\'',
    `PS1=${quoteForBash(`\\[\\e[1;36m\\][${label}]\\[\\e[0m\\] \\w# `)}`,
    'cd "${WORK:-/}" 2>/dev/null || cd /',
    '',
  ].join('\n');
}

const quoteForBash = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function evidenceLines(lines: CheckLine[]): string[] {
  // The lessons' wording ("it is X, which differs from ...", "none of its 3 lines contains ...").
  return lines.map((l) => `  ${l.ok ? chalk.green('✓') : chalk.red('✗')} ${l.title}\n      ${chalk.dim(short(l.source))}: ${evidence(l.check, l.actual, l.expected, 'that')}`);
}
/** How long after an unsolved prompt the checks are read once more. */
const LATE_CHECK_MS = 1500;

/** At most `n` columns: a projector's width. */
const short = (s: string, n = 90): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * Open the shell and answer its questions until the learner leaves it: `next` once solved,
 * `skip`, or exit/Ctrl-D. The checks run after every command the learner's prompt returns from.
 */
export async function exerciseShell(ex: Exercise, label: string, vars: Vars, runner: Runner, dir: string, out: NodeJS.WritableStream, on: ShellEvents, signal?: AbortSignal): Promise<Ending> {
  const say = (...lines: string[]): void => void out.write(lines.join('\n') + '\n');
  let solved = false;
  let skipped = false;
  let hints = 0;
  let holding = '';
  // A command may finish before what it started has acted (a container's process writing its
  // output): the checks are read once more a moment after an unsolved prompt, and a success
  // then is said at once, not at the learner's next command.
  let later: NodeJS.Timeout | undefined;
  let checking = false;
  let ended = false;
  const hailSolved = (lines: CheckLine[]): void => {
    solved = true;
    on.solved();
    say('', chalk.green.bold(`✓ solved: ${ex.title}`), ...evidenceLines(lines), chalk.dim('  type next for the next exercise, or keep exploring'), '');
  };
  const checkAgainSoon = (): void => {
    clearTimeout(later);
    later = setTimeout(async () => {
      if (solved || checking || ended || signal?.aborted) return;
      checking = true;
      try {
        const v = await verify(ex, vars, runner);
        if (v.ok && !solved && !ended) hailSolved(v.lines);
      } finally {
        checking = false;
      }
    }, LATE_CHECK_MS);
  };
  const answer = async (q: string): Promise<string> => {
    if (q === 'prompt' || q === 'check') {
      clearTimeout(later);
      const v = await verify(ex, vars, runner);
      on.check(v.ok, v.lines);
      if (v.ok && !solved) {
        hailSolved(v.lines);
        return 'solved';
      }
      if (!v.ok) checkAgainSoon();
      // Which checks hold, not how many: one may flip each way and leave the count as it was.
      const state = v.lines.map((l) => (l.ok ? '1' : '0')).join('');
      if (q === 'check') say(...evidenceLines(v.lines));
      else if (!v.ok && state !== holding) say(chalk.dim(`  · ${v.lines.filter((l) => l.ok).length} of ${v.lines.length} checks hold · check: what still differs · hint: a hint`));
      holding = state;
      return solved ? 'solved' : 'open';
    }
    if (q === 'goal') return say(...wrapText(ex.goal, screenWidth(), 'Goal: ').map((l) => chalk.bold(l))), 'ok';
    if (q === 'hint') {
      if (hints < ex.hints.length) hints++;
      on.hint(hints);
      const lead = `Hint ${hints}/${ex.hints.length}: `;
      const [first = '', ...rest] = wrapText(ex.hints[hints - 1]!, screenWidth(), lead);
      say(chalk.yellow(lead) + first.slice(lead.length), ...rest, ...(hints < ex.hints.length ? [chalk.dim('  hint again for a closer one')] : []));
      return 'ok';
    }
    if (q === 'solution' && hints === 0) return 'confirm';
    if (q === 'solution' || q === 'solution!') {
      say(chalk.yellow('Solution:'), ...ex.solution.trim().split('\n').map((l) => `  ${l}`));
      return 'ok';
    }
    if (q === 'next') {
      if (solved) return 'next';
      say(chalk.dim('  not solved yet: check says what still differs; skip moves on without it'));
      return 'no';
    }
    if (q === 'skip') return (skipped = true), 'next';
    return 'unknown';
  };
  const rc = privateFile(dir, 'bashrc', rcFile(vars, label));
  try {
    await runner.converse({ file: 'bash', args: ['--rcfile', rc, '-i'] }, { BOXLAB_EXERCISE: label }, answer, signal);
  } finally {
    ended = true;
    clearTimeout(later);
    rmSync(rc, { force: true });
  }
  return solved ? 'solved' : skipped ? 'skipped' : 'left';
}
