// What this host's setpriv can do, read from its binary without running it: the one place that
// knows how boxlab tells whether setpriv can install a seccomp filter.
import { existsSync, readFileSync } from 'node:fs';

/** The option util-linux 2.41 added; its help text, and so the binary, holds it. */
export const SECCOMP_FILTER_OPTION = '--seccomp-filter';

/** setpriv knows --seccomp-filter (util-linux 2.41+). */
export function setprivHasSeccompFilter(): boolean {
  const bin = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  return bin !== undefined && readFileSync(bin).includes(SECCOMP_FILTER_OPTION);
}
