import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json, from either src/ (tests) or dist/ (compiled). */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** boxlab's cache of images, root filesystems and build steps (BOXLAB_CACHE_DIR elsewhere). */
// Set but empty counts as unset: an empty root would put the cache at /images, /rootfs ...
export const CACHE_ROOT = process.env.BOXLAB_CACHE_DIR || '/var/cache/boxlab';

/** This install's own commands: [full path, command name]. */
export const commandNames = (): [string, string][] => [
  [join(packageRoot(), 'bin', 'boxlab.js'), 'boxlab'],
  [join(packageRoot(), 'bin', 'boxlab-runtime'), 'boxlab-runtime'],
];

/** This install's own commands as a learner types them, where PATH finds them as this install
 *  (provision.sh links /usr/local/bin/boxlab): [full path, name] pairs, so a projector shows
 *  `boxlab fetch ...` and not /home/.../bin/boxlab.js. Only what PATH really resolves here, so
 *  a shown command still runs when typed. */
export function installedCommandNames(path = process.env.PATH ?? ''): [string, string][] {
  const out: [string, string][] = [];
  for (const [full, name] of commandNames()) {
    const found = path.split(delimiter).filter(Boolean).map((d) => join(d, name)).find((p) => existsSync(p));
    try {
      if (found && realpathSync(found) === realpathSync(full)) out.push([full, name]);
    } catch {
      // a dangling link: not ours to name
    }
  }
  return out;
}

/** TEXT with each path of NAMES ([path, name], in order) said by its name: a command's path
 *  as the command, a directory as its variable ($WORK/upper). Only a whole path, or one
 *  followed by /, or a line of a $'...' string (after \n): never a part of a longer name. */
export function withShortNames(text: string, names: [string, string][]): string {
  let out = text;
  for (const [full, name] of names) {
    const escaped = full.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`(?:(?<=\\\\n)|(?<![\\w./-]))${escaped}(?![\\w.-])`, 'g'), name);
  }
  return out;
}
