import { definePractice } from '../../src/engine/exercise.js';
import { cmd } from '../../src/shell/cmd.js';

// The lesson's layout (lesson.ts): two lowers, and upper/work/merged per box.
const APP = '${WORK}/layer-app';
const LOWER = `${APP}:\${ROOTFS_CACHE}`;
const MOTD = 'motd of the app layer';
const MOUNTS = { file: '/proc/self/mountinfo' };
const mountAt = (dir: string) => ({ ...MOUNTS, grep: ` ${dir} ` });
const kind = (path: string) => cmd('stat', '-c', '%F %t:%T', path);
const WHITEOUT = 'character special file 0:0';

export default definePractice({
  lesson: 10,
  exercises: [
    {
      id: 'box-b',
      title: 'a second box, mounted by hand',
      goal:
        "Mount box b yourself: an overlay at $WORK/merged-b that stacks $WORK/layer-app over the busybox cache ($ROOTFS_CACHE), with $WORK/upper-b as its upper and $WORK/work-b as its work directory. Then, through merged-b, change /etc/motd to 'box b was here' and delete /bin/wget.",
      from: 'mount',
      checks: [
        { title: 'an overlay is mounted at merged-b', fact: mountAt('${WORK}/merged-b'), contains: ' - overlay ' },
        { title: 'its lowers are the app layer over the busybox cache (top first), its upper and work are b\'s', fact: mountAt('${WORK}/merged-b'), contains: `lowerdir=${LOWER},upperdir=\${WORK}/upper-b,workdir=\${WORK}/work-b` },
        { title: 'copy-up: the changed motd is in upper-b', fact: { file: '${WORK}/upper-b/etc/motd' }, equals: 'box b was here' },
        { title: 'whiteout: upper-b has a 0/0 character device at bin/wget', fact: { out: kind('${WORK}/upper-b/bin/wget') }, equals: WHITEOUT },
        { title: 'the busybox cache still has wget', fact: { status: cmd('test', '-f', '${ROOTFS_CACHE}/bin/wget') }, equals: '0' },
        { title: 'the app layer keeps its motd', fact: { file: `${APP}/etc/motd` }, equals: MOTD },
        { title: 'box a still sees the app layer\'s motd', fact: { file: '${WORK}/merged-a/etc/motd' }, equals: MOTD },
      ],
      hints: [
        'An overlay merges read-only lower directories (listed top first) under one writable upper directory; the work directory is its scratch space, on the same filesystem as the upper. Writing a lower file copies it up into the upper first; deleting one leaves a whiteout there.',
        'mount(8) with -t overlay and -o lowerdir=TOP:BOTTOM,upperdir=DIR,workdir=DIR (the kernel\'s Documentation/filesystems/overlayfs.rst). The lesson\'s mount of box a is in /proc/self/mountinfo: grep merged-a. Then echo and rm through the merged directory.',
        'mount -t overlay box-b -o ____=$WORK/layer-app:$ROOTFS_CACHE,upperdir=$WORK/upper-b,workdir=$WORK/work-b $WORK/merged-b',
      ],
      solution: [
        'mount -t overlay box-b -o lowerdir=$WORK/layer-app:$ROOTFS_CACHE,upperdir=$WORK/upper-b,workdir=$WORK/work-b $WORK/merged-b',
        "echo 'box b was here' > $WORK/merged-b/etc/motd",
        'rm $WORK/merged-b/bin/wget',
        'ls -l $WORK/upper-b/etc $WORK/upper-b/bin',
      ].join('\n'),
    },
    {
      id: 'commit',
      title: 'box a, committed as a layer',
      goal:
        "Do what `docker commit` does with box a: copy its upper directory ($WORK/upper-a) to $WORK/layer-commit, keeping its whiteout and its opaque directory, and mount box c read-only at $WORK/merged-c with layer-commit on top of $WORK/layer-app and $ROOTFS_CACHE. Box c must show box a's motd and /tmp/note, no /bin/wget, and only index.html in /srv/www.",
      from: 'diff',
      checks: [
        { title: 'an overlay at merged-c stacks layer-commit over the app layer and the busybox cache', fact: mountAt('${WORK}/merged-c'), contains: `lowerdir=\${WORK}/layer-commit:${LOWER}` },
        { title: "box c shows box a's motd", fact: { file: '${WORK}/merged-c/etc/motd' }, equals: 'changed in box a' },
        { title: "box c shows box a's note", fact: { file: '${WORK}/merged-c/tmp/note' }, equals: 'only in box a' },
        { title: 'the layer holds the whiteout: a 0/0 character device at bin/wget', fact: { out: kind('${WORK}/layer-commit/bin/wget') }, equals: WHITEOUT },
        { title: 'so box c has no /bin/wget', fact: { status: cmd('test', '-e', '${WORK}/merged-c/bin/wget') }, equals: '1' },
        { title: 'the layer\'s srv/www is still opaque (trusted.overlay.opaque=y)', fact: { out: cmd('getfattr', '--only-values', '-n', 'trusted.overlay.opaque', '${WORK}/layer-commit/srv/www') }, equals: 'y' },
        { title: "so box c's /srv/www holds only the new page", fact: { out: cmd('ls', '-m', '${WORK}/merged-c/srv/www') }, equals: 'index.html' },
      ],
      hints: [
        "A container's changes are all in its upper directory: new and changed files, whiteouts for deleted ones, an opaque attribute on a replaced directory. Copied somewhere else, that directory is a layer: put it on top of the image's lowers and a new box starts where box a stopped. A read-only overlay needs only lowerdir (two or more).",
        'cp(1): -a keeps device nodes, owners and extended attributes (trusted.overlay.opaque is one: getfattr(1) -n shows it); a plain cp -r loses the attribute and the old page comes back. mount(8) -t overlay -o lowerdir=TOP:MIDDLE:BOTTOM.',
        'cp ____ $WORK/upper-a $WORK/layer-commit; mkdir $WORK/merged-c; mount -t overlay box-c -o lowerdir=$WORK/layer-commit:$WORK/layer-app:$ROOTFS_CACHE $WORK/merged-c',
      ],
      solution: [
        'cp -a $WORK/upper-a $WORK/layer-commit',
        'getfattr -d -m trusted.overlay $WORK/layer-commit/srv/www',
        'mkdir $WORK/merged-c',
        'mount -t overlay box-c -o lowerdir=$WORK/layer-commit:$WORK/layer-app:$ROOTFS_CACHE $WORK/merged-c',
        'cat $WORK/merged-c/etc/motd; ls $WORK/merged-c/srv/www',
      ].join('\n'),
    },
  ],
});
