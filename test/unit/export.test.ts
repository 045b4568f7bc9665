// `boxlab fetch --out DIR`: a hostile image flattened into a directory on the host must not
// give a local user root there (the tree is not in a box: no nodev, no nosuid).
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existingOut, exportImage } from '../../rootfs-fetch/export.js';
import type { Image } from '../../rootfs-fetch/images.js';
import { MEDIA } from '../../rootfs-fetch/manifest.js';
import { Store } from '../../rootfs-fetch/store.js';
import { EnvError, UsageError } from '../../src/errors.js';
import { RealRunner } from '../../src/shell/spawn.js';
import { tempDir } from './helpers.js';
import { tarOf, type Member } from './layer-archives.js';

const asRoot = process.geteuid?.() === 0;
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const runner = new RealRunner();

let dir: string;
let store: Store;
beforeEach(() => {
  dir = tempDir();
  store = new Store(join(dir, 'images')).init();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** An image of these layers in the store: all exportImage reads of it is its layer blobs. */
async function imageOf(layers: Member[][]): Promise<Image> {
  const ls = [];
  for (const members of layers) {
    const tar = await tarOf(members);
    const gz = gzipSync(tar);
    ls.push({ digest: store.putBytes(gz), size: gz.length, diffId: sha(tar), dir: join(dir, 'layers', sha(tar).slice(7)) });
  }
  const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ls.map((l) => l.diffId) } };
  return { name: 'boxlab.local/hostile:1', manifest: { mediaType: MEDIA.ociManifest, digest: sha(Buffer.from('m')), size: 1 }, config, configDigest: sha(Buffer.from('c')), layers: ls };
}

/** Lines the export notes, as progress.line gets them. */
function notes(): { lines: string[]; progress: { line: (s: string) => void } } {
  const lines: string[] = [];
  return { lines, progress: { line: (s) => void lines.push(s) } };
}

/** The call rejects with an error of this class whose one-line message matches. */
async function refusedInOneLine(p: Promise<unknown> | (() => unknown), cls: typeof UsageError | typeof EnvError, re: RegExp): Promise<void> {
  const err = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(cls);
  expect((err as Error).message).toMatch(re);
  expect((err as Error).message).not.toContain('\n');
}

const ROOT_0777: Member = { name: './', type: 'directory', mode: 0o777, uid: 1000, gid: 1000 };
const LAYER_1: Member[] = [
  ROOT_0777,
  { name: 'bin/su', body: 'a root shell', mode: 0o4755 },
  { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
];
const LAYER_2: Member[] = [
  ROOT_0777,
  { name: 'bin/ping', body: 'setuid', mode: 0o4755 },
  { name: 'bin/crontab', body: 'setgid', mode: 0o2755 },
  { name: 'dev/mem', type: 'character-device', devmajor: 1, devminor: 1, mode: 0o666 },
  { name: 'dev/sda', type: 'character-device', devmajor: 8, devminor: 0, mode: 0o660 },
];
const DEVICE_NOTE = '(a tree unpacked on the host is not a box: nothing there should open a device)';
const PRIV_NOTE = '(--keep-privileges keeps them)';

describe.skipIf(!asRoot)('fetch --out DIR (root: device nodes and owners need it)', () => {
  it("a new DIR (parents too) is made 0700 and stays root's 0700 whatever the layers' './' say; no device node, no setuid bit; one note a layer for each", async () => {
    const out = join(dir, 'new', 'parent', 'out');
    const { lines, progress } = notes();
    await exportImage(store, await imageOf([LAYER_1, LAYER_2]), out, runner, { progress });
    const st = statSync(out);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o700, 0, 0]);
    expect(readdirSync(join(out, 'dev'))).toEqual([]);
    for (const f of ['bin/su', 'bin/ping', 'bin/crontab']) expect([f, statSync(join(out, f)).mode & 0o7777]).toEqual([f, 0o755]);
    expect(lines).toEqual([
      `--out: layer 1/2: 1 device node not made ${DEVICE_NOTE}`,
      `--out: layer 1/2: setuid/setgid bits removed from 1 file ${PRIV_NOTE}`,
      `--out: layer 2/2: 2 device nodes not made ${DEVICE_NOTE}`,
      `--out: layer 2/2: setuid/setgid bits removed from 2 files ${PRIV_NOTE}`,
    ]);
  });

  it('keepPrivileges (--keep-privileges): the setuid and setgid bits stay; device nodes still are not made', async () => {
    const out = join(dir, 'out');
    const { lines, progress } = notes();
    await exportImage(store, await imageOf([LAYER_1, LAYER_2]), out, runner, { keepPrivileges: true, progress });
    expect(statSync(join(out, 'bin/su')).mode & 0o7777).toBe(0o4755);
    expect(statSync(join(out, 'bin/crontab')).mode & 0o7777).toBe(0o2755);
    expect(readdirSync(join(out, 'dev'))).toEqual([]);
    expect(statSync(out).mode & 0o7777).toBe(0o700);
    expect(lines).toEqual([`--out: layer 1/2: 1 device node not made ${DEVICE_NOTE}`, `--out: layer 2/2: 2 device nodes not made ${DEVICE_NOTE}`]);
  });

  it("an existing empty DIR of root's is used; its mode is the one it had, not the image's", async () => {
    const out = join(dir, 'mine');
    mkdirSync(out);
    chmodSync(out, 0o750);
    await exportImage(store, await imageOf([LAYER_1]), out, runner);
    expect(statSync(out).mode & 0o7777).toBe(0o750);
    expect(existsSync(join(out, 'bin/su'))).toBe(true);
  });

  it("an existing empty DIR that is not root's is refused in one line, left as it was", async () => {
    const out = join(dir, 'theirs');
    mkdirSync(out);
    chownSync(out, 1000, 1000);
    await refusedInOneLine(exportImage(store, await imageOf([LAYER_1]), out, runner), UsageError, /^--out .*theirs belongs to uid 1000, not to root: give a new directory \(made 0700\) or an empty one of root's$/);
    expect(readdirSync(out)).toEqual([]);
    expect(lstatSync(out).uid).toBe(1000);
  });

  it('a layer refused half-way: the DIR it made is removed, and the refusal is one line', async () => {
    const out = join(dir, 'out');
    const symlinkEscape: Member[] = [{ name: 'ok', body: 'x' }, { name: 's', type: 'symlink', linkname: '/etc' }, { name: 's/evil', body: 'x' }];
    await refusedInOneLine(exportImage(store, await imageOf([LAYER_1, symlinkEscape]), out, runner), EnvError, /^--out .*: symlink escape: 's' -> '\/etc' leaves the root$/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('fetch --out DIR: what an existing DIR must be', () => {
  it('a DIR that is not empty is refused in one line, and nothing is written to it', async () => {
    const out = join(dir, 'full');
    mkdirSync(out);
    writeFileSync(join(out, 'keep'), 'mine');
    await refusedInOneLine(() => existingOut(out), UsageError, /^--out .*full: the directory is not empty$/);
    await refusedInOneLine(exportImage(store, await imageOf([[{ name: 'x', body: 'x' }]]), out, runner), UsageError, /the directory is not empty$/);
    expect(readdirSync(out)).toEqual(['keep']);
  });

  it('a file is refused in one line', async () => {
    writeFileSync(join(dir, 'file'), '');
    await refusedInOneLine(() => existingOut(join(dir, 'file')), UsageError, /^--out .*file is not a directory$/);
  });

  it('nothing there: undefined (exportImage makes it)', () => {
    expect(existingOut(join(dir, 'none'))).toBeUndefined();
  });
});
