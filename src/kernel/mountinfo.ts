// /proc/PID/mountinfo (proc(5)): one line per mount as that process's mount namespace sees it.
import { readFileSync } from 'node:fs';

export interface MountEntry {
  id: number;
  parent: number;
  root: string;
  mountPoint: string;
  optional: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Mountinfo escapes space, tab, newline and backslash as octal. */
const unescapeOctal = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountinfo(text: string): MountEntry[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [left, right = ''] = line.split(' - ');
      const f = left!.split(' ');
      const r = right.split(' ');
      return {
        id: Number(f[0]),
        parent: Number(f[1]),
        root: unescapeOctal(f[3] ?? ''),
        mountPoint: unescapeOctal(f[4] ?? ''),
        optional: f.slice(6),
        fsType: r[0] ?? '',
        source: unescapeOctal(r[1] ?? ''),
        superOptions: (r[2] ?? '').split(','),
      };
    });
}

export function mountsOf(pid: number | 'self'): MountEntry[] {
  return parseMountinfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}
