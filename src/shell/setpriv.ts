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
