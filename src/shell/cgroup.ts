// Plain writes to the cgroup filesystem, as commands a learner can type.
import type { Cmd } from './cmd.js';
import { writeFile } from './coreutils.js';

/** echo VALUE > FILE, shown as `tee FILE <<< VALUE`: every cgroup setting is one write. */
export const writeCgroupFile = (file: string, value: string): Cmd => writeFile(file, value);

/**
 * Run a command inside cgroups: a shell writes its own PID into each cgroup.procs, then
 * becomes the command. Children are born in the cgroup of the process that forks them,
 * so joining first is the only way to start something inside.
 */
export function inCgroups(procsFiles: string[], inner: Cmd): Cmd {
  return {
    file: 'sh',
    args: ['-c', 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1"; shift; n=$((n-1)); done; exec "$@"', 'sh', String(procsFiles.length), ...procsFiles, inner.file, ...inner.args],
    inner,
  };
}

/**
 * Empty a cgroup and remove it: cgroup.kill where the kernel has it (v2, Linux 5.14),
 * otherwise SIGKILL to every PID in cgroup.procs, again until rmdir succeeds (a fork bomb
 * keeps forking). Only boxlab's own cgroups are ever given to it.
 */
export function removeCgroup(dir: string): Cmd {
  const script =
    'd=$1; for i in $(seq 100); do [ -d "$d" ] || exit 0; ' +
    '{ [ -e "$d/cgroup.kill" ] && echo 1 > "$d/cgroup.kill"; } || kill -KILL $(cat "$d/cgroup.procs") 2>/dev/null; ' +
    'rmdir "$d" 2>/dev/null && exit 0; sleep 0.02; done; exit 1';
  return { file: 'sh', args: ['-c', script, 'sh', dir] };
}
