// boxlab-runtime: boxlab as an OCI runtime an engine (podman, through conmon) can call in place
// of runc. The operations of the runtime spec (runtime.md: create, start, state, kill, delete)
// in runc's dialect. A container is `boxlab run --bundle`'s script, started in a session of its
// own with create's stdio and left running: it builds the box, then waits at a FIFO for start.
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, constants as fsc, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { constants as osc } from 'node:os';
import { join, resolve } from 'node:path';
import { EnvError, UsageError } from '../errors.js';
import { fillCmd } from '../shell/cmd.js';
import { foregroundPassingSignals, RealRunner, type Runner } from '../shell/spawn.js';
import { isSameLiveProcess, processStartTime } from '../kernel/proc.js';
import { boxInit, checkId, type Container, defaultRoot, files, type Hook, hooksOf, load, makeRoot, payloadPid, save, stateJson, status } from '../container/containers.js';
import { CAPABILITIES } from '../kernel/capabilities.js';

// start, state, kill and delete load only the modules above: an engine calls the runtime
// once per operation, and each call pays Node's start-up plus what it loads. create and exec
// load the run planner when they are called.
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const VERSION = '0.1.0';
const SPEC_VERSION = '1.0.2';
const CREATE_TIMEOUT_MS = 60_000;

const USAGE = `usage: boxlab-runtime [--root DIR] [--log FILE] [--log-format text|json] COMMAND [flags] ID
  create [--bundle DIR] [--pid-file FILE] [--no-pivot] [--no-new-keyring] ID
                   build the container; its process waits for start (create's stdio is its stdio)
  start ID         start the process of a created container
  state ID         the spec's state JSON (status: creating, created, running, stopped)
  kill [--all] ID [SIGNAL]   a signal (name or number, default TERM) to the process
  delete [--force] ID        remove a stopped container (--force: whatever its state)
  exec --process FILE [--pid-file FILE] [--detach] ID
                   a process (the spec's process object, in FILE) in a running container
  features         what this runtime supports (runtime-spec features.md)
  --version`;

interface Global {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
}

/** Splits `--flag=value` and takes a flag's value from the next word. */
function takeValue(argv: string[], i: number, name: string): [string, number] {
  const a = argv[i]!;
  if (a.includes('=')) return [a.slice(a.indexOf('=') + 1), i];
  const v = argv[i + 1];
  if (v === undefined) throw new UsageError(`${name} needs a value`);
  return [v, i + 1];
}

export async function runtimeCommand(argv: string[], runner: Runner = new RealRunner()): Promise<number> {
  const g: Global = { root: defaultRoot(), logFormat: 'text' };
  let i = 0;
  try {
    for (; i < argv.length; i++) {
      const a = argv[i]!;
      const name = a.split('=')[0]!;
      if (!a.startsWith('-')) break;
      if (name === '--root') [g.root, i] = takeValue(argv, i, name);
      else if (name === '--log') [g.log, i] = takeValue(argv, i, name);
      else if (name === '--log-format') {
        let f: string;
        [f, i] = takeValue(argv, i, name);
        if (f !== 'text' && f !== 'json') throw new UsageError(`--log-format ${f}: text or json`);
        g.logFormat = f;
      } else if (name === '--systemd-cgroup') throw new EnvError('--systemd-cgroup: boxlab-runtime writes cgroup files itself (cgroupfs), it does not ask systemd: use the engine with cgroupfs (podman --cgroup-manager cgroupfs)');
      else if (name === '--debug') continue;
      else if (name === '--rootless') [, i] = a.includes('=') ? [a, i] : [a, i + 1];
      else if (a === '--version' || a === '-v') {
        process.stdout.write(`boxlab-runtime version ${VERSION}\nspec: ${SPEC_VERSION}\n`);
        return 0;
      } else if (a === '--help' || a === '-h') {
        process.stdout.write(USAGE + '\n');
        return 0;
      } else throw new UsageError(`unknown global flag ${a} (boxlab-runtime --help)`);
    }
    const [command, ...rest] = argv.slice(i);
    g.root = resolve(g.root);
    switch (command) {
      case 'create':
        return await create(g, rest, runner);
      case 'start':
        return await start(g, rest, runner);
      case 'state':
        return state(g, rest);
      case 'kill':
        return kill(g, rest);
      case 'delete':
        return await remove(g, rest, runner);
      case 'exec':
        return await exec(g, rest, runner);
      case 'features':
        process.stdout.write(JSON.stringify(features(), null, 2) + '\n');
        return 0;
      case undefined:
        throw new UsageError('a command is needed (boxlab-runtime --help)');
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command.slice(0, 40))} (boxlab-runtime --help)`);
    }
  } catch (e) {
    if (!(e instanceof UsageError || e instanceof EnvError)) throw e;
    report(g, e.message);
    return e.code;
  }
}

/** An error, as engines read it: one line on stderr, and in the log file when there is one
 *  (JSON lines with --log-format json, as runc writes them; conmon and podman quote `msg`). */
function report(g: Global, msg: string): void {
  process.stderr.write(`boxlab-runtime: ${msg}\n`);
  if (!g.log) return;
  const time = new Date().toISOString();
  const line = g.logFormat === 'json' ? JSON.stringify({ level: 'error', msg, time }) : `time="${time}" level=error msg=${JSON.stringify(msg)}`;
  try {
    appendFileSync(g.log, line + '\n');
  } catch {
    // The log is the engine's; stderr already has the message.
  }
}

/** The flags of one command, and its operands. */
function parse(argv: string[], values: string[], booleans: string[]): { opts: Record<string, string | true>; operands: string[] } {
  const opts: Record<string, string | true> = {};
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (!a.startsWith('-') || a === '-') operands.push(a);
    else if (values.includes(name)) [opts[name], i] = takeValue(argv, i, name);
    else if (booleans.includes(a)) opts[a] = true;
    else throw new UsageError(`unknown flag ${a}`);
  }
  return { opts, operands };
}

function oneId(operands: string[], command: string): string {
  if (operands.length !== 1) throw new UsageError(`${command} takes one container ID`);
  return checkId(operands[0]);
}

async function create(g: Global, argv: string[], runner: Runner): Promise<number> {
  const { opts, operands } = parse(argv, ['--bundle', '-b', '--pid-file', '--console-socket', '--preserve-fds'], ['--no-pivot', '--no-new-keyring']);
  const id = oneId(operands, 'create');
  if (opts['--console-socket'] !== undefined) {
    throw new EnvError('--console-socket: terminal mode is not supported by boxlab-runtime (the terminal\'s master end would go over the socket as SCM_RIGHTS, which Node cannot send): run without -t');
  }
  if (process.geteuid?.() !== 0) throw new EnvError('boxlab-runtime makes namespaces, mounts and cgroups: it needs root');
  const bundle = resolve(String(opts['--bundle'] ?? opts['-b'] ?? '.'));
  const f = files(g.root, id);
  makeRoot(g.root);
  if (existsSync(f.dir)) throw new EnvError(`container ${id} already exists`);

  const { specFromBundle } = await import('../container/oci.js');
  const { parseRunFlags } = await import('../container/flags.js');
  const { planRun } = await import('../container/plan.js');
  const { planResources, runScript } = await import('../container/script.js');
  const { hostFacts, requireNonDumpable, requireSeccomp } = await import('../container/host.js');
  const { StateFile, unlinkedFile } = await import('../box/state.js');
  const { spec, notes } = specFromBundle(bundle, parseRunFlags(['--bundle', bundle]));
  const hooks = hooksOf(readConfig(bundle));
  // Those two run in the container's namespaces, after pivot_root: boxlab runs hooks on the host only.
  for (const k of ['createContainer', 'startContainer']) if (hooks[k]?.length) notes.push(`config.json: hooks.${k} (run inside the container) is not supported; not run`);
  if (spec.tty) throw new EnvError('process.terminal: terminal mode is not supported by boxlab-runtime (see --console-socket): run without -t');
  // The container's stdin is create's (the engine's pipe or /dev/null), as runc hands it over.
  spec.interactive = true;
  spec.name = `oci-${id}`;
  const host = hostFacts(spec, true);
  const plan = planRun(spec, host, { fdsClosed: true, payloadViaFile: true });
  try {
    requireSeccomp(spec, host);
  } catch {
    throw new EnvError("config.json asks for a seccomp filter (linux.seccomp), and this host's setpriv (util-linux < 2.41) cannot apply one: boxlab-runtime will not start the box without it (podman: --security-opt seccomp=unconfined)");
  }
  requireNonDumpable();

  // Made here, before anything else: a second create of the same ID fails above from now on.
  rmSync(f.dir, { force: true, recursive: true });
  mkdirSync(f.dir, { mode: 0o700 });
  // What boxlab does not apply goes to a file: create's stderr is the container's.
  writeFileSync(f.notes, notes.map((n) => `${n}\n`).join(''), { mode: 0o600 });

  const runId = randomBytes(4).toString('hex');
  const stateFile = new StateFile(runId, process.pid, planResources(plan, runId));
  const script = runScript(plan, {
    runId,
    invocation: `boxlab-runtime create ${id}`,
    commented: false,
    stateFile: f.box,
    runStateFile: stateFile.path,
    interactive: true,
    gate: { fifo: f.fifo, created: f.created, started: f.started, payloadPid: f.payloadPid },
  });
  // As boxlab run does: an unlinked root-only file on fd 3, nothing to remove after.
  const scriptFd = unlinkedFile(`${runId}.sh`, script);
  const started = runner.foreground({ file: 'bash', args: ['/dev/fd/3'] }, { detached: true, runId, fd3: scriptFd });
  closeSync(scriptFd);
  stateFile.handOver(started.pid);
  const annotations = Object.fromEntries(Object.entries((readConfig(bundle).annotations as Record<string, unknown>) ?? {}).map(([k, v]) => [k, String(v)]));
  const c: Container = { id, bundle, runId, pid: started.pid, pidStart: processStartTime(started.pid), created: new Date().toISOString(), annotations, spec, hooks };
  save(g.root, c);

  // Created once the script says so; if it ends first, its stderr (the engine's) said why.
  let ended: number | undefined;
  void started.exited.then((code) => {
    ended = code;
  });
  // A box is built in well under a second here; a minute means a step is stuck: end it (its
  // script undoes what it made) rather than leave the engine waiting.
  const deadline = Date.now() + CREATE_TIMEOUT_MS;
  while (!existsSync(f.created)) {
    if (Date.now() > deadline) {
      trySignal(c.pid, osc.signals.SIGTERM);
      rmSync(f.dir, { force: true, recursive: true });
      throw new EnvError(`container ${id} was not created within ${CREATE_TIMEOUT_MS / 1000} s: its script was stopped`);
    }
    if (ended !== undefined || !isSameLiveProcess(c.pid, c.pidStart)) {
      rmSync(f.dir, { force: true, recursive: true });
      throw new EnvError(`container ${id} could not be created (its script exited with ${ended ?? 'an unknown status'})`);
    }
    await sleep(2);
  }
  // The runtime's hooks, now that the box exists (the spec runs createRuntime before
  // pivot_root; boxlab's script has pivoted by now). One failing stops the container.
  const failed = await runHooks(runner, [...(hooks.prestart ?? []), ...(hooks.createRuntime ?? [])], { ...stateJson(g.root, c), status: 'creating' });
  if (failed) {
    await endScript(g, c, osc.signals.SIGTERM);
    rmSync(f.dir, { force: true, recursive: true });
    const late = await runHooks(runner, hooks.poststop ?? [], { ...stateJson(g.root, c), status: 'stopped', pid: 0 });
    if (late) report(g, `warning: ${late}`);
    throw new EnvError(`container ${id}: ${failed}; the container was stopped and deleted`);
  }
  if (opts['--pid-file']) writeFileSync(resolve(String(opts['--pid-file'])), String(c.pid));
  return 0;
}

/** Hooks in order, each with the state on stdin, its own environment and its timeout (the
 *  spec's default: none; here 60 s, a hook must not hang an engine). The first failure, or none. */
async function runHooks(runner: Runner, hooks: Hook[], state: Record<string, unknown>): Promise<string | undefined> {
  for (const h of hooks) {
    const r = await runner.run({ file: 'env', args: ['-i', ...h.env, h.path, ...h.args.slice(1)], stdin: JSON.stringify(state) }, { timeoutMs: (h.timeout ?? 60) * 1000 });
    if (r.code !== 0) return `hook ${h.path} ${r.code === 124 ? `ran past its timeout (${h.timeout ?? 60} s)` : `exited with ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]!.slice(0, 200)}` : ''}`}`;
  }
  return undefined;
}

function readConfig(bundle: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

async function start(g: Global, argv: string[], runner: Runner): Promise<number> {
  const id = oneId(parse(argv, [], []).operands, 'start');
  const c = load(g.root, id);
  const s = status(g.root, c);
  if (s !== 'created') throw new EnvError(`container ${id} is ${s}, not created: only a created container starts`);
  // The script holds the FIFO open for reading: a write cannot block, and fails (ENXIO) only
  // if the script is gone.
  let fd: number;
  try {
    fd = openSync(files(g.root, id).fifo, fsc.O_WRONLY | fsc.O_NONBLOCK);
  } catch (e) {
    throw new EnvError(`container ${id} is not waiting to start (${(e as NodeJS.ErrnoException).code})`);
  }
  writeSync(fd, '\n');
  closeSync(fd);
  // poststart: once the command is started; a failure is a warning (config.md).
  for (let t = 0; t < 200 && !existsSync(files(g.root, id).started); t++) await sleep(10);
  const failed = await runHooks(runner, c.hooks.poststart ?? [], stateJson(g.root, c));
  if (failed) report(g, `warning: ${failed}`);
  return 0;
}

function state(g: Global, argv: string[]): number {
  const id = oneId(parse(argv, [], []).operands, 'state');
  process.stdout.write(JSON.stringify(stateJson(g.root, load(g.root, id)), null, 2) + '\n');
  return 0;
}

/** A signal by name (TERM, SIGTERM) or number. */
export function signalNumber(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = (s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`) as keyof typeof osc.signals;
    if (osc.signals[name] !== undefined) return osc.signals[name];
  }
  throw new UsageError(`unknown signal ${JSON.stringify(s.slice(0, 20))}`);
}

function kill(g: Global, argv: string[]): number {
  const { opts, operands } = parse(argv, [], ['--all', '-a']);
  if (operands.length < 1 || operands.length > 2) throw new UsageError('kill takes a container ID and an optional signal');
  const id = checkId(operands[0]);
  const sig = signalNumber(operands[1] ?? 'TERM');
  const c = load(g.root, id);
  const s = status(g.root, c);
  if (s !== 'created' && s !== 'running') throw new EnvError(`container ${id} is ${s}: only a created or running container takes a signal`);
  if (s === 'created') {
    // Its process is the script at the gate: any signal ends it, and the script undoes the box.
    trySignal(c.pid, osc.signals.SIGTERM);
    return 0;
  }
  if (opts['--all'] || opts['-a']) {
    const init = boxInit(g.root, id);
    if (init) for (const pid of inPidNamespaceOf(init)) trySignal(pid, sig);
    return 0;
  }
  const pid = payloadPid(g.root, id, c.pid);
  if (pid) trySignal(pid, sig);
  return 0;
}

/** Waits for the container's script to end (after `sig`, if given): it undoes the box when its
 *  command ends. One that has not in 10 s is killed; reset then undoes what it left. */
async function endScript(g: Global, c: Container, sig?: number): Promise<void> {
  if (sig !== undefined) trySignal(c.pid, sig);
  for (let t = 0; t < 1000 && isSameLiveProcess(c.pid, c.pidStart); t++) await sleep(10);
  if (isSameLiveProcess(c.pid, c.pidStart)) {
    trySignal(c.pid, osc.signals.SIGKILL);
    report(g, `container ${c.id}: its script did not end in 10 s and was killed; boxlab reset undoes what it left`);
  }
}

function trySignal(pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch {
    // It ended meanwhile.
  }
}

/** Every process in the PID namespace of `init`, by /proc/PID/ns/pid. */
function inPidNamespaceOf(init: number): number[] {
  const ns = (pid: number | string): string | undefined => {
    try {
      return readlinkSync(`/proc/${pid}/ns/pid`);
    } catch {
      return undefined;
    }
  };
  const target = ns(init);
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && ns(p) === target)
    .map(Number);
}

async function remove(g: Global, argv: string[], runner: Runner): Promise<number> {
  const { opts, operands } = parse(argv, [], ['--force', '-f']);
  const id = oneId(operands, 'delete');
  const force = Boolean(opts['--force'] || opts['-f']);
  const f = files(g.root, id);
  const c = load(g.root, id);
  const s = status(g.root, c);
  if (s !== 'stopped') {
    if (!force) throw new EnvError(`container ${id} is ${s}, not stopped: stop it first (kill), or delete --force`);
    const command = s === 'running' ? payloadPid(g.root, id, c.pid) : undefined;
    if (command) trySignal(command, osc.signals.SIGKILL);
    await endScript(g, c, command ? undefined : osc.signals.SIGTERM);
  }
  rmSync(f.dir, { force: true, recursive: true });
  // poststop: the container deleted; a failure is a warning (config.md).
  const failed = await runHooks(runner, c.hooks?.poststop ?? [], { ...stateJson(g.root, c), status: 'stopped', pid: 0 });
  if (failed) report(g, `warning: ${failed}`);
  return 0;
}

/** `exec` as engines call it (conmon: --process FILE --pid-file FILE --detach): the process
 *  object's command, environment, directory, user and capabilities, entering the box by the
 *  one way in (boxEntry) with the box's cgroups and seccomp filter. */
async function exec(g: Global, argv: string[], runner: Runner): Promise<number> {
  const { opts, operands } = parse(argv, ['--process', '-p', '--pid-file', '--console-socket', '--cwd', '--preserve-fds'], ['--detach', '-d', '--tty', '-t', '--no-new-privs']);
  const id = oneId(operands, 'exec');
  if (opts['--console-socket'] !== undefined || opts['--tty'] || opts['-t']) throw new EnvError('--tty: terminal mode is not supported by boxlab-runtime (see create --console-socket): exec without -t');
  const processFile = opts['--process'] ?? opts['-p'];
  if (typeof processFile !== 'string') throw new UsageError('exec needs --process FILE (the process object of config.json)');
  const c = load(g.root, id);
  const s = status(g.root, c);
  if (s !== 'running') throw new EnvError(`container ${id} is ${s}: exec enters a running container only`);
  const box = boxInit(g.root, id);
  if (!box) throw new EnvError(`container ${id}: its box is gone`);
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(readFileSync(resolve(processFile), 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new EnvError(`--process ${processFile}: ${(e as Error).message}`);
  }
  const { execSpec } = await import('../container/oci.js');
  const { hostFacts, requireNonDumpable } = await import('../container/host.js');
  const { workspaceVars } = await import('../engine/workspace.js');
  const { boxEntry, enterBoxViaFile } = await import('../container/enter.js');
  const { RELAY_CMD } = await import('../container/script.js');
  const spec = execSpec(c.spec, p);
  if (p.terminal) throw new EnvError('process.terminal: terminal mode is not supported by boxlab-runtime: exec without -t');
  const host = hostFacts(spec, true);
  requireNonDumpable();
  const work = workspaceVars(c.runId).WORK!;
  const entry = boxEntry(spec, host, { runId: c.runId, work, args: spec.args, closeFds: true, ownSession: false });
  if (entry.seccompFile && !existsSync(entry.seccompFile)) throw new EnvError(`container ${id}: its seccomp filter is gone: no exec without it`);
  // The chain in a root-only file of the box's work directory (no value of the environment in
  // a command line); the relay removes it when the command ends.
  const file = join(work, `exec-${randomBytes(4).toString('hex')}.sh`);
  const { cmd, text } = enterBoxViaFile(entry, file);
  writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  const filled = fillCmd(cmd, { BOX: String(box) });
  const relay = { file: 'bash', args: ['-c', `f_=$1; shift\n${RELAY_CMD}\ns_=$?; rm -f -- "$f_"; exit "$s_"`, 'boxlab-exec', file, filled.file, ...filled.args] };
  if (opts['--detach'] || opts['-d']) {
    // The engine waits for this process (conmon adopts it once we exit): it exits with the command's status.
    const started = runner.foreground(relay, { detached: true, runId: c.runId });
    if (typeof opts['--pid-file'] === 'string') writeFileSync(resolve(opts['--pid-file']), String(started.pid));
    return 0;
  }
  return await foregroundPassingSignals(runner, relay, { runId: c.runId }, (pid) => {
    if (typeof opts['--pid-file'] === 'string') writeFileSync(resolve(opts['--pid-file'] as string), String(pid));
  });
}

/** runtime-spec features.md: what this runtime can apply. */
function features(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: SPEC_VERSION,
    hooks: ['prestart', 'createRuntime', 'poststart', 'poststop'],
    mountOptions: ['ro', 'rw', 'bind', 'rbind', 'nosuid', 'nodev', 'noexec'],
    linux: {
      namespaces: ['mount', 'uts', 'ipc', 'network', 'pid', 'cgroup', 'user'],
      capabilities: CAPABILITIES.map((x) => x.toUpperCase()),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: true, actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS'] },
      apparmor: { enabled: true },
      selinux: { enabled: false },
    },
    annotations: { 'org.boxlab.runtime.terminal': 'unsupported' },
  };
}
