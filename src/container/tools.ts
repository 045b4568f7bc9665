// What a box needs of boxlab's own inside it: a static env(1), so that the box's environment is
// set after the last host binary has entered the box (see enter.ts). It is the host's static
// busybox, copied once per host into a directory that every box gets as its top overlay lower:
// the box sees /.boxlab/busybox read-only (a write copies it up into the box's own upper), and
// nothing of the host's is exposed.
import { createHash } from 'node:crypto';
import { CACHE_ROOT } from '../paths.js';
import type { Action } from '../model/lesson.js';
import { cmd } from '../shell/cmd.js';
import { mkdirP } from '../shell/coreutils.js';

/** Where the box finds it. */
export const BOX_BUSYBOX = '/.boxlab/busybox';

/** The lower directory, per host busybox (by path and size: a new package gives a new copy). */
export const toolsDir = (busybox: { path: string; size: number }): string =>
  `${CACHE_ROOT}/tools-${createHash('sha256').update(`${busybox.path}:${busybox.size}:${BOX_BUSYBOX}`).digest('hex').slice(0, 12)}`;

export function toolsLayer(busybox: { path: string; size: number }): Action {
  const tmp = '${WORK}/tools';
  return {
    ensureDir: toolsDir(busybox),
    tmp,
    build: [cmd('mkdir', '-p', '--mode=0700', CACHE_ROOT), mkdirP(`${tmp}/.boxlab`), cmd('cp', busybox.path, `${tmp}${BOX_BUSYBOX}`)],
  };
}
