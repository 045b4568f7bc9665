import { shProgram, type Cmd } from './cmd.js';
import { SECCOMP_FILTER_OPTION } from '../kernel/setpriv.js';

/** Write binary data given as base64 on stdin to FILE: no Node needed to reproduce it. */
export const writeBase64 = (file: string, base64: string): Cmd => ({ ...shProgram('sh', '-c', 'base64 -d > "$1"', 'sh', file), stdin: base64 });

/** setpriv(1) --seccomp-filter (util-linux 2.41+): install FILE's BPF program, then exec INNER. */
export function withSeccompFilter(file: string, inner: Cmd): Cmd {
  return { ...inner, file: 'setpriv', args: ['--no-new-privs', `--seccomp-filter=${file}`, inner.file, ...inner.args], inner };
}

/**
 * bwrap(1) --seccomp FD: the same program on a host process, where setpriv is older. It keeps
 * every capability (--cap-add ALL), so what fails, fails because of the filter.
 */
export function bwrapSeccomp(file: string, inner: Cmd): Cmd {
  const script = 'f=$1; shift; exec bwrap --die-with-parent --cap-add ALL --bind / / --dev /dev --seccomp 3 "$@" 3< "$f"';
  return { ...shProgram('sh', '-c', script, 'sh', file, inner.file, ...inner.args), inner };
}

/** Succeeds only where setpriv knows --seccomp-filter: kernel/setpriv.ts's test, as a command
 *  a lesson's --script can run. */
export const setprivHasSeccomp: Cmd = shProgram('sh', '-c', 'setpriv --help | grep -q -- "$1"', 'sh', SECCOMP_FILTER_OPTION);
