// The one place in boxlab that starts processes, through node:child_process. They all start in /: every path boxlab passes
// is absolute, and a box's init must have / as its cwd to follow pivot_root. Everything above it talks to a Runner,
// so the engine can be tested with a RecordingRunner and no root.
import { spawn } from 'node:child_process';
import { constants as os } from 'node:os';
import { performance } from 'node:perf_hooks';
import { render, type Cmd } from './cmd.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time spent in the spawned tool, from spawn to exit. */
  ms: number;
}

export interface Started {
  pid: number;
  /** Settles when the process exits. */
  exited: Promise<RunResult>;
}

export interface Runner {
  /** Run to completion. Never throws for a non-zero exit; code 127 means the tool is missing,
   *  124 that it ran past its time limit (default 60 s) and was killed. */
  run(c: Cmd, o?: { signal?: AbortSignal; timeoutMs?: number }): Promise<RunResult>;
  /** Start in the background, stdio closed, and return its PID. */
  start(c: Cmd): Promise<Started>;
  /** Run with the terminal attached (an interactive shell); resolves to the exit code. */
  attach(c: Cmd): Promise<number>;
  /** The same, with `env` added and a conversation on its fd 3 (a socket): each line it writes
   *  there is answered with the line `answer` gives (practice mode's prompt hook). */
  converse(c: Cmd, env: Record<string, string>, answer: (line: string) => Promise<string>, signal?: AbortSignal): Promise<number>;
  /** `boxlab run`'s hot path: one process with the terminal; with `log`, in a session of its
   *  own writing to that descriptor, left running (-d); with `detached` and no log, in a
   *  session of its own with our stdio, left running (the OCI runtime's create). Resolves to
   *  its exit code (128+N for signal N). `runId` marks it as the run's (BOXLAB_RUN in its
   *  environment). */
  foreground(c: Cmd, o?: ForegroundOptions): Foreground;
  /** Total milliseconds spent inside spawned tools (for the benchmark). */
  toolMs: number;
}

export interface ForegroundOptions {
  log?: number;
  detached?: boolean;
  runId?: string;
  /** A descriptor the process gets as its fd 3 (a script for `bash /dev/fd/3`). */
  fd3?: number;
}

export interface Foreground {
  pid: number;
  exited: Promise<number>;
}

function missing(c: Cmd, ms: number): RunResult {
  return { code: 127, stdout: '', stderr: `${c.file}: command not found`, ms };
}

/** An exit as a shell reports it: the code, or 128+N for signal N; a start that failed
 *  (`error`): 127 for a missing program, 126 for one that cannot run. */
function exitCode(code: number | null, signal: NodeJS.Signals | null, error?: NodeJS.ErrnoException): number {
  if (error) return error.code === 'ENOENT' ? 127 : 126;
  return code ?? 128 + signalNumber(signal ?? undefined);
}

/** The environment variable that names the run a started process belongs to. */
export const RUN_MARK = 'BOXLAB_RUN';
/** An environment with the run's mark added, when there is a run to name. */
const withMark = (env: NodeJS.ProcessEnv, runId: string | undefined): NodeJS.ProcessEnv => (runId ? { ...env, [RUN_MARK]: runId } : env);

export class RealRunner implements Runner {
  toolMs = 0;

  /** `runId`: marks every process start() makes (BOXLAB_RUN in its environment), so reset can
   *  find one whose PID never reached the state file (boxlab killed right after the spawn). */
  constructor(private readonly runId?: string) {}

  /** Kept for callers that awaited a loader: node:child_process needs none (execa, ~18 ms of
   *  loading and ~1 ms more per spawn here, is no longer used). */
  async ready(): Promise<this> {
    return this;
  }

  run(c: Cmd, o: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<RunResult> {
    const t0 = performance.now();
    const limit = o.timeoutMs ?? 60_000;
    // A process group of its own, killed whole when cancelled or too slow: a tool's children
    // (bwrap's sandboxed one, say) die with it instead of holding our pipes open forever.
    // Our environment with LC_ALL=C (as execa's env, which extends process.env, gave it).
    const child = spawn(c.file, c.args, { stdio: [c.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: true, env: { ...process.env, LC_ALL: 'C' }, cwd: '/' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    // A tool that exits without reading its input must not fail the write (EPIPE).
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(`${c.stdin}\n`);
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    // A step must not hang a workshop: e.g. a background child holding our stdout pipe.
    const timer = setTimeout(() => ((timedOut = true), killGroup()), limit);
    o.signal?.addEventListener('abort', killGroup, { once: true });
    if (o.signal?.aborted) killGroup();
    return new Promise<RunResult>((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null, error?: NodeJS.ErrnoException): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', killGroup);
        const ms = performance.now() - t0;
        this.toolMs += ms;
        const stdout = Buffer.concat(out).toString('utf8');
        const stderr = Buffer.concat(err).toString('utf8') + (error ? `${c.file}: ${error.message}` : '');
        if (error?.code === 'ENOENT') resolve(missing(c, ms));
        else if (timedOut) resolve({ code: 124, stdout, stderr: `${stderr}\n${c.file}: killed after ${limit / 1000} s`, ms });
        else resolve({ code: exitCode(code, signal, error), stdout, stderr, ms });
      };
      // A start that failed emits 'error' (and no exit); 'close' waits for stdout and stderr.
      child.on('error', (e: NodeJS.ErrnoException) => child.pid === undefined && finish(null, null, e));
      child.on('close', (code, signal) => finish(code, signal));
    });
  }

  async start(c: Cmd): Promise<Started> {
    const t0 = performance.now();
    // detached: its own session, so a Ctrl-C at the terminal (meant for us or for a shell in
    // the box) never reaches the box; --pdeathsig still ties it to us.
    const child = spawn(c.file, c.args, { stdio: 'ignore', env: withMark({ ...process.env, LC_ALL: 'C' }, this.runId), cwd: '/', detached: true });
    const exited = new Promise<RunResult>((resolve) => {
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (child.pid === undefined) resolve({ code: exitCode(null, null, e), stdout: '', stderr: e.code === 'ENOENT' ? `${c.file}: command not found` : `${c.file}: ${e.message}`, ms: performance.now() - t0 });
      });
      child.on('exit', (code, signal) => resolve({ code: exitCode(code, signal), stdout: '', stderr: '', ms: performance.now() - t0 }));
    });
    if (child.pid === undefined) {
      const r = await exited;
      throw new SpawnError(c, r.stderr || 'could not start');
    }
    return { pid: child.pid, exited };
  }

  attach(c: Cmd): Promise<number> {
    const child = spawn(c.file, c.args, { stdio: 'inherit', cwd: '/' });
    return new Promise<number>((resolve) => {
      child.on('error', (e: NodeJS.ErrnoException) => child.pid === undefined && resolve(exitCode(null, null, e)));
      child.on('exit', (code, signal) => resolve(exitCode(code, signal)));
    });
  }

  foreground(c: Cmd, o: ForegroundOptions = {}): Foreground {
    return spawnForeground(c, { runId: this.runId, ...o });
  }

  async converse(c: Cmd, env: Record<string, string>, answer: (line: string) => Promise<string>, signal?: AbortSignal): Promise<number> {
    const t0 = performance.now();
    // Marked as start() marks: a learner's shell and everything it starts die with the run,
    // or at `boxlab reset` once the run is gone.
    const child = spawn(c.file, c.args, { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], cwd: '/', env: withMark({ ...process.env, ...env }, this.runId) });
    const sock = child.stdio[3] as import('node:stream').Duplex | null;
    let buffered = '';
    let queue = Promise.resolve();
    sock?.on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        // One question at a time, answered in order.
        queue = queue.then(async () => {
          const reply = await answer(line).catch((e: unknown) => `error ${e instanceof Error ? e.message : String(e)}`);
          if (!sock.destroyed) sock.write(`${reply.replace(/\n/g, ' ')}\n`);
        });
      }
    });
    sock?.on('error', () => undefined); // the shell went away mid-answer
    // Ended from outside (SIGTERM, the terminal closed): the shell goes, as a terminal's would.
    const hangUp = (): void => void child.kill('SIGKILL');
    signal?.addEventListener('abort', hangUp, { once: true });
    if (signal?.aborted) hangUp();
    const code = await new Promise<number>((resolve) => {
      child.on('error', () => resolve(127));
      child.on('exit', (n, sig) => resolve(n ?? 128 + (sig ? os.signals[sig] : 0)));
    });
    signal?.removeEventListener('abort', hangUp);
    await queue;
    sock?.destroy();
    this.toolMs += performance.now() - t0;
    return code;
  }
}

export class SpawnError extends Error {
  constructor(readonly cmd: Cmd, reason: string) {
    super(`${render(cmd)}: ${reason}`);
  }
}

/** A signal's number, as a shell reports 128+N: every signal the OS knows, SIGABRT too. */
function signalNumber(s: string | undefined): number {
  return (s && os.signals[s as NodeJS.Signals]) || 0;
}

export type Responder = (line: string, c: Cmd, o?: ForegroundOptions) => Partial<RunResult> | undefined;

/** Records every command and answers from a responder: for unit tests of everything above. */
export class RecordingRunner implements Runner {
  toolMs = 0;
  readonly calls: string[] = [];
  private nextPid = 4000;

  constructor(private readonly respond: Responder = () => undefined) {}

  private answer(c: Cmd, o?: ForegroundOptions): RunResult {
    const line = render(c);
    this.calls.push(line);
    return { code: 0, stdout: '', stderr: '', ms: 0, ...this.respond(line, c, o) };
  }

  async run(c: Cmd): Promise<RunResult> {
    return this.answer(c);
  }

  async start(c: Cmd): Promise<Started> {
    const r = this.answer(c);
    if (r.code !== 0) throw new SpawnError(c, r.stderr);
    return { pid: this.nextPid++, exited: Promise.resolve({ code: 137, stdout: '', stderr: '', ms: 0 }) };
  }

  async attach(c: Cmd): Promise<number> {
    return this.answer(c).code;
  }

  async converse(c: Cmd): Promise<number> {
    return this.answer(c).code;
  }

  foreground(c: Cmd, o?: ForegroundOptions): Foreground {
    return { pid: this.nextPid++, exited: Promise.resolve(this.answer(c, o).code) };
  }
}

/**
 * `boxlab run`'s hot path: one process with the terminal, through node:child_process (execa
 * would add ~18 ms of loading to every run). With `log`, it starts in its own session,
 * writing to that file, and is left running (-d).
 */
export function spawnForeground(c: Cmd, o: ForegroundOptions = {}): Foreground {
  const env = withMark(process.env, o.runId);
  const detached = o.detached || o.log !== undefined;
  const stdio: import('node:child_process').StdioOptions = o.log === undefined ? ['inherit', 'inherit', 'inherit'] : ['ignore', o.log, o.log];
  const child = spawn(c.file, c.args, { stdio: o.fd3 === undefined ? stdio : [...stdio, o.fd3], cwd: '/', env, detached });
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.signals[signal] : 0)));
  });
  if (detached) child.unref();
  return { pid: child.pid ?? -1, exited };
}

/**
 * C in the foreground (Runner.foreground), with a SIGINT or SIGTERM sent to boxlab passed on
 * to it, as `docker stop` expects. Ctrl-C at a terminal reaches the child's process group by
 * itself, so a SIGINT is passed on only without one. `started` gets the child's PID.
 */
export async function foregroundPassingSignals(runner: Runner, c: Cmd, o: ForegroundOptions = {}, started?: (pid: number) => void): Promise<number> {
  let pid = 0;
  const pass = (sig: NodeJS.Signals) => (): void => {
    if (pid > 0 && (sig !== 'SIGINT' || !process.stdin.isTTY)) process.kill(pid, sig);
  };
  const onInt = pass('SIGINT');
  const onTerm = pass('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const f = runner.foreground(c, o);
    pid = f.pid;
    started?.(pid);
    return await f.exited;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
