// The OCI runtime's containers (boxlab-runtime): one directory each under the runtime's root,
// holding the container's state and the files its run script writes as it goes (runtime.md's
// lifecycle: creating -> created -> running -> stopped).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvError, UsageError } from '../errors.js';
import { isSameLiveProcess } from '../kernel/proc.js';
import { stateDir } from '../box/state.js';
import type { RunSpec } from './spec.js';

export type Status = 'creating' | 'created' | 'running' | 'stopped';

/** What create records; the spec's state is derived from it and the files beside it. */
export interface Container {
  id: string;
  bundle: string;
  runId: string;
  /** The run script's bash: the process an engine waits for (it exits with the command's status). */
  pid: number;
  pidStart: string;
  created: string;
  annotations: Record<string, string>;
  /** The spec the box was built from: exec enters with it (the bundle may have changed since). */
  spec: RunSpec;
  /** config.json's hooks, by kind (createRuntime, prestart, poststart, poststop ...). */
  hooks: Record<string, Hook[]>;
}

/** A hook of config.md ("POSIX-platform Hooks"): run on the host, the state JSON on stdin. */
export interface Hook {
  path: string;
  args: string[];
  env: string[];
  timeout?: number;
}

const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

/** The hooks of a config.json, checked: an absolute path, lists of strings, a positive timeout. */
export function hooksOf(config: Record<string, unknown>): Record<string, Hook[]> {
  const hooks = config.hooks;
  if (hooks === undefined) return {};
  if (!hooks || typeof hooks !== 'object' || Array.isArray(hooks)) throw new UsageError('config.json: hooks must be an object');
  const out: Record<string, Hook[]> = {};
  for (const [kind, list] of Object.entries(hooks)) {
    if (!HOOK_KINDS.includes(kind)) throw new UsageError(`config.json: hooks.${kind.slice(0, 40)} is not a hook of the runtime spec`);
    if (!Array.isArray(list)) throw new UsageError(`config.json: hooks.${kind} must be a list`);
    out[kind] = list.map((h: Record<string, unknown>, i) => {
      const where = `config.json: hooks.${kind}[${i}]`;
      const strings = (v: unknown, name: string): string[] => {
        if (v === undefined) return [];
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.includes('\0'))) throw new UsageError(`${where}.${name} must be a list of strings`);
        return v as string[];
      };
      if (typeof h?.path !== 'string' || !h.path.startsWith('/')) throw new UsageError(`${where}.path must be an absolute path`);
      if (h.timeout !== undefined && !(Number.isInteger(h.timeout) && (h.timeout as number) > 0)) throw new UsageError(`${where}.timeout must be a positive number of seconds`);
      // env -i runs the hook: an entry that is not NAME=value would be taken for its option or command.
      const env = strings(h.env, 'env');
      for (const e of env) if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(e)) throw new UsageError(`${where}.env: ${JSON.stringify(e.slice(0, 40))} is not NAME=value`);
      return { path: h.path, args: strings(h.args, 'args'), env, timeout: h.timeout as number | undefined };
    });
  }
  return out;
}

/** Where containers live unless --root says otherwise (under boxlab's own state directory,
 *  so `boxlab reset` and the tests' host check see what is left). */
export const defaultRoot = (): string => join(stateDir(), 'oci');

/** runc's rule for IDs: it becomes a directory name, so nothing else. */
const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/;
export function checkId(id: string | undefined): string {
  if (!id) throw new UsageError('a container ID is needed');
  if (!ID.test(id)) throw new UsageError(`container ID ${JSON.stringify(id.slice(0, 80))} is not valid: letters, digits and _ . + - (up to 128), starting with a letter or digit`);
  return id;
}

/** A container's files. */
export function files(root: string, id: string) {
  const dir = join(root, id);
  return {
    dir,
    state: join(dir, 'state.json'),
    fifo: join(dir, 'exec.fifo'),
    created: join(dir, 'created'),
    started: join(dir, 'started'),
    payloadPid: join(dir, 'payload.pid'),
    box: join(dir, 'box.json'),
    notes: join(dir, 'notes.log'),
  };
}

/** The root directory, root's alone. */
export function makeRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
}

export function load(root: string, id: string): Container {
  const f = files(root, id);
  try {
    return JSON.parse(readFileSync(f.state, 'utf8')) as Container;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new EnvError(`container ${id} does not exist`);
    throw new EnvError(`container ${id}: its state is unreadable (${(e as Error).message})`);
  }
}

export function save(root: string, c: Container): void {
  writeFileSync(files(root, c.id).state, JSON.stringify(c) + '\n', { mode: 0o600 });
}

/** The lifecycle state, from the kernel (is the script alive?) and the script's own files. */
export function status(root: string, c: Container): Status {
  const f = files(root, c.id);
  if (!isSameLiveProcess(c.pid, c.pidStart)) return 'stopped';
  if (existsSync(f.started)) return 'running';
  if (existsSync(f.created)) return 'created';
  return 'creating';
}

/** The spec's state JSON (runtime.md "State"). A stopped container has no process: pid 0. */
export function stateJson(root: string, c: Container): Record<string, unknown> {
  const s = status(root, c);
  return { ociVersion: '1.0.2', id: c.id, status: s, pid: s === 'stopped' ? 0 : c.pid, bundle: c.bundle, annotations: c.annotations };
}

/** The command's process: the child of the launcher the script started (as the script's
 *  relay finds it). undefined once it is gone. */
export function payloadPid(root: string, id: string, script: number): number | undefined {
  try {
    const launcher = Number(readFileSync(files(root, id).payloadPid, 'utf8').trim());
    // Still the script's child: a launcher that has ended may have left its PID to another process.
    if (parentOf(launcher) !== script) return undefined;
    const child = Number(readFileSync(`/proc/${launcher}/task/${launcher}/children`, 'utf8').trim().split(' ')[0]);
    return child > 0 ? child : undefined;
  } catch {
    return undefined;
  }
}

/** A process's parent, from /proc/PID/stat (after the command name, which may hold spaces). */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The box's PID namespace, by its init (the script records {pid, start}). */
export function boxInit(root: string, id: string): number | undefined {
  try {
    const { pid, start } = JSON.parse(readFileSync(files(root, id).box, 'utf8')) as { pid: number; start: string };
    return isSameLiveProcess(pid, start) ? pid : undefined;
  } catch {
    return undefined;
  }
}
