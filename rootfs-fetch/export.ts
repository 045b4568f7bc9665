// `boxlab fetch --out DIR`: an image's layers applied in order into one directory, whiteouts
// applied (what umoci unpack makes). That tree is on the host, not in a box: its file system is
// neither nodev nor nosuid, so a device node or a setuid-root binary the image ships there is
// root for any local user who can reach it. So DIR is made 0700 (an existing one must be an
// empty directory of root's), the image's root entry does not change it, device nodes are not
// made, and setuid/setgid bits are removed unless the caller keeps them (--keep-privileges).
import { chmodSync, mkdirSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { EnvError, UsageError } from '../src/errors.js';
import type { Runner } from '../src/shell/spawn.js';
import type { Image } from './images.js';
import { LayerError, lstatOrUndefined } from './in-root.js';
import { limits, type Limits } from './limits.js';
import type { Progress } from './progress-bars.js';
import type { Store } from './store.js';
import { applyLayer, UnpackBudget } from './unpack.js';

export interface ExportOptions {
  /** Keep setuid/setgid bits (device nodes are never made). */
  keepPrivileges?: boolean;
  progress?: Pick<Progress, 'line'>;
  /** Smaller limits than LIMITS (the tests). */
  limits?: Partial<Limits>;
}

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/**
 * An --out directory that exists already: its real path, once it is known to be an empty
 * directory of root's (of this user's, when not root). Undefined when nothing is there.
 * Throws a one-line UsageError otherwise: boxlab never unpacks into someone else's directory.
 */
export function existingOut(out: string): string | undefined {
  if (!lstatOrUndefined(out)) return undefined;
  const st = statSync(out);
  if (!st.isDirectory()) throw new UsageError(`--out ${out} is not a directory`);
  const me = process.geteuid?.() ?? 0;
  if (st.uid !== me) throw new UsageError(`--out ${out} belongs to uid ${st.uid}, not to ${me === 0 ? 'root' : `uid ${me}`}: give a new directory (made 0700) or an empty one of ${me === 0 ? "root's" : 'your own'}`);
  if (readdirSync(out).length > 0) throw new UsageError(`--out ${out}: the directory is not empty`);
  return realpathSync(out);
}

/** A new --out directory, 0700 whatever the umask; mkdir fails if anything appeared there meanwhile. */
function makeOut(out: string): string {
  mkdirSync(dirname(out), { recursive: true });
  mkdirSync(out, { mode: 0o700 });
  chmodSync(out, 0o700);
  return realpathSync(out);
}

/** Applies the image's layers into out (see the top of this file); a new out is removed if that fails. */
export async function exportImage(store: Store, image: Image, out: string, runner: Runner, o: ExportOptions = {}): Promise<void> {
  const existing = existingOut(out);
  const dir = existing ?? makeOut(out);
  try {
    const budget = new UnpackBudget(limits(o.limits)); // the layers together
    for (const [i, l] of image.layers.entries()) {
      const r = await applyLayer(store.path(l.digest), dir, 'flatten', runner, budget, { keepPrivileges: o.keepPrivileges });
      const which = `--out: layer ${i + 1}/${image.layers.length}`;
      if (r.devicesSkipped) o.progress?.line(`${which}: ${count(r.devicesSkipped, 'device node', 'device nodes')} not made (a tree unpacked on the host is not a box: nothing there should open a device)`);
      if (r.privilegesStripped) o.progress?.line(`${which}: setuid/setgid bits removed from ${count(r.privilegesStripped, 'file', 'files')} (--keep-privileges keeps them)`);
    }
  } catch (e) {
    if (!existing) rmSync(dir, { recursive: true, force: true });
    if (e instanceof LayerError) throw new EnvError(`--out ${out}: ${e.message}`);
    throw e;
  }
}
