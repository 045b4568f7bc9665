// What each kind of step action does: run, start in the background, wait for a child, a
// fact or an exit, build a cache. The step runner (run.ts) calls act() for each.
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { cmd, fill, fillCmd, fillKnown, type Cmd } from '../shell/cmd.js';
import type { Runner, Started } from '../shell/spawn.js';
import { childrenOf, comm, isAlive } from '../kernel/proc.js';
import { describeFact, readFact } from './facts.js';
import { actionCmds, type Action } from '../model/lesson.js';
import type { Emit } from './events.js';

/** A step failed (code 1), or was interrupted (code 130). */
export class StepFailed extends Error {
  constructor(message: string, readonly code = 1) {
    super(message);
  }
}

/** What of the step runner's options an action uses (run.ts's RunOptions has them all). */
export interface ActOptions {
  runner: Runner;
  emit: Emit;
  dryRun: boolean;
  signal?: AbortSignal;
}

export interface ActContext {
  o: ActOptions;
  vars: Record<string, string>;
  quiet: boolean;
  /** Settles per started process, by its variable, so cleanup can reap it. */
  exited: Map<string, Promise<unknown>>;
  /** The command as shown: filled, or with placeholders in a dry run. */
  shown: (c: Cmd) => string;
  interrupted: () => boolean;
}

export async function act(a: Action, x: ActContext): Promise<void> {
  const { o, vars, quiet, exited, shown, interrupted } = x;
  if (interrupted()) throw new StepFailed('interrupted', 130);
  if ('ensureDir' in a) {
    const dir = fill(a.ensureDir, vars);
    const build = actionCmds(a);
    if (o.dryRun) {
      const lines = build.map((c) => '    ' + shown(c)).join('\n');
      return o.emit({ type: 'cmd', action: a, shown: `if [ ! -d ${shown(cmd(a.ensureDir))} ]; then  # built once, then cached\n${lines}\n  fi`, quiet });
    }
    if (existsSync(dir)) return o.emit({ type: 'cmd', action: a, shown: `# cached, not rebuilt: ${dir}`, quiet });
    for (const c of build) await act({ run: c }, x);
    return;
  }
  if ('await' in a) {
    const [word, text] = 'contains' in a ? ['shows', a.contains] : ['no longer shows', a.lacks];
    const shownLine = `# wait until ${fillKnown(describeFact(a.await), vars)} ${word} ${fillKnown(text, vars)}`;
    if (o.dryRun) return o.emit({ type: 'cmd', action: a, shown: shownLine, quiet });
    const want = fill(text, vars);
    const holds = (v: string): boolean => ('contains' in a ? v.includes(want) : v !== '' && !v.includes(want));
    let seen = false;
    const until = performance.now() + 2000;
    while (!seen && performance.now() < until && !interrupted()) {
      seen = holds(await readFact(a.await, vars, o.runner));
      if (!seen) await sleep(5, o.signal);
    }
    if (interrupted()) throw new StepFailed('interrupted', 130);
    o.emit({ type: 'cmd', action: a, shown: shownLine, quiet });
    return; // the step's checks judge what the wait saw
  }
  if ('awaitExit' in a) {
    const shownLine = `# wait until PID ${vars[a.awaitExit] ?? `\${${a.awaitExit}}`} has exited`;
    if (o.dryRun) return o.emit({ type: 'cmd', action: a, shown: shownLine, quiet });
    const pid = Number(fill(`\${${a.awaitExit}}`, vars));
    const gone = await waitFor(() => !isAlive(pid), o.signal, 2000);
    if (interrupted()) throw new StepFailed('interrupted', 130);
    if (!gone) throw new StepFailed(`PID ${pid} was still alive 2 s later`);
    return o.emit({ type: 'cmd', action: a, shown: shownLine, quiet });
  }
  if ('childOf' in a) {
    const shownLine = `${a.pid}=<the child of ${vars[a.childOf] ?? `\${${a.childOf}}`}>`;
    if (o.dryRun) return o.emit({ type: 'cmd', action: a, shown: shownLine, quiet });
    const parent = Number(fill(`\${${a.childOf}}`, vars));
    const pid = await waitForExecedChild(parent, a.comm, o.signal);
    if (interrupted()) throw new StepFailed('interrupted', 130);
    if (pid === undefined) throw new StepFailed(`no child of PID ${parent} appeared (did it exit?)`);
    vars[a.pid] = String(pid);
    return o.emit({ type: 'cmd', action: a, shown: `${a.pid}=${pid}`, value: String(pid), quiet });
  }
  const c = 'run' in a ? a.run : a.start;
  const line = shown(c);
  if (o.dryRun) return o.emit({ type: 'cmd', action: a, shown: 'start' in a ? `${line} &` : line, quiet });
  const filled = fillCmd(c, vars);
  if ('start' in a) {
    let started: Started;
    try {
      started = await o.runner.start(filled);
    } catch (e) {
      throw new StepFailed(`could not start: ${(e as Error).message}`);
    }
    vars[a.pid] = String(started.pid);
    exited.set(a.pid, started.exited);
    if (a.until && !(await waitFor(() => comm(started.pid) === a.until, o.signal))) {
      throw interrupted() ? new StepFailed('interrupted', 130) : new StepFailed(`PID ${started.pid} never became ${a.until}`);
    }
    o.emit({ type: 'cmd', action: a, shown: `${line} &`, value: String(started.pid), quiet });
    return;
  }
  // A command whose output names what it made (an IPC id) is never cancelled halfway: the
  // name is needed to undo it. Its result is taken, and only then the interrupt.
  const result = await o.runner.run(filled, 'capture' in a ? {} : { signal: o.signal });
  const captured = 'capture' in a && result.code === 0 ? (a.match ? new RegExp(a.match).exec(result.stdout)?.[1] : lastWord(result.stdout)) : undefined;
  if (captured !== undefined && 'capture' in a) vars[a.capture] = captured;
  let missing: string | undefined;
  for (const [name, re] of 'capture' in a && result.code === 0 ? Object.entries(a.also ?? {}) : []) {
    const value = new RegExp(re).exec(result.stdout)?.[1];
    if (value === undefined) missing ??= re;
    else vars[name] = value;
  }
  if (interrupted()) throw new StepFailed('interrupted', 130);
  if ('capture' in a && result.code === 0 && captured === undefined) throw new StepFailed(`\`${line}\` printed nothing matching ${a.match}`);
  if (missing) throw new StepFailed(`\`${line}\` printed nothing matching ${missing}`);
  o.emit({ type: 'cmd', action: a, shown: line, result, value: captured, quiet });
  if (result.code === 127) throw new StepFailed(`missing tool: ${c.file} (run \`boxlab doctor\`)`);
  if (result.code !== 0 && !('mayFail' in a && a.mayFail)) {
    throw new StepFailed(`\`${line}\` exited ${result.code}: ${result.stderr.trim().split('\n').pop() ?? ''}`);
  }
}

/** The last word a command printed, as bash's ${X##*[[:space:]]} gives it ($(...) drops the last newlines). */
const lastWord = (out: string): string => out.replace(/\s+$/, '').split(/\s/).pop() ?? '';

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // The listener goes when the timer fires: an await polls every 5 ms, and each sleep left
    // one behind (Node warns at 11).
    const onAbort = (): void => (clearTimeout(t), resolve());
    const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Poll a /proc fact: processes started by wrappers take a moment to exec their program. */
async function waitFor(ready: () => boolean, signal?: AbortSignal, timeoutMs = 10_000): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  for (let i = 0; performance.now() < until && !signal?.aborted; i++) {
    if (ready()) return true;
    await new Promise((r) => setTimeout(r, i < 20 ? 1 : 10));
  }
  return ready();
}

/** The placeholder init is unshare's child; wait until it exists and has exec'd its program. */
async function waitForExecedChild(parent: number, name: string | undefined, signal?: AbortSignal): Promise<number | undefined> {
  let pid: number | undefined;
  const ready = (): boolean => {
    // Before its exec a forked child still carries its parent's name.
    const wanted = (c: number): boolean => (name === undefined ? comm(c) !== '' && comm(c) !== comm(parent) : comm(c) === name);
    const child = childrenOf(parent).find(wanted);
    if (child !== undefined) pid = child;
    return pid !== undefined || comm(parent) === '';
  };
  await waitFor(ready, signal);
  return pid;
}

