// `boxlab run`, and `ps` / `exec` / `rm` for boxes run with -d. A run is planned in Node and
// executed as one bash script (the one --script prints), so it costs Node's start-up plus the
// tools, not a spawn per step from Node.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvError, UsageError } from '../errors.js';
import { fill, literal, placeholders, quote, render } from '../shell/cmd.js';
import { spawnForeground } from '../shell/runner.js';
import { workspaceVars } from '../engine/workspace.js';
import { StateFile, stateDir, type HostResource } from '../box/state.js';
import { isAlive } from '../kernel/proc.js';
import { parseRunFlags } from '../run/flags.js';
import { payload, planRun, type Plan } from '../run/plan.js';
import { runScript } from '../run/script.js';
import type { RunSpec } from '../run/spec.js';
import { hostFacts, loadProfile } from '../run/host.js';

const USAGE = `usage: boxlab run [flags] (IMAGE | --rootfs DIR | --bundle DIR) [--] [CMD...]
  --rm  -i  -t  -d  --name NAME  --hostname NAME
  -e K=V  -w DIR  --user UID[:GID]  -v /HOST:/BOX[:ro]  --network none|bridge  --userns
  --memory 64m  --pids 100  --cpus 0.5  --cap-add CAP  --cap-drop CAP
  --seccomp PROFILE.json|unconfined  --explain  --script
Boxes are always removed when their command ends (--rm is the only mode).`;

const boxesDir = (): string => join(stateDir(), 'boxes');

export async function runCommand(argv: string[]): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const flags = parseRunFlags(argv);
  let spec: RunSpec;
  let notes: string[] = [];
  if (flags.bundle) {
    const { specFromBundle } = await import('../run/oci.js');
    ({ spec, notes } = specFromBundle(flags.bundle, flags));
  } else {
    const { specFromFlags } = await import('../run/from-flags.js');
    spec = specFromFlags(flags, flags.image ? await loadCachedImage(flags.image) : undefined, loadProfile);
  }
  for (const n of notes) process.stderr.write(`boxlab: ${n}\n`);
  const planOnly = flags.explain || flags.script;
  if (!planOnly && process.geteuid?.() !== 0) throw new EnvError('boxlab run makes namespaces, mounts and cgroups: it needs root (sudo)');
  // Its script closes every inherited descriptor first: the payload needs no hop of its own for it.
  const plan = planRun(spec, hostFacts(spec, !planOnly), { fdsClosed: true });
  const runId = randomBytes(4).toString('hex');
  const invocation = `boxlab run ${argv.join(' ')}`;
  if (flags.explain) return explain(plan, runId);
  if (flags.script) {
    process.stdout.write(runScript(plan, { invocation, commented: true, tty: spec.tty, interactive: spec.interactive }));
    return 0;
  }
  mkdirSync(boxesDir(), { recursive: true });
  const stateFile = join(boxesDir(), `${spec.name}.box`);
  if (existsSync(join(boxesDir(), `${spec.name}.json`))) throw new UsageError(`a box named ${spec.name} is running (boxlab ps; boxlab rm ${spec.name})`);
  // What the run makes on the host, written down before it starts: `boxlab reset` undoes
  // it if the script is killed. The script removes this file when its cleanup is done.
  const state = new StateFile(runId, process.pid, hostResources(plan, runId, spec.name));
  const script = runScript(plan, { runId, invocation, commented: false, stateFile, runStateFile: state.path, tty: spec.tty, interactive: spec.interactive });
  const bash = { file: 'bash', args: ['-c', `${script}`, 'boxlab-run'] };
  if (flags.detach) return detach(spec, runId, bash, stateFile, state);

  // Ctrl-C reaches the payload from the terminal by itself; we wait for the script's cleanup.
  // SIGTERM to boxlab goes to the payload (the box's PID 2), as `docker stop` does.
  const onInt = (): void => undefined;
  const onTerm = (): void => void signalPayload(stateFile, 'SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const { pid, exited } = spawnForeground(bash, { runId });
    state.handOver(pid);
    return await exited;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    rmSync(stateFile, { force: true });
  }
}

function explain(plan: Plan, runId: string): number {
  const vars = workspaceVars(runId);
  const show = (s: string): string => s.replace(/\$\{(RUN_ID|WORK|ROOTFS)\}/g, (_, v: string) => vars[v]!);
  for (const s of plan.steps) {
    process.stdout.write(`\n${s.title}\n  kernel: ${s.feature.name} — ${s.feature.syscalls.join(', ')}\n  lesson ${s.lessons.join(', ')} · config.json: ${s.oci}\n`);
    for (const a of s.actions) {
      if ('ensureDir' in a) {
        // A cache: made by the first run on this host, reused after.
        process.stdout.write(`  $ # once per host, unless ${a.ensureDir} exists:\n`);
        for (const c of a.build) process.stdout.write(`      ${show(render(c))}\n`);
        process.stdout.write(`      ${show(render({ file: 'mv', args: ['-T', a.tmp, a.ensureDir] }))}\n`);
        continue;
      }
      if (!('run' in a || 'start' in a)) continue;
      const c = 'run' in a ? a.run : a.start;
      const script = ['sh', 'bash'].includes(c.file) && ['-c', '-euc'].includes(c.args[0]!) && c.args[1]!.includes('\n') ? c.args[1]! : undefined;
      if (script && !c.batch) {
        // A small shell program of ours: its lines, one per line, then its arguments.
        process.stdout.write(`  $ ${c.file} ${c.args[0]} SCRIPT ${show(c.args.slice(2).map(quote).join(' '))}  where SCRIPT is:\n`);
        for (const l of script.split('\n')) process.stdout.write(`      ${l}\n`);
      } else if (!c.batch) process.stdout.write(`  $ ${show(render(c))}\n`);
      else {
        // One nsenter runs them all in the box's namespaces; shown one per line.
        const enter = c.args.slice(0, c.args.indexOf('sh'));
        process.stdout.write(`  $ ${show(render({ file: c.file, args: [...enter, 'sh', '-euc', '...'] }))}  runs:\n`);
        for (const b of c.batch) process.stdout.write(`      ${show(b.inline ?? render(b))}\n`);
      }
    }
  }
  process.stdout.write(`\nThe payload (its exit status is the run's)\n  $ ${show(render(plan.payload))}\n`);
  for (const w of plan.warnings) process.stdout.write(`\nboxlab: ${w}\n`);
  return 0;
}

/** The payload: the process in the box's PID namespace whose parent is outside it (the host's
 *  nsenter), other than the init. Its number inside depends on how many setup commands ran. */
function payloadPid(stateFile: string): number | undefined {
  const box = /BOX=(\d+)/.exec(existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : '')?.[1];
  if (!box) return undefined;
  const nsOf = (pid: string): string | undefined => {
    try {
      return readlinkSync(`/proc/${pid}/ns/pid`);
    } catch {
      return undefined;
    }
  };
  const ns = nsOf(box);
  if (!ns) return undefined;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || p === box || nsOf(p) !== ns) continue;
    try {
      const ppid = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1];
      if (ppid && nsOf(ppid) !== ns) return Number(p);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

function signalPayload(stateFile: string, signal: NodeJS.Signals): boolean {
  const pid = payloadPid(stateFile);
  if (pid === undefined) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

interface BoxRecord {
  name: string;
  pid: number;
  runId: string;
  source: string;
  args: string[];
  started: string;
  spec: RunSpec;
}

/** The plan's host resources with this run's values, and the box's records; not processes
 *  (the box dies with the script: parent-death signal, then unshare's --kill-child). */
function hostResources(plan: Plan, runId: string, name: string): HostResource[] {
  const vars = workspaceVars(runId);
  // Only what is named before the run starts (a lease's address is not: reset finds those by owner).
  const known = (s: string): boolean => placeholders(s).every((v) => v in vars);
  const made = plan.steps.flatMap((s) => s.creates ?? []).flatMap((r): HostResource[] => {
    if ('dir' in r && known(r.dir)) return [{ dir: fill(r.dir, vars) }];
    if ('cgroup' in r && known(r.cgroup)) return [{ cgroup: fill(r.cgroup, vars) }];
    if ('link' in r && known(r.link)) return [{ ...r, link: fill(r.link, vars) }];
    return [];
  });
  return [...made, ...['box', 'json', 'log'].map((ext) => ({ dir: join(boxesDir(), `${name}.${ext}`) }))];
}

function detach(spec: RunSpec, runId: string, bash: { file: string; args: string[] }, stateFile: string, state: StateFile): number {
  const log = join(boxesDir(), `${spec.name}.log`);
  const fd = openSync(log, 'w');
  // The script removes the record itself when the box ends.
  const record = join(boxesDir(), `${spec.name}.json`);
  // When the command ends, the box's files in /run/boxlab/boxes go with it.
  const script = bash.args[1]!.replace(/\nexit \$\?\n$/, `\nstatus=$?\nrm -f ${[record, stateFile, log].map(literal).join(' ')}\nexit $status\n`);
  // spawnForeground with a log starts it in a session of its own (setsid(2)).
  const { pid } = spawnForeground({ file: 'bash', args: ['-c', script, 'boxlab-run'] }, { log: fd, runId });
  state.handOver(pid);
  closeSync(fd);
  const rec: BoxRecord = { name: spec.name, pid, runId, source: spec.source, args: spec.args, started: new Date().toISOString(), spec };
  writeFileSync(record, JSON.stringify(rec, null, 2));
  process.stdout.write(`${spec.name}\n`);
  return 0;
}

function records(): BoxRecord[] {
  if (!existsSync(boxesDir())) return [];
  return readdirSync(boxesDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(boxesDir(), f), 'utf8')) as BoxRecord)
    .filter((r) => {
      if (isAlive(r.pid)) return true;
      rmSync(join(boxesDir(), `${r.name}.json`), { force: true }); // its script is gone
      return false;
    });
}

function find(name: string | undefined): BoxRecord {
  if (!name) throw new UsageError('which box? (boxlab ps lists them)');
  const r = records().find((b) => b.name === name);
  if (!r) throw new EnvError(`no running box named ${name} (boxlab ps lists them)`);
  return r;
}

export async function psCommand(argv: string[]): Promise<number> {
  if (argv.length) throw new UsageError(`unexpected argument: ${argv[0]}`);
  const rows = records().map((r) => [r.name, String(/BOX=(\d+)/.exec(readIf(join(boxesDir(), `${r.name}.box`)))?.[1] ?? '-'), r.source, r.args.join(' '), r.started.slice(11, 19)]);
  const table = [['NAME', 'BOX PID', 'ROOT', 'COMMAND', 'STARTED'], ...rows];
  const w = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  for (const r of table) process.stdout.write(r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd() + '\n');
  return 0;
}

const readIf = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');

export async function execCommand(argv: string[]): Promise<number> {
  const [name, ...cmd] = argv[0] === '--' ? argv.slice(1) : argv;
  if (!name || cmd.length === 0) throw new UsageError('usage: boxlab exec NAME CMD...');
  const r = find(name);
  const box = /BOX=(\d+)/.exec(readIf(join(boxesDir(), `${r.name}.box`)))?.[1];
  if (!box) throw new EnvError(`box ${name} is still starting`);
  const seccomp = existsSync(`/tmp/boxlab-${r.runId}/seccomp.bpf`) ? `/tmp/boxlab-${r.runId}/seccomp.bpf` : undefined;
  const c = payload(r.spec, seccomp, cmd);
  const filled = { file: c.file, args: c.args.map((a) => fill(a, { BOX: box })) };
  return spawnForeground(filled).exited;
}

export async function rmCommand(argv: string[]): Promise<number> {
  const r = find(argv[0]);
  const stateFile = join(boxesDir(), `${r.name}.box`);
  signalPayload(stateFile, 'SIGTERM');
  // As docker stop: a grace period, then the box's init (and with it every process) is killed.
  for (let i = 0; i < 100 && isAlive(r.pid); i++) await new Promise((res) => setTimeout(res, 30));
  if (isAlive(r.pid)) {
    const box = /BOX=(\d+)/.exec(readIf(stateFile))?.[1];
    if (box) process.kill(Number(box), 'SIGKILL');
    for (let i = 0; i < 100 && isAlive(r.pid); i++) await new Promise((res) => setTimeout(res, 20));
  }
  for (const ext of ['box', 'json', 'log']) rmSync(join(boxesDir(), `${r.name}.${ext}`), { force: true });
  process.stdout.write(`${r.name}\n`);
  return 0;
}

/** `boxlab spec [run flags] [IMAGE] [-- CMD]`: the config.json of that run (rootfs: "rootfs"). */
export async function specCommand(argv: string[]): Promise<number> {
  const hasSource = argv.some((a) => a === '--rootfs' || a.startsWith('--rootfs=') || a === '--bundle' || a.startsWith('--bundle='));
  const flags = parseRunFlags(hasSource ? argv : ['--rootfs', '/', ...(argv.includes('--') ? argv : [...argv, '--', 'sh'])]);
  const { specFromFlags } = await import('../run/from-flags.js');
  const { configFor } = await import('../run/oci.js');
  const spec = specFromFlags(flags, flags.image ? await loadCachedImage(flags.image) : undefined, loadProfile);
  process.stdout.write(JSON.stringify(configFor(spec), null, 2) + '\n');
  return 0;
}

/** The image cache is loaded only for a run of an image (--rootfs runs skip its modules). */
async function loadCachedImage(name: string) {
  const { Store } = await import('../../rootfs-fetch/store.js');
  const { imageProcess, loadImage } = await import('../../rootfs-fetch/images.js');
  const img = loadImage(new Store(), name);
  return { img, process: imageProcess(img) };
}
