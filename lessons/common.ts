// Steps several lessons share.
import { cmd, type Cmd, shProgram } from '../src/shell/cmd.js';
import { copyTree, mkdirP, writeFile } from '../src/shell/coreutils.js';
import type { Check, Step } from '../src/model/lesson.js';
import { busyboxRecipe } from '../rootfs-fetch/busybox.js';

const inode = (path: string) => cmd('stat', '-c', '%i', path);

/** A file outside the root filesystem: if a box can read it, the box reached the host. */
export const HOST_SECRET = '${WORK}/host-secret';
export const SECRET_TEXT = 'boxlab-secret-${RUN_ID}';

/** The work directory, the busybox root filesystem (from the cache) and the host's secret. */
export const rootfsStep: Step = {
  id: 'rootfs',
  title: 'A root filesystem is just a directory',
  feature: { name: 'a root filesystem: a directory tree with a static busybox', syscalls: ['execve(2)'], man: ['busybox(1)', 'hier(7)'] },
  creates: [{ dir: '${WORK}' }],
  actions: [
    { run: mkdirP('${WORK}') },
    { ensureDir: '${ROOTFS_CACHE}', tmp: '${WORK}/rootfs-build', build: [...busyboxRecipe('${WORK}/rootfs-build', '${BUSYBOX}'), mkdirP('${CACHE_DIR}')] },
    { run: copyTree('${ROOTFS_CACHE}', '${ROOTFS}') },
    { run: writeFile(HOST_SECRET, SECRET_TEXT) },
  ],
  probes: [{ title: 'the root filesystem, seen from the host', show: { out: { file: 'ls', args: ['${ROOTFS}'] } } }],
  checks: [
    { title: "the rootfs's /bin/sh is busybox (the same inode)", fact: { out: inode('${ROOTFS}/bin/sh') }, equals: { out: inode('${ROOTFS}/bin/busybox') } },
    { title: 'the host secret is on the host, beside (not inside) the rootfs', fact: { file: HOST_SECRET }, equals: SECRET_TEXT },
  ],
};

/** The flag a capture-the-flag exercise hides on the host, outside the box (practice mode). */
export const FLAG = '${WORK}/flag';
export const FLAG_TEXT = 'flag-${RUN_ID}';
export const flagStep: Step = {
  id: 'flag',
  title: 'a flag on the host, outside the box',
  feature: { name: 'a file outside the root filesystem', syscalls: ['open(2)'], man: ['path_resolution(7)'] },
  actions: [{ run: writeFile(FLAG, FLAG_TEXT) }],
  checks: [{ title: 'the flag is on the host', fact: { file: FLAG }, equals: FLAG_TEXT }],
};
/** A capture-the-flag's one check: the flag's text in the box's /loot, read on the host. */
export const flagLooted = (where: string): Check => ({ title: `the host's flag is in ${where}'s /loot`, fact: { file: '${ROOTFS}/loot' }, equals: FLAG_TEXT });

/**
 * Each layer's ChainID, bottom first, from an image config's diff_ids with sha256sum alone
 * (image-spec config.md, "Layer ChainID"): the first is its diff_id, each next
 * sha256("BELOW DIFF_ID"). Lessons 11 and 13 compare the last with boxlab's.
 */
const CHAIN_IDS = [
  `c=; for d in $(grep -o '"diff_ids": *\\[[^]]*' "$1" | grep -o 'sha256:[0-9a-f]*'); do`,
  `if [ -z "$c" ]; then c=$d; else c=sha256:$(printf '%s %s' "$c" "$d" | sha256sum | cut -c1-64); fi; echo "$c"; done`,
].join(' ');
export const chainIds = (configBlob: string): Cmd => shProgram('sh', '-c', CHAIN_IDS, 'sh', configBlob);
