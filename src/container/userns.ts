// boxlab run --userns: root in the box is an unprivileged uid range on the host (lesson 6).
// The map is written by host root straight into /proc/PID/uid_map, as lesson 6 does, so no
// newuidmap and no /etc/subuid entry is needed.
import { CACHE_ROOT } from '../paths.js';
import type { Action } from '../model/lesson.js';
import { shProgram, type Cmd } from '../shell/cmd.js';
import { writeFile } from '../shell/coreutils.js';
import { nsenter } from '../shell/nsenter.js';
import { withParentDeathSignalChecked } from '../shell/setpriv.js';
import { unshare } from '../shell/unshare.js';

import type { IdMap } from './spec.js';

/** The process holding the user namespace until the box's own namespaces are made in it. */
const HOLDER = 'USERNS_HOLDER';

/**
 * A user namespace first, alone, and its maps. Anything exec'd in it before the map exists
 * loses every capability (its uid is unmapped there), so the box's init cannot be started
 * with it: it is started afterwards by entering this one as its root (see inUserns).
 */
export function usernsActions(m: IdMap): { creates: { process: string }[]; actions: Action[] } {
  const map = `0 ${m.hostId} ${m.size}`;
  return {
    creates: [{ process: `${HOLDER}_LAUNCHER` }],
    actions: [
      { start: withParentDeathSignalChecked('KILL', '${HOST_PID}', unshare({ ns: ['user'], fork: true, killChild: 'KILL' }, 'sleep', 'infinity')), pid: `${HOLDER}_LAUNCHER` },
      { childOf: `${HOLDER}_LAUNCHER`, pid: HOLDER, comm: 'sleep' },
      { run: writeFile(`/proc/\${${HOLDER}}/uid_map`, map) },
      { run: writeFile(`/proc/\${${HOLDER}}/gid_map`, map) },
    ],
  };
}

/**
 * `c` run as root of the box's user namespace (host uid 100000): nsenter --user sets uid and
 * gid 0 there, so the namespaces `c` creates belong to it. nsenter does not fork, and the
 * uid change (which clears a parent-death signal) happens before the setpriv inside `c`.
 */
export const inUserns = (c: Cmd): Cmd => ({ ...nsenter({ target: `\${${HOLDER}}`, ns: ['user'] }, c.file, ...c.args), inner: c });

/** The ids the box's root owns on the host: tmpfs mount options for /dev and /dev/shm. */
export const rootOwnerOptions = (m: IdMap): string => `uid=${m.hostId},gid=${m.hostId}`;

/**
 * Where a copy of a lower directory, owned by the box's uid range, lives. Directories in the
 * cache never change (layers are named by digest, the busybox rootfs by its recipe's hash),
 * so their copy is kept beside them; any other root filesystem is copied for this run only.
 */
export function shiftedPath(m: IdMap, lower: string, index: number): string {
  return lower.startsWith(`${CACHE_ROOT}/`) ? `${CACHE_ROOT}/userns-${m.hostId}-${m.size}/${lower.slice(CACHE_ROOT.length + 1)}` : `\${WORK}/lower-${index}`;
}

/** Docker's userns-remap does the same: a copy of each layer, chowned into the range. */
const SHIFT = [
  'src=$1 dst=$2 base=$3 size=$4',
  '[ ! -e "$dst" ] || exit 0 # made by an earlier run',
  'tmp=$dst.tmp-$$',
  "trap 'rm -rf \"$tmp\" \"$tmp.modes\"' EXIT",
  'mkdir -p "${dst%/*}"',
  // -a keeps what overlayfs reads: whiteouts (0/0 char devices) and trusted.overlay.* xattrs.
  'cp -a "$src" "$tmp"',
  // chown(2) clears set-user-ID and set-group-ID bits: note them, put them back after.
  "find \"$tmp\" -perm /6000 ! -type l -printf '%m %p\\0' > \"$tmp.modes\"",
  // One chown -R per owner pair in the tree (a root filesystem has a handful).
  "find \"$tmp\" -printf '%U %G\\n' | sort -u | while read -r u g; do",
  // Ids beyond the range (a tree already shifted, say) are left as they are.
  '  if [ "$u" -lt "$size" ] && [ "$g" -lt "$size" ]; then chown -hR --from="$u:$g" "$((u + base)):$((g + base))" "$tmp"; fi',
  'done',
  'while read -r -d "" m p; do chmod "$m" "$p"; done < "$tmp.modes"',
  // Another run may have made it meanwhile: then its copy serves.
  'mv -T "$tmp" "$dst" 2>/dev/null || [ -d "$dst" ]',
].join('\n');

/** A copy of `src` at `dst` with every owner in the range moved up by its host id. */
export const shiftOwners = (m: IdMap, src: string, dst: string): Cmd => shProgram('bash', '-euc', SHIFT, 'shift-owners', src, dst, String(m.hostId), String(m.size));
