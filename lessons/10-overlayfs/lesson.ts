import { defineLesson } from '../../src/model/lesson.js';
import { cmd } from '../../src/shell/cmd.js';
import { chroot } from '../../src/shell/chroot.js';
import { capsh } from '../../src/shell/capsh.js';
import { withNoNewPrivs } from '../../src/shell/setpriv.js';
import { NOT_DOCKER_CAPS } from '../../src/box/box.js';
import { mkdirP, writeFile } from '../../src/shell/coreutils.js';
import { mountOverlay } from '../../src/shell/mount.js';
import { boxlab } from '../../src/shell/boxlab.js';
import { busyboxRecipe } from '../../rootfs-fetch/busybox.js';
import * as diagrams from './diagrams.js';

/** The app layer: a small directory stacked on the shared busybox rootfs (the cache itself). */
const APP = '${WORK}/layer-app';
const LOWER = `${APP}:\${ROOTFS_CACHE}`;
const box = (name: 'a' | 'b') => ({ upper: `\${WORK}/upper-${name}`, work: `\${WORK}/work-${name}`, merged: `\${WORK}/merged-${name}` });
const A = box('a');
const B = box('b');
const MOUNTS = { file: '/proc/self/mountinfo' };
const mountBox = (b: typeof A, name: string) => mountOverlay(name, b.merged, { lower: LOWER, upper: b.upper, work: b.work });
const inA = (script: string) => chroot(A.merged, '/bin/sh', '-c', script);
const kind = (path: string) => cmd('stat', '-c', '%F %t:%T', path);
const MOTD = 'motd of the app layer';

export default defineLesson({
  number: 10,
  slug: 'overlayfs',
  title: 'overlayfs: layers, copy-up and whiteouts',
  steps: [
    {
      id: 'layers',
      title: 'Layers are directories: the shared busybox rootfs and a small app layer',
      feature: { name: 'read-only lower layers', syscalls: ['mkdir(2)'], man: ['overlayfs (Documentation/filesystems/overlayfs.rst)'] },
      creates: [{ dir: '${WORK}' }],
      actions: [
        { run: mkdirP('${WORK}') },
        { ensureDir: '${ROOTFS_CACHE}', tmp: '${WORK}/rootfs-build', build: [...busyboxRecipe('${WORK}/rootfs-build', '${BUSYBOX}'), mkdirP('${CACHE_DIR}')] },
        { run: mkdirP(`${APP}/etc`, `${APP}/srv/www`, A.upper, A.work, A.merged, B.upper, B.work, B.merged) },
        { run: writeFile(`${APP}/etc/motd`, MOTD) },
        { run: writeFile(`${APP}/srv/www/old.html`, 'the old page') },
      ],
      probes: [
        { title: 'the app layer', show: { out: cmd('find', APP) } },
        { title: 'the bottom layer is the busybox cache every run shares', show: { out: cmd('ls', '${ROOTFS_CACHE}') } },
      ],
      checks: [
        { title: 'the bottom layer holds busybox', fact: { out: cmd('stat', '-c', '%F', '${ROOTFS_CACHE}/bin/busybox') }, equals: 'regular file' },
        { title: 'the app layer holds its motd', fact: { file: `${APP}/etc/motd` }, equals: MOTD },
      ],
    },
    {
      id: 'mount',
      title: 'Stack them: lowerdir, upperdir, workdir',
      diagram: diagrams.stack,
      feature: { name: 'overlay filesystem', syscalls: ['mount(2) of overlay'], man: ['mount(8) (overlay options)'] },
      creates: [{ mount: A.merged }],
      actions: [{ run: mountBox(A, 'boxlab-a') }],
      probes: [
        { title: 'the kernel records the layers in mountinfo', show: { ...MOUNTS, grep: ` ${A.merged} ` } },
        { title: 'the merged view', show: { out: cmd('ls', A.merged) } },
      ],
      checks: [
        { title: 'an overlay is mounted at merged-a', fact: { ...MOUNTS, grep: ` ${A.merged} ` }, contains: ' - overlay boxlab-a ' },
        { title: 'its lowers are the app layer over the busybox cache (top first)', fact: { ...MOUNTS, grep: ` ${A.merged} ` }, contains: `lowerdir=${LOWER},upperdir=${A.upper},workdir=${A.work}` },
        { title: 'the top lower wins: the merged motd is the app layer one', fact: { file: `${A.merged}/etc/motd` }, equals: MOTD },
        { title: 'the upper directory is still empty', fact: { out: cmd('find', A.upper, '-maxdepth', '0', '-empty') }, equals: A.upper },
      ],
    },
    {
      id: 'copy-up',
      title: 'Change a lower file: copy-up into the upper directory',
      feature: { name: 'copy-up', syscalls: ['open(2) O_WRONLY on a lower file'], man: ['overlayfs (copy up)'] },
      actions: [{ run: inA('echo changed in box a > /etc/motd') }],
      probes: [{ title: 'the upper directory now', show: { out: cmd('find', A.upper) } }],
      quiz: { question: 'The box changes /etc/motd, a file from a lower layer. Does the lower layer\'s copy change?', answer: 'no', check: 'the lower file is untouched' },
      checks: [
        { title: 'the changed file is in the upper directory', fact: { file: `${A.upper}/etc/motd` }, equals: 'changed in box a' },
        { title: 'the lower file is untouched', fact: { file: `${APP}/etc/motd` }, equals: MOTD },
        { title: 'the merged view shows the upper copy', fact: { file: `${A.merged}/etc/motd` }, equals: 'changed in box a' },
      ],
    },
    {
      id: 'whiteout',
      title: 'Delete a lower file: a whiteout',
      feature: { name: 'whiteout (a 0/0 character device in upper)', syscalls: ['unlink(2)', 'mknod(2)'], man: ['overlayfs (whiteouts and opaque directories)'] },
      actions: [{ run: inA('rm /bin/wget') }],
      probes: [{ title: 'what the upper directory holds at bin/wget', show: { out: cmd('ls', '-l', `${A.upper}/bin/wget`) } }],
      checks: [
        { title: 'the upper has a 0/0 character device where the file was', fact: { out: kind(`${A.upper}/bin/wget`) }, equals: 'character special file 0:0' },
        { title: 'the lower still has the file', fact: { status: cmd('test', '-e', '${ROOTFS_CACHE}/bin/wget') }, equals: '0' },
        { title: 'the merged view does not', fact: { status: cmd('test', '-e', `${A.merged}/bin/wget`) }, differs: '0' },
      ],
    },
    {
      id: 'opaque',
      title: 'Replace a lower directory: an opaque directory',
      feature: { name: 'opaque directory (trusted.overlay.opaque=y)', syscalls: ['rmdir(2)', 'mkdir(2)', 'setxattr(2)'], man: ['overlayfs (whiteouts and opaque directories)', 'xattr(7)'] },
      actions: [{ run: inA('rm -r /srv/www && mkdir /srv/www && echo new page > /srv/www/index.html') }],
      probes: [{ title: "the upper directory's extended attributes", show: { out: cmd('getfattr', '-d', '-m', 'trusted.overlay', `${A.upper}/srv/www`) } }],
      checks: [
        { title: 'the new directory is marked opaque', fact: { out: cmd('getfattr', '--only-values', '-n', 'trusted.overlay.opaque', `${A.upper}/srv/www`) }, equals: 'y' },
        { title: 'the merged directory holds only the new page', fact: { out: cmd('ls', `${A.merged}/srv/www`) }, equals: 'index.html' },
        { title: 'the old page is still in the lower layer', fact: { file: `${APP}/srv/www/old.html` }, equals: 'the old page' },
      ],
    },
    {
      id: 'second-box',
      title: "A second box on the same lowers does not see the first one's writes",
      diagram: diagrams.twoBoxes,
      feature: { name: 'shared read-only lowers, private uppers', syscalls: ['mount(2) of overlay'], man: ['overlayfs'] },
      creates: [{ mount: B.merged }],
      actions: [
        { run: mountBox(B, 'boxlab-b') },
        { run: inA('echo only in box a > /tmp/note') },
      ],
      checks: [
        { title: 'both overlays stack the same lowers', fact: { ...MOUNTS, grep: ` ${B.merged} ` }, contains: `lowerdir=${LOWER},` },
        { title: "box b does not see box a's new file", fact: { status: cmd('test', '-e', `${B.merged}/tmp/note`) }, differs: '0' },
        { title: "box b sees the lower motd, not box a's copy", fact: { file: `${B.merged}/etc/motd` }, equals: MOTD },
        { title: 'box b still has wget', fact: { status: cmd('test', '-e', `${B.merged}/bin/wget`) }, equals: '0' },
      ],
    },
    {
      id: 'diff',
      title: "What box a changed: the upper directory, read as `docker diff`",
      feature: { name: 'the upper directory is the diff', syscalls: ['readdir(2)', 'lstat(2)'], man: ['docker-diff(1)'] },
      actions: [],
      probes: [{ title: 'boxlab diff merged-a (A added, C changed, D deleted)', show: { out: boxlab('diff', A.merged) } }],
      checks: [
        // What diff reports, read from the file system itself: the upper and the lowers.
        { title: 'A: the note is in the upper directory', fact: { file: `${A.upper}/tmp/note` }, equals: 'only in box a' },
        { title: '... and in no lower layer', fact: { status: cmd('test', '-e', '${ROOTFS_CACHE}/tmp/note') }, differs: '0' },
        { title: 'C: the upper holds a copy of a file the lowers have', fact: { file: `${A.upper}/etc/motd` }, equals: 'changed in box a' },
        { title: 'D: the upper holds a whiteout for bin/wget', fact: { out: kind(`${A.upper}/bin/wget`) }, equals: 'character special file 0:0' },
        { title: 'boxlab diff lists that whiteout as D', fact: { out: boxlab('diff', A.merged) }, contains: 'D /bin/wget' },
        { title: "box b's upper is still empty", fact: { out: cmd('find', B.upper, '-maxdepth', '0', '-empty') }, equals: B.upper },
      ],
    },
  ],
  // No namespaces here (the lesson is about the filesystem), but the defences of lessons 7 and
  // 8 stay on: Docker's capabilities and no_new_privs, in the merged directory.
  shell: withNoNewPrivs(capsh({ chroot: A.merged, drop: NOT_DOCKER_CAPS }, '/bin/sh')),
});
