// The one way into a box, for `boxlab run`'s payload and `boxlab exec` alike (docs/ARCHITECTURE.md,
// outside-in step 6).
//
// Until the last host binary has chroot'ed, every process of this chain runs host code with the
// host's / as its root, inside the box's PID namespace. So:
//  - nothing from outside (the image's Env, Cmd, a bundle's cwd) is in the environment of a host
//    binary, where its dynamic loader would read LD_PRELOAD and the like: the host hops run with
//    an empty environment, and the box's environment is set by a static env that runs in the box
//    (/.boxlab/busybox, see tools.ts), after chroot;
//  - no host binary looks a name up (NSS would load the box's libraries): ids are numeric (+N);
//  - the box's own processes cannot reach the chain through /proc/PID/{root,exe,fd}: until
//    setpriv execs chroot, the chain holds capabilities the box lacks (ptrace access needs the
//    target's set to be a subset); at that exec its real gid differs from its effective gid,
//    which makes the kernel mark chroot non-dumpable (and its loader run in secure mode), until
//    chroot has entered the box and taken the box's ids, and the next exec is the box's;
//  - the command gets a session of its own (setsid): the user's terminal is never its
//    controlling tty, so TIOCSTI cannot type into the user's shell.
import { BOX, BOX_NAMESPACES } from '../box/box.js';
import { dataWord, render, type Cmd } from '../shell/cmd.js';
import { inCgroups } from '../shell/cgroup-files.js';
import type { CgroupDriver, Controller } from '../box/cgroup-driver.js';
import type { RunSpec } from './spec.js';
import { BOX_BUSYBOX } from './tools.js';
import type { AppArmorFacts } from '../model/host-facts.js';
import { appliedProfile } from './apparmor-step.js';

export interface Entry {
  /** The box's spec: identity, capabilities, environment, user namespace. */
  spec: Pick<RunSpec, 'env' | 'cwd' | 'user' | 'caps' | 'noNewPrivs' | 'userns' | 'rlimits' | 'oomScoreAdj'>;
  args: string[];
  /** The compiled seccomp filter, when one applies. */
  seccompFile?: string;
  /** The box's cgroup.procs files: the command is born in the box's cgroups. */
  cgroupProcs: string[];
  /** The caller may hold descriptors other than stdio: close them first (boxlab exec). */
  closeFds: boolean;
  /** -t: script(1) already made a session with the box's pty as its terminal. */
  ownSession: boolean;
  /** The AppArmor profile the chain's last exec (chroot) enters, where AppArmor is on. */
  apparmor?: string;
  /** coreutils' chroot, by absolute path (a host fact). */
  chroot: string;
}

/** The cgroup controllers a run's limits need. */
export function runControllers(spec: Pick<RunSpec, 'limits'>): Controller[] {
  const controllers: Controller[] = [];
  if (spec.limits.memoryBytes !== undefined) controllers.push('memory');
  if (spec.limits.pids !== undefined) controllers.push('pids');
  if (spec.limits.cpuQuotaUs !== undefined) controllers.push('cpu');
  return controllers;
}

/** The cgroup a run's box lives in (one per hierarchy on v1). */
export const runGroup = (runId: string): string => `boxlab-${runId}`;

/**
 * Where the compiled filter is written. With --userns, setpriv reads it as the box's root
 * (uid 100000 on the host), which cannot enter the root-only work directory: beside it then,
 * in the work parent (only root writes there; the filter is no secret).
 */
export const seccompPath = (spec: Pick<RunSpec, 'userns'>, work = '${WORK}'): string => (spec.userns ? `${work}.bpf` : `${work}/seccomp.bpf`);

/**
 * The one way into a box, for the run's own command and for `boxlab exec` alike: the box's
 * cgroups (those its limits made: the command is born in them), its seccomp filter (wherever
 * this host's setpriv can apply one), its capabilities and identity (from the spec).
 * `runId` and `work` are the run's, or placeholders the run's script fills in.
 */
export function boxEntry(
  spec: RunSpec,
  host: { cgroups: CgroupDriver | undefined; setprivSeccomp: boolean; chroot: string; apparmor: AppArmorFacts },
  o: { runId?: string; work?: string; args?: string[]; closeFds: boolean; ownSession: boolean },
): Entry {
  const controllers = runControllers(spec);
  const cgroupProcs = controllers.length && host.cgroups ? host.cgroups.procs(runGroup(o.runId ?? '${RUN_ID}'), controllers) : [];
  const seccompFile = spec.seccomp !== 'unconfined' && host.setprivSeccomp ? seccompPath(spec, o.work) : undefined;
  const apparmor = appliedProfile(spec, host.apparmor);
  return { spec, args: o.args ?? spec.args, seccompFile, cgroupProcs, closeFds: o.closeFds, ownSession: o.ownSession, chroot: host.chroot, ...(apparmor ? { apparmor } : {}) };
}

/** The box's root as its init sees it: where the chain goes before its chroot to '.'. */
const BOX_ROOT = `/proc/${BOX}/root`;

/** The bounding set as setpriv(1) takes it. */
export const boundingSet = (caps: string[]): string => ['-all', ...caps.map((c) => `+${c.replace(/^cap_/, '')}`)].join(',');

// runc's CVE-2024-21626 class: a descriptor inherited from the host is a way out of the root.
// (/proc here is the host's: /proc/self, not /proc/$$, which is numbered in the box's PID namespace.)
const CLOSE_FDS = ['bash', '-c', 'for f in /proc/self/fd/*; do n=${f##*/}; case $n in 0|1|2|*[!0-9]*) ;; *) eval "exec $n>&-" ;; esac; done; exec "$@"', 'close-fds'];

/**
 * Run by the box's static busybox sh, in the box: $1 the working directory, $2 how many env
 * entries follow, then the entries, then the command. A bare command name is looked up in the
 * image's PATH here: busybox's env would otherwise run its own applet of that name (sh, ls ...)
 * instead of the image's program. Then env -i sets exactly the entries and execs the command.
 */
const IN_BOX_SCRIPT = [
  'cd -- "$1" || exit 125',
  'n=$2; shift 2',
  'path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; i=0',
  'for a; do [ $i -lt "$n" ] || break; case $a in PATH=*) path=${a#PATH=} ;; esac; i=$((i+1)); done',
  'i=0',
  'for a; do',
  '  if [ $i -eq "$n" ]; then case $a in */*) ;; *) a=$(PATH=$path /.boxlab/busybox which -- "$a") || { echo "$a: not found in the box" >&2; exit 127; } ;; esac; fi',
  '  set -- "$@" "$a"; i=$((i+1))',
  'done',
  'shift $i',
  'exec /.boxlab/busybox env -i -- "$@"',
].join('\n');

/** A real gid other than root's, mapped in the box's user namespace (there is none with a map of one id). */
function otherRealGid(spec: Entry['spec']): number | undefined {
  if (!spec.userns) return 65534;
  return spec.userns.size > 1 ? Math.min(65534, spec.userns.size - 1) : undefined;
}

export function enterBox(e: Entry): Cmd {
  const { host, inner, dataFrom } = chain(e);
  const c = withLimits(e, { file: 'nsenter', args: [...host, `--chdir=${BOX_ROOT}`, ...inner], dataFrom: host.length + 1 + dataFrom });
  return e.cgroupProcs.length ? inCgroups(e.cgroupProcs, c) : c;
}

/**
 * process.rlimits and oomScoreAdj, set on the host before nsenter: both are inherited by the
 * whole chain. Never inside the box's PID namespace: choom writes /proc/PID/oom_score_adj for
 * its own PID, which there names another process of the host's /proc.
 */
function withLimits(e: Entry, c: Cmd): Cmd {
  const pre = [
    ...(e.spec.rlimits?.length ? ['prlimit', ...e.spec.rlimits.map((r) => `--${r.name}=${r.soft}:${r.hard}`), '--'] : []),
    ...(e.spec.oomScoreAdj !== undefined ? ['choom', '-n', String(e.spec.oomScoreAdj), '--'] : []),
  ];
  if (!pre.length) return c;
  return { file: pre[0]!, args: [...pre.slice(1), c.file, ...c.args], ...(c.dataFrom !== undefined ? { dataFrom: c.dataFrom + pre.length } : {}) };
}

/**
 * The same, with everything after `env -i` in a root-only file that sh runs: nsenter waits
 * for the command as long as it runs, and its command line (world-readable in /proc) then
 * holds no value of the box's environment. `text` goes into `file`; the box's PID is $1.
 */
export function enterBoxViaFile(e: Entry, file: string): { cmd: Cmd; text: string } {
  const { host, inner, dataFrom } = chain(e);
  // The file runs after env -i: the script's variables are not there. Each one our words
  // name is passed as a positional parameter ($1, $2 ...) instead.
  const vars: string[] = [];
  const ours = (w: string): string => {
    const parts = w.split(/\$\{([A-Z_][A-Z0-9_]*)\}/);
    // (Never $'...': sh, which runs the file, is not bash.)
    if (parts.length === 1) return dataWord(w);
    return `"${parts.map((p, i) => (i % 2 ? `\${${(vars.includes(p) ? vars : (vars.push(p), vars)).indexOf(p) + 1}}` : p.replace(/[$`\\"]/g, (ch) => `\\${ch}`))).join('')}"`;
  };
  const words = inner.map((w, i) => (i < dataFrom ? ours(w) : dataWord(w)));
  const cd = `cd ${ours(BOX_ROOT)} || exit 125\n`;
  const params = vars.map((v) => `\${${v}}`);
  // In a bash script, the launcher's own `exec -c` empties the environment instead of env -i, a
  // process fewer; bash's exec also gives the program the signal dispositions the script
  // started with, where a background job's command would ignore INT and QUIT.
  const inline = `exec -c ${render({ file: 'nsenter', args: [...host.slice(0, -EMPTY_ENV.length), 'sh', file, ...params] })}`;
  const c = withLimits(e, { file: 'nsenter', args: [...host, 'sh', file, ...params], inline });
  return { cmd: e.cgroupProcs.length ? inCgroups(e.cgroupProcs, c) : c, text: `${cd}exec ${words.join(' ')}\n` };
}

// An empty environment for the host binaries; Ctrl-C's signals back to their defaults
// (a command started as a background job ignores them: boxlab exec's relay starts it so).
const EMPTY_ENV = ['env', '-i', '--default-signal=INT,QUIT'];

/** nsenter's arguments up to the empty environment; then the host hops and the box's part. */
function chain(e: Entry): { host: string[]; inner: string[]; dataFrom: number } {
  const { spec } = e;
  // A real gid other than root's: the kernel decides dumpability at exec from the caller's ids,
  // and a real gid that differs from the effective one marks chroot non-dumpable. (Not the real
  // uid: under no_new_privs, which util-linux's setpriv sets with a seccomp filter, Linux 6.12
  // resets the effective ids to the real ones at exec, and chroot would no longer be root; the
  // gid it resets does no harm, chroot sets the box's own.)
  const rgid = otherRealGid(spec);
  const setpriv = [
    'setpriv',
    ...(rgid !== undefined ? [`--rgid=${rgid}`, '--clear-groups'] : []),
    ...(spec.noNewPrivs || e.seccompFile ? ['--no-new-privs'] : []),
    '--inh-caps=-all',
    `--bounding-set=${boundingSet(spec.caps)}`,
    ...(e.seccompFile ? [`--seccomp-filter=${e.seccompFile}`] : []),
    // The profile is entered at setpriv's exec of chroot: everything after runs confined.
    ...(e.apparmor ? [`--apparmor-profile=${e.apparmor}`] : []),
  ];
  // +N: numeric ids, never a name to look up; always given, so that root's real gid is root's again.
  const { uid, gid } = spec.user;
  // '.': the chain went into the box's root (BOX_ROOT) while it still held every capability.
  // chroot itself may not open /proc/BOX/root: with its gid reset (above), another process's
  // /proc links need CAP_SYS_PTRACE.
  const chroot = [e.chroot, `--userspec=+${uid}:+${gid}`, `--groups=+${[gid, ...(spec.user.additionalGids ?? [])].join(',+')}`, '.'];
  // In the box: the working directory, the command's path, then exactly the box's environment.
  const prog = e.args[0] ?? '';
  const direct = spec.cwd === '/' && prog.includes('/');
  const inDir = direct ? [] : [BOX_BUSYBOX, 'sh', '-c', IN_BOX_SCRIPT, 'sh', spec.cwd, String(spec.env.length)];
  const inBox = [...inDir, ...(direct ? [BOX_BUSYBOX, 'env', '-i', '--'] : []), ...spec.env, ...e.args];
  // The user namespace last, by a second nsenter (which takes uid and gid 0 there): until
  // then the chain is host root, which can read the root-only payload file.
  const host = [
    '--target', BOX, ...BOX_NAMESPACES.map((n) => `--${n}`), '--root=/', '--wd=/',
    ...(e.closeFds ? CLOSE_FDS : []),
    ...EMPTY_ENV,
  ];
  const inner = [...(spec.userns ? ['nsenter', `--user=/proc/${BOX}/ns/user`] : []), ...(e.ownSession ? [] : ['setsid', '--wait']), ...setpriv, ...chroot];
  // The data starts at the working directory, if any, else at the first env entry.
  return { host, inner: [...inner, ...inBox], dataFrom: inner.length + (inDir.length ? inDir.length - 2 : 4) };
}
