// Practice mode's engine: the lesson run that prepares an exercise, the verdict of its checks,
// a learner's attempt run as a file, and the sweep of what the learner left behind.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fill, quote, type Vars } from '../shell/cmd.js';
import type { Runner } from '../shell/spawn.js';
import { RUN_MARK } from '../shell/spawn.js';
import { privateStateDir } from '../box/state.js';
import { mountsOf } from '../kernel/mountinfo.js';
import { isSameLiveProcess, processesWithEnv } from '../kernel/proc.js';
import { umount } from '../shell/mount.js';
import { killPid } from '../shell/coreutils.js';
import { factInWords, judge } from './facts.js';
import { willReplay, type Check, type Lesson, type Step } from '../model/lesson.js';
import type { Exercise } from './exercise.js';

/** The run that prepares an exercise (or, for a capture-the-flag, its defended box): the
 *  lesson's steps up to `from` (break-its only if named), then the exercise's own setup. */
export function preparation(lesson: Lesson, ex: Exercise, defended = false): Lesson {
  const from = defended ? ex.defended?.from : ex.from;
  const setup = (defended ? ex.defended?.setup : ex.setup) ?? [];
  let steps: Step[] = [];
  if (from !== undefined) {
    const i = lesson.steps.findIndex((s) => s.id === from);
    if (i < 0) throw new Error(`exercise ${ex.id}: lesson ${lesson.number} has no step '${from}'`);
    steps = lesson.steps.slice(0, i + 1).filter((s, j) => j === i || willReplay(s));
  }
  return { ...lesson, steps: [...steps, ...setup], shell: undefined, variants: undefined };
}

export interface CheckLine {
  check: Check;
  title: string;
  ok: boolean;
  actual: string;
  expected: string;
  /** Where the fact comes from, as a learner would read it (cat /proc/..., readlink ...). */
  source: string;
}

/** The exercise's checks against the kernel now. */
export async function verify(ex: Exercise, vars: Vars, runner: Runner): Promise<{ ok: boolean; lines: CheckLine[] }> {
  const lines: CheckLine[] = [];
  for (const check of ex.checks) {
    const v = await judge(check, vars, runner);
    lines.push({ check, title: check.title, ok: v.ok, actual: v.actual, expected: v.expected, source: fill(factInWords(check.fact), vars) });
  }
  return { ok: lines.every((l) => l.ok), lines };
}

/** The run's variables, as the learner's shell and an attempt see them: exported, as data. */
export function exports(vars: Vars): string {
  return Object.entries(vars)
    .filter(([k, v]) => /^[A-Z_][A-Z0-9_]*$/.test(k) && v !== undefined)
    .map(([k, v]) => `export ${k}=${quote(v!)}`)
    .join('\n');
}

/** The run's directory for the learner's rc and attempts, inside boxlab's private state
 *  directory (root only); the caller records it in the run's state before making it. */
export const filesDir = (runId: string): string => join(privateStateDir(), `practice-${runId}`);

/** A file only root can read, in the run's files directory. */
export function privateFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

/** Run an attempt (bash) on the host with the exercise's variables, as the learner's shell would. */
export async function runAttempt(text: string, vars: Vars, runner: Runner, dir: string, signal?: AbortSignal): Promise<{ code: number; output: string }> {
  // Its output goes to a file, not to our pipe: a job it leaves in the background (a sleep in a
  // new namespace) would hold a pipe open for as long as it lives.
  const out = privateFile(dir, 'attempt.out', '');
  // Marked as the learner's shell is, so that what it leaves running is swept with the run.
  const file = privateFile(dir, 'attempt.sh', `exec >${quote(out)} 2>&1 </dev/null\nexport ${RUN_MARK}=${quote(vars.RUN_ID ?? '')}\n${exports(vars)}\ncd "\${WORK:-/}" 2>/dev/null || cd /\n${text}\n`);
  try {
    const r = await runner.run({ file: 'bash', args: ['--noprofile', '--norc', file] }, { signal, timeoutMs: 120_000 });
    return { code: r.code, output: (readFileSync(out, 'utf8') + r.stderr).trim() };
  } finally {
    rmSync(file, { force: true });
    rmSync(out, { force: true });
  }
}

/**
 * What the learner made, undone before the run's own cleanup: every process still carrying
 * this run's mark (the learner's shell and what it started: their unshare'd namespaces die
 * with them), then every mount under the run's work directory, deepest first. Any uid: a
 * learner's process in a user namespace of their own runs as its mapped uid (reset, which
 * cannot tell who marked a process, kills root's only).
 */
export async function sweepLearner(runId: string, workDir: string | undefined, runner: Runner): Promise<string[]> {
  const done: string[] = [];
  for (const { pid, value, startTime } of processesWithEnv(RUN_MARK)) {
    if (value !== runId || pid === process.pid || !isSameLiveProcess(pid, startTime)) continue;
    if ((await runner.run(killPid('KILL', String(pid)))).code === 0) done.push(`process ${pid}`);
  }
  if (workDir) {
    const under = mountsOf('self')
      .map((m) => m.mountPoint)
      .filter((p) => p === workDir || p.startsWith(`${workDir}/`))
      .sort((a, b) => b.length - a.length);
    for (const p of under) if ((await runner.run(umount(p, { lazy: true }))).code === 0) done.push(`mount ${p}`);
  }
  return done;
}
