// `boxlab practice N`: the exercises of lesson N, done by the learner and verified from the
// kernel's facts. Also --attempt (grading), --self-test (every exercise proven both ways) and
// --solutions (the instructor's sheet).
import { appendFileSync, readFileSync } from 'node:fs';
import chalk from 'chalk';
import { parse } from './args.js';
import { EnvError, UsageError } from '../errors.js';
import { findLesson, loadByNumber, loadLesson } from '../../lessons/index.js';
import { practiceFor, practiceLessons } from '../../lessons/practice.js';
import { RealRunner, type Runner } from '../shell/spawn.js';
import { fillCmd } from '../shell/cmd.js';
import { runLesson } from '../engine/execute.js';
import type { Emit, Event } from '../engine/events.js';
import type { Lesson } from '../model/lesson.js';
import type { Exercise } from '../engine/exercise.js';
import { filesDir, preparation, runAttempt, sweepLearner, verify, type CheckLine } from '../engine/practice.js';
import { exerciseKey, markSolved, readProgress } from '../engine/progress.js';
import { StateFile } from '../box/state.js';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { hostReady, lessonVars } from './lesson.js';
import { exerciseShell } from '../practice/shell.js';
import { evidence, screenWidth } from '../report/terminal.js';
import { wrapText } from '../report/fit.js';

const FLAGS = {
  exercise: { type: 'string' },
  attempt: { type: 'string' },
  solutions: { type: 'boolean' },
  'self-test': { type: 'boolean' },
  json: { type: 'string' },
  yes: { type: 'boolean' },
  pace: { type: 'string' },
} as const;

/** --pace: a wait before each step of the preparation (demos, interrupt tests). */
let paceMs = 0;

const say = (...lines: string[]): void => void process.stdout.write(lines.join('\n') + '\n');

export async function practiceCommand(argv: string[]): Promise<number> {
  const { values: f, positionals } = parse(argv, FLAGS, 1);
  const key = positionals[0];
  paceMs = f.pace === undefined ? 0 : Number(f.pace);
  if (!Number.isInteger(paceMs) || paceMs < 0 || paceMs > 600_000) throw new UsageError(`--pace takes milliseconds between preparing steps, e.g. --pace 500 (got '${f.pace}')`);
  if (f['self-test']) return selfTest(key === undefined ? practiceLessons() : [lessonNumber(key)]);
  if (key === undefined) throw new UsageError(`which lesson? e.g. boxlab practice 4 (lessons with exercises: ${practiceLessons().join(', ')})`);
  const n = lessonNumber(key);
  const practice = practiceFor(n)!;
  const lesson = await loadLesson(findLesson(String(n))!);
  if (f.solutions) return solutions(lesson, practice.exercises);
  const chosen = f.exercise === undefined ? undefined : practice.exercises.find((e) => e.id === f.exercise);
  if (f.exercise !== undefined && !chosen) throw new UsageError(`lesson ${n} has no exercise '${f.exercise}': ${practice.exercises.map((e) => e.id).join(', ')}`);
  if (f.attempt !== undefined) {
    if (!chosen) throw new UsageError('--attempt grades one exercise: give --exercise ID too');
    let text: string;
    try {
      text = readFileSync(f.attempt, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read the attempt ${f.attempt}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return grade(lesson, chosen, text);
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new UsageError('practice opens a shell for you to type in: run it in a terminal (or grade a file: --exercise ID --attempt FILE)');
  const journal = f.json === undefined ? undefined : (e: object): void => appendFileSync(f.json!, JSON.stringify({ time: new Date().toISOString(), lesson: n, ...e }) + '\n');
  return session(lesson, practice.exercises, chosen, Boolean(f.yes), journal);
}

function lessonNumber(key: string): number {
  const entry = findLesson(key);
  if (!entry) throw new UsageError(`no lesson '${key}'`);
  if (!practiceFor(entry.number)) throw new UsageError(`lesson ${entry.number} has no exercises yet (lessons with exercises: ${practiceLessons().join(', ')})`);
  return entry.number;
}

/** The instructor's sheet: every exercise with its checks, hints and solution. */
function solutions(lesson: Lesson, exercises: Exercise[]): number {
  say(chalk.bold(`Lesson ${lesson.number}: ${lesson.title} — ${exercises.length} exercises`), '');
  exercises.forEach((ex, i) => {
    say(chalk.bold(`${lesson.number}.${i + 1} ${ex.title}`) + chalk.dim(`  (--exercise ${ex.id})`), `  Goal: ${ex.goal}`);
    say(`  Starts from: ${ex.from ? `lesson ${lesson.number} run up to its step '${ex.from}'` : `the start of lesson ${lesson.number}`}${ex.setup?.length ? `, then: ${ex.setup.map((s) => s.title).join('; ')}` : ''}`);
    say('  Checks (kernel facts):', ...ex.checks.map((c) => `    - ${c.title}`));
    ex.hints.forEach((h, j) => say(`  Hint ${j + 1}: ${h}`));
    say('  Solution:', ...ex.solution.trim().split('\n').map((l) => `    ${l}`));
    if (ex.defended) say(`  Defended: ${ex.defended.why}`);
    say('');
  });
  return 0;
}

interface Prepared {
  ok: boolean;
  reason?: string;
}

/**
 * Prepare an exercise's state quietly (or its defended box), run `inside` while it stands,
 * then sweep what the learner made and undo everything. Interrupts clean up as lessons do.
 */
async function withPrepared(lesson: Lesson, ex: Exercise, o: { defended?: boolean; interactive: boolean }, inside: (vars: Record<string, string>, runner: Runner, dir: string, signal: AbortSignal) => Promise<void>): Promise<Prepared> {
  const vars = lessonVars(false);
  const runner = await new RealRunner(vars.RUN_ID).ready();
  const prep = preparation(lesson, ex, o.defended);
  const setupIds = new Set(((o.defended ? ex.defended?.setup : ex.setup) ?? []).map((s) => s.id));
  const ac = new AbortController();
  let shellOpen = false;
  const onInterrupt = (): void => void (shellOpen || ac.abort());
  const onSignal = (): void => ac.abort();
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const state = new StateFile(vars.RUN_ID!);
  let failure: string | undefined;
  const emit: Emit = (e: Event) => {
    // Quiet: only what went wrong while preparing.
    if (e.type === 'check' && e.ok === false) failure = `while preparing: ${e.check.title}: got '${e.actual ?? ''}'`;
    if (e.type === 'cmd' && e.result && e.result.code !== 0 && !('mayFail' in e.action && e.action.mayFail)) failure = `while preparing: $ ${e.shown}: ${e.result.stderr.trim().split('\n').pop() ?? ''}`;
    // A replayed step this host cannot run is skipped as in the lesson; the exercise's own
    // setup skipped means the exercise cannot be done here.
    if (e.type === 'skip' && !failure && setupIds.has(e.id)) failure = `skipped on this host: ${e.reason}`;
  };
  try {
    const outcome = await runLesson(prep, {
      runner,
      emit,
      dryRun: false,
      vars,
      load: loadByNumber,
      signal: ac.signal,
      state,
      quiet: true,
      paceMs,
      session: async (v) => {
        if (failure?.startsWith('skipped')) return;
        shellOpen = o.interactive;
        // The learner's rc and attempts: recorded before it exists, so reset finds it.
        const dir = filesDir(vars.RUN_ID!);
        state.add({ dir });
        mkdirSync(dir, { mode: 0o700 });
        try {
          await inside(v as Record<string, string>, runner, dir, ac.signal);
        } finally {
          shellOpen = false;
          await sweepLearner(vars.RUN_ID!, vars.WORK, runner);
          rmSync(dir, { recursive: true, force: true });
          state.remove({ dir });
        }
      },
    });
    if (!outcome.ok || ac.signal.aborted) return { ok: false, reason: outcome.code === 130 || ac.signal.aborted ? 'interrupted' : failure ?? outcome.reason };
    if (failure?.startsWith('skipped')) return { ok: false, reason: failure };
    return { ok: true };
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}

/** An exercise the host cannot run, and why (as a lesson's step says it). */
async function unmet(ex: Exercise, runner: Runner, vars: Record<string, string>): Promise<string | undefined> {
  for (const r of ex.requires ?? []) {
    const met = 'path' in r ? existsSync(r.path) : (await runner.run(fillCmd(r.command, vars))).code === 0;
    if (!met) return r.reason;
  }
  return undefined;
}

function printLines(lines: CheckLine[]): void {
  for (const l of lines) say(`  ${l.ok ? chalk.green('✓') : chalk.red('✗')} ${l.title}: ${l.source}: ${evidence(l.check, l.actual, l.expected, 'that')}`);
}

/** --attempt: the learner's file in the prepared state; 0 when the checks hold, 1 when not. */
async function grade(lesson: Lesson, ex: Exercise, text: string): Promise<number> {
  await hostReady(preparation(lesson, ex), `boxlab practice ${lesson.number}`, true);
  const why = await unmet(ex, new RealRunner(), {});
  if (why) return say(`${lesson.number}/${ex.id}: skipped: ${why}`), 0;
  let result: { ok: boolean; lines: CheckLine[] } | undefined;
  let attempt = { code: 0, output: '' };
  const prepared = await withPrepared(lesson, ex, { interactive: false }, async (vars, runner, dir, signal) => {
    attempt = await runAttempt(text, vars, runner, dir, signal);
    result = await verify(ex, vars, runner);
  });
  if (prepared.reason === 'interrupted') return 130;
  if (!prepared.ok || !result) throw new EnvError(`${lesson.number}/${ex.id}: ${prepared.reason ?? 'not prepared'}`);
  say(`${lesson.number}/${ex.id} ${ex.title}: ${result.ok ? chalk.green('the checks hold') : chalk.red('the checks do not hold')} (the attempt exited ${attempt.code})`);
  printLines(result.lines);
  if (result.ok) markSolved(lesson.number, ex.id);
  return result.ok ? 0 : 1;
}

/**
 * --self-test: every exercise proven both ways. The prepared state alone fails its checks, an
 * empty attempt fails them, the reference solution passes; a capture-the-flag's solution is
 * refused by its defended box.
 */
async function selfTest(numbers: number[]): Promise<number> {
  let defects = 0;
  let passed = 0;
  let skipped = 0;
  for (const n of numbers) {
    const lesson = await loadLesson(findLesson(String(n))!);
    await hostReady(lesson, `boxlab practice --self-test ${n}`, true);
    for (const ex of practiceFor(n)!.exercises) {
      const name = `${n}/${ex.id}`;
      const why = await unmet(ex, new RealRunner(), {});
      if (why) {
        skipped++;
        say(`- ${name}: skipped: ${why}`);
        continue;
      }
      const problems: string[] = [];
      const prepared = await withPrepared(lesson, ex, { interactive: false }, async (vars, runner, dir, signal) => {
        if ((await verify(ex, vars, runner)).ok) problems.push('the checks hold before the learner does anything');
        await runAttempt('', vars, runner, dir, signal);
        if ((await verify(ex, vars, runner)).ok) problems.push('an empty attempt passes');
        const sol = await runAttempt(ex.solution, vars, runner, dir, signal);
        const v = await verify(ex, vars, runner);
        if (!v.ok) problems.push(`the solution fails: ${v.lines.filter((l) => !l.ok).map((l) => `${l.title} (got '${l.actual.split('\n')[0]}')`).join('; ')}${sol.output ? ` — it said: ${sol.output.split('\n').slice(-2).join(' | ')}` : ''}`);
      });
      if (prepared.reason === 'interrupted') return 130;
      if (!prepared.ok) {
        if (prepared.reason?.startsWith('skipped')) {
          skipped++;
          say(`- ${name}: ${prepared.reason}`);
          continue;
        }
        problems.push(prepared.reason ?? 'could not be prepared');
      }
      if (ex.defended && prepared.ok) {
        const d = await withPrepared(lesson, ex, { defended: true, interactive: false }, async (vars, runner, dir, signal) => {
          await runAttempt(ex.solution, vars, runner, dir, signal);
          if ((await verify(ex, vars, runner)).ok) problems.push('the solution also works against the defended box');
        });
        if (!d.ok) problems.push(`defended box: ${d.reason}`);
      }
      if (problems.length) {
        defects++;
        say(`${chalk.red('✗')} ${name}: ${problems.join('; ')}`);
      } else {
        passed++;
        say(`${chalk.green('✓')} ${name}: fails as prepared, fails when empty, passes with the solution${ex.defended ? ', refused by the defended box' : ''}`);
      }
    }
  }
  say('', `self-test: ${passed} exercises proven, ${defects} defective, ${skipped} skipped on this host`);
  return defects ? 1 : 0;
}

/** The learner's session: one exercise at a time, from the first not yet solved. */
async function session(lesson: Lesson, exercises: Exercise[], chosen: Exercise | undefined, yes: boolean, journal?: (e: object) => void): Promise<number> {
  const done = readProgress().exercises ?? {};
  let i = chosen ? exercises.indexOf(chosen) : Math.max(0, exercises.findIndex((e) => !done[exerciseKey(lesson.number, e.id)]));
  await hostReady(preparation(lesson, exercises[i]!), `npm run practice ${lesson.number}`, yes);
  say(chalk.bold(`Practice, lesson ${lesson.number}: ${lesson.title}`), chalk.dim(`${exercises.length} exercises; commands in the shell: goal, check, hint, solution, next, skip; exit leaves`));
  for (; i < exercises.length; i++) {
    const ex = exercises[i]!;
    const label = `${lesson.number}.${i + 1} ${ex.id}`;
    const why = await unmet(ex, new RealRunner(), {});
    if (why) {
      say(chalk.dim(`${label}: skipped on this host: ${why}`));
      continue;
    }
    say('', chalk.bold(`Exercise ${lesson.number}.${i + 1}/${exercises.length}: ${ex.title}`), ...wrapText(ex.goal, screenWidth(), 'Goal: '), chalk.dim('preparing the box ...'));
    journal?.({ type: 'exercise', id: ex.id });
    let ending: string = 'left';
    const prepared = await withPrepared(lesson, ex, { interactive: true }, async (vars, runner, dir, signal) => {
      const names = Object.keys(vars).filter((k) => /^[A-Z_][A-Z0-9_]*$/.test(k) && !['RUN_ID', 'HOST_PID'].includes(k));
      say(
        ...wrapText(`ready. A shell on the host as root, in ${vars.WORK ?? '/'}. Set for you: ${names.map((n) => `$${n}`).join(' ')}.`, screenWidth()).map((l) => chalk.dim(l)),
        ...wrapText('When you leave, boxlab ends every process started from this shell and unmounts what is under $WORK; anything else you change on the host is yours to undo.', screenWidth()).map((l) => chalk.dim(l)),
      );
      ending = await exerciseShell(ex, label, vars, runner, dir, process.stdout, {
        hint: (level) => journal?.({ type: 'hint', id: ex.id, level }),
        check: (ok, lines) => journal?.({ type: 'check', id: ex.id, ok, failing: lines.filter((l) => !l.ok).map((l) => l.title) }),
        solved: () => {
          markSolved(lesson.number, ex.id);
          journal?.({ type: 'solved', id: ex.id });
        },
      }, signal);
    });
    if (!prepared.ok) {
      if (prepared.reason?.startsWith('skipped')) {
        say(chalk.dim(`${label}: ${prepared.reason}`));
        continue;
      }
      if (prepared.reason === 'interrupted') return 130;
      throw new EnvError(`${label}: ${prepared.reason}`);
    }
    if (ending === 'solved' && ex.defended) await showDefended(lesson, ex);
    if (ending === 'left') {
      say('', `Left at ${label}. ${chalk.dim(`npm run practice ${lesson.number} resumes at the first exercise not solved.`)}`);
      return 0;
    }
  }
  const solvedNow = readProgress().exercises ?? {};
  const count = exercises.filter((e) => solvedNow[exerciseKey(lesson.number, e.id)]).length;
  say('', chalk.bold(`Lesson ${lesson.number}'s practice: ${count} of ${exercises.length} solved.`));
  return 0;
}

/** After a capture-the-flag: the same attack against the defended box, and the kernel's refusal. */
async function showDefended(lesson: Lesson, ex: Exercise): Promise<void> {
  say('', chalk.bold('Now the defended box: boxlab runs the reference attack there.'), chalk.dim(ex.defended!.why));
  await withPrepared(lesson, ex, { defended: true, interactive: false }, async (vars, runner, dir, signal) => {
    const r = await runAttempt(ex.solution, vars, runner, dir, signal);
    const v = await verify(ex, vars, runner);
    if (r.output) say(...r.output.split('\n').slice(-4).map((l) => chalk.dim(`  │ ${l}`)));
    printLines(v.lines);
    say(v.ok ? chalk.red('  the attack worked here too: report this') : chalk.green('  refused: the flag stays on the host'));
  });
}
