// Resolving an archive's paths inside a target root, as root, without ever leaving it.
// The tar parser is not trusted with this: every name, link target and parent directory is
// checked here against what is really on disk (lstat, readlink), one component at a time.
import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { printable } from './untrusted.js';

/** A layer that would write outside its root, or breaks the layer format: rejected whole. */
export class LayerError extends Error {}

const MAX_LINK_HOPS = 40; // as the kernel's path walk (ELOOP)

/** An archive member name as path components; absolute names, '..' and NUL bytes are refused. */
export function memberParts(name: string, what = 'path'): string[] {
  if (name.includes('\0')) throw new LayerError(`NUL byte in ${what} '${printable(name)}': refused`);
  if (name.startsWith('/')) throw new LayerError(`absolute ${what} '${printable(name)}'`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new LayerError(`'..' in ${what} '${printable(name)}'`);
  return parts;
}

export interface ParentOptions {
  /** Create missing directories (mode 0755); each one made is reported to onCreate. */
  create: boolean;
  /** Follow symlinks found on the way whose targets stay inside the root; false refuses any. */
  followLinks: boolean;
  onCreate?: (rel: string) => void;
}

/**
 * The real directory (relative to root, as components) that holds `parts`' last component.
 * A symlink on the way is followed only if, read as the host would read it, it stays inside
 * the root: an absolute target, or one that climbs above the root, is an escape.
 * Returns undefined when a directory is missing and create is false.
 */
export function resolveParent(root: string, parts: string[], o: ParentOptions): string[] | undefined {
  const todo = parts.slice(0, -1);
  const done: string[] = [];
  let hops = 0;
  while (todo.length) {
    const c = todo.shift()!;
    const here = join(root, ...done, c);
    const st = lstatOrUndefined(here);
    if (!st) {
      if (!o.create) return undefined;
      mkdirSync(here, { mode: 0o755 });
      o.onCreate?.([...done, c].join('/'));
      done.push(c);
    } else if (st.isDirectory()) {
      done.push(c);
    } else if (st.isSymbolicLink()) {
      const shown = [...done, c].join('/');
      if (!o.followLinks) throw new LayerError(`'${printable(parts.join('/'))}' goes through the symlink '${printable(shown)}'`);
      if (++hops > MAX_LINK_HOPS) throw new LayerError(`too many symlinks resolving '${printable(parts.join('/'))}'`);
      const target = readlinkSync(here);
      if (target.startsWith('/')) throw new LayerError(`symlink escape: '${printable(shown)}' -> '${printable(target)}' leaves the root`);
      const next = [...done];
      for (const t of target.split('/')) {
        if (t === '' || t === '.') continue;
        if (t !== '..') next.push(t);
        else if (next.pop() === undefined) throw new LayerError(`symlink escape: '${printable(shown)}' -> '${printable(target)}' climbs out of the root`);
      }
      // Walk the target again from the root: its components may be links themselves.
      done.length = 0;
      todo.unshift(...next);
    } else {
      throw new LayerError(`'${printable([...done, c].join('/'))}' is not a directory, in '${printable(parts.join('/'))}'`);
    }
  }
  return done;
}

export function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
