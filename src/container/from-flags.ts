// Flags plus, for an image, its config (Env, Entrypoint/Cmd, WorkingDir, User) -> a RunSpec.
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EnvError, UsageError } from '../errors.js';
import { CAPABILITIES } from '../kernel/capabilities.js';
import type { Image, imageProcess } from '../../rootfs-fetch/images.js';
import type { RunFlags } from './flags.js';
import { checkArgs, checkBoxMountPoint, checkCwd, checkEnv, checkId, checkPath } from './validate.js';
import { shown } from '../../rootfs-fetch/untrusted.js';
import { BOXLAB_DEFAULT, checkProfileName } from './apparmor.js';
import { NEVER_CAPS, DEFAULT_CAPS, DEFAULT_PATH, MASKED_PATHS, READONLY_PATHS, USERNS_DEFAULT, type RunSpec } from './spec.js';

/** image: the cached image named by the flags (loaded by the caller, only when there is one). */
export function specFromFlags(f: RunFlags, image: { img: Image; process: ReturnType<typeof imageProcess> } | undefined, loadProfile: (path: string) => { profile: unknown; from: string }): RunSpec {
  let lowerdirs: string[];
  let source: string;
  let args = f.command;
  let env = [DEFAULT_PATH];
  let cwd = '/';
  let user = { uid: 0, gid: 0 };
  if (image) {
    const { img, process: p } = image;
    const entrypoint = img.config.config?.Entrypoint ?? [];
    // As Docker: a command given replaces Cmd, and is appended to the Entrypoint.
    // The image's config is data from outside: every field checked before use.
    args = checkArgs(f.command.length ? [...entrypoint, ...f.command] : p.args, `${img.name}: config Entrypoint/Cmd`);
    env = p.env.length ? checkEnv(p.env, `${img.name}: config Env`) : env;
    cwd = checkCwd(p.cwd, `${img.name}: config WorkingDir`);
    if (p.user) user = numericUser(p.user, img.name);
    lowerdirs = img.layers.map((l) => l.dir).reverse();
    source = img.name;
  } else {
    const dir = checkPath(resolve(f.rootfs!), '--rootfs');
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new EnvError(`--rootfs ${f.rootfs}: no such directory`);
    lowerdirs = [dir];
    source = dir;
  }
  for (const e of f.env) {
    const key = e.slice(0, e.indexOf('=') + 1);
    env = [...env.filter((x) => !x.startsWith(key)), e];
  }
  const id = randomBytes(3).toString('hex');
  return {
    name: f.name ?? `${basename(source).replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 40)}-${id}`,
    lowerdirs,
    source,
    args: checkArgs(args, 'the command'),
    env,
    cwd: f.workdir ?? cwd,
    user: f.user ?? user,
    hostname: f.hostname ?? (f.name ?? `box-${id}`).slice(0, 63),
    tty: f.tty,
    interactive: f.interactive,
    detach: f.detach,
    volumes: f.volumes.map((v) => {
      checkPath(v.host, '-v');
      checkBoxMountPoint(v.box, '-v');
      if (!existsSync(v.host)) throw new EnvError(`-v ${v.host}: no such file or directory on the host`);
      return v;
    }),
    network: f.network,
    limits: { memoryBytes: f.memoryBytes, pids: f.pids, ...(f.cpus ? { cpuQuotaUs: Math.round(f.cpus * 100_000), cpuPeriodUs: 100_000 } : {}) },
    caps: capabilities(f.capAdd, f.capDrop),
    noNewPrivs: true,
    seccomp: f.seccomp === 'unconfined' ? 'unconfined' : loadProfile(f.seccomp ?? ''),
    apparmor: apparmorChoice(f.apparmor),
    userns: f.userns ? USERNS_DEFAULT : undefined,
    maskedPaths: MASKED_PATHS,
    readonlyPaths: READONLY_PATHS,
  };
}

/** --security-opt apparmor=...: a profile by name, unconfined, or (unset) boxlab-default. */
export function apparmorChoice(v: string | undefined): RunSpec['apparmor'] {
  if (v === undefined) return { profile: BOXLAB_DEFAULT, from: 'default' };
  if (v === 'unconfined') return 'unconfined';
  return { profile: checkProfileName(v, '--security-opt apparmor'), from: '--security-opt' };
}

/** Docker's defaults, then --cap-add, then --cap-drop (ALL works in both). */
export function capabilities(add: string[], drop: string[]): string[] {
  for (const c of add) if (NEVER_CAPS.includes(c)) throw new UsageError(`--cap-add ${c.slice(4).toUpperCase()}: boxlab never gives it (with no device cgroup, a node made in /dev would open the host's disk)`);
  let caps = new Set(DEFAULT_CAPS);
  if (add.includes('ALL')) caps = new Set(CAPABILITIES);
  for (const c of add) if (c !== 'ALL') caps.add(c);
  if (drop.includes('ALL')) caps.clear();
  for (const c of drop) caps.delete(c);
  return CAPABILITIES.filter((c) => caps.has(c) && !NEVER_CAPS.includes(c));
}

function numericUser(user: string, image: string): { uid: number; gid: number } {
  if (user === 'root') return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) throw new UsageError(`${image} runs as user ${shown(user)}: boxlab takes numeric users only; pass --user UID:GID`);
  return { uid: checkId(Number(m[1]), `${image}: config User`), gid: checkId(Number(m[2] ?? m[1]), `${image}: config User`) };
}
