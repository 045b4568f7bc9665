// A layer from files: a tree (a RUN's overlay upper directory, or COPY's files) as entries,
// then one pass that tars them, hashes the tar (diff_id), gzips it and hashes that (digest).
//
// Reproducible: entries sorted by name (bytes), mtimes clamped to SOURCE_DATE_EPOCH (0 when it
// is unset), no user or group names, gzip with no name and mtime 0 in its header. The same
// files give the same digest on every build, which Docker's default builder does not promise.
//
// overlayfs' markers become the OCI image spec's (layer.md): a 0/0 character device (a
// deletion) becomes an empty `.wh.NAME`, a directory marked trusted.overlay.opaque=y gets a
// `.wh..wh..opq` inside it. Files with several links in the tree become one file and hard links.
import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, createWriteStream, fstatSync, lstatSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { EnvError } from '../errors.js';
import { printable } from '../../rootfs-fetch/untrusted.js';

export type EntryType = 'file' | 'directory' | 'symlink' | 'character-device' | 'block-device' | 'fifo';

export interface LayerEntry {
  /** Relative to the layer's root, no leading / or ./ and no trailing /. */
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, before clamping. */
  mtime: number;
  /** file: the host file its bytes come from, with the size and inode it had when listed. */
  source?: { path: string; size: number; ino: number; dev: number; nlink: number };
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

export interface LayerBlob {
  diffId: string;
  digest: string;
  /** Bytes of the gzipped blob. */
  size: number;
  entries: number;
}

export const WHITEOUT = '.wh.';
export const OPAQUE = '.wh..wh..opq';

/** The time every entry gets at most: SOURCE_DATE_EPOCH (reproducible-builds.org), or 0. */
export function clampTime(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return 0;
  if (!/^\d{1,12}$/.test(v)) throw new EnvError(`SOURCE_DATE_EPOCH=${v.slice(0, 40)} is not a number of seconds`);
  return Number(v);
}

const byName = (a: LayerEntry, b: LayerEntry): number => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));

/** An entry for what lstat says of a host file (sockets have no tar form: undefined). */
export function entryOf(host: string, path: string, st = lstatSync(host)): LayerEntry | undefined {
  const base = { path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
  if (st.isFile()) return { ...base, type: 'file', source: { path: host, size: st.size, ino: st.ino, dev: st.dev, nlink: st.nlink } };
  if (st.isDirectory()) return { ...base, type: 'directory' };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkname: readlinkSync(host) };
  if (st.isFIFO()) return { ...base, type: 'fifo' };
  const dev = { devmajor: Math.floor(st.rdev / 256) & 0xfff, devminor: (st.rdev & 0xff) | ((Math.floor(st.rdev / 4096) & 0xfff00) >>> 0) };
  if (st.isCharacterDevice()) return { ...base, type: 'character-device', ...dev };
  if (st.isBlockDevice()) return { ...base, type: 'block-device', ...dev };
  return undefined;
}

/**
 * An overlay upper directory as layer entries: whiteouts and opaque markers converted. `opaque`
 * holds the upper's opaque directories (relative paths); `skip` the top-level names the run
 * itself made (mount points), which are not the command's changes.
 */
export function upperEntries(upper: string, opaque: Set<string>, skip: Set<string> = new Set()): LayerEntry[] {
  const out: LayerEntry[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(upper, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (!rel && skip.has(name)) continue;
      if (name.startsWith(WHITEOUT)) throw new EnvError(`the box made a file named ${printable(r, 200)}: names starting with .wh. mean deletions in a layer`);
      const st = lstatSync(join(upper, r));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ path: rel ? `${rel}/${WHITEOUT}${name}` : `${WHITEOUT}${name}`, type: 'file', mode: 0o600, uid: 0, gid: 0, mtime: 0, source: undefined });
        continue;
      }
      const e = entryOf(join(upper, r), r, st);
      if (!e) continue;
      out.push(e);
      if (e.type === 'directory') {
        if (opaque.has(r)) out.push({ path: `${r}/${OPAQUE}`, type: 'file', mode: 0o600, uid: st.uid, gid: st.gid, mtime: 0 });
        walk(r);
      }
    }
  };
  walk('');
  return out;
}

/** Hashes what passes through. */
function hashing(onChunk?: (n: number) => void): { stream: Transform; digest: () => string; bytes: () => number } {
  const h = createHash('sha256');
  let n = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _e, done) {
      h.update(chunk);
      n += chunk.length;
      onChunk?.(chunk.length);
      done(null, chunk);
    },
  });
  return { stream, digest: () => `sha256:${h.digest('hex')}`, bytes: () => n };
}

/**
 * Opens a listed file again, refusing one that changed into a link or another file since.
 * Returns its size now: the listed one, or with `live` (a box still running writes to it)
 * whatever it has grown or shrunk to, of which exactly that many bytes are then read.
 */
function openListed(src: NonNullable<LayerEntry['source']>, path: string, live: boolean): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(src.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    throw new EnvError(`${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} while writing the layer`);
  }
  const st = fstatSync(fd);
  if (!st.isFile() || st.ino !== src.ino || st.dev !== src.dev || (!live && st.size !== src.size)) {
    closeSync(fd);
    throw new EnvError(`${printable(path, 200)} changed while the layer was written: nothing was kept`);
  }
  return { fd, size: st.size };
}

/** Writes entries as a gzipped tar to `out`, in one pass; returns its diff_id and digest.
 *  `live`: the files belong to a box that still runs (commit): a file's size is taken when it
 *  is opened, so one being appended to is written as it was then, not refused. */
export async function writeLayer(entries: LayerEntry[], out: string, o: { clamp?: number; onBytes?: (n: number) => void; live?: boolean } = {}): Promise<LayerBlob> {
  const clamp = o.clamp ?? clampTime();
  const sorted = [...entries].sort(byName);
  const pack = tar.pack();
  const tarHash = hashing(o.onBytes);
  const blobHash = hashing();
  // gzip's header from node:zlib has no name and mtime 0; level fixed, so the bytes are too.
  const written = pipeline(pack, tarHash.stream, zlib.createGzip({ level: 6 }), blobHash.stream, createWriteStream(out, { mode: 0o600 }));
  const feed = async (): Promise<void> => {
    const firstOf = new Map<string, string>();
    for (const e of sorted) {
      const mtime = new Date(Math.min(Math.max(e.mtime, 0), clamp) * 1000);
      const header: Parameters<typeof pack.entry>[0] = { name: e.type === 'directory' ? `${e.path}/` : e.path, mode: e.mode, uid: e.uid, gid: e.gid, mtime, type: e.type, uname: '', gname: '' };
      if (e.linkname !== undefined) header.linkname = e.linkname;
      if (e.devmajor !== undefined) Object.assign(header, { devmajor: e.devmajor, devminor: e.devminor });
      const src = e.source;
      if (e.type === 'file' && src && src.nlink > 1) {
        // The first name of an inode (in sorted order) carries its bytes; the others link to it.
        const key = `${src.dev}:${src.ino}`;
        const first = firstOf.get(key);
        if (first !== undefined) {
          await new Promise<void>((resolve, reject) => pack.entry({ ...header, type: 'link', linkname: first, size: 0 }, (err) => (err ? reject(err) : resolve())));
          continue;
        }
        firstOf.set(key, e.path);
      }
      if (e.type === 'file' && src) {
        const { fd, size } = openListed(src, e.path, o.live ?? false);
        if (size === 0) closeSync(fd);
        await new Promise<void>((resolve, reject) => {
          const done = (err?: Error | null): void => (err ? reject(err) : resolve());
          if (size === 0) return void pack.entry({ ...header, size: 0 }, '', done);
          // At most `size` bytes: what a live file gains meanwhile is not this layer's.
          createReadStream('', { fd, start: 0, end: size - 1 }).on('error', reject).pipe(pack.entry({ ...header, size }, done));
        });
      } else {
        await new Promise<void>((resolve, reject) => (e.type === 'file' ? pack.entry({ ...header, size: 0 }, '', (err) => (err ? reject(err) : resolve())) : pack.entry({ ...header, size: 0 }, (err) => (err ? reject(err) : resolve()))));
      }
    }
    pack.finalize();
  };
  try {
    await Promise.all([feed().catch((e) => {
      pack.destroy(e as Error);
      throw e;
    }), written]);
  } catch (e) {
    throw e instanceof EnvError ? e : new EnvError(`writing the layer ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { diffId: tarHash.digest(), digest: blobHash.digest(), size: blobHash.bytes(), entries: sorted.length };
}
