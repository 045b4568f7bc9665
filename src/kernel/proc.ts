// Facts about processes, read from /proc.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Field 22 of /proc/PID/stat: start time in clock ticks since boot; '' if gone. */
export function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? '';
  } catch {
    return '';
  }
}

/** Alive and the same process as recorded (PIDs are reused); zombies count as gone. */
export function isSameLiveProcess(pid: number, startTime: string): boolean {
  if (pid <= 0) return false;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    if (/^State:\s+Z/m.test(status)) return false;
  } catch {
    return false;
  }
  return processStartTime(pid) === startTime;
}

/** PIDs of the direct children of a process (needs CONFIG_PROC_CHILDREN). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Live processes whose initial environment holds NAME=VALUE, with VALUE; unreadable ones are skipped. */
export function processesWithEnv(name: string): { pid: number; value: string; startTime: string }[] {
  const out: { pid: number; value: string; startTime: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || !isAlive(Number(d))) continue;
    try {
      // The start time first: what is killed later is checked to be this very process.
      const startTime = processStartTime(Number(d));
      const entry = readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').find((e) => e.startsWith(`${name}=`));
      if (entry) out.push({ pid: Number(d), value: entry.slice(name.length + 1), startTime });
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return out;
}

/** The real uid of a process (-1 if it is gone). */
export function realUid(pid: number): number {
  try {
    return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? -1);
  } catch {
    return -1;
  }
}

/** A process in a user namespace other than ours (a box's with --userns, lesson 6's). */
export function inOtherUserNamespace(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/user`) !== readlinkSync('/proc/self/ns/user');
  } catch {
    return false;
  }
}

/** A live process: /proc/PID exists and it is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
