// `boxlab fetch REF`: manifest (through an index, for this platform), config, then the layers in
// parallel, each checked and cached; layers already in the cache are not downloaded again.
import type { Runner } from '../src/shell/spawn.js';
import { EnvError } from '../src/errors.js';
import { imageFrom, LAYERS_DIR, sweepUnused, unpackLayer, type Image } from './images.js';
import { checkConfig, checkManifest, hostPlatform, isIndex, selectPlatform, type ImageConfig, type Index, type Manifest } from './manifest.js';
import { humanBytes, type Progress } from './progress-bars.js';
import { canonical, parseReference } from './reference.js';
import { Registry } from './registry.js';
import { UnpackBudget } from './unpack.js';
import { limits, type Limits } from './limits.js';
import type { Store } from './store.js';

export interface PullOptions {
  store: Store;
  runner: Runner;
  progress: Progress;
  plainHttp?: boolean;
  platform?: { os: string; architecture: string };
  signal?: AbortSignal;
  layersRoot?: string;
  /** Parallel layer downloads. */
  parallel?: number;
  /** Smaller limits than LIMITS (the tests). */
  limits?: Partial<Limits>;
}

export interface PullResult {
  image: Image;
  /** Layer bytes downloaded by this pull (0 when every layer was cached). */
  layerBytes: number;
  cachedLayers: number;
}

const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(1)} GiB`;

/**
 * The sizes a manifest declares, against the caps, before any blob is asked for: a manifest
 * may declare a layer of a terabyte, and the store streams a blob up to its declared size.
 */
export function checkDeclaredSizes(m: Manifest, name: string, lim: Limits): void {
  for (const l of m.layers) {
    if (l.size > lim.blobBytes) throw new EnvError(`${name}: layer ${l.digest} declares ${l.size} bytes (${gib(l.size)}), over the ${lim.blobBytes} (${gib(lim.blobBytes)}) boxlab downloads for one blob: refused`);
  }
  const total = m.layers.reduce((n, l) => n + l.size, m.config.size);
  if (total > lim.imageBytes) throw new EnvError(`${name}: the image's config and ${m.layers.length} layer${m.layers.length === 1 ? '' : 's'} declare ${total} bytes in all (${gib(total)}), over the ${lim.imageBytes} (${gib(lim.imageBytes)}) boxlab downloads for one image: refused`);
}

export async function pull(text: string, o: PullOptions): Promise<PullResult> {
  const ref = parseReference(text);
  const name = canonical(ref);
  const lim = limits(o.limits);
  const registry = new Registry(ref, { plainHttp: o.plainHttp, signal: o.signal, limits: lim });
  let top = await registry.manifest(ref.digest ?? ref.tag!);
  if (isIndex(top.mediaType)) {
    const index = top.json as unknown as Index;
    const chosen = selectPlatform(index, o.platform ?? hostPlatform(), name);
    o.progress.line(`${name}: an index of ${index.manifests.length} manifests; ${chosen.platform!.os}/${chosen.platform!.architecture} is ${chosen.digest}`);
    top = await registry.manifest(chosen.digest);
    if (isIndex(top.mediaType)) throw new EnvError(`${name}: an index inside an index is not supported`);
  }
  const manifest = top.json as unknown as Manifest;
  checkManifest(manifest, name);
  if (manifest.config.size > lim.jsonBytes) throw new EnvError(`${name}: the config is ${manifest.config.size} bytes, over the ${lim.jsonBytes} boxlab reads: refused`);
  checkDeclaredSizes(manifest, name, lim);

  const { store } = o;
  if (!store.has(manifest.config.digest)) await store.put(manifest.config, await registry.blob(manifest.config.digest, manifest.config.size), undefined, o.signal);
  const config = store.json<ImageConfig>(manifest.config.digest, `${name}: the image config`);
  checkConfig(config, manifest, name);

  let layerBytes = 0;
  let cachedLayers = 0;
  const queue = manifest.layers.map((l, i) => ({ l, i }));
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const { l, i } = job;
      const bar = o.progress.bar(`layer ${i + 1}/${manifest.layers.length} ${l.digest.slice(7, 19)}`, l.size);
      if (store.has(l.digest)) {
        cachedLayers++;
        bar.done('cached');
        continue;
      }
      await store.put(l, await registry.blob(l.digest, l.size), (n) => {
        layerBytes += n;
        bar.add(n);
      }, o.signal);
      bar.done('verified');
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel ?? 3, queue.length) }, worker));

  const desc = { mediaType: top.mediaType, digest: store.putBytes(top.bytes), size: top.bytes.length };
  const image = imageFrom(store, name, desc, o.layersRoot ?? LAYERS_DIR);
  const budget = new UnpackBudget(lim); // one for the image's layers
  for (const layer of image.layers) await unpackLayer(store, layer, o.runner, budget);
  // Only now, with every blob verified and every layer unpacked, does the name point at it.
  store.tag(name, desc);
  sweepUnused(store, o.layersRoot ?? LAYERS_DIR); // what the name pointed at before
  o.progress.line(`${name}: ${image.layers.length} layers, ${humanBytes(layerBytes)} downloaded, ${cachedLayers} already cached`);
  return { image, layerBytes, cachedLayers };
}
