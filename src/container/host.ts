// What a run needs to know about this host: its cgroup layout and whether setpriv can apply a
// seccomp filter. Read from the kernel and the files, with no process started.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EnvError, UsageError } from '../errors.js';
import { cgroupDriver } from '../box/cgroup-driver.js';
import { cgroupLayout } from '../kernel/cgroup-layout.js';
import { compile, encode, parseProfile, ProfileError } from '../seccomp/bpf.js';
import { packageRoot } from '../paths.js';
import { findBusybox, isDynamicElf } from '../../rootfs-fetch/busybox.js';
import type { AppArmorFacts, HostFacts } from '../model/host-facts.js';
import { apparmorState, loadedProfiles } from '../kernel/apparmor.js';
import { setprivHasSeccompFilter } from '../kernel/setpriv.js';
import type { PlanHost } from './plan.js';
import type { RunSpec } from './spec.js';

/** The default profile: lesson 8's Docker-like allow-list. */
export const DEFAULT_PROFILE = (): string => join(packageRoot(import.meta.url), 'lessons', '08-seccomp', 'docker-like.json');

export function loadProfile(path: string): { profile: unknown; from: string } {
  const file = path || DEFAULT_PROFILE();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new EnvError(`--seccomp ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return { profile: parseProfile(JSON.parse(text)), from: path ? file : 'the default, Docker-like' };
  } catch (e) {
    if (e instanceof ProfileError || e instanceof SyntaxError) throw new UsageError(`--seccomp ${file}: ${e.message}`);
    throw e;
  }
}

/** This host, each fact read once and only when first asked for. */
export function realHost(): HostFacts {
  const once = <T>(f: () => T): (() => T) => {
    let v: { value: T } | undefined;
    return () => (v ??= { value: f() }).value;
  };
  return {
    cgroupLayout: once(() => cgroupLayout()),
    setprivSeccomp: once(setprivHasSeccompFilter),
    exists: (p) => existsSync(p),
    isDir: (p) => existsSync(p) && statSync(p).isDirectory(),
    chroot: once(() => ['/usr/sbin/chroot', '/usr/bin/chroot', '/sbin/chroot'].find((p) => existsSync(p)) ?? '/usr/sbin/chroot'),
    apparmor: once((): AppArmorFacts => {
      const state = apparmorState();
      const parser = ['/usr/sbin/apparmor_parser', '/sbin/apparmor_parser'].some((p) => existsSync(p));
      return { state, parser, loaded: state === 'on' ? loadedProfiles() : new Map() };
    }),
    busybox: once(() => {
      const path = findBusybox();
      return path === undefined ? undefined : { path, size: statSync(path).size, dynamic: isDynamicElf(path) };
    }),
  };
}

/** The planner's view of the host for this spec. `real`: a box is about to start, so what it
 *  cannot do without (the cgroup controllers its limits need, a static busybox) must be there. */
export function hostFacts(spec: RunSpec, real: boolean, facts: HostFacts = realHost()): PlanHost {
  const wantsLimits = Object.values(spec.limits).some((v) => v !== undefined);
  const driver = wantsLimits ? cgroupDriver(facts.cgroupLayout()) : undefined;
  if (typeof driver === 'string') {
    if (real) throw new EnvError(`cgroup limits need the memory, pids and cpu controllers: ${driver}`);
  }
  const setprivSeccomp = facts.setprivSeccomp();
  let seccompBpf: string | undefined;
  if (spec.seccomp !== 'unconfined' && setprivSeccomp) {
    seccompBpf = encode(compile(parseProfile(spec.seccomp.profile)).program).toString('base64');
  }
  return {
    cgroups: typeof driver === 'string' ? undefined : driver,
    chroot: facts.chroot(),
    busybox: staticBusybox(real, facts),
    setprivSeccomp,
    seccompBpf,
    exists: (p) => facts.exists(p),
    isDir: (p) => facts.isDir(p),
    apparmor: facts.apparmor(),
  };
}

/** The box's env(1) is the host's busybox: it must be static, as it runs in the box's root. */
function staticBusybox(real: boolean, facts: HostFacts): { path: string; size: number } {
  const found = facts.busybox();
  if (found && !found.dynamic) return { path: found.path, size: found.size };
  if (real) throw new EnvError(`boxlab run needs a static busybox (apt-get install busybox-static)${found ? `: ${found.path} is dynamically linked` : ''}`);
  return { path: found?.path ?? '/bin/busybox', size: 0 };
}

/**
 * The way into a box relies on the kernel marking a process non-dumpable when its real and
 * effective uids differ (enter.ts). With fs.suid_dumpable=1 it would not: refuse, and say so.
 */
export function requireNonDumpable(read = (p: string) => readFileSync(p, 'utf8')): void {
  let v = '';
  try {
    v = read('/proc/sys/fs/suid_dumpable').trim();
  } catch {
    return; // no such file: an old kernel that marks such processes non-dumpable anyway
  }
  if (v === '1') throw new EnvError('fs.suid_dumpable is 1 on this host: the box could open /proc/PID/root of the process entering it (the host\'s /); set it to 0 (sysctl fs.suid_dumpable=0) to run boxes');
}

/** Secure by default means failing closed: no filter, no box, unless asked for in so many words. */
export function requireSeccomp(spec: RunSpec, host: PlanHost): void {
  if (spec.seccomp !== 'unconfined' && !host.setprivSeccomp) {
    throw new EnvError(`seccomp: this host's setpriv (util-linux < 2.41) cannot apply a filter, so boxlab will not start a box without one; --seccomp unconfined runs it anyway (the Vagrant VM has util-linux 2.41)`);
  }
}

export type { HostFacts };
