// `boxlab lesson N`: checks that the host can run it, then runs it with the chosen formatter.
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { parse } from './args.js';
import { EnvError, UsageError } from '../errors.js';
import { findLesson, lessonDef, LESSONS, loadByNumber, loadLesson } from '../../lessons/index.js';
import { RealRunner, RecordingRunner, type Runner } from '../shell/spawn.js';
import { runLesson, plan, type PauseAnswer, type Vars } from '../engine/execute.js';
import { workspaceVars } from '../engine/workspace.js';
import type { Emit } from '../engine/events.js';
import type { Lesson, Quiz, Step } from '../model/lesson.js';
import { hostConfirmed, confirmHost, markPassed } from '../engine/progress.js';
import { readStates, StateFile } from '../box/state.js';
import { isSameLiveProcess } from '../kernel/proc.js';
import { busyboxCacheDir, findBusybox, isDynamicElf } from '../../rootfs-fetch/busybox.js';
import { CACHE_ROOT, installedCommandNames } from '../paths.js';
import { virtualization } from '../box/doctor.js';
import { hostTools, missingTools } from './tools.js';

const FLAGS = {
  yes: { type: 'boolean' },
  step: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  script: { type: 'boolean' },
  json: { type: 'boolean' },
  shell: { type: 'boolean' },
  pace: { type: 'string' },
  rootless: { type: 'boolean' },
  registry: { type: 'string' },
  quiz: { type: 'boolean' },
  explain: { type: 'boolean' },
  evidence: { type: 'string' },
} as const;

export async function lessonCommand(argv: string[]): Promise<number> {
  const { values: f, positionals } = parse(argv, FLAGS, 1);
  const key = positionals[0];
  if (!key) throw new UsageError('which lesson? e.g. boxlab lesson 1 (boxlab lessons lists them)');
  const entry = findLesson(key);
  if (!entry) throw new UsageError(`no lesson '${key}': there are lessons ${LESSONS.map((l) => l.number).join(', ')} (boxlab lessons lists them)`);
  if (f.script && (f.json || f.step || f.shell)) throw new UsageError('--script prints a script: it does not combine with --json, --step or --shell');
  if (f.json && (f.step || f.shell)) throw new UsageError('--json does not combine with --step or --shell');
  const paceMs = f.pace === undefined ? 0 : Number(f.pace);
  if (!Number.isInteger(paceMs) || paceMs < 0 || paceMs > 600_000) throw new UsageError(`--pace takes milliseconds between steps, e.g. --pace 1500 (got '${f.pace}')`);
  if (f.rootless && f.registry !== undefined) throw new UsageError('--rootless and --registry are variants of different lessons');
  if (f.registry !== undefined && !/^(?:localhost|127\.\d+\.\d+\.\d+):\d+$/.test(f.registry)) {
    throw new UsageError(`--registry takes a registry on this machine, 127.0.0.1:PORT (scripts/registry.sh start starts one); got '${f.registry}'`);
  }
  const variant = f.rootless ? 'rootless' : f.registry !== undefined ? 'registry' : undefined;
  if (variant && !(await lessonDef(entry)).variants?.[variant]) {
    throw new UsageError(`lesson ${entry.number} has no --${variant} variant (${variant === 'rootless' ? 'lesson 6' : 'lesson 11'} has one)`);
  }
  const lesson = await loadLesson(entry, variant);
  if (f.evidence !== undefined && !['auto', 'compact', 'full'].includes(f.evidence)) throw new UsageError(`--evidence takes auto, compact or full (got '${f.evidence}')`);
  if (f.explain && (f.script || f.json)) throw new UsageError('--explain prints the lesson for a terminal: it does not combine with --script or --json');
  // --explain is a dry run that prints every command whole, however wide.
  const planOnly = Boolean(f['dry-run'] || f.script || f.explain);
  const interactive = process.stdin.isTTY === true && !f.yes && !planOnly && !f.json;
  if (f.quiz && !interactive) throw new UsageError('--quiz asks you questions: run it in a terminal, without --yes, --json, --script or --dry-run');

  const vars = lessonVars(planOnly && !f.script, f.registry);

  if (!planOnly) await hostReady(lesson, `npm run lesson ${lesson.number}`, Boolean(f.yes) || !interactive);

  const show = await formatter(f, entry.number);
  // While the learner's shell runs in the box, Ctrl-C belongs to that shell, not to us.
  let shellOpen = false;
  const quiz = f.quiz ? await quizKeeper() : undefined;
  const emit: Emit = (e) => {
    if (e.type === 'shell') shellOpen = true;
    if (e.type === 'cleanup' || e.type === 'end') shellOpen = false;
    if (e.type === 'end') quiz?.score();
    show(e);
    if (e.type === 'check') quiz?.answered(e.check.title, e.ok);
  };
  const runner: Runner = planOnly ? new RecordingRunner(() => ({ code: 1, stderr: 'dry run' })) : await new RealRunner(vars.RUN_ID).ready();
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  const onInterrupt = (): void => void (shellOpen || ac.abort());
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const state = planOnly ? undefined : new StateFile(vars.RUN_ID!);
  try {
    const pause = interactive ? await pauser(lesson, Boolean(f.step), ac, quiz) : undefined;
    // --pace on a terminal: p or space holds the lesson before its next step, and again goes on.
    const key = paceMs && !planOnly && process.stdin.isTTY === true && !pause ? pauseKey(ac) : undefined;
    const onShell = emit;
    const emitting: Emit = key ? (e) => (e.type === 'shell' && key.stop(), onShell(e)) : emit;
    let outcome: Awaited<ReturnType<typeof runLesson>> | undefined;
    try {
      outcome = await runLesson(lesson, { runner, emit: emitting, dryRun: planOnly, vars, load: loadByNumber, pause, signal: ac.signal, state, shell: Boolean(f.shell), paceMs, hold: key?.hold });
    } finally {
      key?.stop();
    }
    if (outcome.ok && !planOnly) markPassed(variant ? `${lesson.number}-${variant}` : String(lesson.number));
    return outcome.code;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}

/** A run's variables: its workspace, the busybox and the caches. `dryRun`: no busybox needed. */
export function lessonVars(dryRun: boolean, registry?: string): Record<string, string> {
  // A dry run shows the real cache path when it can, and needs no busybox when it cannot.
  const found = findBusybox();
  const usable = found !== undefined && !isDynamicElf(found);
  if (!usable && !dryRun) {
    throw new EnvError(found ? `${found} is dynamically linked: apt-get install busybox-static` : 'busybox not found: apt-get install busybox-static');
  }
  const busybox = found ?? '/bin/busybox';
  const cache = usable ? busyboxCacheDir(busybox) : `${CACHE_ROOT}/rootfs/busybox`;
  return workspaceVars(randomBytes(4).toString('hex'), { CACHE_DIR: dirname(cache), ROOTFS_CACHE: cache, BUSYBOX: busybox, IMAGES: `${CACHE_ROOT}/images`, ...(registry ? { REGISTRY: registry } : {}) });
}

/** Before a real run: root, the tools its steps call, a word on leftovers, the host's consent. */
export async function hostReady(lesson: Lesson, again: string, answered: boolean): Promise<void> {
  if (process.geteuid?.() !== 0) throw new EnvError(`lesson ${lesson.number} changes the kernel's state and needs root: sudo ${again}`);
  const { steps } = await plan(lesson, loadByNumber);
  // A step with requirements may be skipped here (no AppArmor, no podman): its tools are
  // looked for when it runs, and a missing one fails that step by name.
  const missing = missingTools(hostTools(steps.map((p) => p.step).filter((s) => !s.requires?.length)));
  if (missing.length) throw new EnvError(`missing tool: ${missing.join(', ')} (boxlab doctor says what to install)`);
  const stale = readStates().filter(({ state }) => !isSameLiveProcess(state.owner, state.ownerStart));
  if (stale.length) process.stderr.write(`boxlab: ${stale.length} earlier run(s) left things on this host; \`boxlab reset\` removes them\n`);
  await guardHost(answered);
}

async function formatter(f: { json?: boolean; script?: boolean; explain?: boolean; evidence?: string }, n: number): Promise<Emit> {
  if (f.json) return (await import('../report/json.js')).jsonFormatter(process.stdout);
  if (f.script) return (await import('../report/script.js')).scriptFormatter(process.stdout, `boxlab lesson ${n} --script`);
  const terminal = await import('../report/terminal.js');
  return terminal.terminalFormatter(process.stdout, terminal.screenWidth(), { explain: f.explain, evidence: f.evidence as 'auto' | 'compact' | 'full' | undefined, names: installedCommandNames() });
}

/** The first real run on a host that is not a known throwaway VM asks before changing it. */
async function guardHost(answered: boolean): Promise<void> {
  if (answered || process.env.BOXLAB_HOST_OK === '1' || hostConfirmed() || virtualization().disposable) return;
  const { confirm } = await import('@inquirer/prompts');
  let ok = false;
  try {
    ok = await confirm({
      message: 'boxlab creates namespaces, mounts and processes on this host and removes them afterwards (boxlab reset undoes any leftovers). Go ahead?',
      default: true,
    });
  } catch {
    ok = false;
  }
  if (!ok) throw new EnvError('not changing this host (pass --yes or set BOXLAB_HOST_OK=1 to answer for it)');
  confirmHost();
}

/** --pace's pause key: p or space toggles a hold before the next step; Ctrl-C (which raw mode
 *  delivers as a key) interrupts as SIGINT does. */
function pauseKey(ac: AbortController): { hold: () => Promise<void>; stop: () => void } {
  let held = false;
  let release: (() => void) | undefined;
  const stdin = process.stdin;
  const onData = (b: Buffer): void => {
    const k = b.toString();
    if (k === '\u0003') {
      ac.abort();
      release?.();
      return;
    }
    if (k !== 'p' && k !== ' ') return;
    held = !held;
    process.stdout.write(held ? '\n  ⏸ held: the lesson stops before its next step (p or space goes on)\n' : '  ▶ going on\n');
    if (!held) release?.();
  };
  stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.resume();
  process.stdout.write('  (--pace: p or space holds the lesson before its next step)\n');
  let stopped = false;
  return {
    hold: () =>
      held && !ac.signal.aborted
        ? new Promise<void>((resolve) => {
            release = () => {
              release = undefined;
              resolve();
            };
          })
        : Promise.resolve(),
    stop: () => {
      if (stopped) return;
      stopped = true;
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      release?.();
    },
  };
}

/** Between steps: Enter to go on, or the instructor's menu with --step. */
/** --quiz: the learner's prediction before a step, the kernel's answer from its check, a score. */
async function quizKeeper() {
  const chalk = (await import('chalk')).default;
  let pending: { quiz: Quiz; predicted: string } | undefined;
  let asked = 0;
  let right = 0;
  return {
    predict(quiz: Quiz, predicted: string): void {
      pending = { quiz, predicted };
    },
    answered(title: string, ok: boolean | undefined): void {
      if (!pending || ok === undefined || title !== pending.quiz.check) return;
      const kernel = ok ? pending.quiz.answer : pending.quiz.answer === 'yes' ? 'no' : 'yes';
      asked++;
      if (kernel === pending.predicted) right++;
      process.stdout.write(`  ${kernel === pending.predicted ? chalk.green('✓ you predicted it') : chalk.yellow('✗ not what you predicted')}: ${pending.quiz.question} The kernel says ${chalk.bold(kernel)}.\n`);
      pending = undefined;
    },
    score(): void {
      if (asked) process.stdout.write(chalk.bold(`quiz: ${right} of ${asked} predictions right\n`));
    },
  };
}

async function pauser(lesson: Lesson, menu: boolean, ac: AbortController, quiz?: Awaited<ReturnType<typeof quizKeeper>>): Promise<(s: Step, i: number, vars: Vars) => Promise<PauseAnswer>> {
  const { select } = await import('@inquirer/prompts');
  const chalk = (await import('chalk')).default;
  const { actionCmds } = await import('../model/lesson.js');
  const { fillCmd, fillKnown, render } = await import('../shell/cmd.js');
  return async (step, i, vars) => {
    for (;;) {
      let answer: string;
      try {
        answer = await select(
          {
            message: `Step ${i}/${lesson.steps.length}: ${step.title}`,
            choices: menu
              ? [
                  { name: 'run', value: 'run' },
                  { name: 'skip', value: 'skip' },
                  { name: 'explain', value: 'explain' },
                  ...(i > 1 ? [{ name: 'again (the last step once more)', value: 'again' }] : []),
                  ...(i > 2 ? [{ name: 'back (the step before the last, once more)', value: 'back' }] : []),
                  { name: 'quit', value: 'quit' },
                ]
              : [
                  { name: 'run it', value: 'run' },
                  { name: 'quit', value: 'quit' },
                ],
          },
          { signal: ac.signal },
        );
      } catch {
        ac.abort(); // Ctrl-C at the prompt: clean up as for SIGINT
        return 'quit';
      }
      if (answer === 'run' && quiz && step.quiz) {
        try {
          const predicted = await select({ message: `Predict: ${step.quiz.question}`, choices: [{ name: 'yes', value: 'yes' }, { name: 'no', value: 'no' }] }, { signal: ac.signal });
          quiz.predict(step.quiz, predicted);
        } catch {
          ac.abort();
          return 'quit';
        }
      }
      if (answer !== 'explain') return answer as PauseAnswer;
      // The step's prose is printed when it runs: explain gives what it does not, every
      // command whole (placeholders filled where known), the kernel feature and what each check reads.
      const { describeFact, expectation } = await import('../engine/facts.js');
      const known = (t: string): string => fillKnown(t, vars);
      process.stdout.write(chalk.yellow(`  ⚙ ${step.feature.name} — ${step.feature.syscalls.join(', ')} — man ${step.feature.man.join(', ')}\n`));
      for (const a of step.actions) for (const c of actionCmds(a)) process.stdout.write(`  $ ${render(fillCmd(c, vars, fillKnown))}\n`);
      for (const c of step.checks) process.stdout.write(chalk.dim(`  ? ${c.title}: ${known(describeFact(c.fact))} → ${expectation(c, known)}\n`));
      process.stdout.write('\n');
    }
  };
}
