// The one place in boxlab that starts processes. They all start in /: every path boxlab passes
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
}

export interface Foreground {
  pid: number;
  exited: Promise<number>;
}

type Execa = typeof import('execa').execa;
let execaFn: Execa | undefined;
async function loadExeca(): Promise<Execa> {
  // Loaded on first use: `boxlab lessons` and `--help` never pay for it.
  execaFn ??= (await import('execa')).execa;
  return execaFn;
}

function missing(c: Cmd, ms: number): RunResult {
  return { code: 127, stdout: '', stderr: `${c.file}: command not found`, ms };
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

  /** Load execa now, so its import is start-up time rather than the first step's. */
  async ready(): Promise<this> {
    await loadExeca();
    return this;
  }

  async run(c: Cmd, o: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<RunResult> {
    const execa = await loadExeca();
    const t0 = performance.now();
    // A process group of its own, killed whole when cancelled or too slow: a tool's children
    // (bwrap's sandboxed one, say) die with it instead of holding our pipes open forever.
    const p = execa(c.file, c.args, {
      reject: false,
      stripFinalNewline: false,
      input: c.stdin === undefined ? undefined : c.stdin + '\n',
      stdin: c.stdin === undefined ? 'ignore' : undefined,
      detached: true,
      env: { LC_ALL: 'C' },
      cwd: '/',
    });
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (p.pid !== undefined) process.kill(-p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    // A step must not hang a workshop: e.g. a background child holding our stdout pipe.
    const timer = setTimeout(() => ((timedOut = true), killGroup()), o.timeoutMs ?? 60_000);
    o.signal?.addEventListener('abort', killGroup, { once: true });
    if (o.signal?.aborted) killGroup();
    const r = await p;
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', killGroup);
    const ms = performance.now() - t0;
    this.toolMs += ms;
    if (r.code === 'ENOENT') return missing(c, ms);
    if (timedOut) return { code: 124, stdout: String(r.stdout), stderr: `${String(r.stderr)}\n${c.file}: killed after ${(o.timeoutMs ?? 60_000) / 1000} s`, ms };
    return { code: r.exitCode ?? 128 + signalNumber(r.signal), stdout: String(r.stdout), stderr: String(r.stderr), ms };
  }

  async start(c: Cmd): Promise<Started> {
    const execa = await loadExeca();
    const t0 = performance.now();
    // detached: its own session, so a Ctrl-C at the terminal (meant for us or for a shell in
    // the box) never reaches the box; --pdeathsig still ties it to us.
    const p = execa(c.file, c.args, { reject: false, stdio: 'ignore', env: withMark({ LC_ALL: 'C' }, this.runId), cwd: '/', detached: true });
    const exited = p.then((r) => ({
      code: r.code === 'ENOENT' ? 127 : r.exitCode ?? 128 + signalNumber(r.signal),
      stdout: '',
      stderr: r.code === 'ENOENT' ? `${c.file}: command not found` : '',
      ms: performance.now() - t0,
    }));
    if (p.pid === undefined) {
      const r = await exited;
      throw new SpawnError(c, r.stderr || 'could not start');
    }
    return { pid: p.pid, exited };
  }

  async attach(c: Cmd): Promise<number> {
    const execa = await loadExeca();
    const r = await execa(c.file, c.args, { reject: false, stdio: 'inherit', cwd: '/' });
    return r.exitCode ?? 128 + signalNumber(r.signal);
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

export type Responder = (line: string, c: Cmd) => Partial<RunResult> | undefined;

/** Records every command and answers from a responder: for unit tests of everything above. */
export class RecordingRunner implements Runner {
  toolMs = 0;
  readonly calls: string[] = [];
  private nextPid = 4000;

  constructor(private readonly respond: Responder = () => undefined) {}

  private answer(c: Cmd): RunResult {
    const line = render(c);
    this.calls.push(line);
    return { code: 0, stdout: '', stderr: '', ms: 0, ...this.respond(line, c) };
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

  foreground(c: Cmd): Foreground {
    return { pid: this.nextPid++, exited: Promise.resolve(this.answer(c).code) };
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
  const child = spawn(c.file, c.args, { stdio: o.log === undefined ? 'inherit' : ['ignore', o.log, o.log], cwd: '/', env, detached });
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
