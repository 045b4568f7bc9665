import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json, from either src/ (tests) or dist/ (compiled). */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** boxlab's cache of images, root filesystems and build steps (BOXLAB_CACHE_DIR elsewhere). */
export const CACHE_ROOT = process.env.BOXLAB_CACHE_DIR ?? '/var/cache/boxlab';
