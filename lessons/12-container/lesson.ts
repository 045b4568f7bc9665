import { join } from 'node:path';
import { defineLesson, type Check, type Step } from '../../src/model/lesson.js';
import { BOX } from '../../src/box/box.js';
import { cmd, shProgram, type Cmd } from '../../src/shell/cmd.js';
import { mkdirP } from '../../src/shell/coreutils.js';
import { boxlab } from '../../src/shell/boxlab.js';
import { packageRoot } from '../../src/paths.js';
import { capMask, DOCKER_DEFAULT_CAPS } from '../../src/kernel/capabilities.js';
import { planRun } from '../../src/container/plan.js';
import { hostFacts, loadProfile } from '../../src/container/host.js';
import { cgroupDriver } from '../../src/box/cgroup-driver.js';
import { setprivHasSeccomp } from '../../src/shell/seccomp.js';
import { DEFAULT_CAPS, DEFAULT_PATH, MASKED_PATHS, READONLY_PATHS, type RunSpec } from '../../src/container/spec.js';
import { BOXLAB_DEFAULT } from '../../src/container/apparmor.js';
import { PROFILES } from '../../src/kernel/apparmor.js';
import * as diagrams from './diagrams.js';

const PROBE = join(packageRoot(import.meta.url), 'lessons', '12-container', 'probe.sh');
const BOX_MOUNTS = { file: `/proc/${BOX}/mountinfo` };

export default defineLesson((host) => {
  const driver = cgroupDriver(host.cgroupLayout());
  /** One `boxlab run` with everything on: the image's layers, limits, Docker's defaults. */
  const spec: RunSpec = {
    name: 'lesson12',
    lowerdirs: ['${LOWER}'],
    source: 'boxlab.local/busybox:layers',
    args: ['/bin/sh', '/probe'],
    env: [DEFAULT_PATH],
    cwd: '/',
    user: { uid: 0, gid: 0 },
    hostname: 'lesson12',
    tty: false,
    interactive: false,
    detach: false,
    volumes: [{ host: PROBE, box: '/probe', readOnly: true }],
    network: 'none',
    // Without the controllers, the run has no limits and the lesson's cgroup step says why.
    limits: typeof driver === 'string' ? {} : { memoryBytes: 64 * 1024 * 1024, pids: 64, cpuQuotaUs: 50_000, cpuPeriodUs: 100_000 },
    caps: DEFAULT_CAPS,
    noNewPrivs: true,
    // boxlab run fails closed without a filter; where setpriv cannot apply one, the lesson runs
    // unconfined, as `--seccomp unconfined` would, and its seccomp step says why.
    seccomp: host.setprivSeccomp() ? loadProfile('') : 'unconfined',
    // boxlab-default where the kernel has AppArmor (lesson 15); elsewhere the run has none.
    apparmor: { profile: BOXLAB_DEFAULT, from: 'default' },
    maskedPaths: MASKED_PATHS,
    readonlyPaths: READONLY_PATHS,
  };
  const planHost = hostFacts(spec, false, host);
  const plan = planRun(spec, planHost);
  const PAYLOAD = plan.payload;
  /** Docker's 14 less CAP_MKNOD (bit 27): a00425fb, where lesson 7's Docker set is a80425fb. */
  const BOX_MASK = capMask(DEFAULT_CAPS);
  const DOCKER_MASK = capMask(DOCKER_DEFAULT_CAPS);
  /** Where setpriv can apply a filter, the run has one (and runc gets the same profile). */
  const FILTERED = plan.steps.some((s) => s.id === 'seccomp');
  const cg = planHost.cgroups;
  const GROUP = 'boxlab-${RUN_ID}';

  /** The checks of each step of the run, by step id: kernel facts, read from the host. */
  const CHECKS: Record<string, Check[]> = {
    workdir: [{ title: "the work directory is root's alone (700, uid 0)", fact: { out: cmd('stat', '-c', '%a %u', '${WORK}') }, equals: '700 0' }],
    work: [{ title: 'the work directory exists', fact: { out: cmd('stat', '-c', '%F', '${WORK}/upper') }, equals: 'directory' }],
    cgroup: cg
      ? cg.kind === 'v1'
        ? [
            { title: 'memory limit: 64 MiB', fact: { file: `${cg.dir(GROUP, 'memory')}/memory.limit_in_bytes` }, equals: String(64 * 1024 * 1024) },
            { title: 'pids limit: 64', fact: { file: `${cg.dir(GROUP, 'pids')}/pids.max` }, equals: '64' },
            { title: 'CPU: 50 ms per 100 ms', fact: { file: `${cg.dir(GROUP, 'cpu')}/cpu.cfs_quota_us` }, equals: '50000' },
          ]
        : [
            { title: 'memory limit: 64 MiB', fact: { file: `${cg.dir(GROUP, 'memory')}/memory.max` }, equals: String(64 * 1024 * 1024) },
            { title: 'pids limit: 64', fact: { file: `${cg.dir(GROUP, 'pids')}/pids.max` }, equals: '64' },
            { title: 'CPU: 50 ms per 100 ms', fact: { file: `${cg.dir(GROUP, 'cpu')}/cpu.max` }, equals: '50000 100000' },
          ]
      : [],
    namespaces: [
      ...['mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup'].map((ns) => ({ title: `its own ${ns} namespace`, fact: { link: `/proc/${BOX}/ns/${ns}` }, differs: { link: `/proc/self/ns/${ns}` } })),
      ...(cg ? [{ title: 'the init was born in the box cgroup', fact: { file: `/proc/${BOX}/cgroup` }, contains: GROUP }] : []),
      { title: `the init holds only the box capabilities: Docker's ${DOCKER_MASK} less CAP_MKNOD`, fact: { file: `/proc/${BOX}/status`, grep: 'CapBnd' }, contains: BOX_MASK },
    ],
    rootfs: [{ title: "the image's layers are stacked with overlayfs", fact: { ...BOX_MOUNTS, grep: 'boxlab-run' }, contains: ':${LOWER},upperdir=' }],
    mounts: [
      { title: "a /proc of the box's own", fact: { ...BOX_MOUNTS, grep: '${ROOTFS}/proc ' }, contains: ' - proc ' },
      { title: '/sys read-only', fact: { ...BOX_MOUNTS, grep: '${ROOTFS}/sys ' }, contains: ' ro,' },
      { title: 'the volume: the probe, read-only', fact: { ...BOX_MOUNTS, grep: '${ROOTFS}/probe ' }, contains: ' ro,' },
    ],
    masked: host.exists('/proc/keys') ? [{ title: '/proc/keys is covered by /dev/null', fact: { ...BOX_MOUNTS, grep: '${ROOTFS}/proc/keys ' }, contains: '/null ' }] : [],
    identity: [{ title: 'the hostname, in its UTS namespace', fact: { out: cmd('nsenter', '--target', BOX, '--uts', 'hostname') }, equals: 'lesson12' }],
    pivot: [
      { title: "the overlay is the box's /", fact: { ...BOX_MOUNTS, grep: 'boxlab-run' }, contains: ' / ' },
      // pivot_root . . leaves the old root mounted on top of the new one, at / too: one mount
      // there, and no other, is the proof that it was detached.
      { title: 'the host root is gone from the box: one mount at its /', fact: { out: cmd('awk', '$5 == "/" { n++ } END { print n + 0 }', `/proc/${BOX}/mountinfo`) }, equals: '1' },
    ],
    seccomp: [{ title: 'the BPF program is written', fact: { out: cmd('stat', '-c', '%s', '${WORK}/seccomp.bpf') }, differs: '0' }],
    apparmor: [{ title: 'the kernel has boxlab-default loaded, enforcing', fact: { file: PROFILES, grep: `${BOXLAB_DEFAULT} (` }, equals: `${BOXLAB_DEFAULT} (enforce)` }],
    payload: [],
  };

  const fetchImage: Step = {
    id: 'image',
    title: 'The image (lesson 11): busybox in three layers',
    diagram: diagrams.run,
    feature: { name: 'OCI image layers', syscalls: ['(user space)'], man: ['OCI image-spec'] },
    actions: [
      { run: boxlab('fetch', '--busybox'), capture: 'IMAGE' },
      { run: boxlab('inspect', '${IMAGE}', '--lowerdir'), capture: 'LOWER', match: '(.+)' },
    ],
    probes: [{ title: 'the config.json of this run (boxlab spec)', show: { out: boxlab('spec', '--hostname', 'lesson12', '--memory', '64m', '--pids', '64', '--cpus', '0.5', '-v', `${PROBE}:/probe:ro`, '--', '/bin/sh', '/probe') } }],
    checks: [{ title: 'the top layer is unpacked', fact: { out: shProgram('sh', '-c', 'echo "${1%%:*}" | xargs stat -c %F', 'sh', '${LOWER}') }, equals: 'directory' }],
  };

  const runSteps: Step[] = plan.steps.map((s) => ({ ...s, title: `${s.title}  [lesson ${s.lessons.join(', ')} · config.json: ${s.oci}]`, checks: CHECKS[s.id] ?? [] }));
  // Without the memory, pids and cpu controllers the run has no limits and no cgroup step: the
  // lesson's is skipped, saying why (as practice 12's cgroup exercise is).
  if (typeof driver === 'string') {
    runSteps.splice(runSteps.findIndex((s) => s.id === 'namespaces'), 0, {
      id: 'cgroup',
      title: 'A cgroup with the limits  [lesson 9 · config.json: linux.resources]',
      feature: { name: 'cgroup limits: memory, pids, cpu', syscalls: ['write(2) to cgroupfs'], man: ['cgroups(7)'] },
      requires: [{ command: cmd('false'), reason: `no cgroup limits on this host: ${driver}` }],
      actions: [],
      checks: [{ title: 'the unified tree offers the memory, pids and cpu controllers', fact: { file: '/sys/fs/cgroup/cgroup.controllers' }, contains: 'memory pids cpu' }],
    });
  }
  // Where setpriv cannot apply a filter, the run has no seccomp step: the lesson says so, skipped.
  if (!plan.steps.some((s) => s.id === 'seccomp')) {
    runSteps.push({
      id: 'seccomp',
      title: 'The seccomp profile  [lesson 8 · config.json: linux.seccomp]',
      feature: { name: 'seccomp filter', syscalls: ['seccomp(2)'], man: ['seccomp(2)'] },
      requires: [{ command: setprivHasSeccomp, reason: "this host's setpriv (util-linux < 2.41) cannot apply a filter: this run has none, and boxlab run says so" }],
      actions: [],
      checks: [{ title: "the probe reports Seccomp: 2, a filter, for boxlab's run", fact: { out: PAYLOAD }, contains: 'Seccomp=2' }],
    });
  }

  // Where AppArmor is on, the run loads boxlab-default and the box runs under it (lesson 15).
  const CONFINED = plan.steps.some((s) => s.id === 'apparmor');
  if (!CONFINED) {
    runSteps.splice(runSteps.findIndex((s) => s.id === 'work') + 1, 0, {
      id: 'apparmor',
      title: 'The AppArmor profile  [lesson 15 · config.json: process.apparmorProfile]',
      feature: { name: 'AppArmor profile (an LSM)', syscalls: ['write(2) to /proc/self/attr/apparmor/exec'], man: ['apparmor(7)'] },
      requires: [{ path: '/sys/kernel/security/apparmor', reason: 'this kernel runs no AppArmor (or securityfs is not mounted): the box has no profile, as a Docker container would have none here' }],
      actions: [],
      checks: CHECKS.apparmor!,
    });
  }

  const probeLine = (c: string): Check[] =>
    ['CapBnd=' + BOX_MASK, 'NoNewPrivs=1', ...(FILTERED ? ['Seccomp=2'] : []), ...(CONFINED ? [`apparmor=${BOXLAB_DEFAULT} (enforce)`] : []), 'mount-tmpfs=refused', 'mknod=refused', 'proc-sys=read-only', 'masked=0'].map((l) => ({ title: `${c}: ${l}`, fact: { out: PAYLOAD }, contains: l }));

  const run: Step = {
    id: 'payload',
    title: 'The payload: the probe, with the bounding set, no_new_privs, seccomp and the AppArmor profile  [lessons 6, 7, 8, 15 · config.json: process]',
    feature: { name: 'the payload launch (outside-in)', syscalls: ['setns(2)', 'prctl(PR_SET_NO_NEW_PRIVS)', 'capset(2)', 'chroot(2)', 'execve(2)'], man: ['nsenter(1)', 'setpriv(1)'] },
    actions: [{ run: PAYLOAD }],
    probes: [{ title: 'what the probe sees', show: { out: PAYLOAD } }],
    checks: [
      ...probeLine('inside'),
      // The init, the shell, ls and grep: nothing of the host's.
      { title: 'inside: only the box processes are visible (5 or fewer)', fact: { status: payloadOf(['/bin/sh', '-c', '[ "$(ls /proc | grep -c "^[0-9]")" -le 5 ]']) }, equals: '0' },
    ],
  };

  function payloadOf(args: string[]) {
    return { ...PAYLOAD, args: PAYLOAD.args.slice(0, PAYLOAD.args.length - spec.args.length).concat(args) };
  }

  /** The same probe in the same image under runc, from a bundle that `boxlab spec` wrote. */
  const BUNDLE = '${WORK}/bundle';
  // Compared: identity, capabilities, no_new_privs, seccomp, masks and refusals. Shown, not
  // compared: namespace inodes (new each run), mounts and /dev (runc's differ by version: 1.1 on
  // Debian 13 adds /dev/core and its own masks of /proc). Both run under the same seccomp
  // profile where setpriv can apply it (boxlab spec writes it into config.json), else both
  // unconfined: runc could filter where boxlab cannot, and the two would differ for that alone.
  const SPEC_SECCOMP = FILTERED ? '' : ' --seccomp unconfined';
  const comparable = (c: Cmd) => shProgram('sh', '-c', `"$@" | grep -v -e '^ns\\.' -e '^mount=' -e '^devices='`, 'comparable', c.file, ...c.args);
  const runcRun = shProgram('sh', '-c', 'cd "$1" && runc run "boxlab-$2"', 'runc-run', BUNDLE, '${RUN_ID}');
  const runc: Step = {
    id: 'runc',
    title: 'The same container under runc: the probe sees the same things',
    diagram: diagrams.bundle,
    feature: { name: 'the OCI runtime spec (config.json + rootfs)', syscalls: ['(runc: the same syscalls, in one Go binary)'], man: ['runc(8)', 'OCI runtime-spec'] },
    requires: [{ command: cmd('runc', '--version'), reason: 'runc is not installed (apt-get install runc)' }],
    actions: [
      { run: mkdirP(`${BUNDLE}/rootfs`) },
      { run: cmd('cp', '-a', '${ROOTFS_CACHE}/.', `${BUNDLE}/rootfs/`) },
      { run: cmd('cp', PROBE, `${BUNDLE}/rootfs/probe`) },
      { run: shProgram('sh', '-c', `"$1" spec --hostname lesson12${SPEC_SECCOMP} -- /bin/sh /probe > "$2"`, 'spec', boxlab().file, `${BUNDLE}/config.json`) },
    ],
    probes: [
      { title: 'under runc', show: { out: runcRun } },
      { title: 'under boxlab run --bundle', show: { out: boxlab('run', '--bundle', BUNDLE) } },
    ],
    checks: [
      {
        title: FILTERED
          ? 'the same identity, capabilities, no_new_privs, masks and refusals, and Seccomp: 2 under the same profile'
          : "the same identity, capabilities, no_new_privs, masks and refusals; seccomp unconfined in both (setpriv here cannot filter)",
        fact: { out: comparable(runcRun) },
        equals: { out: comparable(boxlab('run', '--bundle', BUNDLE)) },
      },
    ],
  };

  return {
    number: 12,
    slug: 'container',
    title: 'The whole container: boxlab run, step by step, against runc',
    steps: [fetchImage, ...runSteps, run, runc],
    // The payload's own launch, with a shell for the probe: every defence of the run applies.
    shell: payloadOf(['/bin/sh', '-i']),
  };
});
