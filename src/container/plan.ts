// A RunSpec as the steps that build its box, each tied to the lesson that taught it and to the
// OCI config.json field that expresses it. The same steps are run by lesson 12, printed by
// --explain and exported by --script (which is also what `boxlab run` executes).
// One function per step, in the order planRun calls them; each reads the spec and the host's
// facts (PlanHost: nothing here reads the host itself). The /dev template, the console and
// the way into the box (the payload) are in dev-template.ts, console.ts and enter.ts.
import { WORK_PARENT } from '../box/resources.js';
import { UsageError } from '../errors.js';
import { dirname } from 'node:path';
import type { Action, Feature, Step } from '../model/lesson.js';
import type { AppArmorFacts } from '../model/host-facts.js';
import { BOX, BOX_NAMESPACES, createBox, hostToolInBox, hostToolInBoxMounts } from '../box/box.js';
import type { CgroupDriver } from '../box/cgroup-driver.js';
import { cmd, quote, render, batchFragment, type Cmd } from '../shell/cmd.js';
import { mkdirP, withEmptyEnv, writeFile } from '../shell/coreutils.js';
import { bindMount, fstab, mountAll, mountOverlay, remountReadOnly } from '../shell/mount.js';
import { inCgroups } from '../shell/cgroup-files.js';
import { writeBase64 } from '../shell/seccomp.js';
import type { Namespace } from '../shell/unshare.js';
import { ENTRY_CAPS, type RunSpec } from './spec.js';
import { DEV_TEMPLATE, devTemplate } from './dev-template.js';
import { CONSOLE_NS, consoleStep } from './console.js';
import { bridgeStep, BRIDGE, GATEWAY } from './network.js';
import { apparmorStep } from './apparmor-step.js';
import { boundingSet, boxEntry, enterBox, enterBoxViaFile, runControllers, runGroup, seccompPath } from './enter.js';
import { BOX_BUSYBOX, toolsDir, toolsLayer } from './tools.js';
import { inUserns, rootOwnerOptions, shiftedPath, shiftOwners, usernsActions } from './userns.js';

export interface PlanStep extends Step {
  /** The lessons that taught this step. */
  lessons: number[];
  /** Where config.json says it. */
  oci: string;
}

export interface Plan {
  steps: PlanStep[];
  /** The payload: runs in the foreground; its exit status is the run's. */
  payload: Cmd;
  /** Why this run may not start here (seccomp asked for, and setpriv cannot apply it): boxlab
   *  run refuses, a --script exits at its start, --explain shows it. */
  warnings: string[];
  /** The payload's chain after `env -i`, to be written to this root-only file before the
   *  payload starts (boxlab run's script: see enterBoxViaFile). */
  payloadFile?: { path: string; text: string };
  /** -t: the variable holding a process whose mount namespace has the box's devpts at
   *  /dev/pts and /dev/ptmx: script(1) run there makes the terminal from the box's own devpts. */
  consoleNs?: string;
}

export interface PlanHost {
  cgroups: CgroupDriver | undefined;
  /** setpriv knows --seccomp-filter (util-linux 2.41+). */
  setprivSeccomp: boolean;
  /** The seccomp profile compiled to a BPF program, as base64 (when there is a profile). */
  seccompBpf?: string;
  /** Whether a kernel path (/proc/kcore) exists here, and is a directory. */
  exists: (path: string) => boolean;
  isDir: (path: string) => boolean;
  /** coreutils' chroot, by absolute path: the box's PATH need not reach the host's sbin. */
  chroot: string;
  /** The host's static busybox: the box's env(1) (tools.ts). */
  busybox: { path: string; size: number };
  /** AppArmor here: whether it is on, apparmor_parser, the profiles loaded. */
  apparmor: AppArmorFacts;
}

const ROOTFS = '${ROOTFS}';
const at = (path: string): string => `${ROOTFS}${path}`;
const dev = (path: string): string => at(`/dev/${path}`);
const GROUP = 'boxlab-${RUN_ID}';
// Every mount of one step in an fstab: `mount -a` makes them all in one process, instead of
// one mount(8) per mount point (each start of mount costs about 2 ms here).
const MOUNTS_FSTAB = '${WORK}/fstab.mounts';
const MASKED_FSTAB = '${WORK}/fstab.masked';

/** Several commands as one host shell inside the box's namespaces: one nsenter, not one each. */
export function inBoxBatch(ns: Namespace[], cmds: Cmd[]): Cmd {
  return { ...hostToolInBox(ns, { file: 'sh', args: ['-euc', cmds.map((c) => c.inline ?? render(c)).join('\n')] }), batch: cmds, namespaces: ns };
}

const feature = (name: string, syscalls: string[], man: string[]): Feature => ({ name, syscalls, man });

/** Refuse, before anything is made, a box path any of whose components is a symlink in the
 *  box's root. Nothing runs in the box yet, so nothing can change the tree meanwhile. */
const NO_SYMLINKS = 'root=$1; shift; for p; do d=$root; rest=${p#/}; while [ -n "$rest" ]; do c=${rest%%/*}; [ "$c" = "$rest" ] && rest= || rest=${rest#*/}; d=$d/$c; if [ -L "$d" ]; then echo "boxlab: $p: ${d#"$root"} is a symlink in the box\'s root filesystem: not mounting there" >&2; exit 1; fi; done; done';
export const noSymlinksOnTheWay = (paths: string[]): Cmd => batchFragment(NO_SYMLINKS, ROOTFS, ...paths);

/** sethostname(2) through /proc/sys/kernel/hostname: the writer's UTS namespace is the one set. */
const setHostname = (name: string): Cmd => ({ ...cmd('hostname', name), inline: `echo ${quote(name)} > /proc/sys/kernel/hostname` });

// Re-exported: commands and tests import them from here.
export { runControllers, runGroup, seccompPath };

type NewStep = Omit<PlanStep, 'checks'>;

/** What planRun refuses before anything is made. */
function refuseBadSpec(spec: RunSpec): void {
  if (spec.userns && (spec.user.uid >= spec.userns.size || spec.user.gid >= spec.userns.size)) {
    throw new UsageError(`--user ${spec.user.uid}:${spec.user.gid}: with a user namespace, uid and gid must be below ${spec.userns.size} (the mapped range)`);
  }
  const missing = ENTRY_CAPS.filter((c) => !spec.caps.includes(c));
  if (missing.length) throw new UsageError(`the box's bounding set lacks ${missing.map((c) => c.slice(4).toUpperCase()).join(', ')}: boxlab enters a box with chroot(1), which needs ${ENTRY_CAPS.map((c) => c.slice(4).toUpperCase()).join(', ')}`);
}

/** The mount table of the mounts step: /proc, /sys, /dev and its pts and shm. */
function mountsTable(spec: RunSpec): string {
  // With --userns, the box's root owns its /dev and /dev/shm (host root would be nobody there).
  const owned = spec.userns ? `,${rootOwnerOptions(spec.userns)}` : '';
  return fstab([
    { source: 'proc', target: at('/proc'), type: 'proc', options: 'nosuid,nodev,noexec,X-mount.mkdir' },
    { source: 'sysfs', target: at('/sys'), type: 'sysfs', options: 'ro,nosuid,nodev,noexec,X-mount.mkdir' },
    { source: 'boxlab-dev', target: at('/dev'), type: 'tmpfs', options: `nosuid,mode=755,size=64k${owned},X-mount.mkdir` },
    { source: 'devpts', target: dev('pts'), type: 'devpts', options: 'newinstance,ptmxmode=0666,mode=620,nosuid,noexec,X-mount.mkdir' },
    { source: 'shm', target: dev('shm'), type: 'tmpfs', options: `nosuid,nodev,noexec,mode=1777,size=64m${owned},X-mount.mkdir` },
    ...(spec.mqueue ? [{ source: 'mqueue', target: dev('mqueue'), type: 'mqueue', options: 'nosuid,nodev,noexec,X-mount.mkdir' }] : []),
  ]);
}

/** The mount table of the masks step, empty where this kernel has none of the paths. The box
 *  shares this kernel, so the host's /proc and /sys say which paths exist and what they are.
 *  As runc: a directory gets an empty read-only tmpfs, a file the box's /dev/null. */
function maskedTable(spec: RunSpec, host: PlanHost): string {
  return fstab([
    ...spec.maskedPaths.filter(host.exists).map((p) => (host.isDir(p) ? { source: 'boxlab-masked', target: at(p), type: 'tmpfs', options: 'ro,size=0' } : { source: dev('null'), target: at(p), type: 'none', options: 'bind' })),
    ...spec.readonlyPaths.filter(host.exists).map((p) => ({ source: at(p), target: at(p), type: 'none', options: 'bind,ro' })),
  ]);
}

function workdirStep(): NewStep {
  return {
    id: 'workdir',
    title: 'A work directory of its own, made now: under a parent only root may write to, and not there before',
    feature: feature('a directory per box', ['mkdir(2)'], ['mkdir(1)']),
    lessons: [1],
    oci: 'root.path',
    // Declared before it is made (an interrupt right after the mkdir must not lose it). A
    // directory that was there before stops the run; only root can have made one there, and
    // reset would remove it as a leftover anyway.
    creates: [{ dir: '${WORK}' }],
    // (The parent: made once per host; a script tests for it first, with no process.)
    actions: [{ run: { ...cmd('mkdir', '-p', '--mode=0711', WORK_PARENT), inline: `[ -d ${quote(WORK_PARENT)} ] || mkdir -p --mode=0711 ${quote(WORK_PARENT)}` } }, { run: cmd('mkdir', '--mode=0700', '${WORK}') }],
  };
}

function workStep(spec: RunSpec, host: PlanHost): NewStep {
  const masked = maskedTable(spec, host);
  return {
    id: 'work',
    title: 'In it: the mount point and the private upper layer',
    feature: feature('a directory per box', ['mkdir(2)'], ['hier(7)']),
    lessons: [1, 10],
    oci: 'root.path',
    actions: [
      { run: mkdirP(ROOTFS, '${WORK}/upper', '${WORK}/work') },
      devTemplate(),
      toolsLayer(host.busybox),
      // The mount tables the box's mounts step and masks step will read (fstab(5)).
      { run: writeFile(MOUNTS_FSTAB, mountsTable(spec)) },
      ...(masked ? [{ run: writeFile(MASKED_FSTAB, masked) }] : []),
    ],
  };
}

function cgroupStep(spec: RunSpec, host: PlanHost): NewStep | undefined {
  const controllers = runControllers(spec);
  const cg = host.cgroups;
  if (!controllers.length) return undefined;
  if (!cg) throw new Error('cgroup limits asked for, but no cgroup driver');
  const made = cg.create(GROUP, controllers);
  const limits = [
    ...(spec.limits.memoryBytes !== undefined ? cg.memoryLimit(GROUP, spec.limits.memoryBytes) : []),
    ...(spec.limits.pids !== undefined ? cg.pidsLimit(GROUP, spec.limits.pids) : []),
    ...(spec.limits.cpuQuotaUs !== undefined ? cg.cpuQuota(GROUP, spec.limits.cpuQuotaUs, spec.limits.cpuPeriodUs ?? 100_000) : []),
  ];
  return {
    id: 'cgroup',
    title: `A cgroup with the limits (${cg.kind})`,
    feature: feature(`cgroup ${cg.kind} limits: ${controllers.join(', ')}`, ['write(2) to cgroupfs'], ['cgroups(7)']),
    lessons: [9],
    oci: 'linux.resources',
    creates: made.creates,
    actions: [...made.actions, ...limits.map((run): Action => ({ run }))],
  };
}

function usernsSteps(spec: RunSpec): NewStep[] {
  const m = spec.userns;
  if (!m) return [];
  const userns = usernsActions(m);
  const lowerdirs = spec.lowerdirs.map((l, i) => shiftedPath(m, l, i));
  return [
    {
      id: 'userns',
      title: `A user namespace: uid and gid 0-${m.size - 1} in the box are ${m.hostId}-${m.hostId + m.size - 1} on the host`,
      feature: feature('user namespace', ['unshare(2) CLONE_NEWUSER', 'write(2) to /proc/PID/uid_map'], ['user_namespaces(7)']),
      lessons: [6],
      oci: 'linux.namespaces[user], linux.uidMappings, linux.gidMappings',
      creates: userns.creates,
      actions: userns.actions,
    },
    {
      id: 'userns-layers',
      title: `The root filesystem's owners moved into the range (a copy, as Docker's userns-remap keeps one)`,
      feature: feature('file ownership under a uid map', ['lchown(2)'], ['user_namespaces(7)', 'chown(1)']),
      lessons: [6, 10],
      oci: 'linux.uidMappings (the runtime expects the rootfs owned accordingly)',
      actions: spec.lowerdirs.map((l, i) => ({ run: shiftOwners(m, l, lowerdirs[i]!) })),
    },
  ];
}

/** The image's layers as the box sees them: shifted copies under --userns. */
const boxLowerdirs = (spec: RunSpec): string[] => (spec.userns ? spec.lowerdirs.map((l, i) => shiftedPath(spec.userns!, l, i)) : spec.lowerdirs);

function namespacesStep(spec: RunSpec, host: PlanHost): NewStep {
  // The init holds the box's capability set too: the payload launcher, holding only those caps,
  // may then open /proc/BOX/root (ptrace access needs the target's caps to be a subset of ours).
  // Not under the box's AppArmor profile: an exec into a profile clears the parent-death
  // signal unshare --kill-child set (a "secure exec"), and the init would outlive its run.
  const init = ['setpriv', '--inh-caps=-all', `--bounding-set=${boundingSet(spec.caps)}`];
  const box = createBox(BOX_NAMESPACES, { checkParent: true, init });
  const launch = box.actions[0] as Extract<Action, { start: Cmd }>;
  const controllers = runControllers(spec);
  // None of the host's environment, from the launcher on: the init's is readable in the box
  // (/proc/1/environ). (In a script, bash's exec -c: no env process.)
  const inBoxUserns = (c: Cmd): Cmd => withEmptyEnv(spec.userns ? inUserns(c) : c);
  // Born inside the cgroup, so the cgroup namespace's root is the box's own group.
  const joinCgroups = (c: Cmd): Cmd => (controllers.length && host.cgroups ? inCgroups(host.cgroups.procs(GROUP, controllers), c) : c);
  return {
    id: 'namespaces',
    title: `New namespaces around a placeholder init: mount, UTS, IPC, network, PID, cgroup${spec.userns ? ', all owned by the user namespace' : ''}`,
    feature: feature('mount, UTS, IPC, network, PID and cgroup namespaces', ['unshare(2)', 'clone(2)'], ['namespaces(7)', 'unshare(1)']),
    lessons: [2, 3, 4, 5],
    oci: 'linux.namespaces',
    creates: box.creates,
    actions: [{ ...launch, start: joinCgroups(inBoxUserns(launch.start)) }, ...box.actions.slice(1)],
  };
}

function networkStep(bridge: ReturnType<typeof bridgeStep>): NewStep {
  return {
    id: 'network',
    title: `A veth pair: eth0 in the box, its other end on the host's bridge ${BRIDGE} (${GATEWAY}/24)`,
    feature: feature('veth pair and bridge', ['netlink RTM_NEWLINK'], ['veth(4)', 'ip-link(8)']),
    lessons: [5],
    oci: 'linux.namespaces[network] (the runtime leaves the wiring to the caller, e.g. a CNI plugin)',
    creates: bridge.creates,
    actions: bridge.actions,
  };
}

function rootfsStep(spec: RunSpec, host: PlanHost): NewStep {
  const lowerdirs = boxLowerdirs(spec);
  // boxlab's own tools on top (read-only to the box), then the image's layers.
  const lower = [toolsDir(host.busybox), ...lowerdirs].join(':');
  return {
    id: 'rootfs',
    title: spec.lowerdirs.length > 1 ? `The image's ${spec.lowerdirs.length} layers under a fresh upper layer (overlayfs)` : 'The root filesystem under a fresh upper layer (overlayfs): the original stays untouched',
    feature: feature('overlay filesystem', ['mount(2) of overlay'], ['overlayfs']),
    lessons: [10, 11],
    oci: 'root.path (+ the image layers)',
    actions: [
      // The root directory of the box is the upper's: it takes the owner of the top layer's.
      ...(spec.userns ? [{ run: cmd('chown', `--reference=${lowerdirs[0]}`, '${WORK}/upper') }] : []),
      // nodev: a device node shipped in a layer opens nothing (dropping CAP_MKNOD only stops new ones).
      { run: inBoxBatch(['mount'], [mountOverlay('boxlab-run', ROOTFS, { lower, upper: '${WORK}/upper', work: '${WORK}/work', options: 'nodev' })]) },
    ],
  };
}

function mountsStep(spec: RunSpec, host: PlanHost): NewStep {
  const mounts: Cmd[] = [
    // Mount points are made by host tools with the host's / as their root: a symlink in the
    // image on the way (/app -> /etc) would have them make or mount over host files.
    noSymlinksOnTheWay(['/proc', '/sys', '/dev', ...spec.volumes.map((v) => v.box)]),
    mountAll(MOUNTS_FSTAB),
    // One cp -a of the /dev template: mknod(2) for each node, symlink(2) for each link.
    // Its entries, not the directory: /dev itself keeps its owner (the box's root with --userns).
    // (A glob: sh expands it, in the batch's shell or, run alone, in its own.)
    batchFragment('cp -a "$1"/* "$2"', DEV_TEMPLATE, dev('')),
    // A volume's mount point: a directory for a directory, an empty file for a file.
    ...spec.volumes.flatMap((v) => [
      ...(host.isDir(v.host) ? [mkdirP(at(v.box))] : [mkdirP(at(dirname(v.box))), cmd('touch', at(v.box))]),
      bindMount(v.host, at(v.box)),
      ...(v.readOnly ? [remountReadOnly(at(v.box))] : []),
    ]),
  ];
  return {
    id: 'mounts',
    title: `/proc for the box's PID namespace, a read-only /sys, a minimal /dev${spec.volumes.length ? ', the volumes' : ''}`,
    feature: feature('mounts in the mount namespace', ['mount(2)', 'mknod(2)'], ['mount(8)', 'fstab(5)', 'proc(5)', 'sysfs(5)', 'devpts(5)']),
    lessons: [2, 3, 7],
    oci: 'mounts',
    // pid: proc shows the mounting process's PID namespace; net: sysfs shows its network's
    // devices; ipc: mqueue holds the queues of the mounting process's IPC namespace.
    actions: [{ run: inBoxBatch(['mount', 'pid', 'net', ...(spec.mqueue ? (['ipc'] as const) : [])], mounts) }],
  };
}

function masksStep(spec: RunSpec, host: PlanHost): NewStep | undefined {
  if (!maskedTable(spec, host)) return undefined;
  return {
    id: 'masked',
    title: `Mask ${spec.maskedPaths.length} kernel files, make ${spec.readonlyPaths.length} read-only`,
    feature: feature('masked and read-only paths', ['mount(2) MS_BIND|MS_RDONLY'], ['proc(5)']),
    lessons: [7],
    oci: 'linux.maskedPaths, linux.readonlyPaths',
    actions: [{ run: inBoxBatch(['mount'], [mountAll(MASKED_FSTAB)]) }],
  };
}

function identityStep(spec: RunSpec, bridge: ReturnType<typeof bridgeStep> | undefined): NewStep {
  return {
    id: 'identity',
    title: `Hostname ${spec.hostname}; loopback up${bridge ? ', eth0 with its address and a default route via the bridge' : ' in the empty network namespace'}`,
    feature: feature('UTS and network namespaces', ['write(2) to /proc/sys/kernel/hostname', 'netlink RTM_NEWLINK (IFF_UP)'], ['uts_namespaces(7)', 'network_namespaces(7)']),
    lessons: [4, 5],
    oci: 'hostname, linux.namespaces[network]',
    // linux.sysctl: from inside the box's network and IPC namespaces, whose values they are
    // (written through the host's /proc/sys: the box's is read-only by now).
    actions: [{ run: inBoxBatch(['uts', 'net', ...(spec.sysctl?.length ? (['ipc'] as const) : [])], [setHostname(spec.hostname), cmd('ip', 'link', 'set', 'lo', 'up'), ...(bridge?.inBox ?? []), ...(spec.sysctl ?? []).map(([k, v]) => ({ file: 'sysctl', args: ['-q', '-w', `${k}=${v}`], dataFrom: 2 }))]) }],
  };
}

function consoleTerminalStep(): NewStep {
  return {
    id: 'console',
    title: "For the terminal: the host's files with the box's devpts, in a mount namespace of their own",
    feature: feature('devpts instances', ['unshare(2) CLONE_NEWNS', 'mount(2) MS_BIND'], ['pts(4)', 'mount_namespaces(7)']),
    lessons: [2],
    oci: 'process.terminal',
    ...consoleStep(ROOTFS),
  };
}

/** umount -l / in a shell whose root pivot_root(. .) just moved: the mount on top of / goes. */
const detachOldRoot: Cmd = cmd(BOX_BUSYBOX, 'umount', '-l', '/');

function pivotStep(spec: RunSpec): NewStep {
  return {
    id: 'pivot',
    title: 'pivot_root into the new root; detach the old one',
    feature: feature('pivot_root', ['pivot_root(2)', 'umount2(2) MNT_DETACH'], ['pivot_root(2)']),
    lessons: [2],
    oci: 'root.path, root.readonly',
    actions: [
      // new_root and put_old the same directory (pivot_root(2), NOTES): the old root ends up
      // mounted on top of the new one, and no directory is made for it or left behind. Then the
      // same shell detaches it: its root is the box's now, where the host's umount no longer
      // resolves, but boxlab's static busybox (the top layer, under a fresh upper) does.
      // (Two commands, not cd && pivot_root: under sh -e a failed cd must stop the batch.)
      { run: inBoxBatch(['mount'], [batchFragment('cd "$1"; pivot_root . .', ROOTFS), detachOldRoot]) },
      // root.readonly: the root mount itself, once nothing more is made in it.
      // (--no-canonicalize: the path, read through /proc, would resolve to the caller's own /.)
      ...(spec.readonlyRoot ? [{ run: hostToolInBoxMounts(cmd('mount', '--no-canonicalize', '-o', 'remount,bind,ro', `/proc/${BOX}/root`)) }] : []),
      // linux.rootfsPropagation: how mounts under the box's root propagate from now on.
      ...(spec.rootfsPropagation ? [{ run: hostToolInBoxMounts(cmd('mount', '--no-canonicalize', `--make-${spec.rootfsPropagation}`, `/proc/${BOX}/root`)) }] : []),
    ],
  };
}

/** The filter's step, or why there is none where one was asked for. */
function seccompStep(spec: RunSpec, host: PlanHost): { step?: NewStep; warning?: string } {
  if (spec.seccomp === 'unconfined') return {};
  if (!host.setprivSeccomp) {
    return { warning: `seccomp: this host's setpriv (util-linux < 2.41) cannot apply a filter, so no box starts without one; --seccomp unconfined runs it anyway (the Vagrant VM has util-linux 2.41)` };
  }
  if (!host.seccompBpf) return {};
  const file = seccompPath(spec);
  return {
    step: {
      id: 'seccomp',
      title: `The seccomp profile (${spec.seccomp.from}) compiled to a BPF program`,
      feature: feature('seccomp filter', ['seccomp(2) SECCOMP_SET_MODE_FILTER'], ['seccomp(2)']),
      lessons: [8],
      oci: 'linux.seccomp',
      ...(spec.userns ? { creates: [{ dir: file }] } : {}),
      actions: [{ run: writeBase64(file, host.seccompBpf) }],
    },
  };
}

/** `fdsClosed`: the caller has no descriptor but stdio (boxlab run's script closes them first).
 *  `payloadViaFile`: the payload's chain goes to a root-only file (boxlab run's script). */
export function planRun(spec: RunSpec, host: PlanHost, o: { fdsClosed?: boolean; payloadViaFile?: boolean } = {}): Plan {
  refuseBadSpec(spec);
  const bridge = spec.network === 'bridge' ? bridgeStep() : undefined;
  const seccomp = seccompStep(spec, host);
  const apparmor = apparmorStep(spec, host);
  const made: (NewStep | undefined)[] = [
    workdirStep(),
    workStep(spec, host),
    apparmor.step,
    cgroupStep(spec, host),
    ...usernsSteps(spec),
    namespacesStep(spec, host),
    bridge && networkStep(bridge),
    rootfsStep(spec, host),
    mountsStep(spec, host),
    masksStep(spec, host),
    identityStep(spec, bridge),
    spec.tty ? consoleTerminalStep() : undefined,
    pivotStep(spec),
    seccomp.step,
  ];
  const steps = made.filter((s): s is NewStep => s !== undefined).map((s) => ({ ...s, checks: [] }));
  const warnings = [seccomp.warning, apparmor.warning].filter((w): w is string => w !== undefined);
  const consoleNs = spec.tty ? CONSOLE_NS : undefined;
  const entry = boxEntry(spec, host, { closeFds: !o.fdsClosed, ownSession: spec.tty });
  if (o.payloadViaFile) {
    const path = '${WORK}/payload.sh';
    const { cmd: payload, text } = enterBoxViaFile(entry, path);
    return { steps, payload, payloadFile: { path, text }, warnings, consoleNs };
  }
  return { steps, payload: enterBox(entry), warnings, consoleNs };
}
