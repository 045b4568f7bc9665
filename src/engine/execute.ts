// The step runner: replays earlier lessons quietly, then runs each step's actions, probes
// and checks, emitting one event for each, and always unwinds the cleanup stack.
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fill, fillCmd, fillKnown, render, type Cmd, type Vars } from '../shell/cmd.js';
import type { Runner } from '../shell/spawn.js';
import { processStartTime } from '../kernel/proc.js';
import { escapeFiles, isBoxlabValue } from '../kernel/escapes.js';
import type { HostResource, StateFile } from '../box/state.js';
import { readText, resourceVar, teardown } from '../box/resources.js';
import { CleanupStack } from './cleanup.js';
import type { Emit } from './events.js';
import { describeFact, expectation, isFact, judge, otherSide, readFact } from './facts.js';
import { act, sleep, StepFailed } from './actions.js';
import { summariseBox } from './boxsummary.js';
import { durationText } from './duration.js';
import { willReplay, type Check, type Fact, type Lesson, type Resource, type Step } from '../model/lesson.js';

/** again: the step just run, once more; back: the one before it. */
export type PauseAnswer = 'run' | 'skip' | 'quit' | 'again' | 'back';

/** Why a step's commands cannot simply run again, or undefined if they can: a step that
 *  creates something (a process, a mount, a link) would make a second one, or fail on the first. */
export function whyNotAgain(step: Step): string | undefined {
  if (step.creates?.length) return `its commands made ${step.creates.length === 1 ? 'something' : 'things'} that exist now (${step.creates.map((r) => Object.keys(r)[0]).join(', ')}), and running them again would make a second or fail`;
  const a = step.actions.find((x) => 'start' in x || 'childOf' in x || 'ensureDir' in x || 'capture' in x);
  if (a) return 'its commands keep a value (a PID, an id) that later steps use';
  return undefined;
}

export interface RunOptions {
  runner: Runner;
  emit: Emit;
  /** Print every command, run nothing. */
  dryRun: boolean;
  vars: Record<string, string>;
  /** Resolves lessons named in buildsOn. */
  load: (n: number) => Promise<Lesson>;
  /** Asked before each step of the lesson itself (not replays); absent with --yes. */
  pause?: (step: Step, index: number, vars: Vars) => Promise<PauseAnswer>;
  /** Aborted on SIGINT: the current command is cancelled and cleanup runs. */
  signal?: AbortSignal;
  state?: StateFile;
  /** Open the lesson's shell at the end (--shell). */
  shell?: boolean;
  /** Whether a recorded host resource still exists (tests replace it). */
  isPresent?: (r: HostResource) => boolean;
  /** Wait this long before each step of the lesson (--pace: demos in slow motion, interrupt tests). */
  paceMs?: number;
  /** Awaited before each step of the lesson: --pace's pause key holds the lesson here. */
  hold?: () => Promise<void>;
  /** Runs once every step has passed, before anything is undone (practice mode's exercise). */
  session?: (vars: Vars) => Promise<void>;
  /** Every step quiet, as a replay is (practice mode prepares an exercise's state). */
  quiet?: boolean;
}

export interface Outcome {
  ok: boolean;
  /** Process exit code: 0 passed, 1 failed or environment, 130 interrupted. */
  code: number;
  reason?: string;
  toolMs: number;
  ms: number;
}

interface Planned {
  step: Step;
  quiet: boolean;
}

/** The steps of a lesson after those of every lesson it builds on, each lesson once. */
export async function plan(lesson: Lesson, load: (n: number) => Promise<Lesson>): Promise<{ replays: Lesson[]; steps: Planned[] }> {
  const replays: Lesson[] = [];
  const seen = new Set<number>([lesson.number]);
  const visit = async (l: Lesson): Promise<void> => {
    for (const n of l.buildsOn ?? []) {
      if (seen.has(n)) continue;
      seen.add(n);
      const dep = await load(n);
      await visit(dep);
      replays.push(dep);
    }
  };
  await visit(lesson);
  const steps: Planned[] = [];
  for (const dep of replays) for (const step of dep.steps.filter(willReplay)) steps.push({ step, quiet: true });
  for (const step of lesson.steps) steps.push({ step, quiet: false });
  return { replays, steps };
}

export async function runLesson(lesson: Lesson, o: RunOptions): Promise<Outcome> {
  const t0 = performance.now();
  const tool0 = o.runner.toolMs;
  const vars: Record<string, string> = { ...o.vars };
  const cleanup = new CleanupStack();
  const planned = await plan(lesson, o.load);
  // Where a kernel path every step of the lesson needs is missing (no AppArmor: lesson 15),
  // each step will be skipped: the earlier lessons are not replayed for nothing.
  const noneCanRun = !o.dryRun && lesson.steps.every((s) => (s.requires ?? []).some((r) => 'path' in r && !existsSync(r.path)));
  const replays = noneCanRun ? [] : planned.replays;
  const steps = noneCanRun ? planned.steps.filter((p) => !p.quiet) : planned.steps;
  const total = lesson.steps.length;
  o.emit({ type: 'lesson', number: lesson.number, title: lesson.title, intro: lesson.prose.intro, dryRun: o.dryRun, vars: { ...vars }, duration: durationText(lesson.prose, lesson.runSeconds) });
  for (const dep of replays) {
    o.emit({ type: 'replay', number: dep.number, title: dep.title, steps: dep.steps.filter(willReplay).length });
  }

  const shown = (c: Cmd): string => render(fillCmd(c, vars, o.dryRun ? fillKnown : fill));
  const interrupted = (): boolean => o.signal?.aborted === true;
  const source = (f: Fact): string => fillKnown(describeFact(f), vars);
  const known = (s: string): string => fillKnown(s, vars);
  const words = (c: Check): { expects: string; against?: string } => {
    const other = 'equals' in c ? c.equals : 'differs' in c ? c.differs : undefined;
    return { expects: expectation(c, known), ...(isFact(other) ? { against: otherSide(other, known) } : {}) };
  };

  /** evidenceOnly: the step's probes and checks read again, its commands not run (--step's again). */
  async function runStep(p: Planned, index: number, evidenceOnly = false, again = false): Promise<void> {
    const { step } = p;
    const quiet = p.quiet || o.quiet === true;
    o.emit({ type: 'step', id: step.id, title: step.title, index, total, explain: lesson.prose.steps[step.id] ?? '', breakIt: step.breakIt?.role, requires: step.requires, diagram: step.diagram, quiet, ...(again ? { again } : {}) });
    if (!evidenceOnly && !(await runActions(p, quiet))) return;
    await readEvidence(step, quiet);
  }

  /** False when the step is skipped for a kernel feature it needs. */
  async function runActions(p: Planned, quiet: boolean): Promise<boolean> {
    const { step } = p;
    let unmet: string | undefined;
    for (const r of o.dryRun ? [] : (step.requires ?? [])) {
      const met = 'path' in r ? existsSync(r.path) : (await o.runner.run(fillCmd(r.command, vars))).code === 0;
      if (!met) unmet ??= fillKnown(r.reason, vars);
    }
    if (unmet) {
      o.emit({ type: 'skip', id: step.id, title: step.title, reason: unmet, quiet });
      return false;
    }
    o.emit({ type: 'feature', feature: step.feature, quiet });
    const exited = new Map<string, Promise<unknown>>();
    const entries = (step.creates ?? []).map((resource) => {
      o.emit({ type: 'resource', resource, teardown: teardown(resource), quiet });
      // A file to restore: its text now, before anything in the step can change it.
      if ('restore' in resource && !o.dryRun) vars[resource.saved] = readText(fill(resource.restore, vars)).replace(/\n$/, '');
      const host = o.dryRun ? undefined : hostNow(resource, vars);
      if (host) o.state?.add(host); // written down before the command that creates it runs
      return cleanup.push({ resource, host, quiet });
    });
    try {
      for (const a of step.actions) await act(a, { o, vars, quiet, exited, shown, interrupted });
    } finally {
      // Processes and IPC ids are known only now: record them as soon as they exist.
      for (const e of entries) {
        const name = resourceVar(e.resource);
        if (name === undefined || vars[name] === undefined || o.dryRun) continue;
        e.exited = exited.get(name);
        const id = Number(vars[name]);
        e.host = 'process' in e.resource ? { process: id, startTime: processStartTime(id) } : { shm: id };
        o.state?.add(e.host);
      }
    }
    return true;
  }

  async function readEvidence(step: Step, quiet: boolean): Promise<void> {
    for (const probe of step.probes ?? []) {
      if (o.dryRun) {
        o.emit({ type: 'probe', probe, source: source(probe.show), quiet });
        continue;
      }
      o.emit({ type: 'probe', probe, source: source(probe.show), output: await readFact(probe.show, vars, o.runner), quiet });
    }
    const failed: string[] = [];
    for (const check of step.checks) {
      if (o.dryRun) {
        o.emit({ type: 'check', check, source: source(check.fact), ...words(check), quiet });
        continue;
      }
      const v = await judge(check, vars, o.runner);
      o.emit({ type: 'check', check, source: source(check.fact), ...words(check), ok: v.ok, actual: v.actual, expected: v.expected, quiet });
      if (!v.ok) failed.push(check.title);
    }
    if (interrupted()) throw new StepFailed('interrupted', 130);
    if (failed.length) throw new StepFailed(`step "${step.title}": check failed: ${failed.join('; ')}`);
  }

  /** Before the learner's own commands (a shell in the box, an exercise's shell on the host):
   *  the host files a weak box can change are kept, recorded in the state file, and written
   *  back at the end, or by `boxlab reset` after a crash. */
  function keepEscapeFiles(): void {
    escapeFiles().forEach((path, i) => {
      const text = readText(path).replace(/\n$/, '');
      if (isBoxlabValue(text)) return; // another run's break-it, which that run undoes
      const resource: Resource = { restore: path, saved: `HOST_FILE_${i}` };
      vars[resource.saved] = text;
      const host = hostNow(resource, vars);
      o.emit({ type: 'resource', resource, teardown: teardown(resource), quiet: true });
      if (host) o.state?.add(host);
      // Said at the end only if the learner changed it: an unchanged file is not written.
      cleanup.push({ resource, host, quiet: false });
    });
  }

  let outcome: { ok: boolean; code: number; reason?: string } = { ok: true, code: 0 };
  let index = 0;
  // The lesson's own steps that ran, for --step's again and back.
  const ran: { p: Planned; index: number }[] = [];
  const repeat = async (which: 'again' | 'back'): Promise<void> => {
    const target = ran[ran.length - (which === 'again' ? 1 : 2)];
    if (!target) {
      o.emit({ type: 'note', text: which === 'again' ? 'No step has run yet: nothing to repeat.' : 'There is no step before the last one to go back to.' });
      return;
    }
    const why = whyNotAgain(target.p.step);
    o.emit({ type: 'note', text: why ? `Step ${target.index} again: its evidence only, read from the kernel now. Its commands do not run again: ${why}.` : `Step ${target.index} again, commands and all.` });
    try {
      await runStep(target.p, target.index, why !== undefined, true);
    } catch (e) {
      // A repeat that fails (a command that will not succeed twice) is shown, not fatal.
      if (!(e instanceof StepFailed) || e.code === 130) throw e;
      o.emit({ type: 'note', text: `The repeat did not pass: ${e.message}. The lesson goes on from where it was.` });
    }
  };
  try {
    for (const p of steps) {
      if (!p.quiet) index++;
      if (!p.quiet && o.paceMs && !o.dryRun) await sleep(o.paceMs, o.signal);
      if (!p.quiet && o.hold && !o.dryRun) await o.hold();
      if (!p.quiet && o.pause && !o.dryRun) {
        let answer = await o.pause(p.step, index, vars);
        while (answer === 'again' || answer === 'back') {
          await repeat(answer);
          answer = await o.pause(p.step, index, vars);
        }
        if (answer === 'quit') {
          // Ctrl-C at the prompt is an interrupt like any other.
          outcome = interrupted() ? { ok: false, code: 130, reason: 'interrupted' } : { ok: false, code: 0, reason: `stopped before step ${index} at your request` };
          break;
        }
        if (answer === 'skip') {
          o.emit({ type: 'skip', id: p.step.id, title: p.step.title, reason: 'skipped at your request' });
          continue;
        }
      }
      await runStep(p, index);
      if (!p.quiet) ran.push({ p, index });
    }
    if (outcome.ok && o.shell && !lesson.shell && !interrupted()) {
      o.emit({ type: 'note', text: `--shell: lesson ${lesson.number} opens no shell: ${lesson.noShell ?? 'it builds no box to enter'}.` });
    }
    if (outcome.ok && o.shell && lesson.shell && !o.dryRun && !interrupted()) {
      keepEscapeFiles();
      const sh = fillCmd(lesson.shell, vars);
      o.emit({ type: 'shell', shown: render(sh), action: { run: lesson.shell }, ...summariseBox(sh) });
      await o.runner.attach(sh);
    }
    if (outcome.ok && o.session && !o.dryRun && !interrupted()) {
      keepEscapeFiles();
      await o.session(vars);
    }
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    outcome = { ok: false, code: e.code, reason: e.message };
  } finally {
    const clean = await cleanup.unwind(o.dryRun ? undefined : o.runner, vars, o.emit, o.state, o.isPresent);
    if (clean) o.state?.close();
    else if (outcome.ok) outcome = { ok: false, code: 1, reason: 'cleanup was incomplete: run `boxlab reset`' };
  }
  const ms = performance.now() - t0;
  const toolMs = o.runner.toolMs - tool0;
  o.emit({ type: 'end', ...outcome, ms, toolMs, steps: steps.length, outro: lesson.prose.outro });
  return { ...outcome, ms, toolMs };
}

/** A resource whose name is known before its step runs, as the state file records it. */
function hostNow(r: Resource, vars: Vars): HostResource | undefined {
  if ('dir' in r) return { dir: fill(r.dir, vars) };
  if ('mount' in r) return { mount: fill(r.mount, vars) };
  if ('link' in r) return { link: fill(r.link, vars) };
  if ('cgroup' in r) return { cgroup: fill(r.cgroup, vars) };
  if ('restore' in r) return { restore: fill(r.restore, vars), content: vars[r.saved] ?? '' };
  if ('undo' in r) return { undo: fillCmd(r.undo, vars), what: fill(r.what, vars) };
  return undefined;
}

export type { Vars };
