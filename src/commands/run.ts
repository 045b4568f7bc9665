// `boxlab run` and `boxlab spec` (`ps`, `exec` and `rm` for boxes run with -d: boxes.ts). A run
// is planned in Node and executed as one bash script (the one --script prints), so it costs
// Node's start-up plus the tools, not a spawn per step from Node.
import { constants } from 'node:os';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { EnvError, UsageError } from '../errors.js';
import { literal, quote, render } from '../shell/cmd.js';
import { foregroundPassingSignals, RealRunner, type Runner } from '../shell/spawn.js';
import { workspaceVars } from '../engine/workspace.js';
import { StateFile, unlinkedFile, type HostResource } from '../box/state.js';
import { processStartTime } from '../kernel/proc.js';
import { namesSource, parseRunFlags } from '../container/flags.js';
import { planRun, type Plan } from '../container/plan.js';
import { planResources, runScript } from '../container/script.js';
import type { RunSpec } from '../container/spec.js';
import { hostFacts, loadProfile, realHost, requireNonDumpable, requireSeccomp } from '../container/host.js';
import { hostToolInBox } from '../box/box.js';
import type { Namespace } from '../shell/unshare.js';
import { boxFiles, privateBoxesDir, writeRecord } from '../container/boxes.js';

const USAGE = `usage: boxlab run [flags] (IMAGE | --rootfs DIR | --bundle DIR) [--] [CMD...]
  --rm  -i  -t  -d  --name NAME  --hostname NAME
  -e K=V  -w DIR  --user UID[:GID]  -v /HOST:/BOX[:ro]  --network none|bridge  --userns
  --memory 64m  --pids 100  --cpus 0.5  --cap-add CAP  --cap-drop CAP
  --seccomp PROFILE.json|unconfined  --explain  --script
Boxes are always removed when their command ends (--rm is the only mode).`;

/** `runner`: what starts the run's script (tests pass a RecordingRunner). */
export async function runCommand(argv: string[], runner: Runner = new RealRunner()): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const flags = parseRunFlags(argv);
  let spec: RunSpec;
  let notes: string[] = [];
  if (flags.bundle) {
    const { specFromBundle } = await import('../container/oci.js');
    ({ spec, notes } = specFromBundle(flags.bundle, flags));
  } else {
    const { specFromFlags } = await import('../container/from-flags.js');
    spec = specFromFlags(flags, flags.image ? await loadCachedImage(flags.image) : undefined, loadProfile);
  }
  for (const n of notes) process.stderr.write(`boxlab: ${n}\n`);
  const planOnly = flags.explain || flags.script;
  if (!planOnly && process.geteuid?.() !== 0) throw new EnvError('boxlab run makes namespaces, mounts and cgroups: it needs root (sudo)');
  // Its script closes every inherited descriptor first: the payload needs no hop of its own for it.
  const host = hostFacts(spec, !planOnly);
  const plan = planRun(spec, host, { fdsClosed: true, payloadViaFile: true });
  if (!planOnly) {
    requireSeccomp(spec, host);
    // Why this run may not start here (an AppArmor profile it cannot have): refused before
    // anything is written, as a --script exits at its start.
    if (plan.warnings.length) throw new EnvError(plan.warnings.join('; '));
    requireNonDumpable();
  }
  const runId = randomBytes(4).toString('hex');
  const invocation = `boxlab run ${argv.join(' ')}`;
  if (flags.explain) return explain(plan, runId);
  if (flags.script) {
    process.stdout.write(runScript(plan, { invocation, commented: true, tty: spec.tty, interactive: spec.interactive }));
    return 0;
  }
  privateBoxesDir();
  const files = boxFiles(spec.name);
  if (existsSync(files.record)) throw new UsageError(`a box named ${spec.name} is running (boxlab ps; boxlab rm ${spec.name})`);
  // What the run makes on the host, written down before it starts: `boxlab reset` undoes
  // it if the script is killed. The script removes this file when its cleanup is done.
  const state = new StateFile(runId, process.pid, hostResources(plan, runId, spec.name));
  // -d: when the command ends, the box's files in /run/boxlab/boxes go with it.
  const onExit = flags.detach ? [`rm -f ${[files.record, files.box, files.log].map(literal).join(' ')}`] : [];
  const script = runScript(plan, { runId, invocation, commented: false, stateFile: files.box, runStateFile: state.path, tty: spec.tty, interactive: spec.interactive, onExit });
  // The script goes to bash as an unlinked root-only file on fd 3, not as its argv: ps would
  // show -e values.
  const scriptFd = unlinkedFile(`${runId}.sh`, script);
  const bash = { file: 'bash', args: ['/dev/fd/3'] };
  if (flags.detach) return detach(spec, runId, bash, scriptFd, state, runner);

  // Ctrl-C at the terminal reaches the script, which passes it on to the command (in a
  // session of its own, the command is not in the terminal's foreground). A SIGINT sent to
  // boxlab alone, with no terminal, is passed on by boxlab. SIGTERM too, as `docker stop` does.
  try {
    const code = await foregroundPassingSignals(runner, bash, { runId, fd3: scriptFd }, (pid) => {
      state.handOver(pid);
      closeSync(scriptFd);
    });
    const signal = endedBy(code);
    if (signal) process.stderr.write(`boxlab: the command was ended by ${signal}${signal === 'SIGKILL' && spec.limits.memoryBytes ? ' (its memory limit? the kernel log says when the OOM killer chose it)' : ''}\n`);
    return code;
  } finally {
    rmSync(files.box, { force: true });
  }
}

/** The signal an exit status 128+N says the command died of; not Ctrl-C's or a closed pipe's,
 *  which a shell does not report either. */
function endedBy(code: number): string | undefined {
  if (code <= 128 || code === 130 || code === 141) return undefined;
  return Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
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
      const script = c.program?.includes('\n') ? c.program : undefined;
      if (script && !c.batch) {
        // A small shell program of ours: its lines, one per line, then its arguments.
        process.stdout.write(`  $ ${c.file} ${c.args[0]} SCRIPT ${show(c.args.slice(2).map(quote).join(' '))}  where SCRIPT is:\n`);
        for (const l of script.split('\n')) process.stdout.write(`      ${l}\n`);
      } else if (!c.batch) process.stdout.write(`  $ ${show(render(c))}\n`);
      else {
        // One nsenter runs them all in the box's namespaces; shown one per line.
        process.stdout.write(`  $ ${show(render(hostToolInBox((c.namespaces ?? []) as Namespace[], { file: 'sh', args: ['-euc', '...'] })))}  runs:\n`);
        for (const b of c.batch) process.stdout.write(`      ${show(b.inline ?? render(b))}\n`);
      }
    }
  }
  process.stdout.write(`\nThe payload (its exit status is the run's)\n  $ ${show(render(plan.payload))}\n`);
  for (const w of plan.warnings) process.stdout.write(`\nboxlab: ${w}\n`);
  return 0;
}

/** The plan's host resources with this run's values, and the box's records; not processes
 *  (the box dies with the script: parent-death signal, then unshare's --kill-child). */
function hostResources(plan: Plan, runId: string, name: string): HostResource[] {
  const f = boxFiles(name);
  return [...planResources(plan, runId), { dir: f.box }, { dir: f.record }, { dir: f.log }];
}



function detach(spec: RunSpec, runId: string, bash: { file: string; args: string[] }, scriptFd: number, state: StateFile, runner: Runner): number {
  const files = boxFiles(spec.name);
  const fd = openSync(files.log, 'w', 0o600);
  // With a log, it starts in a session of its own (setsid(2)).
  const { pid } = runner.foreground(bash, { log: fd, runId, fd3: scriptFd });
  state.handOver(pid);
  closeSync(fd);
  closeSync(scriptFd);
  writeRecord({ name: spec.name, pid, pidStart: processStartTime(pid), runId, source: spec.source, args: spec.args, started: new Date().toISOString(), spec });
  process.stdout.write(`${spec.name}\n`);
  return 0;
}

// ps, exec and rm: src/commands/boxes.ts (re-exported: the CLI imports them from here).
export { execCommand, psCommand, rmCommand } from './boxes.js';

/** `boxlab spec [run flags] [IMAGE | --rootfs DIR | --bundle DIR] [-- CMD]`: the config.json of
 *  that run (root.path "rootfs"). With no source, the host's / and sh, as `runc spec` gives. */
export async function specCommand(argv: string[]): Promise<number> {
  const flags = parseRunFlags(namesSource(argv) ? argv : ['--rootfs', '/', ...argv, ...(argv.includes('--') ? [] : ['--', 'sh'])]);
  const { configFor, specFromBundle } = await import('../container/oci.js');
  let spec: RunSpec;
  if (flags.bundle) spec = specFromBundle(flags.bundle, flags).spec;
  else {
    const { specFromFlags } = await import('../container/from-flags.js');
    spec = specFromFlags(flags, flags.image ? await loadCachedImage(flags.image) : undefined, loadProfile);
  }
  // The profile this host would apply: runc, given this config.json, confines the box alike.
  const { appliedProfile } = await import('../container/apparmor-step.js');
  const aa = realHost().apparmor();
  const profile = appliedProfile(spec, aa);
  if (profile && !aa.loaded.has(profile)) process.stderr.write(`boxlab: process.apparmorProfile ${profile} is not loaded yet: runc needs it loaded (a boxlab run loads boxlab-default)\n`);
  process.stdout.write(JSON.stringify(configFor(spec, profile), null, 2) + '\n');
  return 0;
}

/** The image cache is loaded only for a run of an image (--rootfs runs skip its modules). */
async function loadCachedImage(name: string) {
  const { Store } = await import('../../rootfs-fetch/store.js');
  const { imageProcess, loadImage } = await import('../../rootfs-fetch/images.js');
  const { busyboxStandIn } = await import('../container/images.js');
  const store = new Store();
  const chosen = busyboxStandIn(name, (n) => store.find(n) !== undefined);
  if (chosen.note) process.stderr.write(`boxlab: ${chosen.note}\n`);
  const img = loadImage(store, chosen.name);
  return { img, process: imageProcess(img) };
}
