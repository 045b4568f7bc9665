// What the box behind --shell isolates and what it does not, in two lines, derived from the
// shell's own command (which namespaces nsenter enters, the root it takes, the capabilities
// capsh or setpriv leave, the cgroups it joins) and from the kernel: a namespace counts as
// isolated only where the target's namespace differs from the host's.
import { readlinkSync } from 'node:fs';
import { render, shellWords, type Cmd } from '../shell/cmd.js';

const NS: [flag: string, short: string, file: string, name: string][] = [
  ['mount', 'm', 'mnt', 'mount'],
  ['uts', 'u', 'uts', 'UTS'],
  ['ipc', 'i', 'ipc', 'IPC'],
  ['net', 'n', 'net', 'network'],
  ['pid', 'p', 'pid', 'PID'],
  ['cgroup', 'C', 'cgroup', 'cgroup'],
  ['user', 'U', 'user', 'user'],
  ['time', 'T', 'time', 'time'],
];

const unquote = (w: string): string => w.replace(/^["']|["']$/g, '');

export interface BoxSummary {
  isolates: string;
  shares: string;
}

/** `link(path)` reads a namespace link ('' when it cannot); the default reads the kernel's. */
export function summariseBox(shell: Cmd, link: (path: string) => string = readLink): BoxSummary {
  const words = shellWords(render(shell)).map(unquote);
  let target: string | undefined;
  const entered = new Set<string>();
  let root = false;
  let drop: string[] = [];
  let keep: string[] | undefined;
  let uid: string | undefined;
  let seccomp = false;
  let nnp = false;
  const cgroups = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--target' || w === '-t') target = words[i + 1];
    const long = /^--(mount|uts|ipc|net|pid|cgroup|user|time)(?:=\/proc\/(\d+)\/ns\/\w+)?$/.exec(w);
    if (long && words.slice(0, i).includes('nsenter')) {
      entered.add(long[1]!);
      if (long[2]) target ??= long[2];
    }
    if ((w === '--all' || w === '-a') && words.slice(0, i).includes('nsenter')) for (const [f] of NS) entered.add(f);
    if (w === 'chroot' || w.startsWith('--chroot=') || w === '--root' || w === '--root=/' || w.startsWith('--userspec')) root = true;
    if (w.startsWith('--drop=')) drop = w.slice(7).split(',').filter(Boolean);
    if (w.startsWith('--bounding-set=')) keep = w.slice(15).split(',').filter((c) => c.startsWith('+')).map((c) => c.slice(1));
    if (w.startsWith('--uid=') || w.startsWith('--reuid=')) uid = w.split('=')[1];
    if (w.startsWith('--seccomp-filter')) seccomp = true;
    if (w === '--no-new-privs') nnp = true;
    if (w.endsWith('/cgroup.procs')) cgroups.add(w.replace(/\/cgroup\.procs$/, '').replace(/^.*?\/(boxlab-)/, '$1'));
  }
  const iso: string[] = [];
  const shared: string[] = [];
  const own: string[] = [];
  const theirs: string[] = [];
  for (const [flag, , file, name] of NS) {
    const host = link(`/proc/self/ns/${file}`);
    if (host === '') continue; // this kernel has no such namespace
    const mine = target !== undefined && entered.has(flag) ? link(`/proc/${target}/ns/${file}`) : host;
    (mine !== '' && mine !== host ? own : theirs).push(name);
  }
  if (own.length) iso.push(`${own.join(', ')} namespace${own.length > 1 ? 's' : ''}`);
  if (theirs.length) shared.push(`the host's ${theirs.join(', ')} namespace${theirs.length > 1 ? 's' : ''}`);
  if (root) iso.push('its own root directory');
  if (theirs.includes('user')) shared.push(uid && uid !== '0' ? `uid ${uid} is the host's uid ${uid}` : "root here is root on the host (the host's user namespace)");
  if (keep) iso.push(`a bounding set of ${keep.length} capabilities`);
  else if (drop.length) iso.push(`${drop.length} capabilit${drop.length === 1 ? 'y' : 'ies'} dropped`);
  else if (!uid || uid === '0') shared.push('every capability root has');
  if (nnp) iso.push('no_new_privs');
  if (seccomp) iso.push('a seccomp filter');
  else shared.push('no seccomp filter');
  if (cgroups.size) iso.push(`the limits of cgroup ${[...cgroups].join(', ')}`);
  else shared.push('no cgroup limits');
  return {
    isolates: iso.length ? iso.join('; ') : 'nothing: it is a plain process on the host',
    shares: shared.length ? shared.join('; ') : 'nothing this lesson knows of',
  };
}

function readLink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}
