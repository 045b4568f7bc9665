// Plain writes to the cgroup filesystem, as commands a learner can type.
import { execLine, quote, shFragment, wrap, type Cmd } from './cmd.js';
import { writeFile } from './coreutils.js';

/** echo VALUE > FILE, shown as `tee FILE <<< VALUE`: every cgroup setting is one write. */
export const writeCgroupFile = (file: string, value: string): Cmd => writeFile(file, value);

const JOIN = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1"; shift; n=$((n-1)); done; exec "$@"';
/**
 * Run a command inside cgroups: a shell writes its own PID into each cgroup.procs, then
 * becomes the command. Children are born in the cgroup of the process that forks them,
 * so joining first is the only way to start something inside.
 */
export function inCgroups(procsFiles: string[], inner: Cmd): Cmd {
  return {
    ...wrap('sh', ['-c', JOIN, 'sh', String(procsFiles.length), ...procsFiles], inner),
    program: JOIN,
    // In a bash script: the background subshell writes its own PID and execs, no sh between;
    // a write that fails stops it there (&&: under `set +e` too), never running outside a limit.
    inline: [...procsFiles.map((f) => `echo $BASHPID > ${quote(f)}`), execLine(inner)].join(' && '),
  };
}

/**
 * Empty cgroups and remove them: cgroup.kill where the kernel has it (v2, Linux 5.14),
 * otherwise SIGKILL to every PID in cgroup.procs, again until rmdir succeeds (a fork bomb
 * keeps forking). Only boxlab's own cgroups are ever given to it.
 */
export function removeCgroup(...dirs: string[]): Cmd {
  // Shell builtins only (read, kill, a counter) but rmdir: the common case, cgroups already
  // empty, costs one process for all of them (one per v1 controller before).
  // Groups made below one (a learner's, in practice mode) go first, leaf first, found by find.
  const script =
    'rmdir "$@" 2>/dev/null && exit 0; for d; do i=0; while [ -d "$d" ]; do [ $i -lt 100 ] || exit 1; ' +
    'if [ -e "$d/cgroup.kill" ]; then echo 1 > "$d/cgroup.kill"; else while read -r p; do kill -KILL "$p" 2>/dev/null; done < "$d/cgroup.procs"; fi; ' +
    'rmdir "$d" 2>/dev/null && break; ' +
    'find "$d" -mindepth 2 -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done; ' +
    'find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null; ' +
    'sleep 0.02; i=$((i+1)); done; done; exit 0';
  return shFragment(script, ...dirs);
}
