// Values from outside a run (an image's config, a bundle's config.json, flags) checked before any
// of them is used: each must be what its field means, so that none can be taken by a host tool,
// a path or the generated bash as anything but that.
import { UsageError } from '../errors.js';
import { shown } from '../../rootfs-fetch/untrusted.js';

/** NAME=value, NAME a shell-style name: an entry without '=' would be run by env(1) as a command. */
const ENV_ENTRY = /^[A-Za-z_][A-Za-z0-9_]*=/;

export function checkEnv(list: unknown, where: string): string[] {
  if (!Array.isArray(list)) throw new UsageError(`${where}: the environment must be a list of NAME=value`);
  for (const e of list) {
    if (typeof e !== 'string' || !ENV_ENTRY.test(e) || e.includes('\0')) throw new UsageError(`${where}: ${shown(e)} is not NAME=value (NAME: letters, digits, _)`);
  }
  return list as string[];
}

/** The command: strings; its first word is a program, never NAME=value (env(1) would take it). */
export function checkArgs(list: unknown, where: string): string[] {
  if (!Array.isArray(list) || list.some((a) => typeof a !== 'string' || a.includes('\0'))) throw new UsageError(`${where}: the command must be a list of strings`);
  if (list.length && (list[0] as string).includes('=')) throw new UsageError(`${where}: ${JSON.stringify(list[0])}: a program name with '=' in it cannot be run`);
  return list as string[];
}

/** A plain absolute path: no '..', no '.', nothing a shell, an fstab or mount(8)'s option
 *  syntax would read differently (so no space, quote, $, backslash, colon or comma). */
const PLAIN_PATH = /^(\/[A-Za-z0-9._@%+=~-]+)+\/?$|^\/$/;

export function checkPath(p: unknown, where: string): string {
  if (typeof p !== 'string' || !PLAIN_PATH.test(p) || p.split('/').some((c) => c === '..' || c === '.')) {
    throw new UsageError(`${where}: ${shown(p)} is not a plain absolute path (letters, digits, . _ @ % + = ~ -, no '..')`);
  }
  return p;
}

/** A mount point in the box: a plain path, and not boxlab's tools (/.boxlab), which host root
 *  runs from the box's root (the detach after pivot_root) and the command's chain enters by. */
export function checkBoxMountPoint(p: unknown, where: string): string {
  const path = checkPath(p, where);
  if (path.replace(/\/$/, '') === '/.boxlab' || path.startsWith('/.boxlab/')) throw new UsageError(`${where}: ${path}: /.boxlab holds boxlab's own tools in the box; mount elsewhere`);
  return path;
}

/** A working directory: absolute, no NUL; passed as data to cd, so any other character will do. */
export function checkCwd(p: unknown, where: string): string {
  if (typeof p !== 'string' || !p.startsWith('/') || p.includes('\0')) throw new UsageError(`${where}: ${shown(p)} is not an absolute path`);
  return p;
}

const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export function checkHostname(h: unknown, where: string): string {
  if (typeof h !== 'string' || !HOSTNAME.test(h) || h.length > 64) throw new UsageError(`${where}: ${shown(h)} is not a hostname (letters, digits, -, dots; 64 at most)`);
  return h;
}

/** A uid or gid: a whole number below 2^32 - 1 ((uid_t)-1 means "no change" to the kernel). */
export function checkId(n: unknown, where: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= 2 ** 32 - 1) throw new UsageError(`${where}: ${shown(n)} is not a uid/gid`);
  return n;
}

/** A positive whole number (a limit), or undefined when absent. */
export function checkCount(n: unknown, where: string): number | undefined {
  if (n === undefined) return undefined;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${where}: ${shown(n)} is not a positive whole number`);
  return n;
}
