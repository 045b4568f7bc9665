// The learner's view: each command with its kernel feature and the kernel's evidence.
import chalk from 'chalk';
import type { Event } from '../engine/events.js';
import type { Check } from '../engine/lesson.js';
import { expectation, shownValue } from '../engine/facts.js';
import { renderMarkdown, type Style } from './markdown.js';

const style: Style = { code: chalk.cyan, bold: chalk.bold, italic: chalk.italic, dim: chalk.dim, heading: (s) => chalk.bold.underline(s) };
const MAX_OUTPUT_LINES = 14;

function block(text: string, prefix: string): string[] {
  const lines = text.replace(/\n+$/, '').split('\n');
  const shown = lines.slice(0, MAX_OUTPUT_LINES).map((l) => prefix + l);
  if (lines.length > MAX_OUTPUT_LINES) shown.push(prefix + chalk.dim(`… ${lines.length - MAX_OUTPUT_LINES} more lines`));
  return text.trim() ? shown : [];
}

const quoted = (s: string): string => JSON.stringify(s).replace(/\\"/g, '"');

/** The evidence of a check in words a learner reads aloud: what was read, what was expected,
 *  and whether they agree. A contains/lacks check shows only the line that proves the point,
 *  so the evidence fits on the screen. `against` names the other side of a comparison with
 *  another fact ("the host's"). */
export function evidence(c: Check, actual: string, expected: string, against = 'the other value'): string {
  const lines = actual.split('\n').filter(Boolean);
  const of = lines.length > 1 ? 'its line ' : '';
  if (actual === '') return `nothing was read (an unreadable file, a vanished process or no output), so nothing proves that ${expectation(c)}`;
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
    return actual === expected ? `${is(actual)}, the same as ${against}` : `${is(actual)}, but ${against} is ${shownValue(expected)}, and they should be the same`;
  }
  if (actual === expected) return `${is(actual)}, as expected`;
  if (alive) return `${is(actual)}, but it should be ${expected === 'no' ? 'gone' : expected === 'yes' ? 'alive' : shownValue(expected)}`;
  return `${is(actual)}, but ${status ? `exit status ${expected}` : shownValue(expected)} was expected`;
}

export function terminalFormatter(out: NodeJS.WritableStream, width = Math.min(process.stdout.columns || 88, 100)) {
  const say = (...lines: string[]): void => void (lines.length && out.write(lines.join('\n') + '\n'));
  const md = (text: string): void => {
    if (text.trim()) say(renderMarkdown(text, style, width));
  };
  let failedQuiet = false;
  let dryRun = false;
  let checks = 0;
  return (e: Event): void => {
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
        say('', chalk.bold.inverse(` Lesson ${e.number} · ${e.title} `) + (e.dryRun ? chalk.yellow('  (dry run: nothing is executed)') : ''), '');
        md(e.intro);
        break;
      case 'replay':
        say(chalk.dim(`↻ replaying lesson ${e.number} (${e.title}) quietly (${e.steps} step${e.steps === 1 ? '' : 's'}), so this lesson starts where it ended`), '');
        break;
      case 'step':
        say(chalk.bold.blue(`━━ Step ${e.index}/${e.total} · ${e.title}`) + (e.breakIt ? chalk.magenta(`  [break-it: ${e.breakIt}]`) : ''));
        md(e.explain);
        if (e.diagram) say(...e.diagram.split('\n').map((l) => chalk.cyan(l)), '');
        break;
      case 'feature':
        say(chalk.yellow(`  ⚙ kernel feature: ${e.feature.name}`) + chalk.dim(` — ${e.feature.syscalls.join(', ')} — man ${e.feature.man.join(', ')}`));
        break;
      case 'cmd': {
        const ms = e.result ? chalk.dim(` (${e.result.ms.toFixed(1)} ms)`) : '';
        const pid = e.value && 'start' in e.action ? chalk.dim(`   → PID ${e.value}`) : '';
        say(`  ${chalk.green('$')} ${chalk.bold(e.shown)}${ms}${pid}`);
        if (e.result) {
          say(...block(e.result.stdout, chalk.dim('    │ ')));
          const expectedFailure = 'mayFail' in e.action && e.action.mayFail;
          say(...block(e.result.stderr, (e.result.code === 0 || expectedFailure ? chalk.dim : chalk.red)('    │ ')));
          if (e.result.code !== 0) say((expectedFailure ? chalk.dim : chalk.red)(`    exit status ${e.result.code}`));
        }
        break;
      }
      case 'probe':
        say(chalk.cyan(`  🔍 ${e.probe.title}`) + chalk.dim(`  (${e.source})`));
        if (e.output !== undefined) say(...block(e.output, chalk.dim('    │ ')));
        break;
      case 'check':
        checks++;
        if (e.ok === undefined) say(chalk.dim(`  ? check: ${e.check.title}`), chalk.dim(`      expects (${e.source}): `) + (e.expects ?? expectation(e.check)));
        else
          say(
            (e.ok ? chalk.green('  ✓ ') : chalk.red('  ✗ ')) + e.check.title,
            chalk.dim(`      evidence (${e.source}): `) + evidence(e.check, e.actual ?? '', e.expected ?? '', e.against),
          );
        break;
      case 'skip':
        say(chalk.yellow(`  ↷ skipped: ${e.title} — ${e.reason}`), '');
        break;
      case 'shell':
        say('', chalk.bold(`  You are inside the box. Type exit to leave; boxlab then cleans up.`), `  ${chalk.green('$')} ${e.shown}`);
        break;
      case 'cleanup':
        say(chalk.dim(`  cleanup: ${e.shown}`) + (e.result && e.result.code !== 0 ? chalk.red(` (exit ${e.result.code}: ${e.result.stderr.trim()})`) : ''));
        break;
      case 'resource':
        break;
      case 'end':
        say('');
        if (dryRun) say(chalk.yellow(`dry run: ${e.steps} steps and ${checks} checks shown, nothing executed`));
        else if (e.ok) {
          md(e.outro);
          say(chalk.green.bold(`✔ all checks passed`) + chalk.dim(` in ${(e.ms / 1000).toFixed(2)} s`));
        } else if (e.code === 0) say(chalk.yellow(`■ ${e.reason}`));
        else say(chalk.red.bold(`✘ ${e.reason}`) + (failedQuiet ? chalk.dim(' (in a replayed step)') : ''));
        break;
    }
  };
}
