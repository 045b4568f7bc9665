// Images made on this machine, with no registry: the offline default (busybox in three layers,
// with a whiteout and an opaque directory to teach), a tarball, a debootstrap. Each becomes an
// ordinary image in the cache (manifest, config, layers), so everything after is the same.
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { EnvError } from '../src/errors.js';
import type { Runner } from '../src/shell/spawn.js';
import { render, type Cmd } from '../src/shell/cmd.js';
import { hostPlatform, MEDIA, type ImageConfig, type Manifest } from './manifest.js';
import { imageFrom, LAYERS_DIR, sweepUnused, unpackLayer, type Image } from './images.js';
import type { Descriptor, Store } from './store.js';
import { openLayer, UnpackBudget } from './unpack.js';
import { get } from './http.js';

export const BUSYBOX_IMAGE = 'boxlab.local/busybox:layers';

/** `tar` of a directory, gzipped, as a layer: numeric owners, names sorted; with mtime, every
 *  entry gets that time, so the same files make the same digest on every build. */
export const tarLayer = (dir: string, out: string, mtime?: string): Cmd => ({ file: 'tar', args: ['--numeric-owner', '--sort=name', ...(mtime ? [`--mtime=${mtime}`] : []), '-C', dir, '-czf', out, '.'] });

async function must(runner: Runner, c: Cmd, timeoutMs?: number): Promise<void> {
  const r = await runner.run(c, { timeoutMs });
  if (r.code === 127) throw new EnvError(`${c.file} is not installed: apt-get install ${c.file}`);
  if (r.code !== 0) throw new EnvError(`${render(c)} failed: ${r.stderr.trim().split('\n').pop() || `exit ${r.code}`}`);
}

/** The sha256 of a layer's uncompressed tar: its diff_id. */
export async function diffIdOf(blob: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(openLayer(blob), hash);
  return `sha256:${hash.digest('hex')}`;
}

/** Moves layer files (under store.tmp) into the store. */
async function adoptAll(store: Store, files: string[]): Promise<Descriptor[]> {
  const out = [];
  for (const f of files) out.push(await store.adopt(f, MEDIA.ociLayerGzip));
  return out;
}

/** Writes config and manifest for layers in the store, unpacks them, and tags the image. */
export async function commitImage(store: Store, runner: Runner, name: string, layers: Descriptor[], config: ImageConfig['config']): Promise<Image> {
  const diffIds = [];
  for (const l of layers) diffIds.push(await diffIdOf(store.path(l.digest)));
  const cfg: ImageConfig = { ...hostPlatform(), config, rootfs: { type: 'layers', diff_ids: diffIds } };
  const cfgBytes = Buffer.from(JSON.stringify(cfg));
  const manifest: Manifest = { schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: store.putBytes(cfgBytes), size: cfgBytes.length }, layers };
  const mBytes = Buffer.from(JSON.stringify(manifest));
  const desc = { mediaType: MEDIA.ociManifest, digest: store.putBytes(mBytes), size: mBytes.length };
  const image = imageFrom(store, name, desc, LAYERS_DIR);
  const budget = new UnpackBudget();
  for (const l of image.layers) await unpackLayer(store, l, runner, budget);
  store.tag(name, desc);
  sweepUnused(store);
  return image;
}

/**
 * busybox in three layers: the rootfs; then a web root and a motd; then a new motd, wget
 * whited out, and the web root made opaque with a new page. The config runs a greeting
 * with its own Env and WorkingDir.
 */
export async function buildBusyboxImage(store: Store, runner: Runner, rootfs: string): Promise<Image> {
  const work = store.tmpName('busybox-image');
  const put = (rel: string, text: string): void => {
    mkdirSync(join(work, rel, '..'), { recursive: true });
    writeFileSync(join(work, rel), text);
  };
  try {
    const files: string[] = [];
    const layer = async (dir: string): Promise<void> => {
      const out = `${work}-${files.length + 1}.tar.gz`;
      await must(runner, tarLayer(dir, out, '@0'));
      files.push(out);
    };
    await layer(rootfs);
    put('l2/srv/www/old.html', 'the page of layer 2\n');
    put('l2/etc/motd', 'motd of layer 2\n');
    await layer(join(work, 'l2'));
    put('l3/etc/motd', 'Hello from layer 3 of boxlab.local/busybox:layers\n');
    put('l3/bin/.wh.wget', '');
    put('l3/srv/www/.wh..wh..opq', '');
    put('l3/srv/www/index.html', 'the page of layer 3\n');
    await layer(join(work, 'l3'));
    return await commitImage(store, runner, BUSYBOX_IMAGE, await adoptAll(store, files), {
      Env: ['PATH=/bin', 'GREETING=hello from the image config'],
      Cmd: ['/bin/sh', '-c', 'cat /etc/motd; echo "$GREETING, in $(pwd)"; ls'],
      WorkingDir: '/srv/www',
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
    for (let i = 1; i <= 3; i++) rmSync(`${work}-${i}.tar.gz`, { force: true });
  }
}

/** A root filesystem tarball (an Alpine minirootfs, say) as a one-layer image, checked against sha256. */
export async function importTarball(store: Store, runner: Runner, url: string, sha256: string, name: string, signal?: AbortSignal): Promise<Image> {
  const digest = `sha256:${sha256}`;
  if (!store.has(digest)) await store.put({ digest }, await download(url, signal), undefined, signal);
  // The tarball itself is the layer blob.
  const layer = { mediaType: MEDIA.ociLayerGzip, digest, size: store.size(digest) };
  return commitImage(store, runner, name, [layer], { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] });
}

async function download(url: string, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
  const u = new URL(url);
  if (u.protocol === 'file:') return createReadStream(u.pathname);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new EnvError(`--tarball takes an http(s):// or file:// URL (got ${u.protocol})`);
  const res = await get(url, {}, { signal });
  if (res.status !== 200) {
    res.body.resume();
    throw new EnvError(`${url}: HTTP ${res.status}`);
  }
  return res.body;
}

/** `debootstrap --variant=minbase SUITE` into a directory, as a one-layer image. */
export async function debootstrapImage(store: Store, runner: Runner, suite: string, mirror: string | undefined, name: string): Promise<Image> {
  if (!/^[a-z]+$/.test(suite)) throw new EnvError(`'${suite}' is not a Debian suite name (e.g. bookworm, trixie)`);
  const dir = store.tmpName(`debootstrap-${suite}`);
  const out = `${dir}.tar.gz`;
  try {
    await must(runner, { file: 'debootstrap', args: ['--variant=minbase', suite, dir, ...(mirror ? [mirror] : [])] }, 30 * 60_000);
    await must(runner, tarLayer(dir, out), 10 * 60_000);
    return await commitImage(store, runner, name, await adoptAll(store, [out]), { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/bash'] });
  } finally {
    await runner.run({ file: 'rm', args: ['-rf', '--one-file-system', dir, out] });
  }
}
