// The host facts a lesson may depend on, as an interface: lessons are data built from these
// when they run (src/container/host.ts reads the real ones; tests pass a fake).
import type { CgroupLayout } from '../kernel/cgroup-layout.js';

export interface HostFacts {
  /** The cgroup filesystems mounted here and the controllers they offer. */
  cgroupLayout(): CgroupLayout;
  /** setpriv knows --seccomp-filter (util-linux 2.41+). */
  setprivSeccomp(): boolean;
  /** Whether a kernel path (/proc/kcore) exists here, and is a directory. */
  exists(path: string): boolean;
  isDir(path: string): boolean;
  /** coreutils' chroot, by absolute path. */
  chroot(): string;
  /** AppArmor here (lesson 15): on, enabled without securityfs, or off; apparmor_parser; the
   *  profiles loaded. */
  apparmor(): AppArmorFacts;
  /** The host's busybox and whether it is dynamically linked; undefined if there is none. */
  busybox(): { path: string; size: number; dynamic: boolean } | undefined;
}

export interface AppArmorFacts {
  state: 'on' | 'unmounted' | 'off';
  parser: boolean;
  loaded: ReadonlyMap<string, string>;
}
