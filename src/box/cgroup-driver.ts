// One cgroup interface, two implementations: v1 (a hierarchy per controller) and v2 (one
// unified tree), chosen from what the kernel mounted. Hybrid hosts (v1 controllers plus an
// empty cgroup2, Debian 12's default) use v1.
import { shProgram, type Cmd } from '../shell/cmd.js';
import { mkdirP } from '../shell/coreutils.js';
import { writeCgroupFile } from '../shell/cgroup-files.js';
import type { Action, Resource } from '../model/lesson.js';
import type { CgroupLayout } from '../kernel/cgroup-layout.js';

export type Controller = 'memory' | 'pids' | 'cpu';
export const CONTROLLERS: Controller[] = ['memory', 'pids', 'cpu'];

export interface CgroupDriver {
  kind: 'v1' | 'v2';
  /** The directory of GROUP (a path like boxlab-x/box) that holds CONTROLLER's files. */
  dir(group: string, controller: Controller): string;
  /** The cgroup.procs files a process must join to be in GROUP for these controllers. */
  procs(group: string, controllers: Controller[]): string[];
  /** Make GROUP (its parent exists) for these controllers, recorded for cleanup. */
  create(group: string, controllers: Controller[]): { creates: Resource[]; actions: Action[] };
  /** Kill every process in GROUP: cgroup.kill on v2, SIGKILL to each PID in cgroup.procs on v1. */
  killAll(group: string, controller: Controller): Cmd;
  memoryLimit(group: string, bytes: number): Cmd[];
  pidsLimit(group: string, max: number): Cmd[];
  cpuQuota(group: string, quotaUs: number, periodUs: number): Cmd[];
  /** The file whose `oom_kill N` line counts OOM kills in GROUP. */
  oomFile(group: string): string;
  /** What the learner reads about this layout. */
  describe: string;
}

/** v1: GROUP exists once per controller hierarchy, e.g. /sys/fs/cgroup/memory/GROUP. */
export function v1Driver(roots: Record<Controller, string>): CgroupDriver {
  const dir = (group: string, c: Controller): string => `${roots[c]}/${group}`;
  return {
    kind: 'v1',
    dir,
    procs: (group, cs) => cs.map((c) => `${dir(group, c)}/cgroup.procs`),
    create(group, cs) {
      const dirs = cs.map((c) => dir(group, c));
      return { creates: dirs.map((cgroup) => ({ cgroup })), actions: [{ run: mkdirP(...dirs) }] };
    },
    killAll: (group, c) => killEachPid(`${dir(group, c)}/cgroup.procs`),
    memoryLimit: (group, bytes) => [writeCgroupFile(`${dir(group, 'memory')}/memory.limit_in_bytes`, String(bytes))],
    pidsLimit: (group, max) => [writeCgroupFile(`${dir(group, 'pids')}/pids.max`, String(max))],
    cpuQuota: (group, quota, period) => [
      writeCgroupFile(`${dir(group, 'cpu')}/cpu.cfs_period_us`, String(period)),
      writeCgroupFile(`${dir(group, 'cpu')}/cpu.cfs_quota_us`, String(quota)),
    ],
    oomFile: (group) => `${dir(group, 'memory')}/memory.oom_control`,
    describe: `cgroup v1: one hierarchy per controller (${CONTROLLERS.map((c) => roots[c]).join(', ')})`,
  };
}

/** v2: one tree; a parent hands controllers to its children through cgroup.subtree_control. */
export function v2Driver(root: string): CgroupDriver {
  const dir = (group: string): string => `${root}/${group}`;
  const enable = (parent: string, cs: Controller[]): Cmd => writeCgroupFile(`${parent}/cgroup.subtree_control`, cs.map((c) => `+${c}`).join(' '));
  return {
    kind: 'v2',
    dir,
    procs: (group) => [`${dir(group)}/cgroup.procs`],
    create(group, cs) {
      // The parent hands the controllers down first. A v2 cgroup with processes cannot do
      // that ("no internal processes"), which is why processes live in leaves.
      const parent = group.includes('/') ? dir(group.slice(0, group.lastIndexOf('/'))) : root;
      return { creates: [{ cgroup: dir(group) }], actions: [{ run: enable(parent, cs) }, { run: mkdirP(dir(group)) }] };
    },
    killAll: (group) => writeCgroupFile(`${dir(group)}/cgroup.kill`, '1'),
    memoryLimit: (group, bytes) => [writeCgroupFile(`${dir(group)}/memory.max`, String(bytes)), writeCgroupFile(`${dir(group)}/memory.swap.max`, '0')],
    pidsLimit: (group, max) => [writeCgroupFile(`${dir(group)}/pids.max`, String(max))],
    cpuQuota: (group, quota, period) => [writeCgroupFile(`${dir(group)}/cpu.max`, `${quota} ${period}`)],
    oomFile: (group) => `${dir(group)}/memory.events`,
    describe: `cgroup v2: one unified tree at ${root}`,
  };
}

/** The driver for this host, or why there is none. */
export function cgroupDriver(layout: CgroupLayout): CgroupDriver | string {
  const v1Roots: Partial<Record<Controller, string>> = {};
  for (const h of layout.v1) for (const c of h.controllers) if ((CONTROLLERS as string[]).includes(c)) v1Roots[c as Controller] = h.mountPoint;
  if (CONTROLLERS.every((c) => v1Roots[c])) return v1Driver(v1Roots as Record<Controller, string>);
  if (layout.v2 && CONTROLLERS.every((c) => layout.v2!.controllers.includes(c))) return v2Driver(layout.v2.mountPoint);
  return `no cgroup hierarchy offers ${CONTROLLERS.join(', ')} (layout: ${layout.kind})`;
}

/** v1 has no cgroup.kill: SIGKILL every PID listed, again until none is left (forks race us). */
function killEachPid(procs: string): Cmd {
  const script = 'for i in $(seq 100); do pids=$(cat "$1"); [ -z "$pids" ] && exit 0; kill -KILL $pids 2>/dev/null; sleep 0.01; done; exit 1';
  return shProgram('sh', '-c', script, 'sh', procs);
}
