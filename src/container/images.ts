// Docker's habit: `boxlab run -it busybox sh`. Offline there is no Docker Hub, but boxlab makes
// a busybox image of its own (`boxlab fetch --busybox`); the short name stands for it when
// Docker's busybox is not in the cache.
import { EnvError } from '../errors.js';
import { BUSYBOX_IMAGE } from '../../rootfs-fetch/build.js';
import { storedName } from '../../rootfs-fetch/images.js';

/** Which image a run of `name` uses, and a note for the learner when it is not that name. */
export function busyboxStandIn(name: string, cached: (stored: string) => boolean): { name: string; note?: string } {
  let stored: string;
  try {
    stored = storedName(name);
  } catch {
    return { name }; // not a reference: loadImage says why
  }
  if (stored !== storedName('busybox') || cached(stored)) return { name };
  if (cached(BUSYBOX_IMAGE)) {
    return { name: BUSYBOX_IMAGE, note: `${name}: Docker's busybox is not in the cache, so ${BUSYBOX_IMAGE} runs, the busybox image boxlab fetch --busybox made on this machine (boxlab fetch busybox pulls Docker's)` };
  }
  throw new EnvError(
    `no busybox image in the cache. With no network, boxlab makes one from this machine's busybox: boxlab fetch --busybox (${BUSYBOX_IMAGE}; then boxlab run -it ${name} sh runs it). With a network, boxlab fetch busybox pulls Docker's.`,
  );
}
