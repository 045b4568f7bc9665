// AppArmor as the kernel shows it: whether it is on, which profiles are loaded, what confines
// a process. Read from securityfs and /proc only, with no process started (doctor, runs, reset).
import { readdirSync, readFileSync } from 'node:fs';

export const SECURITYFS = '/sys/kernel/security';
export const PROFILES = `${SECURITYFS}/apparmor/profiles`;
/** Writing a profile's name here unloads it (what apparmor_parser --remove does). */
export const REMOVE = `${SECURITYFS}/apparmor/.remove`;

type Read = (path: string) => string;
const readText: Read = (p) => readFileSync(p, 'utf8');
const tryRead = (read: Read, p: string): string | undefined => {
  try {
    return read(p);
  } catch {
    return undefined;
  }
};

/** 'on': enabled with securityfs mounted (profiles can be loaded and read); 'unmounted':
 *  enabled, but securityfs is not mounted; 'off': not in this kernel, or disabled at boot. */
export function apparmorState(read: Read = readText): 'on' | 'unmounted' | 'off' {
  if (tryRead(read, '/sys/module/apparmor/parameters/enabled')?.trim() !== 'Y') return 'off';
  return tryRead(read, PROFILES) === undefined ? 'unmounted' : 'on';
}

/** The loaded profiles: name -> mode (enforce, complain, kill, unconfined ...). */
export function loadedProfiles(read: Read = readText): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of (tryRead(read, PROFILES) ?? '').split('\n')) {
    const m = /^(.+) \(([a-z]+)\)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** What confines a process: "NAME (MODE)" or "unconfined"; Linux 5.8+ has the per-LSM file. */
export function confinement(pid: number | 'self', read: Read = readText): string | undefined {
  const text = tryRead(read, `/proc/${pid}/attr/apparmor/current`) ?? tryRead(read, `/proc/${pid}/attr/current`);
  return text?.replace(/\0/g, '').trim();
}

/** The PIDs confined by a profile whose name starts with `prefix`. */
export function confinedBy(prefix: string, read: Read = readText, pids: () => string[] = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d))): number[] {
  return pids()
    .map(Number)
    .filter((pid) => confinement(pid, read)?.startsWith(prefix));
}
