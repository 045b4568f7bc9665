import type { Cmd } from './cmd.js';

/**
 * setpriv(1) --pdeathsig: the wrapped program gets SIG when its parent dies. It survives
 * exec, so a box started this way dies with the orchestrator, even on SIGKILL.
 */
export function withParentDeathSignal(signal: string, inner: Cmd): Cmd {
  return { ...inner, file: 'setpriv', args: ['--pdeathsig', signal, inner.file, ...inner.args], inner };
}

/**
 * setpriv(1) as another user, with no supplementary groups. A change of uid clears the
 * parent-death signal, so wrap this one *outside* withParentDeathSignal, never inside.
 */
export function asUser(uid: number, inner: Cmd): Cmd {
  return { ...inner, file: 'setpriv', args: [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', inner.file, ...inner.args], inner };
}

/** setpriv(1) --no-new-privs: no execve after this may add privileges (setuid bits, file caps). */
export function withNoNewPrivs(inner: Cmd): Cmd {
  return { ...inner, file: 'setpriv', args: ['--no-new-privs', inner.file, ...inner.args], inner };
}

/**
 * The same, closing its window: a parent that dies after the fork but before setpriv's
 * prctl(2) sends no signal, and the program would outlive it. sh checks, after the prctl,
 * that its parent is still `parentPid` (the orchestrator), and otherwise stops there.
 */
export function withParentDeathSignalChecked(signal: string, parentPid: string, inner: Cmd): Cmd {
  const guard = '[ "$PPID" = "$1" ] || { echo "boxlab: the run that started this is gone: not starting" >&2; exit 1; }; shift; exec "$@"';
  return { ...inner, file: 'setpriv', args: ['--pdeathsig', signal, 'sh', '-c', guard, 'parent-check', parentPid, inner.file, ...inner.args], inner };
}

/** setpriv(1) --apparmor-profile: the kernel confines the program it execs by that profile
 *  (written to /proc/self/attr/apparmor/exec, applied at execve). */
export function withAppArmorProfile(profile: string, inner: Cmd): Cmd {
  return { ...inner, file: 'setpriv', args: [`--apparmor-profile=${profile}`, inner.file, ...inner.args], inner };
}
