// The build cache: which layer a step made, keyed as BuildKit keys it: the ChainID of the
// layers below, the instruction, and what else decides the result (the content hash of COPY's
// sources; for RUN the environment, build args, directory, user and network it ran with).
// One small JSON file per key; an entry is used only while its blob and layer are still cached.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_ROOT } from '../paths.js';
import { checkDigest } from '../../rootfs-fetch/digest.js';
import { privateDir } from '../../rootfs-fetch/store.js';

export interface CachedLayer {
  digest: string;
  diffId: string;
  size: number;
}

export const cacheKey = (parentChain: string, instruction: string, extra: unknown): string =>
  createHash('sha256').update(JSON.stringify([parentChain, instruction, extra])).digest('hex');

export class BuildCache {
  constructor(readonly dir = join(CACHE_ROOT, 'build-cache')) {}

  get(key: string): CachedLayer | undefined {
    const file = join(this.dir, `${key}.json`);
    if (!existsSync(file)) return undefined;
    try {
      const v = JSON.parse(readFileSync(file, 'utf8')) as CachedLayer;
      checkDigest(v.digest, 'cache');
      checkDigest(v.diffId, 'cache');
      if (!Number.isSafeInteger(v.size) || v.size < 0) return undefined;
      return { digest: v.digest, diffId: v.diffId, size: v.size };
    } catch {
      return undefined; // a broken entry is a miss, and is written again
    }
  }

  put(key: string, layer: CachedLayer): void {
    privateDir(this.dir);
    const tmp = join(this.dir, `.${key}.${process.pid}`);
    writeFileSync(tmp, JSON.stringify(layer));
    renameSync(tmp, join(this.dir, `${key}.json`));
  }
}
