// The OCI runtime spec's config.json: what `boxlab spec` prints for a run's settings, and what
// `boxlab run --bundle DIR` reads. Only the fields the lessons teach are supported; any other
// field is named on stderr, never dropped silently.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EnvError, UsageError } from '../errors.js';
import { CAPABILITIES } from '../kernel/capabilities.js';
import type { RunFlags } from './flags.js';
import { DEFAULT_CAPS, DEFAULT_PATH, NEVER_CAPS, type IdMap, type RunSpec } from './spec.js';
import { checkProfileName } from './apparmor.js';
import { checkArgs, checkBoxMountPoint, checkCount, checkCwd, checkEnv, checkHostname, checkId, checkPath } from './validate.js';

const BOX_NS = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'];
const capsUpper = (caps: string[]): string[] => caps.map((c) => c.toUpperCase());

/** config.json for a spec; root.path is "rootfs", as `runc spec` writes it. `apparmor`: the
 *  profile the box gets on this host (none where the kernel has no AppArmor). */
export function configFor(spec: RunSpec, apparmor?: string): Record<string, unknown> {
  const caps = capsUpper(spec.caps);
  const resources: Record<string, unknown> = {};
  if (spec.limits.memoryBytes !== undefined) resources.memory = { limit: spec.limits.memoryBytes, swap: spec.limits.memoryBytes };
  if (spec.limits.pids !== undefined) resources.pids = { limit: spec.limits.pids };
  if (spec.limits.cpuQuotaUs !== undefined) resources.cpu = { quota: spec.limits.cpuQuotaUs, period: spec.limits.cpuPeriodUs ?? 100_000 };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: spec.tty,
      user: { uid: spec.user.uid, gid: spec.user.gid },
      args: spec.args,
      env: spec.env,
      cwd: spec.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: spec.noNewPrivs,
      ...(apparmor ? { apparmorProfile: apparmor } : {}),
      ...(spec.rlimits?.length ? { rlimits: spec.rlimits.map((r) => ({ type: `RLIMIT_${r.name.toUpperCase()}`, soft: limitNumber(r.soft), hard: limitNumber(r.hard) })) } : {}),
      ...(spec.oomScoreAdj !== undefined ? { oomScoreAdj: spec.oomScoreAdj } : {}),
    },
    root: { path: 'rootfs', readonly: spec.readonlyRoot === true },
    hostname: spec.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      ...(spec.mqueue ? [{ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] }] : []),
      ...spec.volumes.map((v) => ({ destination: v.box, type: 'bind', source: v.host, options: ['rbind', v.readOnly ? 'ro' : 'rw'] })),
    ],
    linux: {
      namespaces: [...BOX_NS, ...(spec.userns ? ['user'] : [])].map((type) => ({ type })),
      ...(spec.userns ? { uidMappings: [mapping(spec.userns)], gidMappings: [mapping(spec.userns)] } : {}),
      maskedPaths: spec.maskedPaths,
      readonlyPaths: spec.readonlyPaths,
      resources,
      ...(spec.seccomp !== 'unconfined' ? { seccomp: spec.seccomp.profile } : {}),
      ...(spec.sysctl?.length ? { sysctl: Object.fromEntries(spec.sysctl) } : {}),
      ...(spec.rootfsPropagation ? { rootfsPropagation: spec.rootfsPropagation } : {}),
    },
  };
}

/** RLIM_INFINITY as JSON writes it (the nearest double; readers take anything from 2^63 as unlimited). */
const limitNumber = (v: string): number => (v === 'unlimited' ? 2 ** 64 - 1 : Number(v));

const mapping = (m: IdMap) => ({ containerID: 0, hostID: m.hostId, size: m.size });

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

/** Reads DIR/config.json into a spec; notes name every field boxlab does not apply. */
export function specFromBundle(dir: string, flags: RunFlags): { spec: RunSpec; notes: string[] } {
  const bundle = resolve(dir);
  const file = join(bundle, 'config.json');
  let c: Json;
  try {
    c = obj(JSON.parse(readFileSync(file, 'utf8')));
  } catch (e) {
    throw new EnvError(`--bundle ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no config.json there' : `config.json: ${(e as Error).message}`}`);
  }
  const notes: string[] = [];
  const unsupported = (where: string, keys: string[], known: string[]): void => {
    for (const k of keys) if (!known.includes(k)) notes.push(`config.json: ${where}${k} is not supported by boxlab; not applied`);
  };
  unsupported('', Object.keys(c), ['ociVersion', 'process', 'root', 'hostname', 'mounts', 'linux', 'annotations']);
  const p = obj(c.process);
  unsupported('process.', Object.keys(p), ['terminal', 'user', 'args', 'env', 'cwd', 'capabilities', 'noNewPrivileges', 'rlimits', 'oomScoreAdj', 'apparmorProfile']);
  const linux = obj(c.linux);
  unsupported('linux.', Object.keys(linux), ['namespaces', 'maskedPaths', 'readonlyPaths', 'seccomp', 'resources', 'cgroupsPath', 'uidMappings', 'gidMappings', 'sysctl', 'rootfsPropagation']);
  const res = obj(linux.resources);
  unsupported('linux.resources.', Object.keys(res), ['memory', 'pids', 'cpu', 'devices']);

  const root = obj(c.root);
  const rootfs = checkPath(resolve(bundle, String(root.path ?? 'rootfs')), 'config.json root.path');
  if (!existsSync(rootfs) || !statSync(rootfs).isDirectory()) throw new EnvError(`--bundle ${dir}: root.path ${rootfs} is not a directory`);

  const args = checkArgs(flags.command.length ? flags.command : p.args ?? [], 'config.json process.args');
  if (!args.length) throw new UsageError(`--bundle ${dir}: config.json has no process.args`);
  const user = obj(p.user);
  const caps = obj(p.capabilities);
  const capList = (v: unknown, set: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new UsageError(`config.json: process.capabilities.${set} must be a list of names`);
    return v as string[];
  };
  const bounding = (caps.bounding === undefined ? capsUpper(DEFAULT_CAPS) : capList(caps.bounding, 'bounding')).map((x) => x.toLowerCase());
  for (const x of bounding) if (!CAPABILITIES.includes(x)) throw new UsageError(`config.json: unknown capability ${x.toUpperCase()}`);
  for (const set of ['effective', 'permitted', 'inheritable', 'ambient']) {
    const list = capList(caps[set], set);
    if (set === 'inheritable' || set === 'ambient' ? list.length > 0 : list.some((x) => !bounding.includes(x.toLowerCase()))) {
      notes.push(`config.json: process.capabilities.${set} differs from what boxlab gives (root gets the bounding set; inheritable and ambient are empty)`);
    }
  }
  if (linux.namespaces !== undefined && !Array.isArray(linux.namespaces)) throw new UsageError('config.json: linux.namespaces must be a list');
  const nsTypes = ((linux.namespaces as Json[] | undefined) ?? []).map((n) => String(obj(n).type));
  for (const t of nsTypes) if (!BOX_NS.includes(t) && t !== 'user') notes.push(`config.json: a ${t} namespace is not supported; not made`);
  for (const t of BOX_NS) if (!nsTypes.includes(t)) notes.push(`config.json: no ${t} namespace asked for; boxlab makes one anyway`);
  const userns = nsTypes.includes('user') ? idMapOf(linux, dir) : undefined;
  if (!userns && (linux.uidMappings || linux.gidMappings)) notes.push('config.json: linux.uidMappings/gidMappings without a user namespace; not applied');
  if (res.devices) notes.push('config.json: linux.resources.devices is not applied: boxlab gives no CAP_MKNOD and a minimal /dev instead');
  for (const x of NEVER_CAPS) if (bounding.includes(x)) notes.push(`config.json: ${x.toUpperCase()} is not given: with no device cgroup, a node made in /dev would open the host's disk`);
  if (!linux.seccomp) notes.push('config.json: no linux.seccomp: the box runs with no seccomp filter');
  if (!rootfs.startsWith(bundle + '/')) notes.push(`config.json: root.path is ${rootfs}, outside the bundle`);
  for (const n of (linux.namespaces as unknown[] | undefined) ?? []) if (obj(n).path !== undefined) notes.push(`config.json: linux.namespaces[].path (joining an existing namespace) is not supported; a new ${String(obj(n).type)} namespace is made`);
  if (user.additionalGids !== undefined) notes.push('config.json: process.user.additionalGids is not applied');
  if (user.umask !== undefined) notes.push('config.json: process.user.umask is not applied');
  const volumes: RunSpec['volumes'] = [];
  const standard = ['/proc', '/dev', '/dev/pts', '/dev/shm', '/sys'];
  let mqueue = false;
  if (c.mounts !== undefined && !Array.isArray(c.mounts)) throw new UsageError('config.json: mounts must be a list');
  for (const m of ((c.mounts as unknown[] | undefined) ?? []).map(obj)) {
    const dest = checkBoxMountPoint(m.destination, 'config.json mounts[].destination');
    const opts = Array.isArray(m.options) ? m.options.map(String) : [];
    if (m.type === 'bind' || opts.includes('bind') || opts.includes('rbind')) {
      if (dest === '/') throw new UsageError('config.json: a bind mount over / is not supported');
      const host = checkPath(resolve(bundle, String(m.source)), 'config.json mounts[].source');
      if (!existsSync(host)) throw new EnvError(`config.json: bind mount source ${host} does not exist`);
      // A bundle's config is as powerful as the flags typed by hand: say what of the host goes in.
      notes.push(`config.json: the host's ${host} is mounted at ${dest}${opts.includes('ro') ? ' (read-only)' : ''}`);
      for (const o of opts.filter((x) => ['nosuid', 'nodev', 'noexec'].includes(x))) notes.push(`config.json: mount ${dest}: option ${o} is not applied`);
      volumes.push({ host, box: dest, readOnly: opts.includes('ro') });
    } else if (dest === '/dev/mqueue' && m.type === 'mqueue') mqueue = true;
    else if (!standard.includes(dest)) notes.push(`config.json: mount ${dest} (${String(m.type)}) is not supported; not mounted`);
  }
  const memory = obj(res.memory);
  const pids = obj(res.pids);
  const cpu = obj(res.cpu);
  const seccomp = linux.seccomp ? { profile: linux.seccomp, from: 'config.json linux.seccomp' } : ('unconfined' as const);
  const spec: RunSpec = {
    name: flags.name ?? `bundle-${Math.random().toString(16).slice(2, 8)}`,
    lowerdirs: [rootfs],
    source: rootfs,
    args,
    env: p.env === undefined ? [DEFAULT_PATH] : checkEnv(p.env, 'config.json process.env'),
    cwd: checkCwd(p.cwd ?? '/', 'config.json process.cwd'),
    user: { uid: checkId(user.uid ?? 0, 'config.json process.user.uid'), gid: checkId(user.gid ?? 0, 'config.json process.user.gid') },
    hostname: checkHostname(c.hostname ?? 'box', 'config.json hostname'),
    tty: Boolean(p.terminal) || flags.tty,
    interactive: flags.interactive,
    detach: flags.detach,
    volumes,
    network: 'none',
    limits: {
      memoryBytes: checkCount(memory.limit, 'config.json linux.resources.memory.limit'),
      pids: checkCount(pids.limit, 'config.json linux.resources.pids.limit'),
      cpuQuotaUs: checkCount(cpu.quota, 'config.json linux.resources.cpu.quota'),
      cpuPeriodUs: checkCount(cpu.period, 'config.json linux.resources.cpu.period'),
    },
    caps: CAPABILITIES.filter((x) => bounding.includes(x) && !NEVER_CAPS.includes(x)),
    noNewPrivs: Boolean(p.noNewPrivileges),
    seccomp,
    apparmor: apparmorOf(p.apparmorProfile),
    userns,
    maskedPaths: pathList(linux.maskedPaths, 'config.json linux.maskedPaths'),
    readonlyPaths: pathList(linux.readonlyPaths, 'config.json linux.readonlyPaths'),
    rlimits: rlimitsOf(p.rlimits),
    oomScoreAdj: p.oomScoreAdj === undefined ? undefined : oomScoreAdjOf(p.oomScoreAdj),
    readonlyRoot: root.readonly === true,
    mqueue,
    sysctl: sysctlOf(linux.sysctl),
    rootfsPropagation: propagationOf(linux.rootfsPropagation),
  };
  return { spec, notes };
}

/** process.apparmorProfile: a profile by name, as runc applies it; none asked, none applied. */
function apparmorOf(v: unknown): RunSpec['apparmor'] {
  if (v === undefined || v === '' || v === 'unconfined') return 'unconfined';
  if (typeof v !== 'string') throw new UsageError('config.json: process.apparmorProfile must be a string');
  return { profile: checkProfileName(v, 'config.json process.apparmorProfile'), from: 'config.json process.apparmorProfile' };
}

/** process.rlimits' types, as prlimit(1) names them (setrlimit(2)). */
const RLIMITS: Record<string, string> = {
  RLIMIT_AS: 'as', RLIMIT_CORE: 'core', RLIMIT_CPU: 'cpu', RLIMIT_DATA: 'data', RLIMIT_FSIZE: 'fsize', RLIMIT_LOCKS: 'locks',
  RLIMIT_MEMLOCK: 'memlock', RLIMIT_MSGQUEUE: 'msgqueue', RLIMIT_NICE: 'nice', RLIMIT_NOFILE: 'nofile', RLIMIT_NPROC: 'nproc',
  RLIMIT_RSS: 'rss', RLIMIT_RTPRIO: 'rtprio', RLIMIT_RTTIME: 'rttime', RLIMIT_SIGPENDING: 'sigpending', RLIMIT_STACK: 'stack',
};

/** A limit's value for prlimit: a whole number, or unlimited (RLIM_INFINITY, 2^64-1, which
 *  JSON numbers cannot hold exactly: anything from 2^63 up). */
function limitValue(v: unknown, where: string): string {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new UsageError(`${where} must be a whole number of 0 or more`);
  return v >= 2 ** 63 ? 'unlimited' : String(v);
}

function rlimitsOf(v: unknown): RunSpec['rlimits'] {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new UsageError('config.json: process.rlimits must be a list');
  return v.map((r: Json, i) => {
    const where = `config.json: process.rlimits[${i}]`;
    const name = RLIMITS[String(obj(r).type)];
    if (!name) throw new UsageError(`${where}.type ${JSON.stringify(String(obj(r).type).slice(0, 40))} is not a resource limit (RLIMIT_NOFILE ...)`);
    const soft = limitValue(r.soft, `${where}.soft`);
    const hard = limitValue(r.hard, `${where}.hard`);
    if (soft !== 'unlimited' && (hard === 'unlimited' ? false : Number(soft) > Number(hard))) throw new UsageError(`${where}: soft ${soft} is above hard ${hard}`);
    if (soft === 'unlimited' && hard !== 'unlimited') throw new UsageError(`${where}: soft unlimited is above hard ${hard}`);
    return { name, soft, hard };
  });
}

/** The sysctls a box may set: those of namespaces it has of its own (network, IPC), as runc
 *  allows them. Any other changes the host for everyone (kernel.core_pattern, say). */
const NAMESPACED_SYSCTL = /^(net\.[a-z0-9_-]+(\.[a-zA-Z0-9_-]+)+|kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)|fs\.mqueue\.[a-z_]+)$/;

function sysctlOf(v: unknown): RunSpec['sysctl'] {
  if (v === undefined) return undefined;
  const o = obj(v);
  if (o !== v) throw new UsageError('config.json: linux.sysctl must be an object of names and values');
  return Object.entries(o).map(([key, value]) => {
    if (!NAMESPACED_SYSCTL.test(key)) throw new UsageError(`config.json: linux.sysctl ${JSON.stringify(key.slice(0, 60))} is not a sysctl of the box's own network or IPC namespace: refused (it would change the host)`);
    if (typeof value !== 'string' || value.length > 1024 || /[\x00-\x1f\x7f]/.test(value)) throw new UsageError(`config.json: linux.sysctl ${key}: its value must be one line of text`);
    return [key, value];
  });
}

const PROPAGATIONS = ['shared', 'slave', 'private', 'unbindable'].flatMap((p) => [p, `r${p}`]);
function propagationOf(v: unknown): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || !PROPAGATIONS.includes(v)) throw new UsageError(`config.json: linux.rootfsPropagation must be one of ${PROPAGATIONS.join(', ')}`);
  return v;
}

function oomScoreAdjOf(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1000 || v > 1000) throw new UsageError('config.json: process.oomScoreAdj must be a whole number from -1000 to 1000');
  return v;
}

function pathList(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new UsageError(`${where} must be a list of paths`);
  return v.map((p) => checkPath(p, where));
}

/** The one range boxlab maps: container 0.. to the same host ids for uids and gids. */
function idMapOf(linux: Json, dir: string): IdMap {
  const one = (key: string): Json | undefined => {
    const list = linux[key];
    return Array.isArray(list) && list.length === 1 ? obj(list[0]) : undefined;
  };
  const u = one('uidMappings');
  const g = one('gidMappings');
  const ok = u && g && u.containerID === 0 && g.containerID === 0 && u.hostID === g.hostID && u.size === g.size && Number.isInteger(u.hostID) && Number(u.hostID) > 0 && Number.isInteger(u.size) && Number(u.size) > 1;
  if (!ok) throw new UsageError(`--bundle ${dir}: a user namespace needs one uidMappings and one gidMappings entry, both {containerID: 0, hostID: H > 0, size: N > 1} with the same H and N (the way in needs a second id mapped)`);
  return { hostId: Number(u.hostID), size: Number(u.size) };
}


/** A container's spec with an exec's process object (runtime `exec --process FILE`) in place of
 *  its command, environment, directory and user; capabilities within the container's own. */
export function execSpec(base: RunSpec, p: Json): RunSpec {
  const args = checkArgs(p.args ?? [], 'process.args');
  if (!args.length) throw new UsageError('the exec process has no args');
  const user = obj(p.user);
  const caps = obj(p.capabilities);
  const asked = Array.isArray(caps.bounding) ? (caps.bounding as unknown[]).map((x) => String(x).toLowerCase()) : undefined;
  return {
    ...base,
    args,
    env: p.env === undefined ? base.env : checkEnv(p.env, 'process.env'),
    cwd: checkCwd(p.cwd ?? base.cwd, 'process.cwd'),
    user: p.user === undefined ? base.user : { uid: checkId(user.uid ?? 0, 'process.user.uid'), gid: checkId(user.gid ?? 0, 'process.user.gid') },
    // Never more than the box was given.
    caps: asked ? base.caps.filter((x) => asked.includes(x)) : base.caps,
    noNewPrivs: base.noNewPrivs || Boolean(p.noNewPrivileges),
    apparmor: execProfile(base, p.apparmorProfile),
  };
}

/** An exec runs under the container's profile: asking for another (or for none) is refused. */
function execProfile(base: RunSpec, v: unknown): RunSpec['apparmor'] {
  const own = base.apparmor ?? 'unconfined';
  if (v === undefined || v === '') return own;
  const asked = apparmorOf(v);
  const name = (a: RunSpec['apparmor']): string => (a === 'unconfined' ? 'unconfined' : a.profile);
  if (name(asked) !== name(own)) throw new UsageError(`process.apparmorProfile ${name(asked)}: an exec runs under its container's profile (${name(own)})`);
  return own;
}
