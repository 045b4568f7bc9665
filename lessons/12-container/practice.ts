import { definePractice, type Exercise } from '../../src/engine/exercise.js';
import type { Check } from '../../src/model/lesson.js';
import { cmd, shProgram } from '../../src/shell/cmd.js';
import { mkdirP } from '../../src/shell/coreutils.js';
import { boxlab } from '../../src/shell/boxlab.js';
import { capMask } from '../../src/kernel/capabilities.js';
import { cgroupDriver, type Controller } from '../../src/box/cgroup-driver.js';
import { DEFAULT_CAPS } from '../../src/container/spec.js';

const BUNDLE = '${WORK}/bundle';
/** boxlab run's default bounding set without CAP_NET_RAW, as /proc/PID/status prints it. */
const NO_NET_RAW = capMask(DEFAULT_CAPS.filter((c) => c !== 'cap_net_raw'));
/** A box run from the bundle reports, on one line, its bounding set and whether ping works. */
const REPORT = 'echo "$(grep CapBnd /proc/self/status) · ping $(ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 && echo works || echo refused)"';
const bundleRun = shProgram('sh', '-c', '[ -f "$2/config.json" ] || exit 0; "$1" run --bundle "$2" -- /bin/sh -c "$3" 2>/dev/null', 'sh', boxlab().file, BUNDLE, REPORT);

const bundleCaps: Exercise = {
  id: 'bundle-caps',
  title: 'a bundle without CAP_NET_RAW',
  goal:
    "$WORK/bundle is an OCI bundle: a rootfs, and a config.json that `$BOXLAB spec --seccomp unconfined` wrote ($BOXLAB is boxlab itself). Change the config so that a box run from it ($BOXLAB run --bundle $WORK/bundle) keeps Docker's default capabilities but CAP_NET_RAW: its bounding set is then " +
    `${NO_NET_RAW}, and ping inside is refused.`,
  from: 'image',
  setup: [
    {
      id: 'bundle',
      title: 'an OCI bundle: the busybox rootfs and the config.json boxlab spec writes',
      feature: { name: 'the OCI runtime spec (config.json + rootfs)', syscalls: ['(user space)'], man: ['OCI runtime-spec (config.md)'] },
      creates: [{ dir: '${WORK}' }],
      actions: [
        // For the learner's shell: boxlab itself, which need not be on the PATH.
        { run: cmd('echo', boxlab().file), capture: 'BOXLAB', match: '(.+)' },
        { run: mkdirP(`${BUNDLE}/rootfs`) },
        { run: cmd('cp', '-a', '${ROOTFS_CACHE}/.', `${BUNDLE}/rootfs/`) },
        { run: shProgram('sh', '-c', '"$1" spec --seccomp unconfined -- /bin/sh > "$2"', 'sh', boxlab().file, `${BUNDLE}/config.json`) },
      ],
      checks: [],
    },
  ],
  checks: [
    {
      title: `a box run from the bundle has the bounding set ${NO_NET_RAW} (/proc/self/status in the box), and ping there is refused`,
      fact: { out: bundleRun },
      equals: `CapBnd:\t${NO_NET_RAW} · ping refused`,
    },
  ],
  hints: [
    "A runtime reads what to make from config.json; process.capabilities lists what the box's process keeps, by name, and the bounding set is the ceiling for everything it will ever exec. Without CAP_NET_RAW, no raw socket: ping gets EPERM. The kernel shows the set as a mask in /proc/PID/status (CapBnd).",
    'The config is JSON: edit it (an editor, sed, or jq if you have it), or write it anew with `$BOXLAB spec`, which takes the flags of `boxlab run` (--cap-drop); keep --seccomp unconfined where setpriv cannot apply a filter. Try it: $BOXLAB run --bundle $WORK/bundle -- /bin/grep Cap /proc/self/status; capsh --decode=MASK names the bits.',
    '$BOXLAB spec --seccomp unconfined ____ NET_RAW -- /bin/sh > $WORK/bundle/config.json',
  ],
  solution: [
    '$BOXLAB spec --seccomp unconfined --cap-drop NET_RAW -- /bin/sh > $WORK/bundle/config.json',
    'grep -c NET_RAW $WORK/bundle/config.json',
    '$BOXLAB run --bundle $WORK/bundle -- /bin/sh -c \'grep CapBnd /proc/self/status; ping -c 1 -W 1 127.0.0.1\'',
  ].join('\n'),
};

export default definePractice((host) => {
  // The box's cgroup, as lesson 12 made it (one directory per controller on v1).
  const driver = cgroupDriver(host.cgroupLayout());
  const cg = typeof driver === 'string' ? undefined : driver;
  const GROUP = 'boxlab-${RUN_ID}';
  const MEMORY = 32 * 1024 * 1024;
  const V1 = cg?.kind === 'v1';
  const dirOf = (c: Controller): string => cg?.dir(GROUP, c) ?? `/sys/fs/cgroup/${GROUP}`;
  /** Where a controller's hierarchy is mounted (v1: one each). */
  const rootOf = (c: Controller): string => (cg?.dir('', c) ?? '/sys/fs/cgroup/').replace(/\/$/, '');
  /** Where each limit is, and the CPU file's text for --cpus 0.25 (a 100 ms period). */
  const files = V1
    ? { memory: `${dirOf('memory')}/memory.limit_in_bytes`, pids: `${dirOf('pids')}/pids.max`, cpu: `${dirOf('cpu')}/cpu.cfs_quota_us`, cpuValue: '25000' }
    : { memory: `${dirOf('memory')}/memory.max`, pids: `${dirOf('pids')}/pids.max`, cpu: `${dirOf('cpu')}/cpu.max`, cpuValue: '25000 100000' };
  // The solution as a learner types it, with the box's group in bash's ${RUN_ID}.
  const shell = (path: string): string => path.replace('${RUN_ID}', '$RUN_ID');
  const updateChecks: Check[] = [
    { title: 'the box is still in its own group (/proc/BOX/cgroup)', fact: { file: '/proc/${BOX}/cgroup' }, contains: GROUP },
    { title: 'its memory limit is 32 MiB', fact: { file: files.memory }, equals: String(MEMORY) },
    { title: 'its pids limit is 16', fact: { file: files.pids }, equals: '16' },
    { title: 'its CPU quota is 25 ms per 100 ms (--cpus 0.25)', fact: { file: files.cpu }, equals: files.cpuValue },
  ];

  const updateLimits: Exercise = {
    id: 'update-limits',
    title: 'docker update, by hand',
    goal:
      'The box ($BOX) runs with --memory 64m --pids 64 --cpus 0.5. Change its limits while it runs, as `docker update --memory 32m --pids-limit 16 --cpus 0.25` would: write them into the files of the cgroup that /proc/$BOX/cgroup names.',
    from: 'pivot',
    requires: cg ? undefined : [{ command: cmd('false'), reason: `no cgroup driver on this host: ${String(driver)}` }],
    checks: updateChecks,
    hints: [
      "A box's limits are files of its cgroup, and the kernel applies a new value at once, to processes already running: that is all `docker update` does. /proc/PID/cgroup names the group of a process (from the host; inside the box's cgroup namespace it reads /). --cpus is a quota of CPU time per period: 0.25 is 25 ms in every 100 ms.",
      V1
        ? `cgroups(7). This host has cgroup v1: a hierarchy per controller, so the group is a directory in each of ${rootOf('memory')}, ${rootOf('pids')} and ${rootOf('cpu')}; the files are memory.limit_in_bytes (32M is understood), pids.max and cpu.cfs_quota_us (microseconds per cpu.cfs_period_us). echo VALUE > FILE writes one.`
        : `cgroups(7). This host has cgroup v2: one directory under ${rootOf('memory')}; the files are memory.max (32M is understood), pids.max and cpu.max ("QUOTA PERIOD" in microseconds). echo VALUE > FILE writes one.`,
      V1
        ? `cat /proc/$BOX/cgroup; echo 32M > ${shell(files.memory)}; echo 16 > ${shell(files.pids)}; echo ____ > ${shell(files.cpu)}`
        : `cat /proc/$BOX/cgroup; echo 32M > ${shell(files.memory)}; echo 16 > ${shell(files.pids)}; echo '____ 100000' > ${shell(files.cpu)}`,
    ],
    solution: ['cat /proc/$BOX/cgroup', `echo 32M > ${shell(files.memory)}`, `echo 16 > ${shell(files.pids)}`, `echo '${files.cpuValue}' > ${shell(files.cpu)}`].join('\n'),
  };

  return {
    lesson: 12,
    exercises: [bundleCaps, updateLimits],
  };
});
