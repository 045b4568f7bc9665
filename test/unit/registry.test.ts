// The distribution client over real HTTP on loopback, against a small server that behaves as
// Docker Hub does: 401 with a Bearer challenge, an anonymous token endpoint, an index per platform.
import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pull } from '../../rootfs-fetch/pull.js';
import { parseReference, canonical } from '../../rootfs-fetch/reference.js';
import { checkRealm, parseChallenge, Registry } from '../../rootfs-fetch/registry.js';
import { Store } from '../../rootfs-fetch/store.js';
import { progressTo } from '../../rootfs-fetch/progress-bars.js';
import { MEDIA } from '../../rootfs-fetch/manifest.js';
import { RealRunner } from '../../src/shell/spawn.js';
import { EnvError } from '../../src/errors.js';
import { refusedInOneLine, tempDir } from './helpers.js';
import { tarOf } from './layer-archives.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const asRoot = process.geteuid?.() === 0;

let server: Server;
let port: number;
const blobs = new Map<string, Buffer>();
const manifests = new Map<string, { type: string; body: Buffer }>();
let requests: string[] = [];
let tokenStatus = 200;
let corrupt: string | undefined;
/** How the layer blob is mis-sent: a Content-Length other than the manifest's size, or a chunked body too long or too short. */
let mangle: 'length' | 'longer' | 'shorter' | 'trickle' | undefined;
/** The token realm the 401 challenge names (default: this server's /token). */
let realm: string | undefined;
/** The token endpoint answers with a body far over any limit, and never ends it. */
let tokenHuge = false;
/** The 401's WWW-Authenticate, when not the usual Bearer challenge. */
let challenge: string | undefined;
/** What a hostile registry puts in the strings boxlab prints: a screen clear, and 10 kB. */
const PAINT = '\u001b[2J';
const LONG = 'A'.repeat(10_000);
/** The token endpoint's body, when not the usual {"token": ...}. */
let tokenBody: string | undefined;
/** Valid JSON that is no object, and text that is no JSON: what a manifest, config or token answer must not be. */
const NOT_OBJECTS = [['null', 'null'], ['[]', 'a JSON array'], ['"x"', 'a JSON string'], ['42', 'a JSON number']] as const;
/** lib/tiny:1's layer and config: the sizes its manifest declares. */
let tiny: { layer: string; layerSize: number; configSize: number };

/** One byte every 50 ms, `total` of them (at most 10 s): a registry that trickles. */
function trickle(res: ServerResponse, bytes: Buffer): void {
  let i = 0;
  const t = setInterval(() => (i < bytes.length ? res.write(bytes.subarray(i, ++i)) : (clearInterval(t), res.end())), 50);
  res.on('close', () => clearInterval(t));
}
/** Writes `size` bytes and then holds the response open: only a client that stops reading returns. */
function endless(res: ServerResponse, size: number): void {
  res.write(Buffer.alloc(size, 0x20));
}

beforeAll(async () => {
  const layerTar = await tarOf([{ name: 'etc/hello', body: 'from the registry' }]);
  const layer = gzipSync(layerTar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [sha(layerTar)] } }));
  for (const b of [layer, config]) blobs.set(sha(b), b);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.dockerManifest, config: { mediaType: MEDIA.dockerConfig, digest: sha(config), size: config.length }, layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha(layer), size: layer.length }] }));
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.dockerList, manifests: [
    { mediaType: MEDIA.dockerManifest, digest: 'sha256:' + 'a'.repeat(64), size: 10, platform: { os: 'linux', architecture: 's390x' } },
    { mediaType: MEDIA.dockerManifest, digest: sha(manifest), size: manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
  ] }));
  manifests.set('lib/tiny:1', { type: MEDIA.dockerList, body: index });
  manifests.set(`lib/tiny:${sha(manifest)}`, { type: MEDIA.dockerManifest, body: manifest });
  tiny = { layer: sha(layer), layerSize: layer.length, configSize: config.length };
  // The same image, but its manifest declares the layer to be 1 TiB.
  manifests.set('lib/tiny:terabyte', { type: MEDIA.ociManifest, body: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: sha(config), size: config.length }, layers: [{ mediaType: MEDIA.ociLayerGzip, digest: sha(layer), size: 1024 ** 4 }] })) });
  // The same layer under a config that promises another diff_id (an OCI manifest, no index).
  const lying = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(Buffer.from('another tar'))] } }));
  blobs.set(sha(lying), lying);
  manifests.set('lib/tiny:lying', { type: MEDIA.ociManifest, body: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: sha(lying), size: lying.length }, layers: [{ mediaType: MEDIA.ociLayerGzip, digest: sha(layer), size: layer.length }] })) });

  // Hostile images: a diff_id that climbs out of the layers directory, a layer digest that is
  // a path, a config of a type no image has, an index entry that is a path.
  const hostile = (tag: string, diffIds: string[], o: { configType?: string; layerDigest?: string } = {}): void => {
    const c = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }));
    blobs.set(sha(c), c);
    const m = { schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: o.configType ?? MEDIA.ociConfig, digest: sha(c), size: c.length }, layers: [{ mediaType: MEDIA.ociLayerGzip, digest: o.layerDigest ?? sha(layer), size: layer.length }] };
    manifests.set(`lib/tiny:${tag}`, { type: MEDIA.ociManifest, body: Buffer.from(JSON.stringify(m)) });
  };
  hostile('diffid-etc', ['sha256:../../../../../../../../etc']);
  hostile('diffid-beside', ['sha256:../escape/x']);
  hostile('digest-path', [sha(layerTar)], { layerDigest: 'sha256:../../../../../../../../etc' });
  hostile('digest-upper', [sha(layerTar)], { layerDigest: sha(layer).toUpperCase().replace('SHA256', 'sha256') });
  hostile('config-type', [sha(layerTar)], { configType: 'application/vnd.example.not-a-config+json' });
  const badIndex = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [{ mediaType: MEDIA.ociManifest, digest: 'sha256:../../../../x', size: 10, platform: { os: 'linux', architecture: 'amd64' } }] };
  manifests.set('lib/tiny:index-path', { type: MEDIA.ociIndex, body: Buffer.from(JSON.stringify(badIndex)) });
  // An index whose platform names would clear the screen, and run on for 10 kB.
  const painted = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [
    { mediaType: MEDIA.ociManifest, digest: 'sha256:' + 'a'.repeat(64), size: 10, platform: { os: `linux${PAINT}`, architecture: 'arm64' } },
    { mediaType: MEDIA.ociManifest, digest: 'sha256:' + 'a'.repeat(64), size: 10, platform: { os: 'linux', architecture: LONG } },
    { mediaType: MEDIA.ociManifest, digest: 'sha256:' + 'a'.repeat(64), size: 10, platform: { os: { toString: 1 }, architecture: 'x' } },
  ] };
  manifests.set('lib/tiny:painted', { type: MEDIA.ociIndex, body: Buffer.from(JSON.stringify(painted)) });
  // A config descriptor over the 4 MiB boxlab reads into memory.
  const big = { schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: sha(config), size: 5 * 1024 * 1024 }, layers: [{ mediaType: MEDIA.ociLayerGzip, digest: sha(layer), size: layer.length }] };
  // A decompression bomb: 16 MiB of zeros in a gzip of a few KiB.
  const bombTar = await tarOf([{ name: 'zeros', body: Buffer.alloc(16 * 1024 * 1024) }]);
  const bomb = gzipSync(bombTar);
  blobs.set(sha(bomb), bomb);
  const bombConfig = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(bombTar)] } }));
  blobs.set(sha(bombConfig), bombConfig);
  manifests.set('lib/tiny:bomb', { type: MEDIA.ociManifest, body: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: sha(bombConfig), size: bombConfig.length }, layers: [{ mediaType: MEDIA.ociLayerGzip, digest: sha(bomb), size: bomb.length }] })) });
  // A layer whose pax header (a 4 MiB path) is over what tar-stream reads into memory.
  const paxTar = await tarOf([{ name: 'ok', body: 'x' }, { name: 'p'.repeat(4 * 1024 * 1024 + 1), body: 'x' }]);
  const pax = gzipSync(paxTar);
  blobs.set(sha(pax), pax);
  const paxConfig = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(paxTar)] } }));
  blobs.set(sha(paxConfig), paxConfig);
  manifests.set('lib/tiny:pax', { type: MEDIA.ociManifest, body: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: sha(paxConfig), size: paxConfig.length }, layers: [{ mediaType: MEDIA.ociLayerGzip, digest: sha(pax), size: pax.length }] })) });
  manifests.set('lib/tiny:config-big', { type: MEDIA.ociManifest, body: Buffer.from(JSON.stringify(big)) });
  // Manifests and configs that are JSON but no object, or no JSON at all.
  for (const [i, [json]] of [...NOT_OBJECTS, ['{not json'] as const].entries()) {
    manifests.set(`lib/tiny:not-object-${i}`, { type: MEDIA.ociManifest, body: Buffer.from(json) });
    const c = Buffer.from(json);
    blobs.set(sha(c), c);
    manifests.set(`lib/tiny:config-not-object-${i}`, { type: MEDIA.ociManifest, body: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: sha(c), size: c.length }, layers: [{ mediaType: MEDIA.ociLayerGzip, digest: sha(layer), size: layer.length }] })) });
  }

  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    if (url.pathname === '/token') {
      if (tokenHuge) return void (res.writeHead(200, { 'content-type': 'application/json' }), endless(res, 128 * 1024));
      if (tokenBody !== undefined) return void res.writeHead(200, { 'content-type': 'application/json' }).end(tokenBody);
      if (tokenStatus !== 200 || url.searchParams.get('scope') !== 'repository:lib/tiny:pull') return void res.writeHead(tokenStatus === 200 ? 403 : tokenStatus).end();
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'T0KEN' }));
    }
    if (req.headers.authorization !== 'Bearer T0KEN') {
      if (challenge !== undefined) return void res.writeHead(401, { 'www-authenticate': challenge }).end();
      return void res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm ?? `http://127.0.0.1:${port}/token`}",service="test",scope="repository:lib/tiny:pull"` }).end();
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
    if (m && m[2] === 'manifests') {
      // Misbehaving registries: a body over any limit (chunked, or announced), a trickle, silence.
      if (m[3] === 'huge') return void (res.writeHead(200, { 'content-type': MEDIA.ociManifest }), endless(res, 128 * 1024));
      if (m[3] === 'huge-length') return void (res.writeHead(200, { 'content-type': MEDIA.ociManifest, 'content-length': 100 * 1024 * 1024 }), endless(res, 1024));
      if (m[3] === 'trickle') return void (res.writeHead(200, { 'content-type': MEDIA.ociManifest }), trickle(res, Buffer.alloc(200, 0x20)));
      if (m[3] === 'silent') return;
      const found = manifests.get(`${m[1]}:${m[3]}`);
      if (!found) return void res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      return void res.writeHead(200, { 'content-type': found.type }).end(found.body);
    }
    if (m && m[2] === 'blobs' && blobs.has(m[3]!)) {
      let body = blobs.get(m[3]!)!;
      if (corrupt === m[3]) (body = Buffer.from(body))[body.length - 5] ^= 0xff;
      if (mangle === 'trickle' && body[0] === 0x1f) return void (res.writeHead(200, { 'content-length': body.length }), trickle(res, body));
      if (mangle && body[0] === 0x1f) {
        if (mangle === 'length') return void res.writeHead(200, { 'content-length': body.length + 1 }).end(Buffer.concat([body, Buffer.from('x')]));
        res.writeHead(200); // no Content-Length: chunked, so only the bytes themselves tell
        res.write(body.subarray(0, 10));
        return void res.end(mangle === 'longer' ? Buffer.concat([body.subarray(10), Buffer.alloc(100)]) : body.subarray(10, body.length - 10));
      }
      return void res.writeHead(200, { 'content-length': body.length }).end(body);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => {
  server.closeAllConnections(); // the held-open responses of the limit tests
  server.close(() => r());
}));

let dir: string;
let store: Store;
beforeEach(() => {
  dir = tempDir();
  store = new Store(join(dir, 'images')).init();
  requests = [];
  tokenStatus = 200;
  corrupt = undefined;
  mangle = undefined;
  realm = undefined;
  tokenHuge = false;
  tokenBody = undefined;
  challenge = undefined;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const opts = () => ({ store, runner: new RealRunner(), progress: progressTo(process.stderr, true), plainHttp: true, layersRoot: join(dir, 'layers'), platform: { os: 'linux', architecture: 'amd64' } });
/** A loopback port nothing listens on: one the kernel just gave out and we closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}
/** Nothing but the cache's own directories in the test's folder, and no layer unpacked. */
function nothingOutsideTheCache(): void {
  expect(readdirSync(dir).filter((n) => n !== 'images' && n !== 'layers')).toEqual([]);
  if (existsSync(join(dir, 'layers'))) expect(readdirSync(join(dir, 'layers'))).toEqual([]);
}
const blobFiles = () => readdirSync(store.blobs).length + readdirSync(store.tmp).length;

describe('references', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['registry.example/org/name:tag', 'registry.example/org/name:tag'],
    ['127.0.0.1:5000/name:tag', '127.0.0.1:5000/name:tag'],
    ['localhost/a/b', 'localhost/a/b:latest'],
    [`name@sha256:${'b'.repeat(64)}`, `docker.io/library/name@sha256:${'b'.repeat(64)}`],
  ])('%s is %s', (text, full) => expect(canonical(parseReference(text))).toBe(full));

  it.each(['', 'UPPER:1', 'a/:x', 'name@sha256:123', 'name:bad tag', 'a//b'])("'%s' is refused with a usage line", (text) => {
    expect(() => parseReference(text)).toThrow(/is not an image reference/);
  });

  it('reads a Bearer challenge', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual({ realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' });
    expect(parseChallenge('Basic realm="x"')).toBeUndefined();
  });
});

describe.skipIf(!asRoot)('pulling over HTTP on loopback (root: layers are unpacked with their owners)', () => {
  it('takes a token, picks this platform from the index, verifies and unpacks the layer', async () => {
    const r = await pull(`127.0.0.1:${port}/lib/tiny:1`, opts());
    expect(requests.filter((q) => q === 'GET /token')).toHaveLength(1);
    expect(r.image.layers).toHaveLength(1);
    expect(r.layerBytes).toBe(r.image.layers[0]!.size);
    expect(existsSync(join(r.image.layers[0]!.dir, 'etc/hello'))).toBe(true);
    expect(store.find(`127.0.0.1:${port}/lib/tiny:1`)).toBeDefined();
  });

  it('after a pull into a fresh cache, the cache root, images/ and layers/ are 0700', async () => {
    const cache = join(dir, 'cache');
    const fresh = new Store(join(cache, 'images')).init();
    await pull(`127.0.0.1:${port}/lib/tiny:1`, { ...opts(), store: fresh, layersRoot: join(cache, 'layers') });
    for (const d of [cache, join(cache, 'images'), join(cache, 'layers')]) expect([d, statSync(d).mode & 0o7777]).toEqual([d, 0o700]);
  });

  it('a second pull transfers no layer bytes', async () => {
    await pull(`127.0.0.1:${port}/lib/tiny:1`, opts());
    requests = [];
    const again = await pull(`127.0.0.1:${port}/lib/tiny:1`, opts());
    expect(again.layerBytes).toBe(0);
    expect(requests.filter((q) => q.includes('/blobs/'))).toEqual([]);
  });

  it('a corrupted blob is caught by its digest and nothing is cached', async () => {
    const layerDigest = [...blobs.keys()].find((d) => blobs.get(d)![0] === 0x1f)!;
    corrupt = layerDigest;
    await expect(pull(`127.0.0.1:${port}/lib/tiny:1`, opts())).rejects.toThrow(/does not match its digest/);
    expect(store.has(layerDigest)).toBe(false);
    expect(readdirSync(store.tmp)).toEqual([]);
    expect(store.index()).toEqual([]);
  });

  it.each([
    ['length', /the registry sends \d+ bytes, the manifest says \d+: nothing was cached/],
    ['longer', /is larger than the \d+ bytes its descriptor says: nothing was cached/],
    ['shorter', /ended after \d+ of \d+ bytes: nothing was cached/],
  ] as const)('a blob of the wrong size (%s) is refused before its digest is trusted; nothing is cached', async (how, message) => {
    mangle = how;
    await expect(pull(`127.0.0.1:${port}/lib/tiny:1`, opts())).rejects.toThrow(message);
    expect(readdirSync(store.tmp)).toEqual([]);
    expect(store.index()).toEqual([]);
    expect(existsSync(join(dir, 'layers'))).toBe(false);
  });

  it("a layer whose tar is not the config's diff_id is rejected; nothing is tagged or unpacked", async () => {
    await expect(pull(`127.0.0.1:${port}/lib/tiny:lying`, opts())).rejects.toThrow(/unpacks to sha256:[0-9a-f]{64}, but the image config says sha256:/);
    expect(store.index()).toEqual([]);
    expect(readdirSync(join(dir, 'layers'))).toEqual([]);
  });

  it('an unknown image, a refused token and no registry each give one clear line', async () => {
    await expect(pull(`127.0.0.1:${port}/lib/tiny:2`, opts())).rejects.toThrow(/^no such image: 127\.0\.0\.1:\d+\/lib\/tiny:2/);
    tokenStatus = 401;
    await expect(pull(`127.0.0.1:${port}/lib/tiny:1`, opts())).rejects.toThrow(/refused an anonymous token/);
    const closed = await closedPort();
    await expect(pull(`127.0.0.1:${closed}/lib/tiny:1`, opts())).rejects.toThrow(new RegExp(`cannot reach 127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\)`));
    expect(blobFiles()).toBe(0);
  });

  it('a platform the index lacks is named, with what it has', async () => {
    await expect(pull(`127.0.0.1:${port}/lib/tiny:1`, { ...opts(), platform: { os: 'linux', architecture: 'riscv64' } })).rejects.toThrow(/has no linux\/riscv64 image \(it has: linux\/s390x, linux\/amd64\)/);
  });
});

describe.skipIf(!asRoot)('hostile images: every digest is checked before it is used', () => {
  it.each(['diffid-etc', 'diffid-beside'])("a config whose diff_id climbs out of the cache (%s) is refused in one line; nothing is tagged or made outside the cache", async (tag) => {
    await refusedInOneLine(pull(`127.0.0.1:${port}/lib/tiny:${tag}`, opts()), /diff_id "sha256:\.\..*" is not a sha256 digest/);
    expect(store.index()).toEqual([]);
    nothingOutsideTheCache();
  });

  it.each(['digest-path', 'digest-upper'])('a manifest whose layer digest is not one (%s) is refused as it is read, before any blob is asked for', async (tag) => {
    await refusedInOneLine(pull(`127.0.0.1:${port}/lib/tiny:${tag}`, opts()), /layer digest ".*" is not a sha256 digest/);
    expect(requests.filter((q) => q.includes('/blobs/'))).toEqual([]);
    expect(store.index()).toEqual([]);
    nothingOutsideTheCache();
  });

  it('a config of an unknown media type is refused in one line', async () => {
    await refusedInOneLine(pull(`127.0.0.1:${port}/lib/tiny:config-type`, opts()), /config has media type "application\/vnd\.example\.not-a-config\+json", which boxlab does not read/);
    expect(requests.filter((q) => q.includes('/blobs/'))).toEqual([]);
  });

  it('an index entry whose digest is a path is refused before it is asked for', async () => {
    await refusedInOneLine(pull(`127.0.0.1:${port}/lib/tiny:index-path`, opts()), /manifest digest "sha256:\.\..*" is not a sha256 digest/);
    expect(requests.filter((q) => q !== 'GET /token' && !q.endsWith('/manifests/index-path'))).toEqual([]);
  });
});

describe('token realms', () => {
  it.each(['https://auth.example.com/token', 'http://127.0.0.1:5000/token', 'http://127.8.9.10/token', 'http://localhost:5000/token', 'http://[::1]:5000/token'])('%s is accepted', (r) => {
    expect(checkRealm(r, 'registry.example.com').href).toBe(new URL(r).href);
  });

  it.each(['http://auth.example.com/token', 'http://0.0.0.0:5000/token', 'http://127.0.0.1.example.com/token', 'http://10.0.0.1/token', 'ftp://127.0.0.1/token', 'file:///etc/passwd', 'not a url'])('%s is refused in one line', (r) => {
    expect(() => checkRealm(r, 'registry.example.com')).toThrow(/^registry\.example\.com: the token realm ".*" is neither https nor on this machine: refused$/);
  });
});

describe.skipIf(!asRoot)('limits: a registry cannot make a pull read without end, or wait forever', () => {
  const elapsed = async (p: Promise<unknown>, re: RegExp): Promise<number> => {
    const t0 = Date.now();
    await refusedInOneLine(p, re);
    return Date.now() - t0;
  };
  const small = () => ({ ...opts(), limits: { jsonBytes: 64 * 1024 } });
  const slow = () => ({ ...opts(), limits: { windowMs: 500, minBytes: 64 } });

  it.each(['huge', 'huge-length'])('a manifest or index over the limit (%s) is refused before it is all read', async (tag) => {
    const ms = await elapsed(pull(`127.0.0.1:${port}/lib/tiny:${tag}`, small()), /the response is over 65536 bytes, more than any manifest, index, config or token: refused/);
    expect(ms).toBeLessThan(3000);
    expect(store.index()).toEqual([]);
  });

  it('a token response over the limit is refused before it is all read', async () => {
    tokenHuge = true;
    await elapsed(pull(`127.0.0.1:${port}/lib/tiny:1`, small()), /the response is over 65536 bytes/);
  });

  it('a config descriptor over the limit is refused before the config is asked for', async () => {
    await refusedInOneLine(pull(`127.0.0.1:${port}/lib/tiny:config-big`, opts()), /the config is 5242880 bytes, over the 4194304 boxlab reads: refused/);
    expect(requests.filter((q) => q.includes('/blobs/'))).toEqual([]);
  });

  it('a manifest that trickles (a byte every 50 ms) is given up on after one window', async () => {
    const ms = await elapsed(pull(`127.0.0.1:${port}/lib/tiny:trickle`, slow()), /^127\.0\.0\.1:\d+ sent fewer than 64 bytes in 0\.5 s: too slow, gave up$/);
    expect(ms).toBeLessThan(3000);
  });

  it('a layer blob that trickles is given up on, and nothing of it is kept', async () => {
    mangle = 'trickle';
    const ms = await elapsed(pull(`127.0.0.1:${port}/lib/tiny:1`, slow()), /sent fewer than 64 bytes in 0\.5 s: too slow, gave up/);
    expect(ms).toBeLessThan(3000);
    expect(readdirSync(store.tmp)).toEqual([]);
    expect(store.index()).toEqual([]);
  });

  it('a registry that never answers is given up on after one window', async () => {
    const ms = await elapsed(pull(`127.0.0.1:${port}/lib/tiny:silent`, slow()), /^127\.0\.0\.1:\d+ did not answer within 0\.5 s: gave up$/);
    expect(ms).toBeLessThan(3000);
  });

  it('a layer that expands past the cap is refused, its partial directory removed, nothing tagged', async () => {
    await refusedInOneLine(pull(`127.0.0.1:${port}/lib/tiny:bomb`, { ...opts(), limits: { unpackBytes: 1024 * 1024 } }), /^layer sha256:[0-9a-f]{64} rejected: the image's layers expand to more than 1048576 bytes: refused$/);
    expect(readdirSync(join(dir, 'layers'))).toEqual([]);
    expect(store.index()).toEqual([]);
  });

  it("a layer whose pax header is over the tar parser's cap is refused in one line; its partial directory removed, nothing tagged", async () => {
    await refusedInOneLine(pull(`127.0.0.1:${port}/lib/tiny:pax`, opts()), /^layer sha256:[0-9a-f]{64} rejected: a pax or long-name header is larger than the tar parser accepts: refused$/);
    expect(readdirSync(join(dir, 'layers'))).toEqual([]);
    expect(store.index()).toEqual([]);
  });

  it('a token realm over plain HTTP off loopback is refused, and never asked', async () => {
    realm = `http://0.0.0.0:${port}/token`;
    await refusedInOneLine(pull(`127.0.0.1:${port}/lib/tiny:1`, opts()), /the token realm "http:\/\/0\.0\.0\.0:\d+\/token" is neither https nor on this machine: refused/);
    expect(requests).not.toContain('GET /token');
  });
});

describe('declared sizes: a manifest cannot make a pull download until the disk is full', () => {
  const noBlobAskedFor = (): void => {
    expect(requests.filter((q) => q.includes('/blobs/'))).toEqual([]);
    expect(blobFiles()).toBe(0);
    expect(store.index()).toEqual([]);
    nothingOutsideTheCache();
  };

  it('a layer declared at 1 TiB is refused in one line naming its size and the cap, before any blob is asked for', async () => {
    await refusedInOneLine(pull(`127.0.0.1:${port}/lib/tiny:terabyte`, opts()), new RegExp(`^127\\.0\\.0\\.1:\\d+/lib/tiny:terabyte: layer ${tiny.layer} declares 1099511627776 bytes \\(1024\\.0 GiB\\), over the 4294967296 \\(4\\.0 GiB\\) boxlab downloads for one blob: refused$`));
    noBlobAskedFor();
  });

  it('a layer over a small cap for one blob is refused the same way', async () => {
    const cap = tiny.layerSize - 1;
    await refusedInOneLine(pull(`127.0.0.1:${port}/lib/tiny:1`, { ...opts(), limits: { blobBytes: cap } }), new RegExp(`: layer ${tiny.layer} declares ${tiny.layerSize} bytes \\(0\\.0 GiB\\), over the ${cap} \\(0\\.0 GiB\\) boxlab downloads for one blob: refused$`));
    noBlobAskedFor();
  });

  it("an image whose config and layers declare more than a small cap for the image, each under the cap for a blob, is refused with the sum and the cap", async () => {
    const total = tiny.configSize + tiny.layerSize;
    await refusedInOneLine(pull(`127.0.0.1:${port}/lib/tiny:1`, { ...opts(), limits: { imageBytes: total - 1 } }), new RegExp(`/lib/tiny:1: the image's config and 1 layer declare ${total} bytes in all \\(0\\.0 GiB\\), over the ${total - 1} \\(0\\.0 GiB\\) boxlab downloads for one image: refused$`));
    noBlobAskedFor();
  });

  it.skipIf(!asRoot)('an image exactly at the caps is pulled (root: it is unpacked)', async () => {
    const r = await pull(`127.0.0.1:${port}/lib/tiny:1`, { ...opts(), limits: { blobBytes: tiny.layerSize, imageBytes: tiny.configSize + tiny.layerSize } });
    expect(r.layerBytes).toBe(tiny.layerSize);
  });
});

describe('JSON that is not an object: one line saying what was expected, never an internal error', () => {
  const registry = () => new Registry(parseReference(`127.0.0.1:${port}/lib/tiny:1`), { plainHttp: true });

  it.each(NOT_OBJECTS.map(([json, kind], i) => [json, kind, i] as const))('a manifest that is %s', async (_, kind, i) => {
    await refusedInOneLine(registry().manifest(`not-object-${i}`), new RegExp(`^127\\.0\\.0\\.1:\\d+/lib/tiny:1: the registry's manifest is ${kind}, not a JSON object \\(an image manifest or index\\)$`));
  });

  it('a manifest that is not JSON', async () => {
    await refusedInOneLine(registry().manifest(`not-object-${NOT_OBJECTS.length}`), /the registry's manifest is not JSON, where a JSON object \(an image manifest or index\) was expected$/);
  });

  it.each(NOT_OBJECTS)('a token answer that is %s', async (json, kind) => {
    tokenBody = json;
    await refusedInOneLine(registry().manifest('1'), new RegExp(`^127\\.0\\.0\\.1:\\d+'s answer to the token request is ${kind}, not a JSON object with a token \\(\\{"token": "\\.\\.\\."\\}\\)$`));
  });

  it.each([...NOT_OBJECTS, ['{not json', 'not JSON']].map(([json, kind], i) => [json, kind, i] as const))('an image config that is %s; nothing is tagged', async (_, kind, i) => {
    await refusedInOneLine(pull(`127.0.0.1:${port}/lib/tiny:config-not-object-${i}`, opts()), new RegExp(`/lib/tiny:config-not-object-${i}: the image config is ${kind}`));
    expect(store.index()).toEqual([]);
    nothingOutsideTheCache();
  });
});

describe("a registry's words are printed escaped and cut short: it cannot paint the terminal", () => {
  /** No C0 or C1 control (ESC, CSI, CR...) and no DEL: nothing a terminal would act on. */
  const inert = (m: string) => expect(m).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);

  it('platform names in "it has: ..."', async () => {
    const err = (await pull(`127.0.0.1:${port}/lib/tiny:painted`, opts()).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(EnvError);
    expect(err.message).toMatch(/has no linux\/amd64 image \(it has: linux\\x1b\[2J\/arm64, linux\/A+\.\.\., \{"toString":1\}\/x\)$/);
    inert(err.message);
    expect(err.message.length).toBeLessThan(400);
  });

  it.each([
    ['a C1 CSI (the 8-bit ESC [; HTTP cannot carry ESC itself) and 10 kB', `Basic realm="\u009b2J${LONG}"`, /asks for credentials \(Basic realm="\\x9b2JA+\.\.\.\): boxlab pulls anonymously only$/],
    ['a Bearer challenge with no realm', `Bearer service="\u009b2J"`, /asks for credentials \(Bearer service="\\x9b2J"\)/],
  ])('the WWW-Authenticate challenge in "asks for credentials": %s', async (_, c, re) => {
    challenge = c;
    const err = (await pull(`127.0.0.1:${port}/lib/tiny:1`, opts()).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(EnvError);
    expect(err.message).toMatch(re);
    inert(err.message);
    expect(err.message.length).toBeLessThan(400);
  });
});
