// The image cache's own checks: every digest it turns into a path, and what it reads back
// from disk (index.json, cached manifests and configs) trusted no more than a registry.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainIds, checkDigest } from '../../rootfs-fetch/digest.js';
import { layerDir, listImages, loadImage, removeImage, sweepUnused, unpackLayer } from '../../rootfs-fetch/images.js';
import { MEDIA } from '../../rootfs-fetch/manifest.js';
import { Store } from '../../rootfs-fetch/store.js';
import { EnvError } from '../../src/errors.js';
import { imagesListing } from '../../src/commands/images.js';
import { RealRunner } from '../../src/shell/spawn.js';
import { tempDir } from './helpers.js';
import { tarOf } from './layer-archives.js';

const GOOD = `sha256:${'0123456789abcdef'.repeat(4)}`;
const BAD: unknown[] = ['sha256:../../../../etc', `sha256:${'A'.repeat(64)}`, `sha512:${'a'.repeat(128)}`, `sha256:${'a'.repeat(63)}`, `${GOOD}\n`, `${GOOD}/x`, `${GOOD}/../..`, 'sha256:', '', 42, null, undefined];

/** The call throws an EnvError whose message matches, on one line. */
function refusedInOneLine(f: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EnvError);
  expect((err as Error).message).toMatch(re);
  expect((err as Error).message).not.toContain('\n');
}

let dir: string;
let store: Store;
beforeEach(() => {
  dir = tempDir();
  store = new Store(join(dir, 'images')).init();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('digests', () => {
  it('sha256: and 64 lowercase hex digits is a digest', () => expect(checkDigest(GOOD, 'digest')).toBe(GOOD));

  it.each(BAD.map((b) => [JSON.stringify(b) ?? String(b), b]))('%s is refused in one line', (_, bad) => {
    refusedInOneLine(() => checkDigest(bad, 'layer digest'), /layer digest .* is not a sha256 digest/);
  });

  it("ChainIDs follow image-spec config.md: the first is the layer's diff_id, each next the sha256 of the one below, a space, its diff_id", () => {
    const [a, b, c] = ['a', 'b', 'c'].map((x) => `sha256:${x.repeat(64)}`) as [string, string, string];
    // Computed apart, with: printf '%s %s' "$below" "$diff_id" | sha256sum
    expect(chainIds([a, b, c])).toEqual([
      a,
      'sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c',
      'sha256:c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588',
    ]);
    expect(chainIds([])).toEqual([]);
  });

  it('layerDir and the store make no path of anything else', () => {
    expect(layerDir(GOOD, '/cache/layers')).toBe(`/cache/layers/${GOOD.slice(7)}`);
    for (const bad of BAD) {
      refusedInOneLine(() => layerDir(bad as string, '/cache/layers'), /diff_id .* is not a sha256 digest/);
      refusedInOneLine(() => store.path(bad as string), /is not a sha256 digest/);
    }
  });
});

describe('what the cache reads back', () => {
  /** An image put into the cache by hand, as an old boxlab or a careless edit might have left it. */
  function cached(config: object, layers = 1): void {
    const c = Buffer.from(JSON.stringify(config));
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: store.putBytes(c), size: c.length }, layers: Array.from({ length: layers }, () => ({ mediaType: MEDIA.ociLayerGzip, digest: GOOD, size: 1 })) }));
    store.tag('boxlab.local/evil:1', { mediaType: MEDIA.ociManifest, digest: store.putBytes(m), size: m.length });
  }
  const config = (diffIds: string[]) => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } });

  it("a cached config whose diff_id is a path is refused in one line that says how to remove it; no lowerdir is made of it", () => {
    cached(config(['sha256:../../../../etc']));
    refusedInOneLine(() => loadImage(store, 'boxlab.local/evil:1', join(dir, 'layers')), /^boxlab\.local\/evil:1: diff_id .* is not a sha256 digest.* \(in the cache: boxlab rmi boxlab\.local\/evil:1 removes it\)$/);
    const { images, unreadable } = listImages(store, join(dir, 'layers'));
    expect(images).toEqual([]);
    expect(unreadable.map((u) => [u.name, u.reason])).toEqual([['boxlab.local/evil:1', expect.stringMatching(/^diff_id "sha256:\.\.\/\.\.\/\.\.\/\.\.\/etc" is not a sha256 digest/)]]);
  });

  it.each([['{not json', 'is not JSON, where a JSON object was expected'], ['null', 'is null, not a JSON object'], ['[]', 'is a JSON array, not a JSON object']])('a cached config that is %s is refused in one line that says how to remove it', (json, what) => {
    const c = Buffer.from(json);
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: store.putBytes(c), size: c.length }, layers: [{ mediaType: MEDIA.ociLayerGzip, digest: GOOD, size: 1 }] }));
    store.tag('boxlab.local/evil:1', { mediaType: MEDIA.ociManifest, digest: store.putBytes(m), size: m.length });
    refusedInOneLine(() => loadImage(store, 'boxlab.local/evil:1', join(dir, 'layers')), new RegExp(`^boxlab\\.local/evil:1: the image config ${what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(in the cache: boxlab rmi boxlab\\.local/evil:1 removes it\\)$`));
  });

  it('a cached image with more layers than diff_ids is refused in one line', () => {
    cached(config([GOOD]), 2);
    refusedInOneLine(() => loadImage(store, 'boxlab.local/evil:1', join(dir, 'layers')), /2 layers but 1 diff_ids/);
  });

  it('an index.json entry whose digest is a path is refused in one line', () => {
    writeFileSync(join(store.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA.ociManifest, digest: 'sha256:../../../../etc/passwd', size: 1, annotations: { 'org.opencontainers.image.ref.name': 'x' } }] }));
    refusedInOneLine(() => store.index(), /index\.json: manifest digest .* is not a sha256 digest/);
    expect(existsSync(join(dir, 'layers'))).toBe(false);
  });
});

describe('the cache is root-only: images hold setuid binaries and device nodes', () => {
  const mode = (p: string) => statSync(p).mode & 0o7777;

  it('a new cache root and its images/ are made 0700', () => {
    new Store(join(dir, 'cache', 'images')).init();
    expect([mode(join(dir, 'cache')), mode(join(dir, 'cache', 'images'))]).toEqual([0o700, 0o700]);
  });

  it('an existing cache root of 0755 (and its images/) is tightened to 0700', () => {
    mkdirSync(join(dir, 'cache', 'images'), { recursive: true });
    chmodSync(join(dir, 'cache'), 0o755);
    chmodSync(join(dir, 'cache', 'images'), 0o755);
    new Store(join(dir, 'cache', 'images')).init();
    expect([mode(join(dir, 'cache')), mode(join(dir, 'cache', 'images'))]).toEqual([0o700, 0o700]);
  });

  it("a directory that holds what is not boxlab's (BOXLAB_CACHE_DIR=/var by mistake) is refused in one line, not made private", () => {
    // The cache root of BOXLAB_CACHE_DIR= (empty) was /, and / was made 0700: every other user
    // of the machine, the box's mapped root among them, lost the whole filesystem.
    mkdirSync(join(dir, 'var', 'lib'), { recursive: true });
    writeFileSync(join(dir, 'var', 'motd'), 'hello');
    chmodSync(join(dir, 'var'), 0o755);
    refusedInOneLine(() => new Store(join(dir, 'var', 'images')).init(), /var is open to others \(mode 755\) and holds what is not boxlab's \(lib, motd\): boxlab will not make it private/);
    expect(mode(join(dir, 'var'))).toBe(0o755);
    // A home directory of dotfiles alone is not a cache either.
    mkdirSync(join(dir, 'home'));
    writeFileSync(join(dir, 'home', '.bashrc'), '');
    chmodSync(join(dir, 'home'), 0o755);
    refusedInOneLine(() => new Store(join(dir, 'home', 'images')).init(), /holds what is not boxlab's \(\.bashrc\)/);
  });

  it('a shared directory (sticky, like /tmp) as the cache root is refused in one line and left as it is', () => {
    mkdirSync(join(dir, 'shared'));
    chmodSync(join(dir, 'shared'), 0o1777);
    refusedInOneLine(() => new Store(join(dir, 'shared', 'images')).init(), /shared\b.* is a shared directory \(sticky bit, like \/tmp\)/);
    expect(mode(join(dir, 'shared'))).toBe(0o1777);
  });

  it.skipIf(process.geteuid?.() !== 0)("a cache root that is another user's is refused in one line", () => {
    mkdirSync(join(dir, 'theirs'));
    chownSync(join(dir, 'theirs'), 65534, 65534);
    refusedInOneLine(() => new Store(join(dir, 'theirs', 'images')).init(), /theirs belongs to uid 65534, not to uid 0/);
  });
});

describe('a layer directory', () => {
  it("is 0755 and the cache owner's whatever the umask (077 here) and the layer's './' (0700, uid 1000) say: a box's / is listed through it", async () => {
    const tar = await tarOf([{ name: './', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 }, { name: 'etc/motd', body: 'hi' }]);
    const gz = gzipSync(tar);
    const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
    const layer = { digest: store.putBytes(gz), size: gz.length, diffId, dir: layerDir(diffId, join(dir, 'layers')) };
    const umask = process.umask(0o077);
    try {
      expect(await unpackLayer(store, layer, new RealRunner())).toBe('unpacked');
    } finally {
      process.umask(umask);
    }
    const st = statSync(layer.dir);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o755, process.geteuid?.(), process.getegid?.()]);
  });
});

describe('boxlab images with a bad image in the cache: the others are listed, the bad one named', () => {
  const layers = () => join(dir, 'layers');
  const config = (diffIds: unknown[]) => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } });
  /** An image in the cache by hand: its config, a manifest of `count` layers (each the blob `layer`), tagged name. */
  function cached(name: string, cfg: object, layer: string, count = 1): { manifest: string; config: string } {
    const c = Buffer.from(JSON.stringify(cfg));
    const configDigest = store.putBytes(c);
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: c.length }, layers: Array.from({ length: count }, () => ({ mediaType: MEDIA.ociLayerGzip, digest: layer, size: 1 })) }));
    const manifest = store.putBytes(m);
    store.tag(name, { mediaType: MEDIA.ociManifest, digest: manifest, size: m.length });
    return { manifest, config: configDigest };
  }
  const DIGEST_RULE = '(sha256: and 64 lowercase hex digits; boxlab verifies sha256 only)';
  let layerBlob: string;
  beforeEach(() => {
    layerBlob = store.putBytes(Buffer.from('a layer'));
    cached('boxlab.local/good:1', config([GOOD]), layerBlob);
    cached('boxlab.local/evil:1', config(['sha256:../../../../etc']), layerBlob);
    store.tag('boxlab.local/gone:1', { mediaType: MEDIA.ociManifest, digest: `sha256:${'e'.repeat(64)}`, size: 10 });
    store.tag('boxlab.local/path:1', { mediaType: MEDIA.ociManifest, digest: 'sha256:../../../../etc/passwd', size: 10 });
    cached('boxlab.local/good:2', config([GOOD]), layerBlob);
  });

  it('lists the good images, and one line for each bad one (a config that fails a check, a manifest blob gone, an index.json digest that is a path) saying how to remove it', () => {
    const { stdout, stderr } = imagesListing(store);
    expect(stdout.split('\n').map((l) => l.split(/ +/)[0])).toEqual(['IMAGE', 'boxlab.local/good:1', 'boxlab.local/good:2', '']);
    expect(stderr.split('\n')).toEqual([
      `boxlab.local/evil:1: unreadable (diff_id "sha256:../../../../etc" is not a sha256 digest ${DIGEST_RULE}); boxlab rmi boxlab.local/evil:1 removes it`,
      expect.stringMatching(new RegExp(`^boxlab\\.local/gone:1: unreadable \\(ENOENT: no such file or directory, open '.*/blobs/sha256/${'e'.repeat(64)}'\\); boxlab rmi boxlab\\.local/gone:1 removes it$`)),
      `boxlab.local/path:1: unreadable (its manifest digest in index.json "sha256:../../../../etc/passwd" is not a sha256 digest ${DIGEST_RULE}); boxlab rmi boxlab.local/path:1 removes it`,
      '',
    ]);
  });

  it('--json: stdout is the good images only, still JSON; the same lines on stderr', () => {
    const { stdout, stderr } = imagesListing(store, true);
    expect((JSON.parse(stdout) as { name: string }[]).map((i) => i.name)).toEqual(['boxlab.local/good:1', 'boxlab.local/good:2']);
    expect(stderr.split('\n').filter(Boolean)).toHaveLength(3);
  });

  it("when every image is bad, it does not say 'no images cached'", () => {
    for (const n of ['good:1', 'good:2']) removeImage(store, `boxlab.local/${n}`, layers());
    const { stdout, stderr } = imagesListing(store);
    expect(stdout).toBe('');
    expect(stderr.split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('boxlab rmi NAME removes each bad one, an index.json digest that is a path too; the good ones stay', () => {
    for (const n of ['evil:1', 'gone:1', 'path:1']) expect(removeImage(store, `boxlab.local/${n}`, layers()).name).toBe(`boxlab.local/${n}`);
    const { stdout, stderr } = imagesListing(store);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^IMAGE .*\nboxlab\.local\/good:1 .*\nboxlab\.local\/good:2 /);
  });

  it('a sweep (after a pull or rmi) keeps what an unreadable image still points at, and removes what none does', () => {
    const stray = store.putBytes(Buffer.from('no image uses this'));
    // Unreadable, though its manifest and config read: two layers, one diff_id.
    const badLayerBlob = store.putBytes(Buffer.from('its layer'));
    const bad = cached('boxlab.local/short:1', config([`sha256:${'d'.repeat(64)}`]), badLayerBlob, 2);
    const badLayer = join(layers(), 'd'.repeat(64));
    mkdirSync(badLayer, { recursive: true });
    mkdirSync(join(layers(), 'f'.repeat(64)));
    sweepUnused(store, layers());
    expect(store.has(stray)).toBe(false);
    for (const d of [bad.manifest, bad.config, badLayerBlob, layerBlob]) expect(store.has(d)).toBe(true);
    expect(readdirSync(layers())).toEqual(['d'.repeat(64)]);
  });
});
