// The push flow over real HTTP on loopback, against a small registry that keeps what it is sent
// and checks it as distribution does: bearer tokens by scope, upload sessions with Location,
// Content-Range on PATCH, the digest on the closing PUT, the manifest by tag.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { push } from '../../rootfs-fetch/push.js';
import { request } from '../../rootfs-fetch/http.js';
import { limits } from '../../rootfs-fetch/limits.js';
import { Readable } from 'node:stream';
import { Store } from '../../rootfs-fetch/store.js';
import { progressTo } from '../../rootfs-fetch/progress-bars.js';
import { MEDIA } from '../../rootfs-fetch/manifest.js';
import { refusedInOneLine, tempDir } from './helpers.js';
import { tarOf } from './layer-archives.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const body = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

let server: Server;
let port: number;
/** What the registry holds: blobs per repository, manifests by repo:tag. */
let repos: Map<string, Map<string, Buffer>>;
let tags: Map<string, { type: string; body: Buffer }>;
let uploads: Map<string, Buffer>;
let requests: string[];
let scopes: string[];
/** Where the upload sessions' Location points, when not at this registry itself. */
let elsewhere: string | undefined;
/** The closing PUT of a blob fails, with a registry's error body. */
let failPut: boolean;
/** A registry that misbehaves: a blob PUT never answered, or answered with an error body that never ends; a HEAD naming another size. */
let hostile: 'silent-put' | 'endless-error' | 'head-size' | 'slow-patch' | 'patch-401' | undefined;
/** Called on each PATCH the registry receives. */
let onPatch: (() => void) | undefined;
const CHUNK = 16 * 1024;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(`${req.method} ${url.pathname}${req.headers['content-range'] ? ` ${req.headers['content-range']}` : ''}`);
    if (url.pathname === '/token') {
      scopes.push(...url.searchParams.getAll('scope'));
      // Pushing needs the push right: a pull-only token would be refused below.
      const push = url.searchParams.getAll('scope').some((sc) => /^repository:lib\/[a-z]+:push,pull$/.test(sc));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: push ? 'PUSH' : 'PULL' }));
    }
    if (req.headers.authorization !== 'Bearer PUSH') {
      // What a registry says to a HEAD: the pull scope; boxlab must ask for push,pull itself.
      return void res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="test",scope="repository:lib/up:pull"` }).end();
    }
    const m = /^\/v2\/(.+?)\/(blobs\/uploads\/(.*)|blobs\/(sha256:[a-f0-9]{64})|manifests\/(.+))$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end();
    const repo = m[1]!;
    const blobs = repos.get(repo) ?? repos.set(repo, new Map()).get(repo)!;
    if (m[4] && req.method === 'HEAD') {
      if (hostile === 'head-size') return void res.writeHead(200, { 'content-length': 1 }).end();
      const b = blobs.get(m[4]);
      return void (b ? res.writeHead(200, { 'content-length': b.length, 'docker-content-digest': m[4] }).end() : res.writeHead(404).end());
    }
    const session = m[3];
    const location = (id: string): string => `${elsewhere ?? ''}/v2/${repo}/blobs/uploads/${id}?_state=s${uploads.get(id)?.length ?? 0}`;
    if (session === '' && req.method === 'POST') {
      const mount = url.searchParams.get('mount');
      const from = repos.get(url.searchParams.get('from') ?? '');
      if (mount && from?.has(mount)) {
        blobs.set(mount, from.get(mount)!);
        return void res.writeHead(201, { location: `/v2/${repo}/blobs/${mount}` }).end();
      }
      const id = randomBytes(4).toString('hex');
      uploads.set(id, Buffer.alloc(0));
      return void res.writeHead(202, { location: location(id), range: '0-0' }).end();
    }
    if (session && uploads.has(session)) {
      const got = await body(req);
      if (req.method === 'DELETE') return void (uploads.delete(session), res.writeHead(204).end());
      const sofar = uploads.get(session)!;
      if (req.method === 'PATCH') {
        onPatch?.();
        // A registry that lets anyone start an upload but answers the bytes with 401, unread.
        if (hostile === 'patch-401') return void res.writeHead(401, { connection: 'close', 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        if (hostile === 'slow-patch') await new Promise((r) => setTimeout(r, 200));
        const range = /^(\d+)-(\d+)$/.exec(String(req.headers['content-range']));
        if (!range || Number(range[1]) !== sofar.length || Number(range[2]) !== sofar.length + got.length - 1) return void res.writeHead(416).end();
        uploads.set(session, Buffer.concat([sofar, got]));
        return void res.writeHead(202, { location: location(session), range: `0-${sofar.length + got.length - 1}` }).end();
      }
      if (req.method === 'PUT') {
        const whole = Buffer.concat([sofar, got]);
        const digest = url.searchParams.get('digest');
        if (hostile === 'silent-put') return;
        if (hostile === 'endless-error') return void (res.writeHead(500, { 'content-type': 'application/json' }), res.write(Buffer.alloc(64 * 1024, 0x20)));
        if (failPut) return void res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'storage full\u001b[2J\nsecond line' }] }));
        if (digest !== sha(whole)) return void res.writeHead(400).end(JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'digest did not match' }] }));
        uploads.delete(session);
        blobs.set(digest, whole);
        return void res.writeHead(201, { location: `/v2/${repo}/blobs/${digest}`, 'docker-content-digest': digest }).end();
      }
    }
    if (m[5] && req.method === 'PUT') {
      const b = await body(req);
      const manifest = JSON.parse(b.toString()) as { config: { digest: string }; layers: { digest: string }[] };
      // As distribution does: every blob the manifest names must be in the repository.
      if (![manifest.config, ...manifest.layers].every((d) => blobs.has(d.digest))) return void res.writeHead(400).end(JSON.stringify({ errors: [{ code: 'MANIFEST_BLOB_UNKNOWN' }] }));
      tags.set(`${repo}:${m[5]}`, { type: String(req.headers['content-type']), body: b });
      return void res.writeHead(201, { 'docker-content-digest': sha(b) }).end();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => {
  server.closeAllConnections(); // the held-open responses of the hostile tests
  server.close(() => r());
}));

let dir: string;
let store: Store;
/** The image in the cache: a small layer, a 40 KiB one that does not compress (three chunks), a config. */
let image: { manifest: Buffer; small: Buffer; big: Buffer; config: Buffer };
const NAME = 'boxlab.local/up:1';
beforeEach(async () => {
  dir = tempDir();
  store = new Store(join(dir, 'images')).init();
  repos = new Map();
  tags = new Map();
  uploads = new Map();
  requests = [];
  scopes = [];
  elsewhere = undefined;
  failPut = false;
  hostile = undefined;
  onPatch = undefined;
  const smallTar = await tarOf([{ name: 'etc/hello', body: 'pushed' }]);
  const bigTar = await tarOf([{ name: 'noise', body: randomBytes(40 * 1024) }]);
  const small = gzipSync(smallTar);
  const big = gzipSync(bigTar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [sha(smallTar), sha(bigTar)] } }));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: sha(config), size: config.length }, layers: [small, big].map((l) => ({ mediaType: MEDIA.ociLayerGzip, digest: sha(l), size: l.length })) }));
  for (const b of [small, big, config, manifest]) store.putBytes(b);
  store.tag(NAME, { mediaType: MEDIA.ociManifest, digest: sha(manifest), size: manifest.length });
  image = { manifest, small, big, config };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const dest = (tag = '1', repo = 'lib/up'): string => `127.0.0.1:${port}/${repo}:${tag}`;
const opts = () => ({ store, progress: progressTo(process.stderr, true), plainHttp: true, chunkBytes: CHUNK });

describe('boxlab push against a registry on loopback', () => {
  it('asks for a push,pull token, sends small blobs in one PUT and the big one in Content-Range chunks, the manifest last, by tag', async () => {
    const r = await push(NAME, dest(), opts());
    expect(scopes).toEqual(['repository:lib/up:push,pull']);
    expect(r).toMatchObject({ name: dest(), digest: sha(image.manifest), existing: 0, mounted: 0 });
    expect(r.uploaded).toBe(image.small.length + image.big.length + image.config.length);
    const up = repos.get('lib/up')!;
    for (const b of [image.small, image.big, image.config]) expect(up.get(sha(b))?.equals(b)).toBe(true);
    expect(tags.get('lib/up:1')).toEqual({ type: MEDIA.ociManifest, body: image.manifest });
    // The big layer (over the chunk size) went up as PATCHes with exact, contiguous ranges.
    const n = image.big.length;
    expect(n).toBeGreaterThan(2 * CHUNK);
    expect(requests.filter((q) => q.startsWith('PATCH'))).toEqual([`0-${CHUNK - 1}`, `${CHUNK}-${2 * CHUNK - 1}`, `${2 * CHUNK}-${n - 1}`].map((range) => expect.stringMatching(new RegExp(` ${range}$`))));
    expect(requests.at(-1)).toBe('PUT /v2/lib/up/manifests/1');
  });

  it('skips the blobs the registry has: a second push uploads 0 bytes and sends only HEADs and the manifest', async () => {
    await push(NAME, dest(), opts());
    requests = [];
    const lines: string[] = [];
    const r = await push(NAME, dest('2'), { ...opts(), trace: (l) => lines.push(l) });
    expect(r).toMatchObject({ uploaded: 0, existing: 3 });
    expect(requests.filter((q) => !q.startsWith('HEAD') && q !== 'GET /token' && !q.startsWith('GET /token'))).toEqual(['PUT /v2/lib/up/manifests/2']);
    expect(tags.get('lib/up:2')?.body.equals(image.manifest)).toBe(true);
    // --verbose: each request and its status, the 401 that started the token flow among them.
    expect(lines[0]).toMatch(/^HEAD \/v2\/lib\/up\/blobs\/sha256:[a-f0-9]{64} 401$/);
    expect(lines).toContain('PUT /v2/lib/up/manifests/2 201');
    expect(lines.filter((l) => / 200$/.test(l) && l.startsWith('HEAD'))).toHaveLength(3);
  });

  it('mounts blobs from another repository of the same registry instead of sending them', async () => {
    await push(NAME, dest('1', 'lib/up'), opts());
    // The image as pulled from lib/up: same registry, so its blobs can be mounted into lib/other.
    store.tag(dest(), { mediaType: MEDIA.ociManifest, digest: sha(image.manifest), size: image.manifest.length });
    requests = [];
    scopes = [];
    const r = await push(dest(), dest('1', 'lib/other'), opts());
    // The token covers pulling from the source repository too, as a mount needs.
    expect(scopes).toEqual(['repository:lib/other:push,pull', 'repository:lib/up:pull']);
    expect(r).toMatchObject({ uploaded: 0, existing: 0, mounted: 3 });
    expect(requests.filter((q) => q.startsWith('POST'))).toHaveLength(3);
    expect(requests.some((q) => q.startsWith('PUT /v2/lib/other/blobs') || q.startsWith('PATCH'))).toBe(false);
    expect(repos.get('lib/other')?.get(sha(image.big))?.equals(image.big)).toBe(true);
    expect(tags.get('lib/other:1')?.body.equals(image.manifest)).toBe(true);
  });

  it('refuses an upload Location on another host, before any byte of the blob is sent there', async () => {
    elsewhere = 'http://127.0.0.2:9';
    await refusedInOneLine(push(NAME, dest(), opts()), /sends the upload to http:\/\/127\.0\.0\.2:9, not to http:\/\/127\.0\.0\.1:\d+: refused/);
    expect(requests.some((q) => q.startsWith('PUT') || q.startsWith('PATCH'))).toBe(false);
    expect(tags.size).toBe(0);
  });

  it('a failing PUT: one line with the registry\'s error, escaped; the session dropped; no tag', async () => {
    failPut = true;
    await refusedInOneLine(push(NAME, dest(), opts()), /^127\.0\.0\.1:\d+ refused blob sha256:[a-f0-9]{64} \(HTTP 500: UNKNOWN storage full\\x1b\[2J\\x0asecond line\)$/);
    expect(requests.filter((q) => q.startsWith('DELETE'))).toHaveLength(1);
    expect(uploads.size).toBe(0);
    expect(tags.size).toBe(0);
  });

  it('a destination by digest, or an image not in the cache: one line each', async () => {
    await expect(push(NAME, `${dest()}@sha256:${'a'.repeat(64)}`, opts())).rejects.toThrow(/push sends to a tag, not to a digest/);
    await refusedInOneLine(push('boxlab.local/none:1', dest(), opts()), /no image boxlab\.local\/none:1 in the cache/);
    expect(requests).toEqual([]);
  });

  it('a registry that never answers a PUT, sends an error without end, or names another size for a blob: one line each, no tag', async () => {
    const lim = { ...opts(), limits: { windowMs: 300, jsonBytes: 4096 } };
    hostile = 'silent-put';
    await refusedInOneLine(push(NAME, dest(), lim), /^127\.0\.0\.1:\d+ did not answer within 0\.3 s: gave up$/);
    hostile = 'endless-error';
    await refusedInOneLine(push(NAME, dest(), lim), /^127\.0\.0\.1:\d+ refused blob sha256:[a-f0-9]{64} \(HTTP 500\)$/);
    hostile = 'patch-401';
    await refusedInOneLine(push(NAME, dest(), lim), /^127\.0\.0\.1:\d+ refused bytes 0-16383 of blob sha256:[a-f0-9]{64} \(HTTP 401: UNAUTHORIZED authentication required\) \(boxlab pushes anonymously only: to a registry that lets anyone push\)$/);
    hostile = 'head-size';
    await refusedInOneLine(push(NAME, dest(), lim), /^127\.0\.0\.1:\d+ has blob sha256:[a-f0-9]{64} at 1 bytes, but it is \d+: refused$/);
    expect(tags.size).toBe(0);
  });

  it('interrupted in the middle of a chunked upload (SIGINT aborts the signal): it stops there, and the registry has no tag', async () => {
    hostile = 'slow-patch';
    const ac = new AbortController();
    onPatch = () => ac.abort();
    const err = await push(NAME, dest(), { ...opts(), signal: ac.signal }).then(() => undefined, (e: Error) => e);
    expect(err?.name).toBe('AbortError');
    // The small layer went up whole before; after the first PATCH of the big one, nothing more.
    const patch = requests.findIndex((q) => q.startsWith('PATCH'));
    expect(requests.slice(patch).filter((q) => !q.startsWith('DELETE'))).toHaveLength(1);
    expect(repos.get('lib/up')?.has(sha(image.small))).toBe(true);
    expect(tags.size).toBe(0);
  });
});

describe('an upload to a registry that stops reading it', () => {
  it('is cut off in one line once a window brings fewer than minBytes', async () => {
    // Never reads the request body: the socket's buffers fill, then nothing more moves.
    const deaf = createServer(() => undefined);
    await new Promise<void>((r) => deaf.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(deaf.address() as { port: number }).port}/v2/x/blobs/uploads/1`;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) yield Buffer.alloc(64 * 1024);
    }
    const started = Date.now();
    await refusedInOneLine(request('PATCH', url, {}, { body: Readable.from(endless()), limits: limits({ windowMs: 300 }) }), /^127\.0\.0\.1:\d+ took fewer than 16384 bytes in 0\.3 s: too slow, gave up$/);
    expect(Date.now() - started).toBeLessThan(3000);
    deaf.closeAllConnections();
    await new Promise<void>((r) => deaf.close(() => r()));
  });
});

