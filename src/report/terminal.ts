// The learner's view: each command with its kernel feature and the kernel's evidence.
import chalk from 'chalk';
import type { Event } from '../engine/events.js';
import type { Check } from '../model/lesson.js';
import { expectation, isFact, shownValue } from '../engine/facts.js';
import { renderMarkdown, type Style } from './markdown.js';
import { commandFitter } from './fit.js';
import { withShortNames } from '../paths.js';
import { asShellVariables } from '../shell/cmd.js';

const style: Style = { code: chalk.cyan, bold: chalk.bold, italic: chalk.italic, dim: chalk.dim, heading: (s) => chalk.bold.underline(s) };
const MAX_OUTPUT_LINES = 14;

/** Output at most MAX_OUTPUT_LINES long: its head and its tail, the lines between counted. The
 *  tail is kept because a listing's news is often last (the layers a build just added). */
function block(text: string, prefix: string, width = 1000): string[] {
  const lines = text.replace(/\n+$/, '').split('\n');
  const room = width - 6;
  const fit = (l: string): string => prefix + (l.length > room ? l.slice(0, room - 1) + '…' : l);
  if (!text.trim()) return [];
  if (lines.length <= MAX_OUTPUT_LINES) return lines.map(fit);
  const head = Math.ceil((MAX_OUTPUT_LINES - 1) / 2);
  const tail = MAX_OUTPUT_LINES - 1 - head;
  return [...lines.slice(0, head).map(fit), prefix + chalk.dim(`… ${lines.length - head - tail} more lines …`), ...lines.slice(-tail).map(fit)];
}

const quoted = (s: string): string => JSON.stringify(s).replace(/\\"/g, '"');

/** What the check expected, with the values this run filled in (\${WORK}, a flag's run id):
 *  EXPECTED is the verdict's ("contains X", "not X" or the other fact's value). */
function expectedInWords(c: Check, expected: string, against: string): string {
  const other = 'equals' in c ? c.equals : 'differs' in c ? c.differs : undefined;
  if (isFact(other)) return 'equals' in c ? `it is the same as ${against}` : `it differs from ${against}`;
  const prefix = 'contains' in c ? 'contains ' : 'lacks' in c ? 'lacks ' : 'differs' in c ? 'not ' : '';
  return expectation(c, () => (expected.startsWith(prefix) ? expected.slice(prefix.length) : expected));
}

/** The evidence of a check in words a learner reads aloud: what was read, what was expected,
 *  and whether they agree. A contains/lacks check shows only the line that proves the point,
 *  so the evidence fits on the screen. `against` names the other side of a comparison with
 *  another fact ("the host's"). */
export function evidence(c: Check, actual: string, expected: string, against = 'the other value'): string {
  const lines = actual.split('\n').filter(Boolean);
  const of = lines.length > 1 ? 'its line ' : '';
  if (actual === '') return `nothing was read (an unreadable file, a vanished process or no output), so nothing proves that ${expectedInWords(c, expected, against)}`;
  if ('contains' in c) {
    const needle = expected.replace(/^contains /, '');
    const line = lines.find((l) => l.includes(needle));
    if (line !== undefined) return `${of}${shownValue(line)} contains ${quoted(needle)}, as expected`;
    return lines.length > 1 ? `none of its ${lines.length} lines contains ${quoted(needle)}, but one should` : `${shownValue(actual)} does not contain ${quoted(needle)}, but it should`;
  }
  if ('lacks' in c) {
    const needle = expected.replace(/^lacks /, '');
    const line = lines.find((l) => l.includes(needle));
    if (line !== undefined) return `${of}${shownValue(line)} contains ${quoted(needle)}, and it should not`;
    return lines.length > 1 ? `none of its ${lines.length} lines contains ${quoted(needle)}, as expected` : `${shownValue(actual)} does not contain ${quoted(needle)}, as expected`;
  }
  const status = 'status' in c.fact;
  const alive = 'alive' in c.fact;
  const is = (v: string): string =>
    status ? `exit status ${v}${v === '0' ? ': it succeeded' : ': it failed'}` : alive && (v === 'yes' || v === 'no') ? (v === 'yes' ? 'the process is alive' : 'the process is gone') : `it is ${shownValue(v)}`;
  if ('differs' in c) {
    const other = expected.replace(/^not /, '');
    if (typeof c.differs !== 'string') {
      return actual !== other ? `${is(actual)}, which differs from ${against} (${shownValue(other)})` : `${is(actual)}, the same as ${against}, and it should differ`;
    }
    if (status && other === '0') return actual !== '0' ? `${is(actual)}, as it should` : `${is(actual)}, but it should have failed`;
    return actual !== other ? `${is(actual)}, not ${shownValue(other)}, as expected` : `${is(actual)}, and it should be anything but that`;
  }
  if (typeof c.equals !== 'string') {
    if (actual === expected) return `${is(actual)}, the same as ${against}`;
    return lineDiff(actual, expected, against) ?? `${is(actual)}, but ${against} is ${shownValue(expected)}, and they should be the same`;
  }
  if (actual === expected) return `${is(actual)}, as expected`;
  if (!status && !alive) {
    const diff = lineDiff(actual, expected, 'the expected value');
    if (diff) return diff;
  }
  if (alive) return `${is(actual)}, but it should be ${expected === 'no' ? 'gone' : expected === 'yes' ? 'alive' : shownValue(expected)}`;
  return `${is(actual)}, but ${status ? `exit status ${expected}` : shownValue(expected)} was expected`;
}

/** Two listings of several lines that differ, said by the lines that differ: both sides show
 *  only their first line otherwise, and "bin/ … (2 lines)" against "bin/ … (2 lines)" says
 *  nothing. Undefined where either side is a single line. */
function lineDiff(actual: string, expected: string, against: string): string | undefined {
  const a = actual.split('\n').filter(Boolean);
  const e = expected.split('\n').filter(Boolean);
  if (a.length < 2 && e.length < 2) return undefined;
  const extra = a.filter((l) => !e.includes(l));
  const missing = e.filter((l) => !a.includes(l));
  const list = (ls: string[]): string => ls.slice(0, 4).map(shownValue).join(', ') + (ls.length > 4 ? ` and ${ls.length - 4} more` : '');
  const lines = (n: number): string => `${n} line${n === 1 ? '' : 's'}`;
  const parts = [...(extra.length ? [`extra ${list(extra)}`] : []), ...(missing.length ? [`missing ${list(missing)}`] : [])];
  return `it has ${lines(a.length)}, ${against} ${e.length}: ${parts.length ? parts.join('; ') : 'the same lines in another order'}`;
}

/** Columns a line takes on a terminal: colour codes take none, an emoji takes two. */
export function columns(line: string): number {
  let n = 0;
  for (const ch of line.replace(/\x1b\[[0-9;]*m/g, '')) n += /\p{Extended_Pictographic}/u.test(ch) && ch.codePointAt(0)! > 0x2fff ? 2 : 1;
  return n;
}

/** The screen's width, at most 100 columns (a projector's), from the terminal or $COLUMNS. */
export const screenWidth = (): number => Math.min(process.stdout.columns || Number(process.env.COLUMNS) || 88, 100);

export interface TerminalOptions {
  /** Every command whole, as one line, however wide (--explain). */
  explain?: boolean;
  /** compact: a check's value only, on its title's line; full: its source and evidence in
   *  words; auto (default): full where the line fits the screen, without the source where not. */
  evidence?: 'auto' | 'compact' | 'full';
  /** [full path, name]: boxlab's own commands said by name where PATH finds them. */
  names?: [string, string][];
}

export function terminalFormatter(out: NodeJS.WritableStream, width = screenWidth(), opts: TerminalOptions = {}) {
  const say = (...lines: string[]): void => void (lines.length && out.write(lines.join('\n') + '\n'));
  // PIDs a run kept in variables (BOX=28614), so its wrappers are named as in a dry run.
  const pidNames = new Map<string, string>();
  const fitter = commandFitter(width, (pid) => pidNames.get(pid));
  const mode = opts.evidence ?? 'auto';
  /** A command after `prefix`, fitted to the screen unless --explain asks for it whole. */
  const command = (text: string, prefix: string, paint: (s: string) => string = (s) => s, rest?: string): string[] => {
    const shown = readable(text);
    if (opts.explain) return [prefix + paint(shown)];
    const { legend, lines } = fitter.fit(shown, prefix, rest);
    return [...legend.map((l) => chalk.dim(l)), ...lines.map((l, i) => (i === 0 ? prefix + paint(l.slice(prefix.length)) : paint(l)))];
  };
  /** Text wrapped to the screen after a lead, continuing under it. */
  const wrapped = (lead: string, text: string, rest = ' '.repeat(8)): string[] => {
    if (opts.explain || columns(lead) + text.length <= width) return [lead + text];
    const lines: string[] = [];
    let cur = lead;
    let fresh = true; // nothing of the text on this line yet
    for (const word of text.split(' ')) {
      if (!fresh && columns(cur) + 1 + columns(word) > width) {
        lines.push(cur);
        cur = rest + word;
      } else cur += (fresh ? '' : ' ') + word;
      fresh = false;
    }
    lines.push(cur);
    return lines.flatMap((l) => (columns(l) > width ? [l.slice(0, width - 1) + '…'] : [l]));
  };
  let lastSource: string | undefined;
  /** Wide sources already spelled out, and the step that did. */
  const spelled = new Map<string, number>();
  let stepNo = 0;
  /** The recap printed at the end of a real run: each step once (its last run), its feature,
   *  how many of its checks held. */
  const recap = new Map<number, { title: string; feature?: string; ok: number; failed: number; skipped?: string }>();
  /** In a dry run, a value known only at run time (a PID) reads as $NAME, not "${NAME}". */
  const readable = (raw: string): string => {
    const text = withShortNames(raw, opts.names ?? []);
    return dryRun ? asShellVariables(text) : text;
  };
  /** Where a check or probe reads its fact: in its line when it fits, else on lines of its own,
   *  and only once per step when several read the same. */
  const sourced = (lead: string, text: string, words: string, paint: (s: string) => string): string[] => {
    const source = readable(text);
    const after = readable(words);
    const same = source === lastSource;
    const previous = lastSource;
    lastSource = source;
    if (opts.explain || columns(lead) + source.length + 5 + after.length <= width) return [paint(`${lead} (${source})${after ? ': ' : ''}`) + after];
    if (same) return wrapped(paint(`${lead} (the same as above)${after ? ': ' : ''}`), after);
    if (source === `${previous}; echo $?`) return wrapped(paint(`${lead} (the exit status of the command above)${after ? ': ' : ''}`), after);
    const earlier = spelled.get(source);
    if (earlier !== undefined && earlier !== stepNo) return wrapped(paint(`${lead} (the same as in step ${earlier})${after ? ': ' : ''}`), after);
    spelled.set(source, stepNo);
    const reads = command(source, '      reads: ', chalk.dim).map((l) => chalk.dim(l));
    // A probe: its title, then what it reads; a check: what it reads, then what it expects.
    return after ? [...reads, ...wrapped(paint(`${lead}: `), after)] : [...wrapped('', paint(lead)), ...reads];
  };
  /** One line per step: what it showed and on which kernel feature, with its checks' count. */
  const sayRecap = (): void => {
    if (recap.size < 2) return;
    say(chalk.bold('  Recap'));
    for (const [i, r] of [...recap].sort((a, b) => a[0] - b[0])) {
      const status = r.skipped !== undefined ? chalk.yellow('skipped') : r.failed ? chalk.red(`${r.failed} of ${r.ok + r.failed} checks failed`) : chalk.green(`${r.ok} check${r.ok === 1 ? '' : 's'} ✓`);
      say(...wrapped(`  ${String(i).padStart(2)}  `, `${r.title}${r.feature ? chalk.dim(` — ${r.feature}`) : ''}  ${status}`, '      '));
    }
    say('');
  };
  const md = (text: string): void => {
    if (text.trim()) say(renderMarkdown(text, style, width));
  };
  let failedQuiet = false;
  let dryRun = false;
  let checks = 0;
  let steps = 0;
  // Replays are announced in one line, once the lesson's own first step comes.
  let replays: { number: number; steps: number }[] = [];
  const flushReplays = (): void => {
    const shown = replays.filter((r) => r.steps > 0);
    if (shown.length) {
      const n = shown.reduce((a, r) => a + r.steps, 0);
      const which = shown.length === 1 ? `lesson ${shown[0]!.number}` : `lessons ${shown.map((r) => r.number).join(', ')}`;
      say(...wrapped(chalk.dim('↻ '), chalk.dim(`first ${which} again, quietly (${n} step${n === 1 ? '' : 's'}), so this lesson starts where they ended`), '  '), '');
    }
    replays = [];
  };
  return (e: Event): void => {
    if (e.type === 'cmd' && e.value !== undefined && ('start' in e.action || 'childOf' in e.action)) pidNames.set(e.value, 'start' in e.action ? e.action.pid : e.action.pid);
    if (e.quiet) {
      // Replays stay quiet unless something goes wrong in them.
      if (e.type === 'check' && e.ok === false) {
        failedQuiet = true;
        say(chalk.red(`  ✗ while replaying: ${e.check.title}: ${evidence(e.check, e.actual ?? '', e.expected ?? '', e.against)}`));
      }
      if (e.type === 'cmd' && e.result && e.result.code !== 0 && !('mayFail' in e.action && e.action.mayFail)) {
        say(chalk.red(`  ✗ while replaying: $ ${e.shown}`), ...block(e.result.stderr, chalk.red('    │ ')));
      }
      return;
    }
    switch (e.type) {
      case 'lesson':
        dryRun = e.dryRun;
        {
          const banner = chalk.bold.inverse(` Lesson ${e.number} · ${e.title} `);
          const dry = e.dryRun ? chalk.yellow('  (dry run: nothing is executed)') : '';
          say('', ...(columns(banner + dry) <= width ? [banner + dry] : [banner, dry.trim()].filter(Boolean)));
          if (e.duration) say(...wrapped(chalk.dim('  ⏱ '), chalk.dim(e.duration)));
          say('');
        }
        md(e.intro);
        break;
      case 'replay':
        replays.push({ number: e.number, steps: e.steps });
        break;
      case 'step':
        flushReplays();
        steps++;
        stepNo = e.index;
        lastSource = undefined;
        recap.set(e.index, { title: e.title, ok: 0, failed: 0 });
        say(...wrapped(chalk.bold.blue(`━━ Step ${e.index}/${e.total}${e.again ? ' again' : ''} · `), chalk.bold.blue(e.title) + (e.breakIt ? chalk.magenta(`  [break-it: ${e.breakIt}]`) : ''), '   '));
        if (!e.again) md(e.explain); // a repeat shows the evidence, not the same text twice
        if (e.diagram && !e.again) say(...e.diagram.split('\n').map((l) => chalk.cyan(l)), '');
        break;
      case 'feature':
        if (recap.has(stepNo)) recap.get(stepNo)!.feature = e.feature.name;
        say(...wrapped(chalk.yellow(`  ⚙ kernel feature: ${e.feature.name}`), chalk.dim(` — ${e.feature.syscalls.join(', ')} — man ${e.feature.man.join(', ')}`), '      '));
        break;
      case 'cmd': {
        const ms = e.result ? chalk.dim(` (${e.result.ms.toFixed(1)} ms)`) : '';
        const pid = e.value && 'start' in e.action ? chalk.dim(`   → PID ${e.value}`) : '';
        const lines = command(e.shown, '  $ ', chalk.bold);
        lastSource = readable(e.shown); // a check that runs it again says "the same as above"
        lines[0] = lines[0]!.replace('  $ ', `  ${chalk.green('$')} `);
        const tail = ms + pid;
        if (columns(lines[lines.length - 1]! + tail) <= width || opts.explain) lines[lines.length - 1] += tail;
        else if (tail) lines.push('    ' + tail.trimStart());
        say(...lines);
        if (e.result) {
          say(...block(e.result.stdout, chalk.dim('    │ '), opts.explain ? undefined : width));
          const expectedFailure = 'mayFail' in e.action && e.action.mayFail;
          say(...block(e.result.stderr, (e.result.code === 0 || expectedFailure ? chalk.dim : chalk.red)('    │ '), opts.explain ? undefined : width));
          if (e.result.code !== 0) say((expectedFailure ? chalk.dim : chalk.red)(`    exit status ${e.result.code}`));
        }
        break;
      }
      case 'probe':
        say(...sourced(`  🔍 ${e.probe.title}`, e.source, '', chalk.cyan));
        // Nothing read is a finding too (an emptied directory): said, not left as a blank.
        if (e.output !== undefined) say(...(e.output.trim() ? block(e.output, chalk.dim('    │ '), opts.explain ? undefined : width) : [chalk.dim('    │ (nothing)')]));
        break;
      case 'check': {
        checks++;
        if (e.ok === undefined) {
          say(...wrapped(chalk.dim('  ? check: '), chalk.dim(e.check.title)), ...sourced('      expects', e.source, e.expects ?? expectation(e.check), chalk.dim));
          break;
        }
        const r = recap.get(stepNo);
        if (r) r[e.ok ? 'ok' : 'failed']++;
        const mark = e.ok ? chalk.green('  ✓ ') : chalk.red('  ✗ ');
        const words = evidence(e.check, e.actual ?? '', e.expected ?? '', e.against);
        if (mode === 'compact' && e.ok) {
          say(...wrapped(mark, `${e.check.title}: ${chalk.dim(shownValue(e.actual ?? ''))}`));
          break;
        }
        const full = `      evidence (${e.source}): `;
        // auto: the source stays while it leaves 30 columns for the words; a longer one goes.
        if (mode === 'full' || opts.explain || columns(full) <= width - 30) say(...wrapped(mark, e.check.title), ...wrapped(chalk.dim(full), words));
        else say(...wrapped(mark, e.check.title), ...wrapped(chalk.dim('      evidence: '), words));
        break;
      }
      case 'note':
        say('', ...wrapped(chalk.cyan('  ↺ '), chalk.cyan(e.text), '    '));
        break;
      case 'skip': {
        flushReplays();
        const r = recap.get(stepNo);
        if (r && r.title === e.title) r.skipped = e.reason;
        say(...wrapped(chalk.yellow('  ↷ skipped: '), chalk.yellow(`${e.title} — ${e.reason}`)), '');
        break;
      }
      case 'shell':
        say('', chalk.bold(`  You are inside the box. Type exit to leave; boxlab then cleans up.`));
        if (e.isolates) say(...wrapped(chalk.green('  This box has of its own: '), e.isolates, '    '));
        if (e.shares) say(...wrapped(chalk.yellow('  It shares with the host: '), e.shares, '    '));
        say(...command(e.shown, '  $ '));
        break;
      case 'cleanup': {
        const failed = e.result && e.result.code !== 0 ? chalk.red(` (exit ${e.result.code}: ${e.result.stderr.trim()})`) : '';
        // A teardown program (a cgroup's: kill, retry, rmdir) is named, not printed.
        const line = readable(columns(`  cleanup: ${e.shown}`) <= width || opts.explain || !e.what ? e.shown : e.what);
        say(...wrapped(chalk.dim('  cleanup: '), chalk.dim(line)).map((l, i, all) => (i === all.length - 1 ? l + failed : l)));
        break;
      }
      case 'resource':
        break;
      case 'end':
        say('');
        if (dryRun) {
          md(e.outro);
          say(chalk.yellow(`dry run: ${steps} step${steps === 1 ? '' : 's'} and ${checks} check${checks === 1 ? '' : 's'} shown, nothing executed`));
        }
        else if (e.ok) {
          md(e.outro);
          sayRecap();
          say(chalk.green.bold(`✔ all checks passed`) + chalk.dim(` in ${(e.ms / 1000).toFixed(2)} s`));
        } else if (e.code === 0) say(chalk.yellow(`■ ${e.reason}`));
        else say(chalk.red.bold(`✘ ${e.reason}`) + (failedQuiet ? chalk.dim(' (in a replayed step)') : ''));
        break;
    }
  };
}
