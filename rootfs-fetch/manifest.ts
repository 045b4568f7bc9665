// Manifests, indexes and configs, OCI and Docker schema2 alike, and the checks they must pass.
import { EnvError } from '../src/errors.js';
import { checkDigest } from './digest.js';
import { printable, shown } from './untrusted.js';
import type { Descriptor } from './store.js';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

export const ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(', ');

const CONFIG_TYPES = new Set<unknown>([MEDIA.ociConfig, MEDIA.dockerConfig]);
/** Uncompressed, gzip and zstd tar layers; nothing else (foreign layers, artifacts) is unpacked. */
const LAYER_TYPES = new Set<unknown>([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
]);

export interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface Index {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

/** The parts of an image config boxlab applies when the image runs as a box. */
export interface ImageConfig {
  architecture: string;
  os: string;
  config?: { Env?: string[]; Entrypoint?: string[] | null; Cmd?: string[] | null; WorkingDir?: string; User?: string };
  rootfs: { type: string; diff_ids: string[] };
}

export const isIndex = (mediaType: string): boolean => mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList;

/** This machine's platform in OCI words. */
export function hostPlatform(): { os: string; architecture: string } {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

export function parsePlatform(text: string): { os: string; architecture: string } {
  const m = /^(linux)\/([a-z0-9]+)$/.exec(text);
  if (!m) throw new EnvError(`--platform takes linux/ARCH, e.g. linux/arm64 (got '${text}')`);
  return { os: m[1]!, architecture: m[2]! };
}

/** The manifest for a platform from an index; a clear line listing what the index has otherwise. */
export function selectPlatform(index: Index, want: { os: string; architecture: string }, name: string): Descriptor {
  if (!Array.isArray(index?.manifests)) throw new EnvError(`${name}: the index lists no manifests`);
  const found = index.manifests.find((d) => d?.platform?.os === want.os && d.platform.architecture === want.architecture);
  if (found) {
    checkDigest(found.digest, `${name}: the index's ${want.os}/${want.architecture} manifest digest`);
    return found;
  }
  // The registry's words: escaped, each cut short, and the list too.
  const has = index.manifests.flatMap((d) => (d?.platform ? [`${printable(d.platform.os, 40)}/${printable(d.platform.architecture, 40)}`] : []));
  throw new EnvError(`${name} has no ${want.os}/${want.architecture} image (it has: ${printable(has.join(', ')) || 'none named'})`);
}

/** A manifest's config and layers: known media types, sha256 digests, sizes. */
export function checkManifest(m: Manifest, name: string): void {
  if (m?.schemaVersion !== 2 || !m.config || !Array.isArray(m.layers)) throw new EnvError(`${name}: not an image manifest (schema 2) that boxlab can read`);
  if (!CONFIG_TYPES.has(m.config.mediaType)) throw new EnvError(`${name}: the config has media type ${shown(m.config.mediaType)}, which boxlab does not read`);
  checkDigest(m.config.digest, `${name}: config digest`);
  if (!Number.isSafeInteger(m.config.size) || m.config.size < 0) throw new EnvError(`${name}: the config has no valid size`);
  m.layers.forEach((l, i) => {
    if (!LAYER_TYPES.has(l?.mediaType)) throw new EnvError(`${name}: layer ${i + 1} has media type ${shown(l?.mediaType)}, which boxlab does not unpack`);
    checkDigest(l.digest, `${name}: layer digest`);
    if (!Number.isSafeInteger(l.size) || l.size < 0) throw new EnvError(`${name}: layer ${l.digest} has no valid size`);
  });
}

/** The config's diff_ids: one sha256 per layer of the manifest. */
export function checkConfig(c: ImageConfig, m: Manifest, name: string): void {
  if (c?.rootfs?.type !== 'layers' || !Array.isArray(c.rootfs.diff_ids)) throw new EnvError(`${name}: the image config has no rootfs.diff_ids`);
  if (c.rootfs.diff_ids.length !== m.layers.length) throw new EnvError(`${name}: ${m.layers.length} layers but ${c.rootfs.diff_ids.length} diff_ids in the config`);
  for (const d of c.rootfs.diff_ids) checkDigest(d, `${name}: diff_id`);
}
