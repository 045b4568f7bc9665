// Layers and images into the OCI layout cache, for `boxlab build` and `boxlab commit` alike:
// a layer blob is written once (tar, diff_id, gzip, digest in one pass) and adopted by its
// digest; an image is its config and manifest as blobs, then a tag in index.json.
import { renameSync, rmSync } from 'node:fs';
import { MEDIA, type Manifest } from '../../rootfs-fetch/manifest.js';
import { sweepUnused } from '../../rootfs-fetch/images.js';
import type { Descriptor, Store } from '../../rootfs-fetch/store.js';
import { writeLayer, type LayerEntry } from './layer.js';
import type { CachedLayer } from './cache.js';

/** Entries as a layer blob in the store. */
export async function saveLayer(store: Store, entries: LayerEntry[], o: { clamp: number; onBytes?: (n: number) => void; live?: boolean }): Promise<CachedLayer> {
  const out = store.tmpName('layer.tar.gz');
  try {
    const blob = await writeLayer(entries, out, o);
    if (store.has(blob.digest)) rmSync(out);
    else renameSync(out, store.path(blob.digest));
    return { digest: blob.digest, diffId: blob.diffId, size: blob.size };
  } catch (e) {
    rmSync(out, { force: true });
    throw e;
  }
}

/** A config (JSON) and its layers as an OCI image, tagged `name`; blobs no image uses any more go. */
export function saveImage(store: Store, name: string, config: object, layers: Descriptor[]): Descriptor {
  const cfgBytes = Buffer.from(JSON.stringify(config));
  const manifest: Manifest = { schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: store.putBytes(cfgBytes), size: cfgBytes.length }, layers };
  const mBytes = Buffer.from(JSON.stringify(manifest));
  const desc = { mediaType: MEDIA.ociManifest, digest: store.putBytes(mBytes), size: mBytes.length };
  store.tag(name, desc);
  sweepUnused(store);
  return desc;
}
