// Reading kernel facts and judging them. Files and links are read directly (no process);
// commands go through the Runner. The --script formatter renders the same facts in bash.
import { readFile, readlink } from 'node:fs/promises';
import { fill, fillCmd, quote, render, type Vars } from '../shell/cmd.js';
import type { Runner } from '../shell/runner.js';
import { isAlive } from '../kernel/proc.js';
import type { Check, Fact } from './lesson.js';

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
