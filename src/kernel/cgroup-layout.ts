// Which cgroup layout the kernel offers: v2 unified, v1, or hybrid (v1 controllers plus an
// empty cgroup2, as on Debian 12 with systemd's hybrid mode).
import { readFileSync } from 'node:fs';
import { mountsOf, type MountEntry } from './mountinfo.js';

export interface CgroupLayout {
  kind: 'v2' | 'v1' | 'hybrid' | 'none';
  /** v1 controllers and where each hierarchy is mounted. */
  v1: { controllers: string[]; mountPoint: string }[];
  /** The cgroup2 mount, if any, and the controllers it offers. */
  v2?: { mountPoint: string; controllers: string[] };
}

const V1_NAMED = /^name=/;

export function cgroupLayout(mounts: MountEntry[] = mountsOf('self'), read = (p: string) => readFileSync(p, 'utf8')): CgroupLayout {
  const v1 = mounts
    .filter((m) => m.fsType === 'cgroup')
    .map((m) => ({ mountPoint: m.mountPoint, controllers: m.superOptions.filter((o) => !V1_NAMED.test(o) && !['rw', 'ro'].includes(o) && !o.includes('=') && o !== 'noprefix' && o !== 'clone_children') }))
    .filter((h) => h.controllers.length > 0);
  const v2mount = mounts.find((m) => m.fsType === 'cgroup2');
  let v2: CgroupLayout['v2'];
  if (v2mount) {
    let controllers: string[] = [];
    try {
      controllers = read(`${v2mount.mountPoint}/cgroup.controllers`).trim().split(/\s+/).filter(Boolean);
    } catch {
      // an unreadable cgroup2 counts as offering nothing
    }
    v2 = { mountPoint: v2mount.mountPoint, controllers };
  }
  const kind = v1.length > 0 ? (v2 ? 'hybrid' : 'v1') : v2 ? 'v2' : 'none';
  return { kind, v1, v2 };
}

export function describeLayout(l: CgroupLayout): string {
  const v1 = l.v1.flatMap((h) => h.controllers).sort().join(', ');
  switch (l.kind) {
    case 'v2':
      return `v2 (unified) at ${l.v2!.mountPoint}, controllers: ${l.v2!.controllers.join(', ') || 'none'}`;
    case 'v1':
      return `v1, controllers: ${v1}`;
    case 'hybrid':
      return `hybrid: controllers on v1 (${v1}); cgroup2 at ${l.v2!.mountPoint} with ${l.v2!.controllers.join(', ') || 'no controllers'}`;
    default:
      return 'no cgroup filesystem mounted';
  }
}
