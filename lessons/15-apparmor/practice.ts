import { definePractice } from '../../src/engine/exercise.js';
import type { Step } from '../../src/model/lesson.js';
import { BOX } from '../../src/box/box.js';
import { described, cmd, shProgram, type Cmd } from '../../src/shell/cmd.js';
import { PROFILES } from '../../src/kernel/apparmor.js';
import { unloadProfile } from '../../src/container/apparmor.js';
import { confined, NEEDS_APPARMOR, PROFILE } from './lesson.js';

const MINE = 'boxlab-practice15';

/** For every process whose command line is exactly `sleep SECONDS` or `/bin/sleep SECONDS` (the
 *  box's, run by nsenter): its confinement or its mount namespace, one line each. */
const sleepers = (seconds: string, what: 'attr' | 'mnt'): Cmd =>
  described(`${what === 'attr' ? '/proc/PID/attr/current' : 'the /proc/PID/ns/mnt link'} of each sleep ${seconds}`, shProgram(
    'sh',
    '-c',
    'for d in /proc/[0-9]*; do case "$(tr "\\0" " " < "$d/cmdline")" in "sleep $1 " | "/bin/sleep $1 ") ;; *) continue ;; esac; if [ "$2" = attr ]; then cat "$d/attr/current"; else readlink "$d/ns/mnt"; fi; done 2>/dev/null; true',
    'sh',
    seconds,
    what,
  ));

/** The learner's own profile, unloaded at the end whatever was reached. */
const ownProfile: Step = {
  id: 'own-profile',
  title: `${MINE}: not loaded yet, and unloaded when the exercise ends`,
  feature: { name: 'AppArmor profiles', syscalls: ['write(2) to /sys/kernel/security/apparmor/.remove'], man: ['apparmor_parser(8)'] },
  creates: [{ undo: unloadProfile(MINE), what: `the AppArmor profile ${MINE}` }],
  actions: [],
  checks: [{ title: `the kernel has no ${MINE} yet`, fact: { status: cmd('grep', '-q', `^${MINE} (`, PROFILES) }, differs: '0' }],
};

export default definePractice({
  lesson: 15,
  exercises: [
    {
      id: 'confine',
      title: "the box's sleep under the lesson's profile",
      goal: `Start \`sleep 3000\` in the background inside the box (its namespaces and its root; its init is PID $BOX) under the lesson's profile ${PROFILE}, which the kernel already has.`,
      from: 'profile',
      requires: NEEDS_APPARMOR,
      checks: [
        { title: `a sleep 3000 runs confined by ${PROFILE} (enforce)`, fact: { out: sleepers('3000', 'attr') }, contains: `${PROFILE} (enforce)` },
        { title: "it is in the box's mount namespace", fact: { out: sleepers('3000', 'mnt') }, equals: { link: `/proc/${BOX}/ns/mnt` } },
      ],
      hints: [
        'A process asks for a profile before an exec, and the kernel attaches it at the exec; everything the process execs or forks after keeps it. The box is entered with nsenter (lesson 3), and the program it runs is the box\'s own /bin/sleep.',
        'aa-exec(1) -p PROFILE -- CMD (or setpriv(1) --apparmor-profile=PROFILE CMD) runs CMD under the profile. nsenter(1) --target PID with --mount --uts --ipc --net --pid (or --all) and --root --wd enters the box: put it after aa-exec, so the profile is on nsenter and on what it execs.',
        'aa-exec -p ____ -- nsenter --target "$BOX" --all --root --wd /bin/sleep 3000 &',
      ],
      solution: `aa-exec -p ${PROFILE} -- nsenter --target "$BOX" --all --root --wd /bin/sleep 3000 &\nsleep 0.5\ncat "/proc/$(pgrep -n -x -f '/bin/sleep 3000')/attr/current"`,
    },
    {
      id: 'your-profile',
      title: 'a profile of your own: /etc/passwd unreadable in the box',
      goal: `Write a profile named ${MINE} that allows everything but reading /etc/passwd (the box's, as the box sees its paths), load it, and start \`sleep 3100\` in the box under it in the background.`,
      from: 'profile',
      requires: NEEDS_APPARMOR,
      setup: [ownProfile],
      checks: [
        { title: `the kernel has ${MINE} loaded, enforcing`, fact: { file: PROFILES, grep: `${MINE} (` }, equals: `${MINE} (enforce)` },
        { title: `a sleep 3100 in the box runs confined by ${MINE}`, fact: { out: sleepers('3100', 'attr') }, contains: `${MINE} (enforce)` },
        { title: 'under it, reading /etc/passwd in the box is denied', fact: { status: confined(MINE, '/bin/cat', '/etc/passwd') }, differs: '0' },
        { title: 'and reading /etc/group is not', fact: { status: confined(MINE, '/bin/cat', '/etc/group') }, equals: '0' },
      ],
      hints: [
        `A profile allows what its rules allow; a deny rule takes one thing back from a broad allow. Paths are those the process sees, in the box's mount namespace. $WORK/${PROFILE} is the lesson's profile, to start from.`,
        `apparmor.d(5): a rule is a path glob and its permissions (r read, w write, ...), ending with a comma; \`file,\` allows every file access. The profile needs flags=(attach_disconnected) (the box is entered from the host's root). apparmor_parser(8) --replace FILE loads it.`,
        `printf '%s\\n' 'abi <abi/3.0>,' 'profile ${MINE} flags=(attach_disconnected) {' '  file, capability, network, signal, ptrace, umount,' '  ____ /etc/passwd r,' '}' > "$WORK/mine"; apparmor_parser --replace "$WORK/mine"`,
      ],
      solution: [
        `printf '%s\\n' 'abi <abi/3.0>,' 'profile ${MINE} flags=(attach_disconnected) {' '  file, capability, network, signal, ptrace, umount,' '  deny /etc/passwd r,' '}' > "$WORK/mine"`,
        'apparmor_parser --replace "$WORK/mine"',
        `aa-exec -p ${MINE} -- nsenter --target "$BOX" --all --root --wd /bin/sleep 3100 &`,
        'sleep 0.5',
        `nsenter --target "$BOX" --all --root --wd /bin/cat /etc/passwd | head -n 1   # unconfined: allowed`,
      ].join('\n'),
    },
  ],
});
