// boxlab commit's parts that need no box: the base image found from a box's record (and a
// --rootfs box refused), the commit name, and an upper directory under --userns as layer
// entries (real files, read by the real getfattr).
import { execFileSync } from 'node:child_process';
import { appendFileSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { baseImage, commitName } from '../../src/build/commit.js';
import { boxUpperEntries, unshifted } from '../../src/build/upper.js';
import { writeLayer, type LayerEntry } from '../../src/build/layer.js';
import { saveLayer } from '../../src/build/save.js';
import { RealRunner } from '../../src/shell/spawn.js';
import { EnvError, UsageError } from '../../src/errors.js';
import { hostPlatform, MEDIA } from '../../rootfs-fetch/manifest.js';
import { layerDir } from '../../rootfs-fetch/images.js';
import { Store } from '../../rootfs-fetch/store.js';
import type { BoxRecord } from '../../src/container/boxes.js';
import type { RunSpec } from '../../src/container/spec.js';
import { tempDir } from './helpers.js';

const asRoot = process.geteuid?.() === 0;
let t: string;
beforeEach(() => (t = tempDir()));
afterEach(() => rmSync(t, { recursive: true, force: true }));

const record = (lowerdirs: string[], source: string): BoxRecord => ({ name: 'b1', pid: 1, pidStart: '1', runId: 'abcd0123', source, args: ['sh'], started: '', spec: { lowerdirs, source } as RunSpec });

/** A host file as a layer entry. */
function fileEntry(host: string, path: string): LayerEntry {
  const s = lstatSync(host);
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, source: { path: host, size: s.size, ino: s.ino, dev: s.dev, nlink: s.nlink } };
}

/** Tags a one-layer image (a file named `file`) in `store`, by hand: no sweep, so no cache but the test's is touched. */
async function tagImage(store: Store, name: string, file: string): Promise<string> {
  writeFileSync(join(t, file), file);
  const l = await saveLayer(store, [fileEntry(join(t, file), file)], { clamp: 0 });
  const cfg = Buffer.from(JSON.stringify({ ...hostPlatform(), config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [l.diffId] }, history: [{ created_by: 'base' }] }));
  const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: store.putBytes(cfg), size: cfg.length }, layers: [{ mediaType: MEDIA.ociLayerGzip, digest: l.digest, size: l.size }] }));
  store.tag(name, { mediaType: MEDIA.ociManifest, digest: store.putBytes(m), size: m.length });
  return l.diffId;
}

describe('commit: the base image of a box', () => {
  it('is the image named in the record while it has the box layers; after a re-tag, another image with those layers; else one line', async () => {
    const store = new Store(join(t, 'cache/images')).init();
    const layers = join(t, 'cache/layers');
    const a = await tagImage(store, 'docker.io/library/base:1', 'a');
    const box = record([layerDir(a, layers)], 'docker.io/library/base:1');
    expect(baseImage(store, box, layers).name).toBe('docker.io/library/base:1');
    // base:1 now names other layers; copy:1 has the box's.
    store.tag('docker.io/library/copy:1', store.find('docker.io/library/base:1')!);
    await tagImage(store, 'docker.io/library/base:1', 'b');
    expect(baseImage(store, box, layers).name).toBe('docker.io/library/copy:1');
    store.untag('docker.io/library/copy:1');
    expect(() => baseImage(store, box, layers)).toThrow(new EnvError('box b1 was run from docker.io/library/base:1, whose layers are no longer in the cache (boxlab images)'));
  });
  it('is refused for a box run from --rootfs, in one line', () => {
    const store = new Store(join(t, 'cache/images')).init();
    expect(() => baseImage(store, record(['/srv/root\x1b[31m'], '/srv/root\x1b[31m'), join(t, 'cache/layers'))).toThrow(
      new EnvError('box b1 runs on /srv/root\\x1b[31m (--rootfs or --bundle), not on an image: boxlab commit adds a layer to an image (boxlab run -d IMAGE)'),
    );
  });
  it('commits to a name and tag, not a digest or a bad name', () => {
    expect(commitName('mine')).toBe('docker.io/library/mine:latest');
    expect(commitName('127.0.0.1:5000/me/mine:2')).toBe('127.0.0.1:5000/me/mine:2');
    expect(() => commitName(`mine@sha256:${'a'.repeat(64)}`)).toThrow(UsageError);
    expect(() => commitName('Mine:1')).toThrow(/is not an image reference/);
  });
});

/** `tar -tvf` of a gzipped layer, owners numeric, dates cut. */
const listing = (blob: string): string[] =>
  execFileSync('tar', ['--numeric-owner', '-tvzf', blob], { encoding: 'utf8' }).trim().split('\n').map((l) => l.replace(/\s+/g, ' ').replace(/^(\S+) (\S+) \d+ \S+ \S+ /, '$1 $2 '));

describe('a box upper directory as a layer', () => {
  it.skipIf(!asRoot)("under --userns: the box's owners (host id minus 100000), whiteouts 0/0, a run's own names left out", async () => {
    const up = join(t, 'upper');
    mkdirSync(join(up, 'etc/opq'), { recursive: true });
    mkdirSync(join(up, '.oldroot'));
    mkdirSync(join(up, '.boxlab'));
    mkdirSync(join(up, 'dev'));
    execFileSync('mknod', [join(up, 'etc/motd'), 'c', '0', '0']);
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(up, 'etc/opq')]);
    writeFileSync(join(up, 'etc/opq/new'), 'n');
    writeFileSync(join(up, 'etc/odd'), 'o');
    execFileSync('chown', ['-R', '100000:100000', join(up, 'etc')]);
    execFileSync('chown', ['101000:100050', join(up, 'etc/opq/new')]);
    execFileSync('chown', ['7:7', join(up, 'etc/odd')]); // no box can make it: nobody
    const entries = await boxUpperEntries(up, new RealRunner(), { hostId: 100000, size: 65536 });
    await writeLayer(entries, join(t, 'u.tgz'), { clamp: 0 });
    expect(listing(join(t, 'u.tgz'))).toEqual([
      'drwxr-xr-x 0/0 etc/',
      '-rw------- 0/0 etc/.wh.motd',
      '-rw-r--r-- 65534/65534 etc/odd',
      'drwxr-xr-x 0/0 etc/opq/',
      '-rw------- 0/0 etc/opq/.wh..wh..opq',
      '-rw-r--r-- 1000/50 etc/opq/new',
    ]);
  });
  it('takes a file a running box appends to as it is when opened (live); a build refuses it', async () => {
    writeFileSync(join(t, 'log'), 'abc');
    const entries = [fileEntry(join(t, 'log'), 'var/log')];
    appendFileSync(join(t, 'log'), 'def');
    await expect(writeLayer(entries, join(t, 'b.tgz'), { clamp: 0 })).rejects.toThrow(new EnvError('var/log changed while the layer was written: nothing was kept'));
    await writeLayer(entries, join(t, 'c.tgz'), { clamp: 0, live: true });
    expect(execFileSync('tar', ['-xzOf', join(t, 'c.tgz'), 'var/log'], { encoding: 'utf8' })).toBe('abcdef');
  });
  it('maps a host id back into the box range', () => {
    const s = { hostId: 100000, size: 65536 };
    expect([100000, 165535, 165536, 99999, 0].map((id) => unshifted(id, s))).toEqual([0, 65535, 65534, 65534, 65534]);
  });
});
