import { definePractice } from '../../src/engine/exercise.js';
import { flagLooted, flagStep } from '../common.js';
import { BOX, boxRun } from '../../src/box/box.js';
import { described, cmd, shProgram } from '../../src/shell/cmd.js';

const SHARED = '${WORK}/shared';
const HOST_MOUNTS = { file: '/proc/self/mountinfo' };
const BOX_MOUNTS = { file: `/proc/${BOX}/mountinfo` };

/**
 * In the first mount namespace whose table has a mount at $WORK/shared/mine (the learner's),
 * the mountinfo lines of `point`, or how many there are (`count`). One grep reads every
 * process's table; nothing is printed when no namespace has it.
 */
const inMine = (point: string, count = false) =>
  described(`${count ? 'how many lines of ' : ''}/proc/PID/mountinfo for ${point}, in the namespace that has $WORK/shared/mine`, shProgram('sh', '-c', `f=$(grep -l -F -- " $1/mine " /proc/[0-9]*/mountinfo 2>/dev/null | head -n 1); [ -n "$f" ] && grep ${count ? '-c ' : ''}-F -- " $2 " "$f"`, 'in-mine', SHARED, point));

export default definePractice({
  lesson: 2,
  exercises: [
    {
      id: 'pivot',
      title: 'pivot the box yourself',
      goal: "The box ($BOX) has its mount namespace, the rootfs bind-mounted onto itself, its /proc and a volume at $ROOTFS/mnt. Make $ROOTFS the root of the box's mount namespace with pivot_root, then detach the host's old root: the box's mount table must hold only /, /proc and /mnt.",
      from: 'volume',
      checks: [
        { title: "the box's / is the rootfs", fact: { ...BOX_MOUNTS, grep: '/rootfs / ' }, contains: '/rootfs / ' },
        {
          title: 'mounts in the box other than /, /proc and /mnt: none (the old root is gone)',
          fact: { out: cmd('awk', '$5 !~ /^\\/(proc|mnt)?$/ { n++ } END { print n + 0 }', `/proc/${BOX}/mountinfo`) },
          equals: '0',
        },
        { title: 'the volume reads inside the box at /mnt/hello.txt', fact: { out: boxRun('/bin/cat', '/mnt/hello.txt') }, equals: 'written on the host' },
      ],
      hints: [
        "pivot_root(2) swaps the root of a whole mount namespace: the new root (a mount point: that is why the rootfs was bind-mounted onto itself) becomes /, and the old root is moved to a directory under it, where it stays attached, with every host mount under it, until it is unmounted.",
        'Run pivot_root(8) in the box\'s mount namespace: nsenter --target "$BOX" --mount. Then the old root is at /.oldroot inside the box: umount(8) -l detaches it even while busy. /proc/PID/mountinfo of the box shows the result.',
        'nsenter --target "$BOX" --mount pivot_root "$ROOTFS" ____; nsenter --target "$BOX" --all --root --wd /bin/umount -l /.oldroot',
      ],
      solution: 'nsenter --target "$BOX" --mount pivot_root "$ROOTFS" "$ROOTFS/.oldroot"\nnsenter --target "$BOX" --all --root --wd /bin/umount -l /.oldroot\nrmdir "$ROOTFS/.oldroot"',
    },
    {
      id: 'one-way',
      title: 'propagation one way only',
      goal: 'On the shared tmpfs $WORK/shared: start `sleep 1000` in the background in a new mount namespace where $WORK/shared is a slave of the host\'s mount. Mount a tmpfs at $WORK/shared/mine inside that namespace (the host must not see it), then one at $WORK/shared/news on the host (the namespace must see it).',
      from: 'leak',
      checks: [
        { title: 'in the namespace that has $WORK/shared/mine, $WORK/shared is a slave (master:N)', fact: { out: inMine(SHARED) }, contains: ' master:' },
        { title: "that namespace received the host's mount at $WORK/shared/news", fact: { out: inMine(`${SHARED}/news`, true) }, equals: '1' },
        { title: 'the host has its tmpfs at $WORK/shared/news', fact: { ...HOST_MOUNTS, grep: ` ${SHARED}/news ` }, contains: ' - tmpfs ' },
        { title: 'the host does not see $WORK/shared/mine (mounts there in its table)', fact: { out: cmd('grep', '-c', '-F', '--', ` ${SHARED}/mine `, '/proc/self/mountinfo') }, equals: '0' },
      ],
      hints: [
        'A slave mount receives mount and unmount events from its master peer group and sends none back: the host\'s new mounts appear in the namespace, the namespace\'s own stay in it (mount_namespaces(7), "MS_SLAVE"). mountinfo tags it master:N.',
        'unshare(1) --mount --propagation slave makes every mount of the new namespace a slave of the host\'s. nsenter --target PID --mount runs mount(8) inside it; plain mount(8) in your shell mounts on the host. mkdir the two mount points first.',
        'unshare --mount --propagation ____ sleep 1000 &  then: nsenter --target $! --mount mount -t tmpfs mine "$WORK/shared/mine"; mount -t tmpfs news "$WORK/shared/news"',
      ],
      solution: [
        'unshare --mount --propagation slave sleep 1000 &',
        'sleep 0.5',
        'mkdir -p "$WORK/shared/mine" "$WORK/shared/news"',
        'nsenter --target $! --mount mount -t tmpfs -o size=1m mine "$WORK/shared/mine"',
        'mount -t tmpfs -o size=1m news "$WORK/shared/news"',
      ].join('\n'),
    },
    {
      id: 'old-root',
      title: 'capture the flag: the old root left behind',
      goal: 'The box ($BOX) was pivoted into the rootfs, but its old root was never detached; the flag is on the host at $WORK/flag. From a shell inside the box (nsenter --target "$BOX" --all --root --wd /bin/sh), copy the flag into the box\'s /loot.',
      from: 'pivot',
      setup: [flagStep],
      checks: [flagLooted('the box')],
      hints: [
        "pivot_root(2) does not remove the old root: it moves it under the new one. Until it is unmounted, the host's whole mount tree is a directory of the box.",
        "cat /proc/1/mountinfo inside the box (or ls /) shows where pivot_root put it: the lesson's put_old. Host paths are the same below it.",
        'nsenter --target "$BOX" --all --root --wd /bin/sh -c \'cat ____$WORK/flag > /loot\'',
      ],
      solution: `nsenter --target "$BOX" --all --root --wd /bin/sh -c 'cat "/.oldroot$WORK/flag" > /loot'`,
      defended: {
        from: 'detach',
        setup: [flagStep],
        why: "The defended box detached its old root (umount -l) after pivot_root: the rootfs is all its mount namespace has, so no path inside leads to a host file. The flag stays on the host.",
      },
    },
  ],
});
