import type { Step } from '../../src/model/lesson.js';
import { definePractice } from '../../src/engine/exercise.js';
import { flagLooted, flagStep } from '../common.js';
import { BOX, notInOurMountNamespace } from '../../src/box/box.js';
import { described, shProgram } from '../../src/shell/cmd.js';
import { withParentDeathSignal } from '../../src/shell/setpriv.js';
import { unshare } from '../../src/shell/unshare.js';
import lesson2 from '../02-mount-pivot-root/lesson.js';

/**
 * The process running `sleep 4242` (its command line holds the word 4242 and its comm is
 * sleep: not an unshare or nsenter wrapping it), and what `show` prints about it ($d is its
 * /proc directory). Nothing is printed when there is none.
 */
const sleeper = (show: string, reads: string) =>
  described(reads, shProgram('sh', '-c', `for f in $(grep -l -x -z -F 4242 /proc/[0-9]*/cmdline 2>/dev/null); do d=\${f%/cmdline}; read -r c 2>/dev/null <"$d/comm" || continue; [ "$c" = sleep ] && { ${show}; exit; }; done`, 'sleeper'));

/**
 * A box like lesson 2's but without a PID namespace: every other namespace, pivoted into the
 * rootfs, the old root detached, a /proc mounted from the host's PID namespace. It takes the
 * name $BOX (lesson 2's box is still there, unused), so lesson 2's later steps, which act on
 * $BOX, build it.
 */
const weakBox: Step[] = [
  {
    id: 'weak-box',
    title: 'a box without a PID namespace',
    feature: { name: 'mount, UTS, IPC, network and cgroup namespaces (no PID namespace)', syscalls: ['unshare(2)'], man: ['namespaces(7)', 'unshare(1)'] },
    creates: [{ process: 'WEAK_LAUNCHER' }],
    actions: [
      { start: withParentDeathSignal('KILL', unshare({ ns: ['mount', 'uts', 'ipc', 'net', 'cgroup'], fork: true, killChild: 'KILL', propagation: 'private' }, 'sleep', 'infinity')), pid: 'WEAK_LAUNCHER' },
      { childOf: 'WEAK_LAUNCHER', pid: 'BOX' },
      { run: notInOurMountNamespace(BOX) },
    ],
    checks: [
      { title: 'the box has its own mount namespace', fact: { link: `/proc/${BOX}/ns/mnt` }, differs: { link: '/proc/self/ns/mnt' } },
      { title: "... but the host's PID namespace", fact: { link: `/proc/${BOX}/ns/pid` }, equals: { link: '/proc/self/ns/pid' } },
    ],
  },
  ...['new-root', 'volume', 'pivot', 'detach'].map((id) => lesson2.steps.find((s) => s.id === id)!),
];

export default definePractice({
  lesson: 3,
  exercises: [
    {
      id: 'own-init',
      title: 'a PID namespace of your own',
      goal: 'Start `sleep 4242` in the background as PID 1 of a new PID namespace, with a /proc of that namespace mounted where it looks (/proc, in a mount namespace of its own).',
      checks: [
        { title: 'sleep 4242 is PID 1 in its namespace (the last NSpid in /proc/PID/status)', fact: { out: sleeper(`awk '/^NSpid:/ { print $NF }' "$d/status"`, 'the last NSpid in /proc/PID/status of sleep 4242') }, equals: '1' },
        {
          title: "its /proc is its own namespace's: there, PID 1 is in its PID namespace",
          fact: { out: sleeper(`[ "$d/root/proc/1/ns/pid" -ef "$d/ns/pid" ] && echo "its own" || echo "another namespace's"`, "whether /proc/1 in sleep 4242's root is in its own PID namespace") },
          equals: 'its own',
        },
      ],
      hints: [
        'The first process of a new PID namespace is its PID 1. But /proc shows the PID namespace of whoever mounted it: without a new procfs, the namespace still sees the host\'s processes.',
        'unshare(1): --pid makes the namespace, which only children enter (--fork), and --mount-proc mounts a new /proc in a new mount namespace (it implies --mount).',
        'unshare --pid ____ --mount-proc sleep 4242 &',
      ],
      solution: 'unshare --pid --fork --mount-proc sleep 4242 &\nsleep 0.5',
    },
    {
      id: 'stop-init',
      title: 'stop the box',
      goal: 'The box\'s PID 1 ($BOX) and a worker in it ($WORKER) are running. End them both with a single signal sent to a single process.',
      from: 'pid-ns',
      checks: [
        { title: "the box's PID 1 is gone", fact: { alive: BOX }, equals: 'no' },
        { title: 'the worker died with it', fact: { alive: '${WORKER}' }, equals: 'no' },
      ],
      hints: [
        "When a PID namespace's init dies, the kernel kills every other process in it. But init is protected: it gets only the signals it has a handler for (SigCgt in /proc/PID/status), from inside its namespace and, but for SIGKILL and SIGSTOP, from outside too.",
        'kill(1) from the host, by the host PID ($BOX). Inside the box (nsenter ... /bin/kill -KILL 1) it is ignored; from the host, SIGTERM is ignored too (pid_namespaces(7), "signals").',
        'kill -____ "$BOX"',
      ],
      solution: 'kill -KILL "$BOX"\nsleep 0.5',
    },
    {
      id: 'host-proc',
      title: 'capture the flag: a box without a PID namespace',
      goal: 'This box ($BOX) has every namespace but a PID namespace, is pivoted into the rootfs and its old root is detached; the flag is on the host at $WORK/flag. From a shell inside the box (nsenter --target "$BOX" --all --root --wd /bin/sh), copy the flag into the box\'s /loot.',
      setup: [flagStep, ...weakBox],
      checks: [flagLooted('the box')],
      hints: [
        "No path inside the box leads out: its / is the rootfs. But its /proc belongs to the host's PID namespace, so it lists host processes, and /proc/PID/root of each is a link to that process's root directory: the host's /.",
        "ls /proc inside the box: the PIDs are the host's. Pick a host process: boxlab's own PID is in $HOST_PID (PID 1 may be hidden from you in a sandbox). proc(5), /proc/PID/root.",
        'nsenter --target "$BOX" --all --root --wd /bin/sh -c \'cat /proc/$HOST_PID/____$WORK/flag > /loot\'',
      ],
      solution: `nsenter --target "$BOX" --all --root --wd /bin/sh -c 'cat "/proc/$HOST_PID/root$WORK/flag" > /loot'`,
      defended: {
        setup: [flagStep],
        why: "Lesson 3's box has a PID namespace, and its /proc was mounted from inside it: it lists the box's processes only. Boxlab's PID does not exist there, and the root of every process it shows is the rootfs: the flag stays on the host.",
      },
    },
  ],
});
