// `boxlab commit BOX IMAGE[:TAG]` (docker commit): a box started with `boxlab run -d IMAGE` has
// its changes in its overlay upper directory ($WORK/upper, lesson 10); that directory becomes
// one more layer on top of the image the box was run from, written by the same code as a
// build's RUN layer (upper.ts, layer.ts, save.ts). The new image is the base's config with the
// new diff_id and a history entry, in the cache `boxlab images` lists.
import { baseHistory } from './history.js';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { EnvError, UsageError } from '../errors.js';
import type { Runner } from '../shell/spawn.js';
import { workspaceVars } from '../engine/workspace.js';
import { boxPid, findBox, type BoxRecord } from '../container/boxes.js';
import { printable } from '../../rootfs-fetch/untrusted.js';
import { parseReference } from '../../rootfs-fetch/reference.js';
import { MEDIA, type Manifest } from '../../rootfs-fetch/manifest.js';
import { LAYERS_DIR, layerDir, listImages, loadImage, storedName, sweepUnused, unpackLayer, type Image } from '../../rootfs-fetch/images.js';
import type { Descriptor, Store } from '../../rootfs-fetch/store.js';
import { clampTime } from './layer.js';
import { boxUpperEntries } from './upper.js';
import { saveImage, saveLayer } from './save.js';
import { tarBytes, type CompressBar } from './progress.js';
import type { CachedLayer } from './cache.js';

export interface CommitOptions {
  box: string;
  /** IMAGE[:TAG], as typed. */
  tag: string;
  store: Store;
  runner: Runner;
  log: (line: string) => void;
  bar?: (total: number) => CompressBar;
}

/** The name the image is stored under; a digest is not a name one can commit to. */
export function commitName(text: string): string {
  if (parseReference(text).digest) throw new UsageError(`boxlab commit BOX IMAGE[:TAG]: ${printable(text, 120)} names a digest; give a name and a tag`);
  return storedName(text);
}

/**
 * The cached image whose layers are the box's lowerdirs: the one it was run from (its record
 * names it) if that name still has those layers, else any image that has them. A box run from
 * --rootfs or a bundle has no image under it.
 */
export function baseImage(store: Store, r: BoxRecord, layersRoot = LAYERS_DIR): Image {
  const dirs = r.spec.lowerdirs;
  if (dirs.length === 0 || dirs.some((d) => dirname(d) !== layersRoot)) {
    throw new EnvError(`box ${r.name} runs on ${printable(r.source, 120)} (--rootfs or --bundle), not on an image: boxlab commit adds a layer to an image (boxlab run -d IMAGE)`);
  }
  const same = (img: Image): boolean => img.layers.map((l) => l.dir).reverse().join('\n') === dirs.join('\n');
  let named: Image | undefined;
  try {
    named = loadImage(store, r.source, layersRoot);
  } catch {
    // untagged or unreadable since: any image with the same layers will do
  }
  const img = named && same(named) ? named : listImages(store, layersRoot).images.find(same);
  if (!img) throw new EnvError(`box ${r.name} was run from ${printable(r.source, 120)}, whose layers are no longer in the cache (boxlab images)`);
  return img;
}

export async function commit(o: CommitOptions): Promise<{ name: string; manifest: Descriptor; layer: CachedLayer; entries: number }> {
  const name = commitName(o.tag);
  const r = findBox(o.box);
  if (!boxPid(r.name)) throw new EnvError(`box ${r.name} is still starting`);
  const base = baseImage(o.store, r);
  const upper = `${workspaceVars(r.runId).WORK}/upper`;
  if (!existsSync(upper)) throw new EnvError(`box ${r.name}: its upper directory ${upper} is gone`);

  // With --userns the upper's owners are host ids: the layer gets the box's.
  const entries = await boxUpperEntries(upper, o.runner, r.spec.userns);
  const clamp = clampTime();
  const bar = o.bar?.(tarBytes(entries));
  let layer: CachedLayer;
  try {
    // live: the box still runs; a file it appends to is taken as it was when opened.
    layer = await saveLayer(o.store, entries, { clamp, onBytes: bar?.onBytes, live: true });
  } finally {
    bar?.end();
  }
  try {
    // Unpacked into the layer cache (checked against its diff_id): `boxlab run` stacks it.
    await unpackLayer(o.store, { digest: layer.digest, size: layer.size, diffId: layer.diffId, chainId: '', dir: layerDir(layer.diffId) }, o.runner);
  } catch (e) {
    sweepUnused(o.store); // the blob, unless an image already had it
    throw e;
  }
  o.log(`layer ${layer.digest}  ${entries.length} entries from ${upper}`);

  const created = new Date(clamp * 1000).toISOString().replace(/\.000Z$/, 'Z');
  const cfg = base.config as unknown as Record<string, unknown>;
  const history = baseHistory(cfg, base.config.rootfs.diff_ids.length);
  const config = {
    ...cfg,
    created,
    rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, layer.diffId] },
    history: [...history, { created, created_by: 'boxlab commit', comment: `box ${r.name}` }],
  };
  // The base's layers as its manifest has them (media types included), then the new one.
  const baseLayers = o.store.json<Manifest>(base.manifest.digest).layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size }));
  const manifest = saveImage(o.store, name, config, [...baseLayers, { mediaType: MEDIA.ociLayerGzip, digest: layer.digest, size: layer.size }]);
  return { name, manifest, layer, entries: entries.length };
}
