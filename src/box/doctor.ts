// `boxlab doctor`: is this host fit for the lessons? One line per fact, read from the kernel
// or from the tools themselves, with what to do when it is not.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { arch, release } from 'node:os';
import type { Runner } from '../shell/spawn.js';
import { cmd } from '../shell/cmd.js';
import { cgroupLayout, describeLayout } from '../kernel/cgroup-layout.js';
import { setprivHasSeccompFilter } from '../kernel/setpriv.js';
import { findBusybox, isDynamicElf } from '../../rootfs-fetch/busybox.js';

export type Level = 'ok' | 'warn' | 'fail';
export interface Finding {
  name: string;
  level: Level;
  detail: string;
  fix?: string;
}

const read = (p: string): string => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

export const NAMESPACE_FILES = ['mnt', 'pid', 'uts', 'ipc', 'net', 'user', 'cgroup', 'time'];
/** Marker written by the provisioning of a throwaway VM: no need to ask before changing it. */
export const DISPOSABLE_MARKER = '/etc/boxlab/disposable';

export function kernelAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split(/[.-]/).map(Number);
  return a > major || (a === major && b >= minor);
}

export function virtualization(): { vm: boolean; container: boolean; disposable: boolean; what: string } {
  const disposable = existsSync(DISPOSABLE_MARKER);
  // The kernel gives the initial PID and user namespaces fixed inode numbers
  // (PROC_PID_INIT_INO, PROC_USER_INIT_INO): anything else means we run inside a container.
  const ns = (n: string): string => {
    try {
      return readlinkSync(`/proc/self/ns/${n}`);
    } catch {
      return '';
    }
  };
  const container = ns('pid') !== 'pid:[4026531836]' || ns('user') !== 'user:[4026531837]';
  const vm = /^flags\s*:.*\bhypervisor\b/m.test(read('/proc/cpuinfo'));
  const product = read('/sys/class/dmi/id/product_name').trim();
  const what = [vm ? `VM${product ? ` (${product})` : ' (hypervisor flag)'}` : 'bare metal or undetected', container ? 'inside a container (not the initial PID/user namespace)' : '', disposable ? 'marked disposable' : '']
    .filter(Boolean)
    .join(', ');
  return { vm, container, disposable, what };
}

const TOOLS: { name: string; pkg: string; version: string[]; must?: { match: RegExp; why: string } }[] = [
  { name: 'unshare', pkg: 'util-linux', version: ['--version'] },
  { name: 'nsenter', pkg: 'util-linux', version: ['--version'] },
  { name: 'mount', pkg: 'mount', version: ['--version'] },
  { name: 'pivot_root', pkg: 'util-linux', version: ['--version'] },
  { name: 'setpriv', pkg: 'util-linux', version: ['--version'] },
  { name: 'chroot', pkg: 'coreutils', version: ['--version'] },
  { name: 'capsh', pkg: 'libcap2-bin', version: ['--help'] },
  { name: 'ip', pkg: 'iproute2', version: ['-V'] },
  // Cleanup ends boxes with kill(1): minbase Debian has only bash's builtin.
  { name: 'kill', pkg: 'procps', version: ['--version'] },
  // Unpacking an image layer (rootfs-fetch/unpack.ts): one tar -x makes its device nodes and
  // whiteouts, setfattr marks its opaque directories (trusted.overlay.opaque).
  { name: 'tar', pkg: 'tar', version: ['--version'], must: { match: /\bGNU tar\b/, why: 'not GNU tar: image layers with device nodes or whiteouts are unpacked with GNU tar' } },
  { name: 'setfattr', pkg: 'attr', version: ['--version'] },
];

export async function doctor(runner: Runner): Promise<Finding[]> {
  const f: Finding[] = [];
  const uid = process.geteuid?.() ?? -1;
  f.push(uid === 0 ? { name: 'root', level: 'ok', detail: 'running as root' } : { name: 'root', level: 'fail', detail: `euid ${uid}`, fix: 'lessons change the kernel state: run them as root (sudo)' });

  const rel = release();
  f.push(
    kernelAtLeast(rel, 5, 6)
      ? { name: 'kernel', level: 'ok', detail: rel }
      : { name: 'kernel', level: kernelAtLeast(rel, 4, 6) ? 'warn' : 'fail', detail: `${rel}: older than 5.6, no time namespace`, fix: 'use the Vagrant VM (Debian 13, kernel 6.12)' },
  );
  const a = arch();
  f.push({ name: 'architecture', level: a === 'x64' || a === 'arm64' ? 'ok' : 'warn', detail: a === 'x64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : a });

  let ns: string[] = [];
  try {
    ns = readdirSync('/proc/self/ns');
  } catch {
    // no /proc: reported below as every namespace missing
  }
  const missing = NAMESPACE_FILES.filter((n) => !ns.includes(n));
  f.push(
    missing.length === 0
      ? { name: 'namespaces', level: 'ok', detail: NAMESPACE_FILES.join(' ') }
      : { name: 'namespaces', level: missing.every((n) => n === 'time') ? 'warn' : 'fail', detail: `missing: ${missing.join(' ')}`, fix: 'a kernel with CONFIG_*_NS: use the Vagrant VM' },
  );
  const maxUserNs = Number(read('/proc/sys/user/max_user_namespaces').trim() || '0');
  f.push(maxUserNs > 0 ? { name: 'user namespaces', level: 'ok', detail: `max_user_namespaces ${maxUserNs}` } : { name: 'user namespaces', level: 'warn', detail: 'disabled', fix: 'sysctl user.max_user_namespaces=15000' });

  const layout = cgroupLayout();
  f.push({ name: 'cgroups', level: layout.kind === 'none' ? 'fail' : 'ok', detail: describeLayout(layout), fix: layout.kind === 'none' ? 'mount cgroup2 at /sys/fs/cgroup' : undefined });

  const filesystems = read('/proc/filesystems');
  f.push(/\boverlay\b/.test(filesystems) ? { name: 'overlayfs', level: 'ok', detail: 'in /proc/filesystems' } : { name: 'overlayfs', level: 'warn', detail: 'not loaded', fix: 'modprobe overlay' });

  // veth and bridge are tried for real, inside a network namespace that vanishes at once.
  const [veth, bridge] = uid !== 0 ? [undefined, undefined] : await Promise.all([
    runner.run(cmd('unshare', '--net', 'ip', 'link', 'add', 'boxlab-probe0', 'type', 'veth', 'peer', 'name', 'boxlab-probe1')),
    runner.run(cmd('unshare', '--net', 'ip', 'link', 'add', 'boxlab-probe0', 'type', 'bridge')),
  ]);
  for (const [name, r] of [['veth', veth], ['bridge', bridge]] as const) {
    if (uid !== 0) {
      f.push({ name, level: 'warn', detail: 'not tested: creating one needs root' });
      continue;
    }
    if (!r) continue;
    f.push(r.code === 0 ? { name, level: 'ok', detail: 'created in a throwaway network namespace' } : { name, level: 'warn', detail: r.stderr.trim().split('\n')[0] || `exit ${r.code}`, fix: `modprobe ${name} (needs root)` });
  }

  const versions = await Promise.all(TOOLS.map((t) => runner.run(cmd(t.name, ...t.version))));
  TOOLS.forEach((t, i) => {
    const r = versions[i]!;
    if (r.code === 127) return f.push({ name: t.name, level: 'fail', detail: 'not found', fix: `apt-get install ${t.pkg}` });
    const line = (r.stdout || r.stderr).split('\n')[0]!.trim();
    if (t.must && !t.must.match.test(line)) return f.push({ name: t.name, level: 'warn', detail: `${line || `exit ${r.code}`}: ${t.must.why}`, fix: `apt-get install ${t.pkg}` });
    f.push({ name: t.name, level: 'ok', detail: t.name === 'capsh' ? `found (${t.pkg})` : line });
  });
  if (TOOLS.some((t, i) => t.name === 'setpriv' && versions[i]!.code !== 127)) {
    f.push(
      setprivHasSeccompFilter()
        ? { name: 'setpriv seccomp', level: 'ok', detail: 'setpriv --seccomp-filter is available' }
        : { name: 'setpriv seccomp', level: 'warn', detail: 'setpriv has no --seccomp-filter (needs util-linux >= 2.41)', fix: 'lesson 8 shows the filter on a host process instead; the Vagrant VM has it' },
    );
  }
  const unshareHelp = await runner.run(cmd('unshare', '--help'));
  f.push(/--time\b/.test(unshareHelp.stdout) ? { name: 'unshare --time', level: 'ok', detail: 'time namespaces supported by unshare' } : { name: 'unshare --time', level: 'warn', detail: 'unshare has no --time', fix: 'util-linux >= 2.36' });

  const busybox = findBusybox();
  if (!busybox) f.push({ name: 'busybox', level: 'fail', detail: 'not found', fix: 'apt-get install busybox-static' });
  else if (isDynamicElf(busybox)) f.push({ name: 'busybox', level: 'fail', detail: `${busybox} is dynamically linked`, fix: 'apt-get install busybox-static' });
  else f.push({ name: 'busybox', level: 'ok', detail: `${busybox} (static)` });

  const v = virtualization();
  f.push({ name: 'machine', level: v.container ? 'warn' : 'ok', detail: v.what, fix: v.container ? 'some lessons need a real kernel of their own: prefer a VM' : undefined });
  const dumpable = read('/proc/sys/fs/suid_dumpable').trim();
  f.push(dumpable === '1' ? { name: 'suid_dumpable', level: 'fail', detail: 'fs.suid_dumpable is 1: boxlab run refuses to start boxes', fix: 'sysctl fs.suid_dumpable=0' } : { name: 'suid_dumpable', level: 'ok', detail: `fs.suid_dumpable ${dumpable || 'not found'}: processes entering a box are not dumpable` });
  f.push(lsmFinding(read));
  return f;
}

/**
 * The LSM stack (securityfs' lsm file, Linux 4.15+) and whether AppArmor confines anything:
 * its module parameter, and how many of its loaded profiles enforce. Lesson 15 needs it on,
 * and where it is on, boxlab run needs securityfs and apparmor_parser to load boxlab-default.
 */
export function lsmFinding(read: (path: string) => string, hasParser: () => boolean = () => ['/usr/sbin/apparmor_parser', '/sbin/apparmor_parser'].some((p) => existsSync(p))): Finding {
  const stack = read('/sys/kernel/security/lsm').trim();
  const enabled = read('/sys/module/apparmor/parameters/enabled').trim() === 'Y';
  if (!stack) {
    const mounted = read('/proc/self/mounts').includes(' securityfs ');
    if (!mounted && enabled) return { name: 'LSM', level: 'warn', detail: 'AppArmor is enabled but securityfs is not mounted: boxlab run cannot load boxlab-default, and refuses to start boxes', fix: 'mount -t securityfs securityfs /sys/kernel/security' };
    return { name: 'LSM', level: 'ok', detail: mounted ? 'no LSM list in securityfs (a kernel older than 4.15)' : 'securityfs is not mounted: the LSM stack cannot be read', fix: mounted ? undefined : 'mount -t securityfs securityfs /sys/kernel/security' };
  }
  const lsms = stack.split(',');
  if (!lsms.includes('apparmor')) return { name: 'LSM', level: 'ok', detail: `${lsms.join(', ')}; no AppArmor${lsms.includes('selinux') ? ' (SELinux is on: it may deny some lesson steps)' : ''}` };
  const enforcing = read('/sys/kernel/security/apparmor/profiles').split('\n').filter((l) => l.endsWith('(enforce)')).length;
  const detail = `${lsms.join(', ')}; AppArmor ${enabled ? `enabled, ${enforcing} profile${enforcing === 1 ? '' : 's'} enforcing` : 'built in but disabled (apparmor=0 on the kernel command line?)'}`;
  if (enabled && !hasParser()) return { name: 'LSM', level: 'warn', detail: `${detail}; no apparmor_parser: boxlab run cannot load boxlab-default, and refuses to start boxes`, fix: 'apt-get install apparmor' };
  return { name: 'LSM', level: 'ok', detail };
}
