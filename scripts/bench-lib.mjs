// What bench.mjs and bench-compare.mjs share: timing a command, medians, and crun as the
// yardstick on this host.
import { spawnSync } from 'node:child_process';

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One command timed by bash's `time`: wall, and CPU of everything it waited for (ms). */
export function timed(command) {
  const r = spawnSync('bash', ['-c', `TIMEFORMAT="%3R %3U %3S"; { time { ${command}; } >/dev/null 2>&1; } 2>&1`], { encoding: 'utf8' });
  const [real, user, sys] = r.stdout.trim().split('\n').pop().split(' ').map(Number);
  return { wall: real * 1000, cpu: (user + sys) * 1000 };
}

/**
 * `crun run` of BUNDLE, as a command (each call a new container name). crun refuses a hybrid
 * cgroup layout (controllers on v1, an empty cgroup2 mounted, as on the dev machine): there it
 * runs in a private mount namespace where a bind mount hides the cgroup2's cgroup.controllers.
 * That wrapper is three more programs (unshare, sh, mount): `wrapper` is its own median cost,
 * to be taken off crun's figures, so a ratio is against crun itself. `fails` says why crun
 * cannot be the yardstick here (a crun that exits at once would flatter everything).
 */
export function crunYardstick(bundle, name) {
  const have = spawnSync('sh', ['-c', 'command -v crun']).status === 0;
  if (!have) return { fails: 'crun is not installed' };
  const hybrid = spawnSync('sh', ['-c', 'test -e /sys/fs/cgroup/unified/cgroup.controllers']).status === 0;
  const hide = hybrid ? 'unshare -m sh -c "mount --bind /dev/null /sys/fs/cgroup/unified/cgroup.controllers && exec \\"\\$0\\" \\"\\$@\\""' : '';
  let n = 0;
  const command = () => `cd ${bundle} && ${hide} crun run ${name}-${n++}`;
  const probe = spawnSync('bash', ['-c', command()], { encoding: 'utf8' });
  if (probe.status !== 0) return { fails: `crun run exits ${probe.status} here: ${probe.stderr.trim().split('\n').pop()}` };
  const alone = hybrid ? Array.from({ length: 15 }, () => timed('unshare -m sh -c "mount --bind /dev/null /sys/fs/cgroup/unified/cgroup.controllers && true"')) : [];
  const wrapper = hybrid ? { wall: median(alone.map((t) => t.wall)), cpu: median(alone.map((t) => t.cpu)) } : { wall: 0, cpu: 0 };
  return { command, wrapper, hybrid };
}
