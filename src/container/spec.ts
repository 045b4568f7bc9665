// What one `boxlab run` asks for, whatever it came from (flags, an image, an OCI bundle).
// Defaults are Docker's: secure unless told otherwise.
import { DOCKER_DEFAULT_CAPS } from '../kernel/capabilities.js';

export interface IdMap {
  hostId: number;
  size: number;
}

/** --userns: host uids 100000-165535 are the box's 0-65535 (the range lesson 6 maps). */
export const USERNS_DEFAULT: IdMap = { hostId: 100000, size: 65536 };

export interface Volume {
  host: string;
  box: string;
  readOnly: boolean;
}

export interface RunSpec {
  name: string;
  /** Layer directories, top first (an image), or one directory (--rootfs, a bundle's rootfs). */
  lowerdirs: string[];
  /** What the root came from, for messages: an image name or a path. */
  source: string;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  hostname: string;
  tty: boolean;
  interactive: boolean;
  detach: boolean;
  volumes: Volume[];
  network: 'none' | 'bridge';
  limits: { memoryBytes?: number; pids?: number; cpuQuotaUs?: number; cpuPeriodUs?: number };
  /** The bounding set, as capability names (cap_chown ...). */
  caps: string[];
  noNewPrivs: boolean;
  /** A seccomp profile (OCI/Docker JSON), or none. */
  seccomp: { profile: unknown; from: string } | 'unconfined';
  /** An AppArmor profile the box runs under, and who asked for it. `default`: boxlab-default,
   *  where the kernel has AppArmor (elsewhere the box runs without one, as Docker's do). */
  apparmor: { profile: string; from: 'default' | string } | 'unconfined';
  /** A user namespace: uids and gids 0..size-1 inside are hostId.. outside (--userns). */
  userns?: IdMap;
  maskedPaths: string[];
  readonlyPaths: string[];
  /** config.json's process.rlimits, as prlimit(1) takes them (--nofile=SOFT:HARD). */
  rlimits?: Rlimit[];
  /** process.oomScoreAdj, set by choom(1). */
  oomScoreAdj?: number;
  /** root.readonly: the box's root mount made read-only (its volumes, /dev, /proc keep theirs). */
  readonlyRoot?: boolean;
  /** A mount of mqueue at /dev/mqueue (POSIX message queues of the box's IPC namespace). */
  mqueue?: boolean;
  /** linux.sysctl: keys of the box's own namespaces (net.*, IPC's), set from inside them. */
  sysctl?: [key: string, value: string][];
  /** linux.rootfsPropagation: shared, slave, private or unbindable, r-prefixed or not. */
  rootfsPropagation?: string;
}

/** A resource limit: prlimit's option name (nofile, nproc ...) and its soft and hard values. */
export interface Rlimit {
  name: string;
  soft: string;
  hard: string;
}

/**
 * Docker's 14 capabilities without CAP_MKNOD: a device cgroup would have to stop a box from
 * opening a node it made, and on cgroup v2 that is an eBPF program no file write can set.
 * Dropping the capability and giving the box a minimal /dev closes the door everywhere.
 */
export const DEFAULT_CAPS = DOCKER_DEFAULT_CAPS.filter((c) => c !== 'cap_mknod');

/** Never given, whatever is asked: with no device cgroup, a node made in the box's /dev (a
 *  tmpfs) would open the host's disk. */
export const NEVER_CAPS = ['cap_mknod'];

/** What the way into a box needs in the bounding set: chroot(2), then the box's gid and uid. */
export const ENTRY_CAPS = ['cap_sys_chroot', 'cap_setgid', 'cap_setuid'];

/** The paths Docker (moby's oci/defaults.go) masks, and the ones it makes read-only. */
export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The masked and read-only paths this kernel has (the box shares it), split as runc treats
 *  them: a directory gets an empty read-only tmpfs, a file /dev/null. */
export function kernelMasks(host: { exists(p: string): boolean; isDir(p: string): boolean }, masked = MASKED_PATHS, readOnly = READONLY_PATHS): { dirs: string[]; files: string[]; readOnly: string[] } {
  const present = masked.filter((p) => host.exists(p));
  return { dirs: present.filter((p) => host.isDir(p)), files: present.filter((p) => !host.isDir(p)), readOnly: readOnly.filter((p) => host.exists(p)) };
}

/** A minimal /dev: these nodes and nothing else, as runc makes them (no disk, no kmsg, no mem). */
export const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
