// An overlayfs mount as the kernel reports it (mountinfo's super options), and what its upper
// directory changed over its lowers: `docker diff` read straight from the filesystem.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mountsOf, type MountEntry } from './mountinfo.js';

export interface OverlayLayers {
  mountPoint: string;
  /** Top first, as overlayfs lists them. */
  lower: string[];
  upper: string;
  work: string;
}

/** The overlay mounted at mountPoint (as seen by pid), or undefined. */
export function overlayAt(pid: number | 'self', mountPoint: string): OverlayLayers | undefined {
  const m = mountsOf(pid).filter((e) => e.fsType === 'overlay' && e.mountPoint === mountPoint).pop();
  return m && overlayLayers(m);
}

export function overlayLayers(m: MountEntry): OverlayLayers | undefined {
  const opt = (name: string): string[] => m.superOptions.filter((o) => o.startsWith(`${name}=`)).map((o) => o.slice(name.length + 1));
  // lowerdir=a:b on the classic mount(2) API; lowerdir+=a, lowerdir+=b with the new one (fsconfig).
  const lower = [...opt('lowerdir').flatMap((l) => l.split(':')), ...opt('lowerdir+')];
  const [upper] = opt('upperdir');
  const [work] = opt('workdir');
  if (!upper || !work || lower.length === 0) return undefined;
  return { mountPoint: m.mountPoint, lower, upper, work };
}

export type Change = { kind: 'A' | 'C' | 'D'; path: string };

/**
 * A: in upper only; C: in upper and in a lower (copied up or replaced; its parent directory
 * changes too); D: a whiteout (a 0/0 character device). Sorted by path, as docker diff is.
 */
export function overlayChanges(o: Pick<OverlayLayers, 'upper' | 'lower'>): Change[] {
  const inLower = (rel: string): boolean => o.lower.some((l) => exists(join(l, rel)));
  const out = new Map<string, Change['kind']>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(o.upper, rel)).sort()) {
      const r = `${rel}/${name}`;
      const st = lstatSync(join(o.upper, r));
      const whiteout = st.isCharacterDevice() && st.rdev === 0;
      out.set(r, whiteout ? 'D' : inLower(r) ? 'C' : 'A');
      // docker diff also names each existing directory above a change as changed.
      for (let p = rel; p; p = p.slice(0, p.lastIndexOf('/'))) if (!out.has(p) && inLower(p)) out.set(p, 'C');
      if (st.isDirectory() && !whiteout) walk(r);
    }
  };
  walk('');
  return [...out].map(([path, kind]) => ({ kind, path })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
