// `boxlab push NAME DEST`: a cached image to a registry, by the OCI distribution spec's push flow.
// Each blob (layers, then the config): HEAD, and skipped if the registry has it; otherwise POST
// to open an upload session (or to mount it from another repository of the same registry), then
// one PUT with the whole blob, or PATCHes of CHUNK_BYTES with Content-Range and a closing PUT.
// The manifest goes last, PUT by tag: a push that fails on the way leaves no tag behind.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { EnvError, UsageError } from '../src/errors.js';
import { checkDigest, DigestError } from './digest.js';
import type { HttpResponse } from './http.js';
import { loadImage } from './images.js';
import { limits, type Limits } from './limits.js';
import { MEDIA, type Manifest } from './manifest.js';
import { humanBytes, type Bar, type Progress } from './progress-bars.js';
import { canonical, parseReference, registryHost } from './reference.js';
import { Registry } from './registry.js';
import type { Descriptor, Store } from './store.js';
import { printable } from './untrusted.js';

/** A blob over this size goes up in PATCHes of this size; a smaller one in a single PUT. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

export interface PushOptions {
  store: Store;
  progress: Progress;
  plainHttp?: boolean;
  signal?: AbortSignal;
  /** Each HTTP request and its status (--verbose). */
  trace?: (line: string) => void;
  /** Smaller chunks than CHUNK_BYTES (the tests). */
  chunkBytes?: number;
  limits?: Partial<Limits>;
}

export interface PushResult {
  /** Where it went, by tag: 127.0.0.1:5000/name:tag. */
  name: string;
  /** The manifest's digest, as the registry stored it. */
  digest: string;
  /** Blob bytes sent (0 when the registry had every blob). */
  uploaded: number;
  existing: number;
  mounted: number;
}

const OCTETS = 'application/octet-stream';

export async function push(source: string, dest: string, o: PushOptions): Promise<PushResult> {
  const ref = parseReference(dest);
  if (ref.digest) throw new UsageError(`push sends to a tag, not to a digest: ${dest} (e.g. 127.0.0.1:5000/name:tag)`);
  const name = canonical(ref);
  const { store } = o;
  const img = loadImage(store, source);
  const manifestBytes = store.read(img.manifest.digest);
  const m = store.json<Manifest>(img.manifest.digest, `${img.name}: the manifest`);
  const mediaType = m.mediaType ?? img.manifest.mediaType;
  if (mediaType !== MEDIA.ociManifest && mediaType !== MEDIA.dockerManifest) throw new EnvError(`${img.name}: its manifest has media type ${printable(mediaType)}, not an image manifest boxlab pushes`);
  const blobs: Descriptor[] = [...m.layers, m.config];
  for (const b of blobs) {
    if (!store.has(b.digest) || store.size(b.digest) !== b.size) throw new EnvError(`${img.name}: blob ${b.digest} is missing from the cache or not its size (boxlab rmi ${img.name}, then fetch or build it again)`);
  }
  // An image pulled from this same registry: its blobs can be mounted, not sent again.
  const from = parseReference(img.name);
  const mountFrom = registryHost(from) === registryHost(ref) && from.repo !== ref.repo ? from.repo : undefined;
  const registry = new Registry(ref, { plainHttp: o.plainHttp, signal: o.signal, limits: limits(o.limits), actions: 'push,pull', alsoPull: mountFrom ? [mountFrom] : [], trace: o.trace });
  const chunk = o.chunkBytes ?? CHUNK_BYTES;

  let uploaded = 0;
  let existing = 0;
  let mounted = 0;
  for (const [i, b] of blobs.entries()) {
    const label = i < m.layers.length ? `layer ${i + 1}/${m.layers.length} ${b.digest.slice(7, 19)}` : `config ${b.digest.slice(7, 19)}`;
    const bar = o.progress.bar(label, b.size);
    if (await exists(registry, b)) {
      existing++;
      bar.done('already there, skipped');
      continue;
    }
    if ((await upload(registry, store, b, chunk, bar, mountFrom)) === 'mounted') {
      mounted++;
      bar.done(`mounted from ${mountFrom}`);
      continue;
    }
    uploaded += b.size;
    bar.done('pushed');
  }

  // The manifest, by tag, with its own media type: the registry answers with the digest it stored.
  const res = await registry.request('PUT', `/manifests/${ref.tag}`, { 'Content-Type': mediaType, 'Content-Length': String(manifestBytes.length) }, () => manifestBytes);
  if (res.status !== 201) throw await refused(registry, res, `the manifest for ${name}`);
  res.body.resume();
  const stored = res.headers['docker-content-digest'];
  if (stored !== undefined && stored !== img.manifest.digest) throw new DigestError(`${registry.host} stored the manifest for ${name} as ${printable(stored)}, but its bytes are ${img.manifest.digest}`);
  o.progress.line(`${name}: ${blobs.length} blobs, ${humanBytes(uploaded)} uploaded, ${existing} already there${mounted ? `, ${mounted} mounted from ${mountFrom}` : ''}; manifest ${img.manifest.digest}`);
  return { name, digest: img.manifest.digest, uploaded, existing, mounted };
}

/** HEAD: does the registry have this blob? A 200 must name the blob's own size. */
async function exists(registry: Registry, b: Descriptor): Promise<boolean> {
  const res = await registry.request('HEAD', `/blobs/${checkDigest(b.digest, 'blob digest')}`);
  res.body.resume();
  if (res.status === 404) return false;
  if (res.status !== 200) throw await refused(registry, res, `a HEAD of blob ${b.digest}`);
  const length = res.headers['content-length'];
  if (length !== undefined && Number(length) !== b.size) throw new DigestError(`${registry.host} has blob ${b.digest} at ${printable(length)} bytes, but it is ${b.size}: refused`);
  return true;
}

/** One blob up: an upload session, then one PUT or chunked PATCHes and a closing PUT. */
async function upload(registry: Registry, store: Store, b: Descriptor, chunk: number, bar: Bar, mountFrom: string | undefined): Promise<'mounted' | 'pushed'> {
  const path = store.path(b.digest);
  const start = await registry.request('POST', `/blobs/uploads/${mountFrom ? `?mount=${b.digest}&from=${mountFrom}` : ''}`, { 'Content-Length': '0' });
  start.body.resume();
  if (mountFrom && start.status === 201) return 'mounted';
  // Anything else than 202 (a mount declined also answers 202, with an upload session).
  if (start.status !== 202) throw await refused(registry, start, `an upload of blob ${b.digest}`);
  let location = sessionUrl(registry, start);
  try {
    let res: HttpResponse;
    if (b.size <= chunk) {
      res = await registry.request('PUT', withDigest(location, b.digest), { 'Content-Type': OCTETS, 'Content-Length': String(b.size) }, () => counted(path, 0, b.size, bar));
    } else {
      for (let from = 0; from < b.size; from += chunk) {
        const to = Math.min(b.size, from + chunk) - 1; // Content-Range is inclusive
        res = await registry.request('PATCH', location, { 'Content-Type': OCTETS, 'Content-Length': String(to - from + 1), 'Content-Range': `${from}-${to}` }, () => counted(path, from, to + 1, bar));
        if (res.status !== 202) throw await refused(registry, res, `bytes ${from}-${to} of blob ${b.digest}`);
        res.body.resume();
        const range = res.headers.range;
        if (range !== undefined && range !== `0-${to}` && range !== `bytes=0-${to}`) throw new EnvError(`${registry.host} acknowledged ${printable(range)} of blob ${b.digest} after bytes 0-${to} were sent: refused`);
        location = sessionUrl(registry, res);
      }
      res = await registry.request('PUT', withDigest(location, b.digest), { 'Content-Length': '0' }, () => Buffer.alloc(0));
    }
    if (res.status !== 201) throw await refused(registry, res, `blob ${b.digest}`);
    res.body.resume();
    const stored = res.headers['docker-content-digest'];
    if (stored !== undefined && stored !== b.digest) throw new DigestError(`${registry.host} stored blob ${b.digest} as ${printable(stored)}: refused`);
    return 'pushed';
  } catch (e) {
    // The session is dropped, so the registry keeps no half of the blob (best effort).
    await registry.request('DELETE', location).then((r) => r.body.resume(), () => undefined);
    throw e;
  }
}

/** The cached blob's bytes [start, end), counted on the blob's bar as they are read. */
function counted(path: string, start: number, end: number, bar: Bar): Readable {
  async function* read(): AsyncGenerator<Buffer> {
    if (end === start) return;
    for await (const c of createReadStream(path, { start, end: end - 1 })) {
      bar.add((c as Buffer).length);
      yield c as Buffer;
    }
  }
  return Readable.from(read());
}

/**
 * Where an upload goes on: the Location the registry answers with, resolved against its own
 * URL, and only on its own origin: a registry may not send our blobs (and token) elsewhere.
 */
export function sessionUrl(registry: Registry, res: HttpResponse): string {
  const location = res.headers.location;
  if (!location) throw new EnvError(`${registry.host} answered HTTP ${res.status} without a Location for the upload: not the distribution spec's push flow`);
  let url: URL;
  try {
    url = new URL(location, registry.base);
  } catch {
    throw new EnvError(`${registry.host} sends the upload to ${printable(location)}, which is not a URL: refused`);
  }
  const origin = new URL(registry.base).origin;
  if (url.origin !== origin) throw new EnvError(`${registry.host} sends the upload to ${printable(url.origin)}, not to ${origin}: refused (a registry may not send blobs elsewhere)`);
  return url.href;
}

const withDigest = (url: string, digest: string): string => `${url}${url.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;

/** A refusal in one line: the status, and the registry's own error code and message (escaped, cut). */
async function refused(registry: Registry, res: HttpResponse, what: string): Promise<EnvError> {
  let detail = '';
  try {
    const errors = (JSON.parse((await res.bytes()).toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] }).errors;
    const first = Array.isArray(errors) ? errors[0] : undefined;
    if (first) detail = `: ${[first.code, first.message].filter((x) => typeof x === 'string' && x).map((x) => printable(x, 160)).join(' ')}`;
  } catch {
    res.body.destroy(); // no JSON, or too long: the status says enough
  }
  const denied = res.status === 401 || res.status === 403 ? ' (boxlab pushes anonymously only: to a registry that lets anyone push)' : '';
  return new EnvError(`${registry.host} refused ${what} (HTTP ${res.status}${detail})${denied}`);
}
