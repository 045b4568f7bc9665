// `boxlab run`'s command line, Docker style: flags, then IMAGE (unless --rootfs or --bundle),
// then the command. Everything after the image (or after --) belongs to the command.
import { UsageError } from '../errors.js';
import { CAPABILITIES } from '../kernel/capabilities.js';

export interface RunFlags {
  interactive: boolean;
  tty: boolean;
  detach: boolean;
  name?: string;
  hostname?: string;
  env: string[];
  workdir?: string;
  user?: { uid: number; gid: number };
  volumes: { host: string; box: string; readOnly: boolean }[];
  network: 'none' | 'bridge';
  memoryBytes?: number;
  pids?: number;
  cpus?: number;
  capAdd: string[];
  capDrop: string[];
  seccomp?: string;
  /** --security-opt apparmor=PROFILE|unconfined (lesson 15); unset: boxlab-default where the
   *  kernel has AppArmor. */
  apparmor?: string;
  userns: boolean;
  explain: boolean;
  script: boolean;
  rootfs?: string;
  bundle?: string;
  image?: string;
  command: string[];
}

// --rm is accepted for Docker's habit and changes nothing: a box always goes with its command.
const NO_OP = new Set(['--rm']);
const BOOL: Record<string, keyof RunFlags> = {
  '-i': 'interactive', '--interactive': 'interactive', '-t': 'tty', '--tty': 'tty', '-d': 'detach', '--detach': 'detach',
  '--userns': 'userns', '--explain': 'explain', '--script': 'script',
};
const VALUED = new Set(['--name', '--hostname', '-e', '--env', '-w', '--workdir', '-u', '--user', '-v', '--volume', '--network', '--memory', '--pids', '--cpus', '--cap-add', '--cap-drop', '--seccomp', '--security-opt', '--rootfs', '--bundle']);

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

export function parseRunFlags(argv: string[]): RunFlags {
  const f: RunFlags = { interactive: false, tty: false, detach: false, env: [], volumes: [], network: 'none', capAdd: [], capDrop: [], userns: false, explain: false, script: false, command: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    let a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    // -it, -ti, -itd: bundled short booleans.
    if (/^-[itd]{2,3}$/.test(a)) {
      for (const ch of a.slice(1)) (f as unknown as Record<string, boolean>)[BOOL[`-${ch}`]!] = true;
      continue;
    }
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) [a, value] = [a.slice(0, eq), a.slice(eq + 1)];
    if (NO_OP.has(a) && value === undefined) continue;
    const bool = BOOL[a];
    if (bool) {
      if (value !== undefined) throw new UsageError(`${a} takes no value`);
      (f as unknown as Record<string, boolean>)[bool] = true;
      continue;
    }
    if (!VALUED.has(a)) throw new UsageError(`unknown flag ${a} (boxlab run --help lists them)`);
    value ??= argv[++i];
    if (value === undefined) throw new UsageError(`${a} needs a value`);
    set(f, a, value);
  }
  if (!f.rootfs && !f.bundle && i < argv.length) f.image = argv[i++];
  // IMAGE -- CMD: the usage allows a -- after the image too.
  if (f.image && argv[i] === '--') i++;
  f.command = argv.slice(i);
  const sources = [f.image, f.rootfs, f.bundle].filter(Boolean).length;
  if (sources === 0) throw new UsageError('what to run? boxlab run IMAGE [CMD...] | --rootfs DIR CMD... | --bundle DIR');
  if (f.rootfs && f.bundle) throw new UsageError('--rootfs and --bundle do not combine');
  if (f.rootfs && f.command.length === 0) throw new UsageError('--rootfs needs a command: boxlab run --rootfs DIR -- /bin/sh');
  if (f.explain && f.script) throw new UsageError('--explain and --script do not combine');
  if (f.detach && (f.tty || f.interactive)) throw new UsageError('-d runs in the background: it does not combine with -i or -t');
  return f;
}

function set(f: RunFlags, flag: string, v: string): void {
  switch (flag) {
    case '--name':
      if (!NAME.test(v)) throw new UsageError(`--name ${v}: letters, digits, _ . - (up to 63)`);
      f.name = v;
      return;
    case '--hostname':
      if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(v)) throw new UsageError(`--hostname ${v} is not a hostname`);
      f.hostname = v;
      return;
    case '-e':
    case '--env':
      // -e NAME takes the value from boxlab's own environment, as Docker does: a secret then
      // shows in no process's command line.
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) {
        if (process.env[v] !== undefined) f.env.push(`${v}=${process.env[v]}`);
        return;
      }
      if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) throw new UsageError(`-e ${v}: give NAME=VALUE, or NAME to pass on boxlab's own`);
      f.env.push(v);
      return;
    case '-w':
    case '--workdir':
      if (!v.startsWith('/') || v.split('/').includes('..')) throw new UsageError(`-w ${v}: an absolute path without '..'`);
      f.workdir = v;
      return;
    case '-u':
    case '--user': {
      const m = /^(\d+)(?::(\d+))?$/.exec(v);
      if (!m || Number(m[1]) >= 2 ** 32 - 1 || Number(m[2] ?? 0) >= 2 ** 32 - 1) throw new UsageError(`--user ${v}: give UID or UID:GID (numbers below 4294967295)`);
      f.user = { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
      return;
    }
    case '-v':
    case '--volume': {
      const parts = v.split(':');
      const [host, box, mode] = parts;
      if (parts.length < 2 || parts.length > 3 || !host?.startsWith('/') || !box?.startsWith('/') || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
        throw new UsageError(`-v ${v}: give /HOST/PATH:/BOX/PATH[:ro]`);
      }
      if (box.split('/').includes('..') || box === '/') throw new UsageError(`-v ${v}: the box path must be below / and without '..'`);
      f.volumes.push({ host, box, readOnly: mode === 'ro' });
      return;
    }
    case '--network':
      if (v !== 'none' && v !== 'bridge') throw new UsageError(`--network ${v}: none or bridge`);
      f.network = v;
      return;
    case '--memory':
      f.memoryBytes = bytes(v);
      return;
    case '--pids':
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--pids ${v}: a whole number, at least 1`);
      f.pids = Number(v);
      return;
    case '--cpus':
      if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0 || Number(v) > 1024) throw new UsageError(`--cpus ${v}: a number of CPUs, e.g. 0.5`);
      f.cpus = Number(v);
      return;
    case '--cap-add':
    case '--cap-drop':
      (flag === '--cap-add' ? f.capAdd : f.capDrop).push(capName(flag, v));
      return;
    case '--seccomp':
      f.seccomp = v;
      return;
    case '--security-opt':
      securityOpt(f, v);
      return;
    case '--rootfs':
      f.rootfs = v;
      return;
    case '--bundle':
      f.bundle = v;
      return;
  }
}

/** Docker's spelling of the LSM and seccomp choices: apparmor=PROFILE|unconfined,
 *  seccomp=PROFILE.json|unconfined, no-new-privileges (always on here). */
function securityOpt(f: RunFlags, v: string): void {
  const eq = v.search(/[=:]/);
  const [key, value] = eq < 0 ? [v, ''] : [v.slice(0, eq), v.slice(eq + 1)];
  if (key === 'apparmor' && value) {
    f.apparmor = value;
    return;
  }
  if (key === 'seccomp' && value) {
    f.seccomp = value;
    return;
  }
  if (key === 'no-new-privileges' && (value === '' || value === 'true')) return;
  if (key === 'label') throw new UsageError(`--security-opt ${v}: SELinux labels need an SELinux host; boxlab applies AppArmor only (lesson 15 explains both)`);
  throw new UsageError(`--security-opt ${v}: give apparmor=PROFILE|unconfined, seccomp=PROFILE.json|unconfined or no-new-privileges`);
}

export const EXEC_USAGE = 'usage: boxlab exec [-i] [-t] NAME CMD...   (-it as docker exec: the command always reads your stdin)';

/** `boxlab exec [-i|-t|-it|--interactive|--tty] NAME CMD...`: Docker's flags before the name
 *  are taken as Docker takes them, so `exec -it NAME sh` enters box NAME. */
export function parseExecArgs(argv: string[]): { name: string; args: string[]; interactive: boolean; tty: boolean } {
  const f = { interactive: false, tty: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const flags = /^-[it]{1,2}$/.test(a) ? [...a.slice(1)].map((c) => `-${c}`) : [a];
    for (const flag of flags) {
      if (flag === '-i' || flag === '--interactive') f.interactive = true;
      else if (flag === '-t' || flag === '--tty') f.tty = true;
      else throw new UsageError(`boxlab exec takes -i and -t before the box's name, not ${a}\n${EXEC_USAGE}`);
    }
  }
  const [name, ...args] = argv.slice(i);
  if (!name || args.length === 0) throw new UsageError(EXEC_USAGE);
  return { name, args, ...f };
}

/** Does this command line name what to run (an image before any --, or --rootfs/--bundle)? */
export function namesSource(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return false;
    if (!a.startsWith('-') || a === '-') return true;
    const name = a.startsWith('--') && a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (name === '--rootfs' || name === '--bundle') return true;
    if (VALUED.has(name) && !a.includes('=')) i++;
  }
  return false;
}

/** 64m, 1g, 512k, 1048576: bytes. */
export function bytes(v: string): number {
  const m = /^(\d+)([kmg]?)b?$/i.exec(v);
  if (!m) throw new UsageError(`--memory ${v}: e.g. 64m, 1g`);
  const n = Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
  if (n < 6 * 1024 * 1024) throw new UsageError(`--memory ${v}: at least 6m (as Docker)`);
  return n;
}

/** NET_ADMIN, net_admin, CAP_NET_ADMIN -> cap_net_admin; ALL stays ALL. */
export function capName(flag: string, v: string): string {
  if (v.toUpperCase() === 'ALL') return 'ALL';
  const name = `cap_${v.toLowerCase().replace(/^cap_/, '')}`;
  if (!CAPABILITIES.includes(name)) throw new UsageError(`${flag} ${v}: no such capability (capabilities(7))`);
  return name;
}
