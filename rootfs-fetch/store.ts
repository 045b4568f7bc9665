// The image cache: an OCI image layout (image-spec image-layout.md), so skopeo, umoci and a
// learner's `ls` can read it too. Blobs are named by their sha256; a blob is written to tmp/,
// checked (size, then digest) and only then renamed into blobs/: a failed or interrupted
// download never leaves a half-written blob where a later run would trust it.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, createReadStream, createWriteStream, existsSync, openSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EnvError } from '../src/errors.js';
import { CACHE_ROOT } from '../src/paths.js';
import { checkDigest, digestHex, DigestError } from './digest.js';
import { jsonObject } from './untrusted.js';

export { DigestError };

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string };
}

export const REF_NAME = 'org.opencontainers.image.ref.name';

export class Store {
  readonly blobs: string;
  readonly tmp: string;

  constructor(readonly dir = `${CACHE_ROOT}/images`) {
    this.blobs = join(dir, 'blobs', 'sha256');
    this.tmp = join(dir, 'tmp');
  }

  /** Opens the cache, making it (or tightening it to) root's own: CACHE_ROOT and images/ 0700. */
  init(): this {
    privateDir(dirname(this.dir));
    privateDir(this.dir);
    mkdirSync(this.blobs, { recursive: true });
    mkdirSync(this.tmp, { recursive: true });
    if (!existsSync(join(this.dir, 'oci-layout'))) writeFileSync(join(this.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    if (!existsSync(join(this.dir, 'index.json'))) this.writeIndex([]);
    // Left by a run that died mid-download (its PID is in the name).
    for (const f of readdirSync(this.tmp)) if (!existsSync(`/proc/${f.split('-')[0]}`)) rmSync(join(this.tmp, f), { recursive: true, force: true });
    return this;
  }

  path(digest: string): string {
    return join(this.blobs, digestHex(digest, 'blob digest'));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  /** A private name under tmp/ for work that is renamed into place when complete. */
  tmpName(label: string): string {
    return join(this.tmp, `${process.pid}-${randomBytes(4).toString('hex')}-${label}`);
  }

  /**
   * Streams a blob in. The size is checked as bytes arrive (a longer stream is cut off at once),
   * then the digest; only a blob that passes both is renamed into blobs/.
   */
  async put(desc: { digest: string; size?: number }, body: AsyncIterable<Uint8Array>, onBytes?: (n: number) => void, signal?: AbortSignal): Promise<void> {
    const target = this.path(desc.digest);
    const tmp = this.tmpName(desc.digest.slice(7, 19));
    const hash = createHash('sha256');
    let seen = 0;
    const check = new Transform({
      transform(chunk: Buffer, _e, done) {
        seen += chunk.length;
        if (desc.size !== undefined && seen > desc.size) return done(new DigestError(`blob ${desc.digest} is larger than the ${desc.size} bytes its descriptor says: nothing was cached`));
        hash.update(chunk);
        onBytes?.(chunk.length);
        done(null, chunk);
      },
    });
    try {
      // Opened here, not by the stream (which opens later, asynchronously): a download that
      // fails at once would otherwise be removed before its file exists, and leave it behind.
      await pipeline(body, check, createWriteStream('', { fd: openSync(tmp, 'wx', 0o600) }), { signal });
      if (desc.size !== undefined && seen !== desc.size) throw new DigestError(`blob ${desc.digest} ended after ${seen} of ${desc.size} bytes: nothing was cached`);
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== desc.digest) throw new DigestError(`blob ${desc.digest} does not match its digest (got ${got}): nothing was cached`);
      renameSync(tmp, target);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw diskFull(e, this.dir);
    }
  }

  /** Stores bytes we hold in memory (a manifest, a config) under their own digest. */
  putBytes(bytes: Buffer): string {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (this.has(digest)) return digest;
    const tmp = this.tmpName('json');
    try {
      writeFileSync(tmp, bytes);
      renameSync(tmp, this.path(digest));
    } catch (e) {
      rmSync(tmp, { force: true });
      throw diskFull(e, this.dir);
    }
    return digest;
  }

  /** Moves a finished file (under tmp/) into blobs/ under its sha256; returns its descriptor. */
  async adopt(file: string, mediaType: string): Promise<Descriptor> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(file), hash);
    const digest = `sha256:${hash.digest('hex')}`;
    const size = statSync(file).size;
    renameSync(file, this.path(digest));
    return { mediaType, digest, size };
  }

  read(digest: string): Buffer {
    return readFileSync(this.path(digest));
  }

  /** A blob that must be a JSON object (a manifest, an index, a config); an EnvError naming `what` otherwise. */
  json<T>(digest: string, what = `blob ${digest}`): T {
    return jsonObject<T>(this.read(digest), what);
  }

  size(digest: string): number {
    return statSync(this.path(digest)).size;
  }

  /**
   * index.json's entries as they are on disk: only the list is checked, not what is in it (an
   * entry may be null, or its digest a path). One bad entry must not hide the others, nor stop
   * `boxlab rmi` from removing it: each reader checks what it uses.
   */
  entries(): Descriptor[] {
    const file = join(this.dir, 'index.json');
    const manifests = jsonObject<{ manifests?: unknown }>(readFileSync(file), file).manifests ?? [];
    if (!Array.isArray(manifests)) throw new EnvError(`${file}: manifests is not a list`);
    return manifests as Descriptor[];
  }

  /** The tagged manifests (index.json), each digest checked: the file is read back from disk. */
  index(): Descriptor[] {
    const manifests = this.entries();
    for (const d of manifests) checkDigest(d?.digest, `${join(this.dir, 'index.json')}: manifest digest`);
    return manifests;
  }

  /** The manifest tagged name, its digest checked (the other entries are not read). */
  find(name: string): Descriptor | undefined {
    const found = this.entries().find((d) => d?.annotations?.[REF_NAME] === name);
    if (found) checkDigest(found.digest, `${join(this.dir, 'index.json')}: manifest digest`);
    return found;
  }

  /** Points name at a manifest, replacing what it named before; other entries are kept as they are. */
  tag(name: string, desc: Descriptor): void {
    const rest = this.entries().filter((d) => d?.annotations?.[REF_NAME] !== name);
    this.writeIndex([...rest, { mediaType: desc.mediaType, digest: desc.digest, size: desc.size, annotations: { [REF_NAME]: name } }]);
  }

  untag(name: string): boolean {
    const all = this.entries();
    const rest = all.filter((d) => d?.annotations?.[REF_NAME] !== name);
    this.writeIndex(rest);
    return rest.length !== all.length;
  }

  /** Removes every blob not in `keep`; returns how many bytes that freed. */
  sweep(keep: Set<string>): number {
    let freed = 0;
    for (const hex of readdirSync(this.blobs)) {
      if (keep.has(`sha256:${hex}`)) continue;
      freed += statSync(join(this.blobs, hex)).size;
      rmSync(join(this.blobs, hex));
    }
    return freed;
  }

  private writeIndex(manifests: Descriptor[]): void {
    const tmp = this.tmpName('index');
    writeFileSync(tmp, JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }, null, 2) + '\n');
    renameSync(tmp, join(this.dir, 'index.json'));
  }
}

/** What boxlab keeps in its cache directories: the only names a directory may hold for boxlab
 *  to tighten it (a new cache, or one made looser). Layers and build-cache entries are named
 *  by hex digests; a run's temporaries are .tmp-PID-… (a layer) and .KEY.PID (a cache entry).
 *  Not any dotfile: a home directory holds only dotfiles, and must not be made private. */
const CACHE_NAMES = /^(images|layers|rootfs|tools-[0-9a-f]+|userns-\d+-\d+|dev-[0-9a-f]+|build-cache|vm|vagrant|blobs|tmp|oci-layout|index\.json|sha256|[0-9a-f]{64}(\.json)?|\.tmp-\d+-[0-9a-f]+|\.[0-9a-f]{64}\.\d+)$/;

/**
 * A directory only its owner (root) can enter, made if missing and tightened if looser. The
 * cache holds what images ship, setuid binaries and device nodes among it: no other local
 * user may reach them there. A shared directory (/tmp) or someone else's is refused, untouched,
 * and so is one that holds anything not boxlab's (BOXLAB_CACHE_DIR=/ or =/var by mistake): made
 * private, every other user of the machine would lose it.
 */
export function privateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const st = statSync(path);
  const me = process.geteuid?.() ?? 0;
  if (!st.isDirectory()) throw new EnvError(`${path} is not a directory: the image cache needs one of its own (or set BOXLAB_CACHE_DIR)`);
  if (st.mode & 0o1000) throw new EnvError(`${path} is a shared directory (sticky bit, like /tmp): the image cache needs one of its own (set BOXLAB_CACHE_DIR to a new directory)`);
  if (st.uid !== me) throw new EnvError(`${path} belongs to uid ${st.uid}, not to uid ${me}: the image cache must be its user's own`);
  if ((st.mode & 0o7777) !== 0o700) {
    const foreign = resolve(path) === '/' ? ['/'] : readdirSync(path).filter((n) => !CACHE_NAMES.test(n));
    if (foreign.length) throw new EnvError(`${path} is open to others (mode ${(st.mode & 0o7777).toString(8)}) and holds what is not boxlab's (${foreign.slice(0, 3).join(', ')}): boxlab will not make it private; set BOXLAB_CACHE_DIR to a directory of its own`);
    chmodSync(path, 0o700);
  }
}

/** ENOSPC, and a download that broke off, as one clear line; anything else unchanged. */
export function diskFull(e: unknown, where: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC') return new EnvError(`disk full writing to ${where}: nothing was cached (free some space, or set BOXLAB_CACHE_DIR)`);
  if (code === 'ETIMEDOUT' || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') return new EnvError(`a download broke off (${code}): nothing was cached`);
  return e;
}
