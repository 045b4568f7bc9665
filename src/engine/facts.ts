// Reading kernel facts and judging them. Files and links are read directly (no process);
// commands go through the Runner. The --script formatter renders the same facts in bash.
import { readFile, readlink } from 'node:fs/promises';
import { fill, fillCmd, quote, render, type Vars } from '../shell/cmd.js';
import type { Runner } from '../shell/spawn.js';
import { isAlive } from '../kernel/proc.js';
import type { Check, Fact } from '../model/lesson.js';

/** Like bash's $(...): trailing newlines go. */
const chomp = (s: string): string => s.replace(/\n+$/, '');

export async function readFact(f: Fact, vars: Vars, runner: Runner): Promise<string> {
  if ('file' in f) {
    const text = await readFile(fill(f.file, vars), 'utf8').then(chomp, () => '');
    if (f.grep === undefined) return text;
    const needle = fill(f.grep, vars);
    return text.split('\n').find((l) => l.includes(needle)) ?? '';
  }
  if ('link' in f) return readlink(fill(f.link, vars)).catch(() => '');
  if ('alive' in f) return isAlive(Number(fill(f.alive, vars))) ? 'yes' : 'no';
  if ('out' in f) return chomp((await runner.run(fillCmd(f.out, vars))).stdout);
  return String((await runner.run(fillCmd(f.status, vars))).code);
}

export const isFact = (x: unknown): x is Fact => typeof x === 'object' && x !== null;

export type Verdict = { ok: boolean; actual: string; expected: string };

/** Judge a check. An empty fact (an unreadable file, a vanished process) proves nothing, so
 *  every verdict needs evidence: the --script helper applies the same rule. */
export async function judge(c: Check, vars: Vars, runner: Runner): Promise<Verdict> {
  const actual = await readFact(c.fact, vars, runner);
  const value = async (x: string | Fact): Promise<string> => (isFact(x) ? readFact(x, vars, runner) : fill(x, vars));
  const verdict = (holds: boolean, expected: string): Verdict => ({ ok: holds && actual !== '', actual, expected });
  if ('equals' in c) {
    const expected = await value(c.equals);
    return verdict(actual === expected, expected);
  }
  if ('differs' in c) {
    const expected = await value(c.differs);
    return verdict(actual !== expected, `not ${expected}`);
  }
  if ('contains' in c) {
    const expected = fill(c.contains, vars);
    return verdict(actual.includes(expected), `contains ${expected}`);
  }
  const expected = fill(c.lacks, vars);
  return verdict(!actual.includes(expected), `lacks ${expected}`);
}

/** A short description of where a fact comes from, for learners. */
export function describeFact(f: Fact): string {
  if ('file' in f) return f.grep === undefined ? `cat ${f.file}` : `grep -F ${quote(f.grep)} ${f.file}`;
  if ('link' in f) return `readlink ${f.link}`;
  if ('out' in f) return render(f.out);
  if ('alive' in f) return `grep State: /proc/${f.alive}/status`;
  return `${render(f.status)}; echo $?`;
}

/** Where a fact comes from in a line: a program's own words where it has them (a scan over
 *  /proc), else the command as describeFact shows it. */
export function factInWords(f: Fact): string {
  const c = 'out' in f ? f.out : 'status' in f ? f.status : undefined;
  return c?.what !== undefined ? ('status' in f ? `${c.what}; echo $?` : c.what) : describeFact(f);
}

/** A value as a learner reads it: in quotes when it holds a space or a tab (shown as \t), the
 *  first of several lines, at most 120 characters. */
export function shownValue(s: string): string {
  if (s === '') return '(empty)';
  const lines = s.split('\n');
  const first = lines[0]!.length > 120 ? `${lines[0]!.slice(0, 117)}…` : lines[0]!;
  const shown = /\s/.test(first) ? `"${first.replace(/\t/g, '\\t')}"` : first;
  return lines.length > 1 ? `${shown} … (${lines.length} lines)` : shown;
}

/** The other side of a comparison: "the host's" when the fact is read from boxlab's own
 *  process (/proc/self, on the host), otherwise what the fact's command gives. With
 *  `source`, the host's is followed by where it is read. */
export function otherSide(x: Fact, fillIn: (s: string) => string = (s) => s, source = false): string {
  const d = fillIn(describeFact(x));
  if (!/\/proc\/self\//.test(d)) return `what ${d} gives`;
  return source ? `the host's (${d})` : "the host's";
}

/** What a check expects, in words a learner reads aloud: "it is 100", "it differs from the
 *  host's (readlink /proc/self/ns/mnt)", "it fails (any exit status but 0)". Placeholders are
 *  filled with `fillIn`. */
export function expectation(c: Check, fillIn: (s: string) => string = (s) => s): string {
  const status = 'status' in c.fact;
  const alive = 'alive' in c.fact;
  if ('equals' in c && !isFact(c.equals)) {
    const v = fillIn(c.equals);
    if (status) return v === '0' ? 'it succeeds (exit status 0)' : `it exits with status ${v}`;
    if (alive) return v === 'yes' ? 'the process is alive' : v === 'no' ? 'the process is gone' : `it is ${shownValue(v)}`;
    return `it is ${shownValue(v)}`;
  }
  if ('equals' in c) return `it is the same as ${otherSide(c.equals as Fact, fillIn, true)}`;
  if ('differs' in c && !isFact(c.differs)) {
    const v = fillIn(c.differs);
    if (status && v === '0') return 'it fails (any exit status but 0)';
    return `it is anything but ${shownValue(v)}`;
  }
  if ('differs' in c) return `it differs from ${otherSide(c.differs as Fact, fillIn, true)}`;
  if ('contains' in c) return `it contains ${JSON.stringify(fillIn(c.contains)).replace(/\\"/g, '"')}`;
  return `it does not contain ${JSON.stringify(fillIn(c.lacks)).replace(/\\"/g, '"')}`;
}
