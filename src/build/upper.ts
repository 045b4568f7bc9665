// A box's overlay upper directory as layer entries: one function for `boxlab build`'s RUN
// steps and `boxlab commit`'s running boxes. overlayfs marks opaque directories with an xattr
// that lstat cannot see, so getfattr lists them (one process for the whole tree).
import { EnvError } from '../errors.js';
import type { Runner } from '../shell/spawn.js';
import { opaqueMarks, parseOpaqueMarks } from '../shell/getfattr.js';
import { upperEntries, WHITEOUT, type LayerEntry } from './layer.js';

/** Top-level names a run makes in its upper for itself: mount points (/proc, /sys, /dev),
 *  the old root's, and a copy-up of boxlab's own tools. Not the command's changes. */
export const RUN_OWN_NAMES = new Set(['proc', 'sys', 'dev', '.oldroot', '.boxlab']);

/** With --userns the upper's owners are host ids (the box's 0 is hostId): a layer has the box's. */
export interface Shift {
  hostId: number;
  size: number;
}

export async function boxUpperEntries(upper: string, runner: Runner, shift?: Shift): Promise<LayerEntry[]> {
  const marks = await runner.run(opaqueMarks(upper));
  if (marks.code === 127) throw new EnvError('getfattr is not installed: apt-get install attr');
  if (marks.code !== 0) throw new EnvError(`getfattr ${upper} failed: ${marks.stderr.trim().split('\n').pop()}`);
  const opaque = new Set(parseOpaqueMarks(marks.stdout).map((p) => p.slice(upper.length + 1)).filter((p) => p !== ''));
  const entries = upperEntries(upper, opaque, RUN_OWN_NAMES);
  if (!shift) return entries;
  // A whiteout is boxlab's own (0/0); everything else was made by the box, inside the range.
  return entries.map((e) => (isMarker(e) ? { ...e, uid: 0, gid: 0 } : { ...e, uid: unshifted(e.uid, shift), gid: unshifted(e.gid, shift) }));
}

const isMarker = (e: LayerEntry): boolean => e.path.split('/').pop()!.startsWith(WHITEOUT);

/** A host id back to the box's: an id outside the range (none a box can make) is the box's nobody. */
export const unshifted = (id: number, s: Shift): number => (id >= s.hostId && id < s.hostId + s.size ? id - s.hostId : 65534);
