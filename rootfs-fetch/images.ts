// Images in the cache: each tagged manifest, its config, and its layers unpacked one directory
// per layer (named by diff_id) in overlayfs' format, ready to be stacked as lowerdirs.
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EnvError } from '../src/errors.js';
import type { Runner } from '../src/shell/spawn.js';
import { CACHE_ROOT } from '../src/paths.js';
import { LayerError } from './in-root.js';
import { chainIds, checkDigest, digestHex } from './digest.js';
import { checkConfig, checkManifest, type ImageConfig, type Manifest } from './manifest.js';
import { canonical, parseReference } from './reference.js';
import { diskFull, privateDir, Store, REF_NAME, type Descriptor } from './store.js';
import { applyLayer, UnpackBudget } from './unpack.js';

export const LAYERS_DIR = `${CACHE_ROOT}/layers`;

export interface Layer {
  digest: string;
  size: number;
  diffId: string;
  /** This layer applied on exactly the layers below it (image-spec config.md): shown, not a path. */
  chainId: string;
  /** The unpacked layer, in overlayfs' format. */
  dir: string;
}

export interface Image {
  name: string;
  manifest: Descriptor;
  config: ImageConfig;
  configDigest: string;
  /** Bottom first, as in the manifest. */
  layers: Layer[];
}

/** A layer's directory, named by its diff_id's hex digits: nothing else is ever joined in. */
export const layerDir = (diffId: string, root = LAYERS_DIR): string => join(root, digestHex(diffId, 'diff_id'));

/** A name as the user types it (alpine:3.20) to the name it is stored under. */
export function storedName(text: string): string {
  return canonical(parseReference(text));
}

export function loadImage(store: Store, text: string, layersRoot = LAYERS_DIR): Image {
  const name = storedName(text);
  const manifest = store.find(name);
  if (!manifest) throw new EnvError(`no image ${name} in the cache (boxlab images lists them; boxlab fetch ${text} pulls it)`);
  return imageFrom(store, name, manifest, layersRoot);
}

/** An image from the cache, checked as a pull checks it: the cache may predate those checks. */
export function imageFrom(store: Store, name: string, manifest: Descriptor, layersRoot: string): Image {
  try {
    return readImage(store, name, manifest, layersRoot);
  } catch (e) {
    if (e instanceof EnvError) throw new EnvError(`${e.message} (in the cache: boxlab rmi ${name} removes it)`);
    throw e;
  }
}

function readImage(store: Store, name: string, manifest: Descriptor, layersRoot: string): Image {
  const m = store.json<Manifest>(manifest.digest, `${name}: the manifest`);
  checkManifest(m, name);
  const config = store.json<ImageConfig>(m.config.digest, `${name}: the image config`);
  checkConfig(config, m, name);
  const chains = chainIds(config.rootfs.diff_ids);
  const layers = m.layers.map((l, i) => ({ digest: l.digest, size: l.size, diffId: config.rootfs.diff_ids[i]!, chainId: chains[i]!, dir: layerDir(config.rootfs.diff_ids[i]!, layersRoot) }));
  return { name, manifest, config, configDigest: m.config.digest, layers };
}

/** A tagged image that cannot be read (a blob missing, a config that fails a check), and why. */
export interface Unreadable {
  name: string;
  /** One line, without the name in front. */
  reason: string;
  /** Its entry in index.json, as it is there. */
  entry: Descriptor;
}

/** Every tagged image of the cache: those that read, and those that do not, each on its own. */
export function listImages(store: Store, layersRoot = LAYERS_DIR): { images: Image[]; unreadable: Unreadable[] } {
  const images: Image[] = [];
  const unreadable: Unreadable[] = [];
  for (const d of store.entries()) {
    const name = d?.annotations?.[REF_NAME];
    if (typeof name !== 'string' || name === '') continue; // untagged: not an image of boxlab's
    try {
      checkDigest(d.digest, 'its manifest digest in index.json');
      images.push(readImage(store, name, d, layersRoot));
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      const message = e.message.startsWith(`${name}: `) ? e.message.slice(name.length + 2) : e.message;
      unreadable.push({ name, reason: message.split('\n')[0]!, entry: d });
    }
  }
  return { images, unreadable };
}

/**
 * What an unreadable image may still need, as far as it can be read: a sweep keeps it, so that
 * an image that reads no more loses nothing more until `boxlab rmi` removes it.
 */
function stillNeeded(store: Store, d: Descriptor, layersRoot: string, keep: Set<string>, keepDirs: Set<string>): void {
  const valid = (v: unknown): v is string => {
    try {
      return checkDigest(v, 'digest') === v;
    } catch {
      return false;
    }
  };
  const read = <T>(digest: string): Partial<T> | undefined => {
    try {
      return store.json<Partial<T>>(digest);
    } catch {
      return undefined;
    }
  };
  if (!valid(d?.digest)) return;
  keep.add(d.digest);
  const m = read<Manifest>(d.digest);
  for (const l of Array.isArray(m?.layers) ? m.layers : []) if (valid(l?.digest)) keep.add(l.digest);
  const configDigest = m?.config?.digest;
  if (!valid(configDigest)) return;
  keep.add(configDigest);
  const ids = read<ImageConfig>(configDigest)?.rootfs?.diff_ids;
  for (const id of Array.isArray(ids) ? ids : []) if (valid(id)) keepDirs.add(layerDir(id, layersRoot));
}

/**
 * Unpacks a layer blob into its own directory unless it is there already. The diff_id the
 * config promises is checked against the tar as it is read; a mismatch keeps nothing.
 */
export async function unpackLayer(store: Store, layer: Layer, runner: Runner, budget = new UnpackBudget()): Promise<'unpacked' | 'cached'> {
  if (existsSync(layer.dir)) return 'cached';
  const root = join(layer.dir, '..');
  privateDir(root);
  const tmp = join(root, `.tmp-${process.pid}-${layer.diffId.slice(7, 19)}`);
  // Left by a run that died while unpacking (its PID is in the name).
  for (const d of readdirSync(root)) {
    const pid = /^\.tmp-(\d+)-/.exec(d)?.[1];
    if (pid && (pid === String(process.pid) || !existsSync(`/proc/${pid}`))) rmSync(join(root, d), { recursive: true, force: true });
  }
  // The layer's root is ours, 0755 whatever the umask: its './' entry changes nothing (unpack.ts).
  mkdirSync(tmp, { mode: 0o755 });
  chmodSync(tmp, 0o755);
  try {
    const r = await applyLayer(store.path(layer.digest), tmp, 'overlay', runner, budget);
    if (r.diffId !== layer.diffId) throw new LayerError(`layer ${layer.digest} unpacks to ${r.diffId}, but the image config says ${layer.diffId}`);
    renameSync(tmp, layer.dir);
    return 'unpacked';
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof LayerError) throw new EnvError(`layer ${layer.digest} rejected: ${e.message}`);
    throw diskFull(e, root);
  }
}

/** Removes an image; then every blob and unpacked layer that no remaining image uses. */
export function removeImage(store: Store, text: string, layersRoot = LAYERS_DIR): { name: string; freed: number } {
  const name = storedName(text);
  if (!store.untag(name)) throw new EnvError(`no image ${name} in the cache (boxlab images lists them)`);
  return { name, freed: sweepUnused(store, layersRoot) };
}

/** Removes blobs and layer directories no tagged image uses (after rmi, or a re-tag); returns bytes freed. */
export function sweepUnused(store: Store, layersRoot = LAYERS_DIR): number {
  const keep = new Set<string>();
  const keepDirs = new Set<string>();
  const { images, unreadable } = listImages(store, layersRoot);
  for (const img of images) {
    keep.add(img.manifest.digest).add(img.configDigest);
    for (const l of img.layers) keep.add(l.digest) && keepDirs.add(l.dir);
  }
  for (const u of unreadable) stillNeeded(store, u.entry, layersRoot, keep, keepDirs);
  const freed = store.sweep(keep);
  if (existsSync(layersRoot)) {
    for (const d of readdirSync(layersRoot)) {
      const dir = join(layersRoot, d);
      if (!keepDirs.has(dir) && !d.startsWith('.tmp-')) rmSync(dir, { recursive: true, force: true });
    }
  }
  // boxlab run --userns keeps a chowned copy of each layer in CACHE/userns-H-N/layers/: those
  // of removed layers go too (a copy still being made is named *.tmp-PID and left alone).
  const cache = dirname(layersRoot);
  for (const u of existsSync(cache) ? readdirSync(cache).filter((n) => n.startsWith('userns-')) : []) {
    const copies = join(cache, u, basename(layersRoot));
    for (const d of existsSync(copies) ? readdirSync(copies) : []) {
      if (!d.includes('.tmp-') && !keepDirs.has(join(layersRoot, d))) rmSync(join(copies, d), { recursive: true, force: true });
    }
  }
  return freed;
}

/** What the image config says to run: Entrypoint + Cmd, with its Env, WorkingDir and User. */
export function imageProcess(img: Image): { args: string[]; env: string[]; cwd: string; user: string } {
  const c = img.config.config ?? {};
  const args = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (args.length === 0) throw new EnvError(`${img.name} names no command (no Entrypoint or Cmd in its config)`);
  return { args, env: c.Env ?? [], cwd: c.WorkingDir || '/', user: c.User ?? '' };
}
