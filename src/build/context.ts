// The build context: the directory COPY reads from, as untrusted as the Boxfile. Every source
// stays inside it: no '..' out, a leading / means the context's root (as Docker), no symlink
// that resolves or points outside, .dockerignore honoured, and caps on bytes and entries.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { EnvError, UsageError } from '../errors.js';
import { printable } from '../../rootfs-fetch/untrusted.js';
import { entryOf, type LayerEntry } from './layer.js';

export interface ContextLimits {
  bytes: number;
  entries: number;
}
export const CONTEXT_LIMITS: ContextLimits = { bytes: 2 * 1024 ** 3, entries: 200_000 };

export interface Context {
  /** Its real path. */
  dir: string;
  ignored: (rel: string) => boolean;
}

/** A .dockerignore pattern as a regular expression over a path relative to the context. */
export function ignoreRegex(pattern: string): RegExp {
  let p = posix.normalize(pattern.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (p === '.') p = '';
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*' && p[i + 1] === '*') {
      // ** matches any number of directories (also none).
      re += p[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += p[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern that names a directory ignores what is inside it too.
  return new RegExp(`^${re}(?:/.*)?$`);
}

export function parseIgnore(text: string): (rel: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => (l.startsWith('!') ? { keep: true, re: ignoreRegex(l.slice(1).trim()) } : { keep: false, re: ignoreRegex(l) }));
  // The last rule that matches decides (Docker's rule), so `!` re-includes.
  return (rel) => {
    let out = false;
    for (const r of rules) if (r.re.test(rel)) out = !r.keep;
    return out;
  };
}

export function openContext(dir: string): Context {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    throw new UsageError(`build context ${printable(dir, 120)}: no such directory`);
  }
  if (!statSync(real).isDirectory()) throw new UsageError(`build context ${printable(dir, 120)}: not a directory`);
  const ignoreFile = join(real, '.dockerignore');
  let ignored = (_: string): boolean => false;
  if (existsSync(ignoreFile)) {
    if (lstatSync(ignoreFile).size > 1024 * 1024) throw new UsageError(`${printable(ignoreFile, 120)}: larger than 1 MiB`);
    ignored = parseIgnore(readFileSync(ignoreFile, 'utf8'));
  }
  return { dir: real, ignored };
}

/** A COPY source as a path relative to the context, or a one-line refusal (thrown as Error: the caller adds the line). */
export function sourcePath(source: string): string {
  const rel = posix.normalize(source.replace(/^\/+/, ''));
  if (rel === '..' || rel.startsWith('../')) throw new Error(`${printable(source, 120)} is outside the build context`);
  return rel === '.' ? '' : rel;
}

const inside = (ctx: Context, real: string): boolean => real === ctx.dir || real.startsWith(`${ctx.dir}/`);

/** A glob's matches in one directory (* ? in the last component only). */
function globMatches(ctx: Context, rel: string): string[] {
  const dir = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
  const base = posix.basename(rel);
  if (/[*?[]/.test(dir)) throw new Error(`${printable(rel, 120)}: boxlab build takes wildcards in the last part of a path only`);
  const re = new RegExp(`^${base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  const parent = join(ctx.dir, dir);
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .filter((n) => re.test(n))
    .map((n) => (dir ? `${dir}/${n}` : n))
    .filter((r) => !ctx.ignored(r))
    .sort();
}

export interface CopyResult {
  entries: LayerEntry[];
  /** sha256 over every entry's path, type, mode, owner, link target and bytes: the cache key's part. */
  contentHash: string;
}

/**
 * COPY's entries: each source's files under dest (a directory when it ends in /), owned by
 * chown or root, modes and link targets kept. `lower(path)` gives what the image below has at
 * an absolute path (for the directories above dest, which keep their attributes).
 */
export function copyEntries(ctx: Context, sources: string[], dest: string, chown: { uid: number; gid: number } | undefined, lower: (abs: string) => Stats | undefined, limits = CONTEXT_LIMITS, hash = true): CopyResult {
  const owner = chown ?? { uid: 0, gid: 0 };
  const out = new Map<string, LayerEntry>();
  let bytes = 0;
  const add = (e: LayerEntry): void => {
    if (out.size >= limits.entries) throw new Error(`more than ${limits.entries} files: the most one COPY takes`);
    if (e.type === 'file') bytes += e.source?.size ?? 0;
    if (bytes > limits.bytes) throw new Error(`more than ${limits.bytes} bytes: the most one COPY takes`);
    out.set(e.path, e);
  };
  const destDir = dest.endsWith('/');
  const destRel = dest.replace(/^\/+|\/+$/g, '');
  // The directories above what is copied: as the image has them, or new ones (0755, root's).
  const parents = (rel: string): void => {
    const parts = rel.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (out.has(p)) continue;
      const st = lower(`/${p}`);
      if (st && !st.isDirectory()) throw new Error(`/${printable(p, 120)} is not a directory in the image`);
      add(st ? { path: p, type: 'directory', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) } : { path: p, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 });
    }
  };
  const one = (rel: string, host: string, target: string): void => {
    const st = lstatSync(host);
    if (st.isSymbolicLink()) {
      const to = readlinkSync(host);
      const resolved = to.startsWith('/') ? undefined : posix.normalize(posix.join(posix.dirname(rel), to));
      if (resolved === undefined || resolved === '..' || resolved.startsWith('../')) throw new Error(`${printable(rel, 120)} is a symlink pointing out of the build context (to ${printable(to, 120)})`);
    }
    const e = entryOf(host, target, st);
    if (!e) throw new Error(`${printable(rel, 120)} is a socket: COPY takes files, directories, symlinks and fifos`);
    if (e.type === 'character-device' || e.type === 'block-device') throw new Error(`${printable(rel, 120)} is a device node: COPY does not take those`);
    add({ ...e, uid: owner.uid, gid: owner.gid });
    if (e.type === 'directory') {
      for (const name of readdirSync(host).sort()) {
        const r = rel ? `${rel}/${name}` : name;
        if (!ctx.ignored(r)) one(r, join(host, name), `${target}/${name}`);
      }
    }
  };
  for (const source of sources) {
    const rel = sourcePath(source);
    const matches = /[*?[]/.test(rel) ? globMatches(ctx, rel) : [rel];
    if (matches.length === 0 || (rel !== '' && matches.every((m) => ctx.ignored(m)))) throw new Error(`${printable(source, 120)}: no such file in the build context (sources are read from the context, never from the host)`);
    if (matches.length > 1 && !destDir) throw new Error(`${printable(source, 120)} names several files: the destination must end in /`);
    for (const m of matches) {
      const host = join(ctx.dir, m);
      let real: string;
      try {
        real = realpathSync(host);
      } catch {
        throw new Error(`${printable(source, 120)}: no such file in the build context (sources are read from the context, never from the host)`);
      }
      if (!inside(ctx, real)) throw new Error(`${printable(source, 120)} resolves outside the build context (a symlink in the context points out)`);
      const st = statSync(real);
      if (st.isDirectory()) {
        // A directory's contents go into dest, as Docker copies them.
        if (destRel) parents(destRel);
        if (destRel && !out.has(destRel)) {
          const had = lower(`/${destRel}`);
          add(had ? { path: destRel, type: 'directory', mode: had.mode & 0o7777, uid: had.uid, gid: had.gid, mtime: Math.floor(had.mtimeMs / 1000) } : { path: destRel, type: 'directory', mode: 0o755, uid: owner.uid, gid: owner.gid, mtime: 0 });
        }
        for (const name of readdirSync(real).sort()) {
          const r = m ? `${m}/${name}` : name;
          if (!ctx.ignored(r)) one(r, join(real, name), destRel ? `${destRel}/${name}` : name);
        }
      } else {
        const target = destDir ? `${destRel ? `${destRel}/` : ''}${posix.basename(m)}` : destRel;
        if (!target) throw new Error('a file cannot be copied onto /');
        parents(target);
        // The source itself was followed (within the context): its target's bytes are copied.
        one(m, real, target);
      }
    }
  }
  const entries = [...out.values()];
  return { entries, contentHash: hash ? contentHash(entries) : '' };
}

function contentHash(entries: LayerEntry[]): string {
  const h = createHash('sha256');
  for (const e of [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))) {
    h.update(JSON.stringify([e.path, e.type, e.mode, e.uid, e.gid, e.linkname ?? '', e.source?.size ?? 0]));
    if (e.source) h.update(readFileSync(e.source.path));
  }
  return `sha256:${h.digest('hex')}`;
}

/** The context's errors, with the Boxfile's line. */
export function copyError(file: string, line: number, e: unknown): unknown {
  if (e instanceof EnvError || e instanceof UsageError) return e;
  if (e instanceof Error && !(e as NodeJS.ErrnoException).code) return new UsageError(`${printable(file, 120)}:${line}: COPY ${e.message}`);
  if (e instanceof Error) return new EnvError(`${printable(file, 120)}:${line}: COPY: ${(e as NodeJS.ErrnoException).code} reading the build context`);
  return e;
}
