// The container under construction, built outside-in: a placeholder init holds the new
// namespaces, and every later step is a host tool run against it (docs/ARCHITECTURE.md,
// "The box, built outside-in").
import { shProgram, type Cmd } from '../shell/cmd.js';
import { nsenter, nsenterCmd } from '../shell/nsenter.js';
import { capsh } from '../shell/capsh.js';
import { unshare, type Namespace } from '../shell/unshare.js';
import { withNoNewPrivs, withParentDeathSignal } from '../shell/setpriv.js';
import { CAPABILITIES, DOCKER_DEFAULT_CAPS } from '../kernel/capabilities.js';
import type { Action, Resource } from '../model/lesson.js';
import { RUN_MARK } from '../shell/spawn.js';

/** Every namespace a container gets but user and time (those have lessons of their own). */
export const BOX_NAMESPACES: Namespace[] = ['mount', 'uts', 'ipc', 'net', 'pid', 'cgroup'];

/** The variable holding the box's PID 1 (as the host numbers it). */
export const BOX = '${BOX}';
/** The unshare process that forked it; killing it kills the box. */
const LAUNCHER = 'BOX_LAUNCHER';

/**
 * The init's own check, made once both parent-death signals are set (setpriv's on unshare,
 * unshare's --kill-child on the init): its parent, unshare, must still be the child of the run
 * ($1, HOST_PID). Had either parent died before its prctl(2), the orphan would have been adopted
 * by another process and never signalled; the init then stops here instead of outliving the
 * run. /proc is still the host's, so /proc/self and the PIDs in stat(5) are host PIDs (field 1
 * its own, field 4 its parent's, after the name in parentheses). `cd /`: the init keeps no
 * working directory on the host (pivot_root moves a cwd that is the old root, and only that
 * one); sh exports the PWD it sets, unset so that the init's environment stays empty. Then it
 * says its own PID on stdout (a script waits for that line instead of polling) and execs the
 * command with stdout on /dev/null.
 */
export const INIT_GUARD =
  'cd / && unset PWD OLDPWD && read -r s < /proc/self/stat && me=${s%% *} && s=${s##*) } && s=${s#* } && read -r s < "/proc/${s%% *}/stat" && s=${s##*) } && s=${s#* } && [ "${s%% *}" = "$1" ] ||' +
  ' { echo "boxlab: the run that started this is gone: not starting" >&2; exit 1; }; shift; echo "$me"; exec "$@" >/dev/null';

/**
 * The placeholder init: `sleep infinity` in new namespaces. Its life is tied to ours twice:
 * setpriv --pdeathsig kills unshare when the orchestrator dies, even by SIGKILL, and
 * unshare --kill-child kills the init when unshare dies, which empties the PID namespace.
 */
/** `init`: what the placeholder init runs in front of its `sleep infinity` (a wrapper that
 *  drops capabilities, say), as argv. `checkParent`: then INIT_GUARD, in the init itself.
 *  `cleanEnv`: the init starts with nothing of boxlab's environment (the host's PATH, HOME,
 *  SUDO_USER ...), which root in the box could read in /proc/1/environ; only the run's mark
 *  stays, by which `boxlab reset` finds a box whose run is gone. */
export function createBox(ns: Namespace[], o: { checkParent?: boolean; init?: string[]; cleanEnv?: boolean } = {}): { creates: Resource[]; actions: Action[] } {
  const env = o.cleanEnv ? ['env', '-i', `${RUN_MARK}=\${RUN_ID}`] : [];
  const guard = o.checkParent ? ['sh', '-c', INIT_GUARD, 'init', '${HOST_PID}'] : [];
  const box = unshare({ ns, fork: true, killChild: 'KILL', propagation: 'private' }, ...env, ...(o.init ?? []), ...guard, 'sleep', 'infinity');
  const launch = withParentDeathSignal('KILL', box);
  return {
    creates: [{ process: LAUNCHER }],
    actions: [
      { start: launch, pid: LAUNCHER, ...(o.checkParent ? { announces: 'BOX' } : {}) },
      { childOf: LAUNCHER, pid: 'BOX', comm: 'sleep' },
      { run: notInOurMountNamespace(BOX) },
    ],
  };
}

/**
 * Every later step enters the box's mount namespace and mounts, even pivot_root, there. If the
 * PID taken for the box were a process of ours (a helper unshare forked, say), those steps
 * would act on the host itself: refuse, before anything is done to it.
 */
const GUARD = 'if [ /proc/$1/ns/mnt -ef /proc/self/ns/mnt ]; then echo "boxlab: PID $1 is in our own mount namespace, not a box: stopping" >&2; exit 1; fi';
export const notInOurMountNamespace = (pid: string): Cmd => ({ ...shProgram('sh', '-c', GUARD, 'sh', pid), inline: GUARD.replaceAll('$1', pid) });

/** A host tool inside the box's namespaces, still seeing the host's files (before pivot_root). */
export const hostToolInBox = (ns: Namespace[], c: Cmd): Cmd => nsenter({ target: BOX, ns }, c.file, ...c.args);

/**
 * A host tool in the box's mount namespace after pivot_root: nsenter opens the host's / before
 * it enters, so the tool still resolves on the host while its mounts act in the box.
 */
export const hostToolInBoxMounts = (c: Cmd, also: Namespace[] = []): Cmd => {
  const nsFiles: Partial<Record<Namespace, string>> = { mount: `/proc/${BOX}/ns/mnt` };
  for (const n of also) nsFiles[n] = `/proc/${BOX}/ns/${NS_FILE[n]}`;
  return nsenter({ nsFiles, root: '/', wd: '/' }, c.file, ...c.args);
};

/** The names of the files in /proc/PID/ns. */
const NS_FILE: Record<Namespace, string> = { mount: 'mnt', uts: 'uts', ipc: 'ipc', net: 'net', pid: 'pid', user: 'user', cgroup: 'cgroup', time: 'time' };

/** A program of the box's own root filesystem, run inside the box (its root, its namespaces). */
export const inBox = (ns: Namespace[], c: Cmd): Cmd => nsenter({ target: BOX, ns, root: true, wd: true }, c.file, ...c.args);

/** A program of the box's rootfs, run in all of the box's namespaces: `boxRun('/bin/ls', '/')`. */
export const boxRun = (file: string, ...args: string[]): Cmd => inBox(BOX_NAMESPACES, { file, args });

/** The same in every namespace of the box but one: what a box without that namespace could do. */
export const boxRunWithout = (missing: Namespace, file: string, ...args: string[]): Cmd =>
  inBox(BOX_NAMESPACES.filter((n) => n !== missing), { file, args });

/** A host tool in all of the box's namespaces, keeping the host's root (so it is found). */
export const hostToolInFullBox = (c: Cmd): Cmd => nsenterCmd({ target: BOX, ns: BOX_NAMESPACES, root: '/', wd: '/' }, c);

/**
 * The payload launch (docs/ARCHITECTURE.md, outside-in step 6): nsenter enters the box's
 * namespaces keeping the host's root, so the host's capsh runs; it drops capabilities,
 * chroots into the box through /proc/BOX/root and execs PROGRAM. `wrap` puts another host
 * tool (setpriv) in between.
 */
export function boxPayload(o: { drop?: string[]; uid?: number; wrap?: (c: Cmd) => Cmd; root?: string }, program: string, ...args: string[]): Cmd {
  const launch = capsh({ chroot: o.root ?? `/proc/${BOX}/root`, drop: o.drop, uid: o.uid }, program, ...args);
  return hostToolInFullBox(o.wrap ? o.wrap(launch) : launch);
}

/** The capabilities Docker's default set leaves out (lesson 7 drops them). */
export const NOT_DOCKER_CAPS = CAPABILITIES.filter((c) => !DOCKER_DEFAULT_CAPS.includes(c));

/**
 * A learner's shell in a lesson box from lesson 7 on: the defences already taught stay on
 * (Docker's 14 capabilities, no_new_privs), so a shell in lesson 9 cannot, say, mount the
 * host's cgroup hierarchy and write its release_agent.
 */
export const taughtShell = (program: string, ...args: string[]): Cmd => boxPayload({ drop: NOT_DOCKER_CAPS, wrap: withNoNewPrivs }, program, ...args);
/** The same, in a root the box's mount namespace has at ROOT (a box not yet pivoted). */
export const taughtShellIn = (root: string, program: string): Cmd => boxPayload({ drop: NOT_DOCKER_CAPS, wrap: withNoNewPrivs, root }, program);
