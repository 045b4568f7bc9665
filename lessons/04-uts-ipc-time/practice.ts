import { definePractice } from '../../src/engine/exercise.js';
import { boxRun } from '../../src/box/box.js';
import { cat } from '../../src/shell/coreutils.js';
import { shProgram } from '../../src/shell/cmd.js';

const HOSTNAME_FILE = '/proc/sys/kernel/hostname';
const WEEK = 604800;

export default definePractice({
  lesson: 4,
  exercises: [
    {
      id: 'hostname',
      title: 'a hostname of its own',
      goal: "Give the box the hostname learner-box, without changing the host's.",
      // A wrong attempt renames the host: its hostname is kept and written back at the end.
      setup: [
        {
          id: 'keep-hostname',
          title: "keep the host's hostname",
          feature: { name: 'UTS namespace', syscalls: ['uname(2)'], man: ['uts_namespaces(7)'] },
          creates: [{ restore: HOSTNAME_FILE, saved: 'HOST_NAME' }],
          actions: [{ run: cat(HOSTNAME_FILE) }],
          checks: [],
        },
      ],
      checks: [
        { title: 'the kernel gives the box the hostname learner-box', fact: { out: boxRun('/bin/cat', HOSTNAME_FILE) }, equals: 'learner-box' },
        { title: "the host's hostname is unchanged", fact: { file: HOSTNAME_FILE }, equals: '${HOST_NAME}' },
      ],
      hints: [
        'A hostname lives in a UTS namespace. The box has one of its own; your shell is in the host\'s. Set the name from a process that is in the box\'s UTS namespace.',
        'nsenter(1) runs a program in the namespaces of another process: --target takes its PID ($BOX), --uts picks the namespace. hostname(1) sets the name (sethostname(2)).',
        'nsenter --target "$BOX" --uts ____ learner-box',
      ],
      solution: 'nsenter --target "$BOX" --uts hostname learner-box',
    },
    {
      id: 'boottime',
      title: 'a week of uptime',
      goal: 'Start `sleep 1000` in the background, in a time namespace of its own whose boot-time clock is one week (604800 s) ahead of the host\'s.',
      requires: [{ path: '/proc/self/ns/time', reason: 'this kernel has no time namespaces (they came in Linux 5.6)' }],
      checks: [
        {
          title: 'a process has a boot-time offset of one week in its time namespace (/proc/PID/timens_offsets)',
          fact: { out: shProgram('sh', '-c', 'grep -l "^boottime *$1 " /proc/[0-9]*/timens_offsets 2>/dev/null | head -1', 'offset-week', String(WEEK)) },
          contains: 'timens_offsets',
        },
        { title: "the host's boot-time clock has no offset", fact: { file: '/proc/self/timens_offsets', grep: 'boottime' }, contains: ' 0 ' },
      ],
      hints: [
        "A time namespace offsets CLOCK_MONOTONIC and CLOCK_BOOTTIME for the processes in it. The offset is set once, before the namespace's first process starts, and shows in /proc/PID/timens_offsets.",
        'unshare(1) makes the namespace: --time, and --boottime SECONDS sets the offset. The new namespace applies to children, so --fork.',
        `unshare --time --fork --boottime ____ sleep 1000 &`,
      ],
      solution: `unshare --time --fork --boottime ${WEEK} sleep 1000 &\nsleep 0.5`,
    },
  ],
});
