import { defineLesson, type Check, type Step } from '../../src/model/lesson.js';
import { BOX, boxPayload, boxRun, hostToolInBoxMounts, NOT_DOCKER_CAPS, taughtShell } from '../../src/box/box.js';
import { cgroupDriver, CONTROLLERS, v2Driver, type CgroupDriver, type Controller } from '../../src/box/cgroup-driver.js';
import { cmd } from '../../src/shell/cmd.js';
import { mkdirP, writeFile } from '../../src/shell/coreutils.js';
import { inCgroups, writeCgroupFile } from '../../src/shell/cgroup-files.js';
import { mountFs } from '../../src/shell/mount.js';
import { nsenter } from '../../src/shell/nsenter.js';
import { withNoNewPrivs, withParentDeathSignal } from '../../src/shell/setpriv.js';
import { unshare } from '../../src/shell/unshare.js';
import * as diagrams from './diagrams.js';

export default defineLesson((host) => {
  // The layout decides the files; a --script carries the layout of the host that printed it.
  const layout = host.cgroupLayout();
  const found = cgroupDriver(layout);
  const cg: CgroupDriver = typeof found === 'string' ? v2Driver('/sys/fs/cgroup') : found;

  const GROUP = 'boxlab-${RUN_ID}';
  const BOX_GROUP = `${GROUP}/box`;
  const HOG = `${GROUP}/memory-hog`;
  const BOMB = `${GROUP}/fork-bomb`;
  const LOOP = `${GROUP}/busy-loop`;
  const MIB = 1024 * 1024;
  /** A shell loop of about 0.2 s of CPU on these machines. */
  const BUSY = 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done';
  /** The line of /proc/PID/cgroup that names the memory cgroup. */
  const MEMORY_LINE = cg.kind === 'v1' ? ':memory:' : '0::';
  const feature = (name: string, man = ['cgroups(7)']) => ({ name, syscalls: ['write(2) to cgroupfs'], man });
  const file = (group: string, c: Controller, name: string) => `${cg.dir(group, c)}/${name}`;

  // The devices controller (v1 only: v2 has no files for it, see the text).
  const devicesRoot = layout.v1.find((h) => h.controllers.includes('devices'))?.mountPoint;
  const DEVICES = `${devicesRoot ?? '/sys/fs/cgroup/devices'}/${GROUP}`;
  /** The nodes a container's /dev holds (runc's default allow list), and nothing else. */
  const ALLOWED = ['c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:2 rwm', 'c 136:* rwm'];
  /** The host kernel's log (/dev/kmsg, c 1:11), read through a node the box made itself. */
  const readKmsg = boxRun('/bin/head', '-n', '1', '/root/kmsg');

  // cgroup v1's release_agent (the CVE-2022-0492 route): a hierarchy no step of the lesson uses,
  // in which the box's cgroup namespace (made in lesson 2, in boxlab's own group) is the root.
  const agentHierarchy = ['freezer', 'perf_event', 'net_cls', 'cpuset', 'hugetlb', 'rdma', 'misc', 'blkio']
    .map((c) => layout.v1.find((h) => h.controllers.includes(c)))
    .find((h) => h !== undefined);
  const AGENT_OPTIONS = agentHierarchy?.controllers.join(',') ?? 'freezer';
  const RELEASE_AGENT = `${agentHierarchy?.mountPoint ?? '/sys/fs/cgroup/freezer'}/release_agent`;
  /** What the box writes: the host path of a program in the box. No such file is ever made. */
  const AGENT = '${ROOTFS}/escape.sh';
  /** In the box: mount the host's hierarchy, write its release_agent, unmount. */
  const SET_AGENT = 'mkdir -p /tmp/cgroup && mount -t cgroup -o "$1" cgroup /tmp/cgroup && echo "$2" > /tmp/cgroup/release_agent; s=$?; umount /tmp/cgroup 2>/dev/null; exit $s';
  const setAgent = (drop?: string[]) => boxPayload(drop ? { drop, wrap: withNoNewPrivs } : {}, '/bin/sh', '-c', SET_AGENT, 'sh', AGENT_OPTIONS, AGENT);
  const agentRequires: Step['requires'] = [
    { path: RELEASE_AGENT, reason: 'no cgroup v1 hierarchy here: cgroup v2 has no release_agent (it reports an empty group in cgroup.events)' },
    {
      command: cmd('grep', '-qE', `^[0-9]+:${AGENT_OPTIONS}:/$`, `/proc/${BOX}/cgroup`),
      reason: `the box's cgroup namespace is below the root of the ${AGENT_OPTIONS} hierarchy, where no release_agent is`,
    },
  ];
  /** The host's release_agent holds what it held before the lesson (grep -x: an empty one too). */
  const agentAsBefore = { status: cmd('grep', '-qxF', '${RELEASE_AGENT_WAS}', RELEASE_AGENT) };

  const offered: Check[] = CONTROLLERS.map((c) =>
    cg.kind === 'v1'
      ? { title: `the ${c} controller has a hierarchy at ${cg.dir('', c).replace(/\/$/, '')}`, fact: { status: cmd('test', '-e', file('', c, 'cgroup.procs')) }, equals: '0' }
      : { title: `the unified tree offers the ${c} controller`, fact: { file: file('', c, 'cgroup.controllers') }, contains: c },
  );

  const steps: Step[] = [
    {
      id: 'layout',
      title: `This kernel's cgroups: ${cg.kind === 'v1' ? 'v1' : 'v2'}${layout.kind === 'hybrid' ? ' (on a hybrid host)' : ''}`,
      feature: feature('control groups'),
      actions: [],
      probes: [
        { title: 'the cgroup filesystems mounted here', show: { out: cmd('grep', '-E', ' - cgroup2? ', '/proc/self/mountinfo') } },
        { title: "boxlab's own cgroups, one line per hierarchy", show: { file: '/proc/self/cgroup' } },
      ],
      checks: typeof found === 'string' ? [{ title: found, fact: { file: '/sys/fs/cgroup/cgroup.controllers' }, contains: 'memory pids cpu' }] : offered,
    },
    {
      id: 'box-group',
      title: 'A cgroup for the box, the box in it, and its memory and pids limits',
      diagram: diagrams.tree,
      feature: feature('cgroup membership and limits', ['cgroups(7)']),
      creates: [...cg.create(GROUP, CONTROLLERS).creates, ...cg.create(BOX_GROUP, CONTROLLERS).creates],
      actions: [
        ...cg.create(GROUP, CONTROLLERS).actions,
        ...cg.create(BOX_GROUP, CONTROLLERS).actions,
        ...cg.procs(BOX_GROUP, CONTROLLERS).map((procs) => ({ run: writeCgroupFile(procs, BOX) })),
        ...cg.memoryLimit(BOX_GROUP, 256 * MIB).map((run) => ({ run })),
        ...cg.pidsLimit(BOX_GROUP, 100).map((run) => ({ run })),
      ],
      probes: [{ title: "the box's cgroups, as the host sees them", show: { file: `/proc/${BOX}/cgroup` } }],
      checks: [
        { title: "the box's init is in the box's memory cgroup", fact: { file: `/proc/${BOX}/cgroup`, grep: MEMORY_LINE }, contains: `/${BOX_GROUP}` },
        { title: 'its pids limit is 100', fact: { file: file(BOX_GROUP, 'pids', 'pids.max') }, equals: '100' },
      ],
    },
    {
      id: 'cgroupns-late',
      title: "Break it: the box's cgroup namespace came before its cgroup, so the host's path shows",
      feature: { name: 'cgroup namespace, made before the move', syscalls: ['unshare(2) CLONE_NEWCGROUP', 'write(2) to cgroup.procs'], man: ['cgroup_namespaces(7)'] },
      breakIt: { demo: 'cgroupns-order', role: 'attack' },
      actions: [],
      probes: [{ title: "the box's init, as the box reads it (/proc/1/cgroup inside)", show: { out: boxRun('/bin/cat', '/proc/1/cgroup') } }],
      checks: [
        { title: "inside the box, its init's cgroup names the host's group", fact: { out: boxRun('/bin/grep', MEMORY_LINE, '/proc/1/cgroup') }, contains: `${BOX_GROUP}` },
      ],
    },
    {
      id: 'cgroupns',
      title: 'Cgroup namespace: inside, its own cgroup is /',
      feature: { name: 'cgroup namespace', syscalls: ['unshare(2) CLONE_NEWCGROUP'], man: ['cgroup_namespaces(7)'] },
      breakIt: { demo: 'cgroupns-order', role: 'defence' },
      creates: [{ process: 'CGNS_LAUNCHER' }],
      actions: [
        // Join the cgroup first, then make the namespace: its root is the cgroup of its creator.
        { start: withParentDeathSignal('KILL', inCgroups(cg.procs(BOX_GROUP, CONTROLLERS), unshare({ ns: ['cgroup'], fork: true, killChild: 'KILL' }, 'sleep', '1000'))), pid: 'CGNS_LAUNCHER' },
        { childOf: 'CGNS_LAUNCHER', pid: 'CGNS', comm: 'sleep' },
      ],
      probes: [{ title: 'the same file, read from inside the cgroup namespace', show: { out: nsenter({ target: '${CGNS}', ns: ['cgroup'] }, 'cat', '/proc/${CGNS}/cgroup') } }],
      checks: [
        { title: 'from the host: the full path', fact: { file: '/proc/${CGNS}/cgroup', grep: MEMORY_LINE }, contains: `/${BOX_GROUP}` },
        { title: 'from inside: /, nothing of the host above it', fact: { out: nsenter({ target: '${CGNS}', ns: ['cgroup'] }, 'cat', '/proc/${CGNS}/cgroup') }, lacks: 'boxlab' },
      ],
    },
    {
      id: 'release-agent',
      title: "Break it: root in the box mounts the host's cgroup v1 hierarchy and sets its release_agent",
      feature: { name: 'release_agent (cgroup v1), CVE-2022-0492', syscalls: ['mount(2) of cgroup', 'write(2) to release_agent'], man: ['cgroups(7)', 'cgroup_namespaces(7)'] },
      breakIt: { demo: 'release-agent', role: 'attack' },
      requires: agentRequires,
      creates: [{ restore: RELEASE_AGENT, saved: 'RELEASE_AGENT_WAS' }],
      actions: [{ run: setAgent() }],
      checks: [{ title: `on the host, ${RELEASE_AGENT} holds the box's program`, fact: { file: RELEASE_AGENT }, equals: AGENT }],
    },
    {
      id: 'release-agent-denied',
      title: "With Docker's 14 capabilities (no CAP_SYS_ADMIN), the same attack fails",
      feature: { name: 'CAP_SYS_ADMIN', syscalls: ['mount(2) refused: EPERM'], man: ['capabilities(7)', 'cgroups(7)'] },
      breakIt: { demo: 'release-agent', role: 'defence' },
      requires: agentRequires,
      actions: [
        // The host first puts back what the attack changed.
        { run: writeFile(RELEASE_AGENT, '${RELEASE_AGENT_WAS}') },
        { run: setAgent(NOT_DOCKER_CAPS), mayFail: true },
      ],
      checks: [
        { title: "root in the box, with Docker's 14 and no_new_privs: refused", fact: { status: setAgent(NOT_DOCKER_CAPS) }, differs: '0' },
        { title: `the host's release_agent is as before the lesson (grep -x exits 0)`, fact: agentAsBefore, equals: '0' },
      ],
    },
    {
      id: 'memory',
      title: 'Memory: a 32 MiB limit, 100 MB written to a tmpfs, and the OOM killer',
      feature: { name: 'memory controller', syscalls: ['write(2) to memory.max / memory.limit_in_bytes'], man: ['cgroups(7)'] },
      creates: cg.create(HOG, ['memory']).creates,
      actions: [
        ...cg.create(HOG, ['memory']).actions,
        ...cg.memoryLimit(HOG, 32 * MIB).map((run) => ({ run })),
        // tmpfs pages belong to whoever writes them, and with no swap cannot be reclaimed.
        { run: hostToolInBoxMounts(mountFs('tmpfs', 'boxlab-tmp', `/proc/${BOX}/root/tmp`, undefined, { noCanonicalize: true })) },
        { run: inCgroups(cg.procs(HOG, ['memory']), boxRun('/bin/dd', 'if=/dev/zero', 'of=/tmp/fill', 'bs=1M', 'count=100')), mayFail: true },
        { run: boxRun('/bin/rm', '-f', '/tmp/fill') },
      ],
      probes: [{ title: "the kernel's count of OOM kills in the group", show: { file: cg.oomFile(HOG) } }],
      quiz: { question: 'A process in the box\'s memory cgroup goes over the limit and is OOM-killed. Does the box\'s init die with it?', answer: 'no', check: 'the box itself lives on' },
      checks: [
        { title: 'the kernel OOM-killed the writer once', fact: { file: cg.oomFile(HOG), grep: 'oom_kill ' }, equals: 'oom_kill 1' },
        { title: 'the box itself lives on', fact: { alive: BOX }, equals: 'yes' },
      ],
    },
    {
      id: 'fork-bomb',
      title: 'Pids: a fork bomb hits pids.max, and the box stays usable',
      feature: { name: 'pids controller', syscalls: ['fork(2) refused with EAGAIN'], man: ['cgroups(7)'] },
      creates: [...cg.create(BOMB, ['pids']).creates, { process: 'BOMB_LAUNCHER' }],
      actions: [
        ...cg.create(BOMB, ['pids']).actions,
        ...cg.pidsLimit(BOMB, 16).map((run) => ({ run })),
        { start: withParentDeathSignal('KILL', inCgroups(cg.procs(BOMB, ['pids']), boxRun('/bin/sh', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 1000'))), pid: 'BOMB_LAUNCHER' },
        { await: { file: file(BOMB, 'pids', 'pids.events') }, lacks: 'max 0' },
      ],
      probes: [{ title: 'processes in the group now (pids.current)', show: { file: file(BOMB, 'pids', 'pids.current') } }],
      checks: [
        { title: 'the kernel refused forks at the limit (pids.events max > 0)', fact: { file: file(BOMB, 'pids', 'pids.events') }, lacks: 'max 0' },
        { title: 'the limit the kernel enforces is 16 (pids.max)', fact: { file: file(BOMB, 'pids', 'pids.max') }, equals: '16' },
        { title: 'the box still starts programs', fact: { status: boxRun('/bin/true') }, equals: '0' },
      ],
    },
    {
      id: 'bomb-defused',
      title: "Defuse it: kill every process in the bomb's cgroup",
      feature: { name: cg.kind === 'v2' ? 'cgroup.kill' : 'signalling every PID in cgroup.procs', syscalls: ['kill(2)'], man: ['cgroups(7)'] },
      actions: [{ run: cg.killAll(BOMB, 'pids') }],
      probes: [{ title: 'pids still charged: zombies, until the box PID 1 reaps them (lesson 3)', show: { file: file(BOMB, 'pids', 'pids.current') } }],
      checks: [{ title: 'no process is left in the group (cgroup.procs)', fact: { out: cmd('grep', '-c', '.', file(BOMB, 'pids', 'cgroup.procs')) }, equals: '0' }],
    },
    {
      id: 'cpu',
      title: 'CPU: a 20% quota throttles a busy loop',
      feature: { name: 'cpu controller (CFS bandwidth)', syscalls: ['write(2) to cpu.max / cpu.cfs_quota_us'], man: ['cgroups(7)'] },
      creates: cg.create(LOOP, ['cpu']).creates,
      actions: [
        ...cg.create(LOOP, ['cpu']).actions,
        ...cg.cpuQuota(LOOP, 20000, 100000).map((run) => ({ run })),
        { run: boxRun('/bin/time', '/bin/sh', '-c', BUSY) },
        { run: inCgroups(cg.procs(LOOP, ['cpu']), boxRun('/bin/time', '/bin/sh', '-c', BUSY)) },
      ],
      probes: [{ title: "the group's CPU statistics", show: { file: file(LOOP, 'cpu', 'cpu.stat') } }],
      checks: [
        { title: 'the kernel throttled the group (nr_throttled > 0)', fact: { file: file(LOOP, 'cpu', 'cpu.stat'), grep: 'nr_throttled' }, lacks: 'nr_throttled 0' },
        { title: 'for a measurable time', fact: { file: file(LOOP, 'cpu', 'cpu.stat'), grep: 'throttled_' }, lacks: ' 0' },
      ],
    },
    {
      id: 'devices-mknod',
      title: "Break it: root in the box makes a node for the host kernel's log and reads it",
      feature: { name: 'device nodes and CAP_MKNOD', syscalls: ['mknod(2)', 'open(2) of a device node'], man: ['mknod(2)', 'capabilities(7)', 'dev/kmsg (kernel: ABI testing/dev-kmsg)'] },
      breakIt: { demo: 'devices', role: 'attack' },
      actions: [{ run: boxRun('/bin/mknod', '/root/kmsg', 'c', '1', '11') }],
      probes: [
        { title: 'the node, in the box', show: { out: boxRun('/bin/ls', '-l', '/root/kmsg') } },
        { title: "the host kernel's log, read from the box", show: { out: readKmsg } },
      ],
      checks: [{ title: "root in the box read a record of the host kernel's log (priority,sequence,time;message)", fact: { out: readKmsg }, contains: ';' }],
    },
    {
      id: 'devices-cgroup',
      title: 'The devices controller: the same read, from a cgroup that allows only /dev/null and friends',
      feature: { name: 'devices controller (cgroup v1)', syscalls: ['write(2) to devices.deny / devices.allow'], man: ['cgroups(7)', 'kernel: admin-guide/cgroup-v1/devices.rst'] },
      breakIt: { demo: 'devices', role: 'defence' },
      requires: devicesRoot ? [] : [{ command: cmd('false'), reason: 'no cgroup v1 devices hierarchy: on cgroup v2 the same list is an eBPF program runtimes attach to the group (see the text)' }],
      creates: [{ cgroup: DEVICES }],
      actions: [
        { run: mkdirP(DEVICES) },
        { run: writeCgroupFile(`${DEVICES}/devices.deny`, 'a') },
        ...ALLOWED.map((rule) => ({ run: writeCgroupFile(`${DEVICES}/devices.allow`, rule) })),
        { run: inCgroups([`${DEVICES}/cgroup.procs`], readKmsg), mayFail: true },
      ],
      probes: [{ title: 'what the group may open (devices.list)', show: { file: `${DEVICES}/devices.list` } }],
      checks: [
        { title: 'the group allows /dev/null (c 1:3) and no longer everything', fact: { file: `${DEVICES}/devices.list` }, contains: 'c 1:3 rwm' },
        { title: 'in the group, the same read of the kernel log is refused', fact: { status: inCgroups([`${DEVICES}/cgroup.procs`], readKmsg) }, differs: '0' },
        { title: 'and /dev/null, on the list, still opens there', fact: { status: inCgroups([`${DEVICES}/cgroup.procs`], boxRun('/bin/head', '-c', '1', '/dev/null')) }, equals: '0' },
      ],
    },
  ];

  return {
    number: 9,
    slug: 'cgroups',
    title: 'cgroups: memory, pids and CPU limits (v1, v2, hybrid)',
    buildsOn: [8],
    steps,
    shell: inCgroups(cg.procs(BOX_GROUP, CONTROLLERS), taughtShell('/bin/sh')),
  };
});
