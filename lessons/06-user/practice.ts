import { definePractice } from '../../src/engine/exercise.js';
import { described, cmd, type Cmd, shProgram } from '../../src/shell/cmd.js';

/** As the kernel prints a uid_map line: three fields of width 10. */
const mapLine = (inside: number, outside: number, count: number) => [inside, outside, count].map((n) => String(n).padStart(10)).join(' ');
/** Not the lesson's 100000: the learner writes a map of their own. */
const OUTSIDE = 200000;
const RANGE = `0 ${OUTSIDE} 65536`;

/** The Uid: lines of /proc/PID/status of every process in the PID namespace of $UBOX but
 *  $UBOX itself (a process entered there by nsenter --pid), as the host sees them. */
const GUESTS = 'for d in /proc/[0-9]*; do [ "$d" != "/proc/$1" ] && [ "$d/ns/pid" -ef "/proc/$1/ns/pid" ] && grep -H "^Uid:" "$d/status"; done 2>/dev/null; true';
const uidsInBox: Cmd = described("the Uid: line of /proc/PID/status of each process in $UBOX's PID namespace but $UBOX", shProgram('sh', '-c', GUESTS, 'sh', '${UBOX}'));

export default definePractice({
  lesson: 6,
  exercises: [
    {
      id: 'maps',
      title: `root inside, ${OUTSIDE} outside`,
      goal: `$UBOX is in a user namespace with no maps yet. Map uids and gids 0-65535 inside to ${OUTSIDE}-${OUTSIDE + 65535} on the host, then start \`sleep 2000\` in the background as root of the box (its user, mount and PID namespaces): the host must see it as uid ${OUTSIDE}.`,
      from: 'userns',
      checks: [
        { title: `uid 0 inside is uid ${OUTSIDE} outside, for 65536 uids (/proc/$UBOX/uid_map)`, fact: { file: '/proc/${UBOX}/uid_map' }, equals: mapLine(0, OUTSIDE, 65536) },
        { title: 'the same for gids (/proc/$UBOX/gid_map)', fact: { file: '/proc/${UBOX}/gid_map' }, equals: mapLine(0, OUTSIDE, 65536) },
        {
          title: `a process in the box's PID namespace is uid ${OUTSIDE} on the host (/proc/PID/status)`,
          fact: { out: uidsInBox },
          contains: `Uid:\t${OUTSIDE}\t${OUTSIDE}\t${OUTSIDE}\t${OUTSIDE}`,
        },
      ],
      hints: [
        "A user namespace's maps are written once, from outside, to /proc/PID/uid_map and /proc/PID/gid_map: one line 'first-inside first-outside count'. A process already running keeps its credentials; one that enters the namespace afterwards becomes uid 0 there, which the kernel shows to the host through the map.",
        'user_namespaces(7), "User and group ID mappings": write each map with echo, as root on the host. Then nsenter(1) --target "$UBOX", one option per namespace to enter: with --user it becomes uid and gid 0 there; with --pid its program is in the box\'s PID namespace.',
        `echo '0 ____ 65536' > /proc/$UBOX/uid_map   # and the same to gid_map; then: nsenter --target "$UBOX" --user --mount --pid sleep 2000 &`,
      ],
      solution: [`echo '${RANGE}' > /proc/$UBOX/uid_map`, `echo '${RANGE}' > /proc/$UBOX/gid_map`, 'nsenter --target "$UBOX" --user --mount --pid sleep 2000 &', 'sleep 0.5'].join('\n'),
    },
    {
      id: 'userns-mount',
      title: 'a mount by root of the box',
      goal: "As root of the box's user namespace (enter $UBOX's user and mount namespaces), mount a tmpfs named learner-tmp on /mnt. The box's mount table must hold it, the host's must not; on the host its root directory belongs to 100000:100000.",
      from: 'maps',
      checks: [
        { title: "the tmpfs learner-tmp is on /mnt in the box's mount table", fact: { file: '/proc/${UBOX}/mountinfo', grep: ' learner-tmp ' }, contains: ' /mnt ' },
        { title: "the host's mount table does not hold it", fact: { file: '/proc/self/mountinfo' }, lacks: ' learner-tmp ' },
        {
          title: "root of the box's user namespace made it: on the host its root belongs to 100000:100000",
          fact: { out: cmd('stat', '-c', '%u:%g', '/proc/${UBOX}/root/mnt') },
          equals: '100000:100000',
        },
      ],
      hints: [
        "Root in a user namespace has every capability, but over what that namespace owns only: the box's mount namespace was made together with its user namespace, so root there may mount in it (a tmpfs; not a disk). What it creates belongs to its uid on the host, 100000.",
        'nsenter(1) --target "$UBOX" with --user (to be root of the box, not of the host) and --mount; mount(8) -t tmpfs SOURCE DIR, where SOURCE is the name /proc/PID/mountinfo shows (proc(5)).',
        'nsenter --target "$UBOX" --user ____ mount -t tmpfs learner-tmp /mnt',
      ],
      solution: 'nsenter --target "$UBOX" --user --mount mount -t tmpfs learner-tmp /mnt',
    },
    {
      id: 'rootless',
      title: 'root without privilege',
      goal: 'As the unprivileged user nobody (uid 65534; setpriv can drop to it), make a user namespace in which nobody is root, and start `sleep 3001` in it in the background. The host must see uid 65534; the namespace must map 0 to 65534.',
      requires: [
        {
          command: shProgram('sh', '-c', 'test "$(cat /proc/sys/user/max_user_namespaces)" -gt 0 && ! grep -qx 0 /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null', 'userns-allowed'),
          reason: 'this kernel does not let unprivileged users make user namespaces (user.max_user_namespaces or kernel.unprivileged_userns_clone)',
        },
      ],
      checks: [
        {
          title: 'a sleep 3001 runs as uid 65534 on the host, in a user namespace whose uid_map is 0 65534 1 (/proc/PID/uid_map, /proc/PID/status)',
          fact: { out: described('the Uid: line of /proc/PID/status of a sleep 3001 whose uid_map is 0 65534 1', shProgram('sh', '-c', 'for d in /proc/[0-9]*; do [ "$(tr "\\0" " " <"$d/cmdline")" = "sleep 3001 " ] && grep -qE "^ +0 +65534 +1$" "$d/uid_map" && grep "^Uid:" "$d/status"; done 2>/dev/null; true', 'sleep-3001-uid')) },
          contains: 'Uid:\t65534\t65534\t65534\t65534',
        },
      ],
      hints: [
        'An ordinary user may make a user namespace (no capability needed) and be root in it, but only for a map of their own uid: root inside is that one uid outside, with no privilege over anything the host owns.',
        "setpriv(1) --reuid/--regid/--clear-groups drops to nobody first; unshare(1) --user makes the namespace, and --map-root-user writes the one-line map (user_namespaces(7)) for it.",
        'setpriv --reuid=65534 --regid=65534 --clear-groups unshare --user ____ sleep 3001 &',
      ],
      solution: 'setpriv --reuid=65534 --regid=65534 --clear-groups unshare --user --map-root-user sleep 3001 &\nsleep 0.5',
    },
  ],
});
