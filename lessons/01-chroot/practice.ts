import { definePractice } from '../../src/engine/exercise.js';
import { flagLooted, flagStep } from '../common.js';
import { willReplay } from '../../src/model/lesson.js';
import { chroot } from '../../src/shell/chroot.js';
import { described, cmd, shProgram } from '../../src/shell/cmd.js';
import { writeFile } from '../../src/shell/coreutils.js';
import { withParentDeathSignal } from '../../src/shell/setpriv.js';
import lesson2 from '../02-mount-pivot-root/lesson.js';

const inJail = (...command: string[]) => chroot('${ROOTFS}', ...command);

/**
 * The first sleep whose root directory is the rootfs (test -ef follows /proc/PID/root to the
 * directory itself), and what `show` prints about it ($d is its /proc directory). Builtins
 * only while it looks, so it stays quick when boxlab asks after every command.
 */
const jailedSleep = (show: string, reads: string) =>
  described(`${reads} of the sleep whose root is $ROOTFS`, shProgram('sh', '-c', `for d in /proc/[0-9]*; do read -r c 2>/dev/null <"$d/comm" || continue; [ "$c" = sleep ] && [ "$d/root" -ef "$1" ] && { ${show}; exit; }; done`, 'jailed-sleep', '${ROOTFS}'));

const NOTES = '${WORK}/notes.txt';
const NOTES_TEXT = 'notes-${RUN_ID}';

export default definePractice({
  lesson: 1,
  exercises: [
    {
      id: 'jail',
      title: 'a jailed sleeper, working in /tmp',
      goal: 'Start `sleep 1000` in the background with $ROOTFS as its root directory and the jail\'s /tmp as its working directory.',
      from: 'rootfs',
      checks: [
        { title: "a sleep process has $ROOTFS as its root (/proc/PID/root)", fact: { out: jailedSleep('readlink "$d/root"', '/proc/PID/root') }, equals: '${ROOTFS}' },
        { title: 'it runs the rootfs\'s busybox, not the host\'s sleep (/proc/PID/exe)', fact: { out: jailedSleep('readlink "$d/exe"', '/proc/PID/exe') }, contains: '${ROOTFS}/bin/' },
        { title: "its working directory is the jail's /tmp (/proc/PID/cwd)", fact: { out: jailedSleep('readlink "$d/cwd"', '/proc/PID/cwd') }, equals: '${ROOTFS}/tmp' },
      ],
      hints: [
        'The root directory and the working directory are two separate things the kernel keeps per process: /proc/PID/root and /proc/PID/cwd. chroot(2) changes the first only; chroot(8) then changes directory to the new /.',
        'chroot(8) runs a program with a new root; every path it names is then looked up in $ROOTFS, /bin/sleep included. To change directory before sleeping, run a shell of the rootfs there (sh -c \'cd ... && exec sleep 1000\').',
        "chroot \"$ROOTFS\" /bin/sh -c '____ && exec sleep 1000' &",
      ],
      solution: `chroot "$ROOTFS" /bin/sh -c 'cd /tmp && exec sleep 1000' &\nsleep 0.5`,
    },
    {
      id: 'notes',
      title: 'a host file inside the jail',
      goal: "$ROOTFS/notes.txt is a symlink to the host file $WORK/notes.txt, and inside the jail it leads nowhere. Make the jail's /notes.txt that very host file (the same inode, not a copy), so that a jailed `cat /notes.txt` prints it.",
      from: 'rootfs',
      setup: [
        {
          id: 'notes',
          title: 'a host file, and a symlink to it in the rootfs',
          feature: { name: 'symbolic links resolved against the root directory', syscalls: ['symlink(2)'], man: ['path_resolution(7)', 'symlink(7)'] },
          actions: [{ run: writeFile(NOTES, NOTES_TEXT) }, { run: cmd('ln', '-s', NOTES, '${ROOTFS}/notes.txt') }],
          checks: [{ title: 'the symlink is dangling inside the jail', fact: { status: inJail('/bin/cat', '/notes.txt') }, differs: '0' }],
        },
      ],
      checks: [
        { title: 'a jailed cat reads the notes at /notes.txt', fact: { out: inJail('/bin/cat', '/notes.txt') }, equals: NOTES_TEXT },
        { title: "the jail's /notes.txt is the host file's inode", fact: { out: inJail('/bin/stat', '-L', '-c', '%d:%i', '/notes.txt') }, equals: { out: cmd('stat', '-c', '%d:%i', NOTES) } },
      ],
      hints: [
        'A symlink holds a path, and the path is resolved by the process that follows it, against ITS root: inside the jail, $WORK/notes.txt is looked for as $ROOTFS$WORK/notes.txt. The jail needs the file itself at /notes.txt: a second name for the same inode, or the host file mounted there.',
        'ln(1) without -s makes a hard link (same filesystem only); mount(8) --bind mounts a file onto another file, anywhere. Either way the symlink has to go first (rm), or mount would follow it.',
        'rm "$ROOTFS/notes.txt"; touch "$ROOTFS/notes.txt"; mount ____ "$WORK/notes.txt" "$ROOTFS/notes.txt"',
      ],
      solution: 'rm "$ROOTFS/notes.txt"\ntouch "$ROOTFS/notes.txt"\nmount --bind "$WORK/notes.txt" "$ROOTFS/notes.txt"',
    },
    {
      id: 'proc-escape',
      title: 'capture the flag: out of the chroot',
      goal: 'A sleep is jailed in $ROOTFS ($BOX is its PID); the flag is on the host at $WORK/flag. Enter the jail as it is (nsenter --target "$BOX" --all --root --wd /bin/sh) and, from that shell, copy the flag into the jail\'s /loot.',
      from: 'rootfs',
      setup: [
        flagStep,
        {
          id: 'jailed',
          title: 'a process jailed in the rootfs',
          feature: { name: 'change root directory', syscalls: ['chroot(2)'], man: ['chroot(2)'] },
          creates: [{ process: 'BOX' }],
          actions: [{ start: withParentDeathSignal('KILL', inJail('/bin/sleep', '3600')), pid: 'BOX', until: 'sleep' }],
          checks: [{ title: "the jailed process's root is the rootfs", fact: { link: '/proc/${BOX}/root' }, equals: '${ROOTFS}' }],
        },
      ],
      checks: [flagLooted('the jail')],
      hints: [
        "The jail has an empty /proc. Mounted, it shows every host process (there is no PID namespace), and /proc/PID/root of a host process is a link to that process's root: the host's /. Following it leaves the jail.",
        'Inside the jail, busybox mount(8) mounts procfs: mount -t proc proc /proc (proc(5)). Then ls /proc: any host process whose root is the host\'s / will do as the way out. boxlab\'s own PID is in $HOST_PID (PID 1 may be hidden from you in a sandbox).',
        'nsenter --target "$BOX" --all --root --wd /bin/sh -c \'mount -t proc proc /proc && cat /proc/$HOST_PID/____$WORK/flag > /loot\'',
      ],
      solution: `nsenter --target "$BOX" --all --root --wd /bin/sh -c 'mount -t proc proc /proc; cat "/proc/$HOST_PID/root$WORK/flag" > /loot'`,
      defended: {
        from: 'rootfs',
        // Lesson 2's box, as lesson 3 builds on it: a PID namespace with its own /proc, pivoted
        // into the rootfs, the old root detached. Its PID 1 is $BOX.
        setup: [flagStep, ...lesson2.steps.filter(willReplay)],
        why: "Lesson 3's box has a PID namespace, and a /proc of its own: a new procfs mounted from inside shows the box's processes only. Boxlab's PID (or any host process) does not exist there, and every root link leads to the rootfs: the flag stays on the host.",
      },
    },
  ],
});
