import { defineLesson, type Requirement } from '../../src/model/lesson.js';
import { cmd, quote, type Cmd, shProgram } from '../../src/shell/cmd.js';
import { mkdirP, writeFile } from '../../src/shell/coreutils.js';
import { boxlab, boxlabRuntime } from '../../src/shell/boxlab.js';
import { busyboxRecipe } from '../../rootfs-fetch/busybox.js';
import type { HostFacts } from '../../src/model/host-facts.js';
import * as diagrams from './diagrams.js';

/** The runtime's directory for this lesson's container (its --root), and the container. */
export const OCI = '${WORK}/oci';
export const ID = 'lesson14-${RUN_ID}';
export const CONTAINER = `${OCI}/${ID}`;
export const BUNDLE = '${WORK}/bundle';
/** What create hands the container as its stdout and stderr. */
const OUT = '${WORK}/out';
export const RT = boxlabRuntime().file;
export const rt = (...args: string[]): Cmd => cmd(RT, '--root', OCI, ...args);
/** create's stdio is the container's: a file here, not the lesson's pipe (it would stay open). */
const create = shProgram('sh', '-c', 'exec "$@" </dev/null >"$0" 2>&1', OUT, RT, '--root', OCI, 'create', '--bundle', BUNDLE, '--pid-file', '${WORK}/pid', ID);
/** The container, deleted whatever step was reached (nothing to do once it is gone). */
const deleteContainer = shProgram('sh', '-c', '[ ! -d "$1/$2" ] || "$3" --root "$1" delete --force "$2"', 'sh', OCI, ID, RT);

/** podman, keeping everything under the work dir, with boxlab-runtime (logged) as its runtime. */
const PM = '${WORK}/podman';
const LOGGED = '${WORK}/boxlab-runtime-logged';
const CALLS = '${WORK}/oci-calls.log';
const CGROUP_PARENT = '/boxlab-${RUN_ID}-podman';
const podmanFlags = ['--root', `${PM}/storage`, '--runroot', `${PM}/run`, '--tmpdir', `${PM}/tmp`, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
const pm = (...args: string[]): Cmd => cmd('podman', ...podmanFlags, '--runtime', LOGGED, ...args);
/** podman's leftovers, whatever step was reached: its containers, its storage's private mount,
 *  the cgroups it made under its parent. Succeeds when there is nothing to undo. */
const PODMAN_UNDO = [
  '[ -d "$1/storage" ] || exit 0',
  'podman --root "$1/storage" --runroot "$1/run" --tmpdir "$1/tmp" --cgroup-manager cgroupfs --events-backend file rm --all --force --time 0 >/dev/null 2>&1',
  'umount "$1/storage/overlay" 2>/dev/null',
  'for d in /sys/fs/cgroup/*"$2" /sys/fs/cgroup"$2"; do [ ! -d "$d" ] || find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done',
  'exit 0',
].join('\n');
const needsPodman: Requirement[] = [
  { command: shProgram('sh', '-c', 'command -v podman && command -v conmon', 'has-podman'), reason: 'podman and conmon are not installed (bash scripts/provision.sh installs them)' },
];
/** The wrapper podman calls: each call's arguments to the log, then boxlab-runtime itself. */
const WRAPPER = `#!/bin/sh\nprintf '%s\\n' "$*" >> ${quote(CALLS)}\nexec ${quote(RT)} "$@"\n`;

/** The container's command: says its PID, then waits to be stopped. */
const COMMAND = ['/bin/sh', '-c', 'echo "hello from PID $$, in the box"; exec sleep 1000'];
const PODMAN_PROBE = 'echo "hello from podman"; test -x /.boxlab/busybox && echo "boxlab built this box"';
/** No filter where setpriv cannot apply one: boxlab-runtime refuses to start without it. */
const noFilter = (host: HostFacts, flag: string[]): string[] => (host.setprivSeccomp() ? [] : flag);

/** A command's stdout and stderr to a file. */
const toFile = (file: string, c: Cmd): Cmd => shProgram('sh', '-c', 'exec "$@" >"$0" 2>&1', file, c.file, ...c.args);
const PODMAN_OUT = '${WORK}/podman-out';
const NAME = 'lesson14-${RUN_ID}';
/** podman asks for 1048576 open files by default; a host whose hard limit is lower refuses to
 *  raise it, to boxlab-runtime as to runc (prlimit: Operation not permitted). */
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
/** podman run, as this lesson runs it: no network, under the lesson's cgroup parent; --rootfs
 *  last of the flags (it says the next word is a directory, not an image), then the command. */
const podmanRun = (host: HostFacts, flags: string[], command: string[]): Cmd =>
  pm('run', '--network', 'none', '--cgroup-parent', CGROUP_PARENT, ...noFilter(host, ['--security-opt', 'seccomp=unconfined']), ...LIMITS, ...flags, '--rootfs', `${BUNDLE}/rootfs`, ...command);

const size = (file: string): Cmd => shProgram('sh', '-c', 'wc -c < "$1"', 'sh', file);
const status = (pid: string, field: string) => ({ file: `/proc/${pid}/status`, grep: `${field}:` });

export default defineLesson((host) => ({
  number: 14,
  slug: 'engines',
  title: 'Engines and runtimes: podman drives boxlab-runtime through the OCI command line',
  noShell: "its containers are deleted by its last steps, and boxlab-runtime has no terminal mode: make one of your own with npm run practice 14",
  steps: [
    {
      id: 'bundle',
      title: 'A bundle: a root filesystem and config.json, all a runtime is given',
      diagram: diagrams.stack,
      feature: { name: 'the OCI runtime spec: the bundle (config.json + rootfs)', syscalls: ['(files: what an engine prepares)'], man: ['OCI runtime-spec (bundle.md, config.md)'] },
      creates: [{ dir: '${WORK}' }],
      actions: [
        { run: mkdirP(`${BUNDLE}/rootfs`, OCI) },
        { ensureDir: '${ROOTFS_CACHE}', tmp: '${WORK}/rootfs-build', build: [...busyboxRecipe('${WORK}/rootfs-build', '${BUSYBOX}'), mkdirP('${CACHE_DIR}')] },
        { run: cmd('cp', '-a', '${ROOTFS_CACHE}/.', `${BUNDLE}/rootfs/`) },
        { run: shProgram('sh', '-c', 'exec "$@" >"$0"', `${BUNDLE}/config.json`, boxlab().file, 'spec', '--hostname', 'lesson14', ...noFilter(host, ['--seccomp', 'unconfined']), '--rootfs', `${BUNDLE}/rootfs`, '--', ...COMMAND) },
      ],
      probes: [
        { title: 'the bundle', show: { out: cmd('ls', '-l', BUNDLE) } },
        { title: "config.json's process: what the runtime will start", show: { out: cmd('grep', '-A13', '"process"', `${BUNDLE}/config.json`) } },
      ],
      checks: [
        { title: 'config.json names the command', fact: { file: `${BUNDLE}/config.json` }, contains: 'hello from PID $$, in the box' },
        { title: 'and asks for a PID namespace, among others', fact: { file: `${BUNDLE}/config.json` }, contains: '"type": "pid"' },
      ],
    },
    {
      id: 'create',
      title: 'create: the box is built, and its process waits for start',
      diagram: diagrams.lifecycle,
      feature: { name: 'the runtime operation create (runtime.md)', syscalls: ['fork(2), setsid(2): the process outlives create', 'open(2) of a FIFO: the gate start opens'], man: ['OCI runtime-spec (runtime.md "Lifecycle")', 'fifo(7)'] },
      creates: [{ undo: deleteContainer, what: `the OCI container ${ID}` }],
      actions: [
        { run: create },
        { run: cmd('cat', '${WORK}/pid'), capture: 'CPID' },
        { run: cmd('cat', `${CONTAINER}/box.json`), capture: 'INIT', match: 'pid.:([0-9]+)' },
      ],
      probes: [
        { title: 'boxlab-runtime state: what an engine asks', show: { out: rt('state', ID) } },
        { title: "the container's process (the --pid-file PID) and the box's init", show: { out: cmd('ps', '-o', 'pid,ppid,stat,args', '-p', '${CPID},${INIT}') } },
        { title: 'what it holds open on fd 4: the gate', show: { link: '/proc/${CPID}/fd/4' } },
      ],
      checks: [
        { title: 'create has returned, and the --pid-file process lives on: bash, the run script', fact: { file: '/proc/${CPID}/comm' }, equals: 'bash' },
        { title: "it waits at the gate: its fd 4 is the container's FIFO", fact: { link: '/proc/${CPID}/fd/4' }, contains: `${CONTAINER}/exec.fifo` },
        { title: "the box's init is in a PID namespace of its own", fact: { link: '/proc/${INIT}/ns/pid' }, differs: { link: '/proc/self/ns/pid' } },
        { title: 'the command has not run: its output (create\'s stdout) is empty', fact: { out: size(OUT) }, equals: '0' },
      ],
    },
    {
      id: 'start',
      title: 'start: a line into the FIFO, and the command runs',
      feature: { name: 'the runtime operation start (runtime.md)', syscalls: ['open(2) O_WRONLY|O_NONBLOCK of the FIFO', 'write(2)'], man: ['OCI runtime-spec (runtime.md "Operations")', 'fifo(7)'] },
      actions: [
        { run: rt('start', ID) },
        { await: { file: OUT }, contains: 'hello from PID' },
        { run: cmd('cat', `${CONTAINER}/payload.pid`), capture: 'LAUNCHER' },
        { run: cmd('cat', '/proc/${LAUNCHER}/task/${LAUNCHER}/children'), capture: 'CMD_PID', match: '([0-9]+)' },
        // The command printed its line, then exec'd sleep: wait for that exec.
        { await: { file: '/proc/${CMD_PID}/comm' }, contains: 'sleep' },
      ],
      probes: [
        { title: 'boxlab-runtime state', show: { out: rt('state', ID) } },
        { title: "what the command wrote: create's stdout", show: { file: OUT } },
      ],
      checks: [
        { title: 'the command wrote to the stdout create was given', fact: { file: OUT }, contains: ', in the box' },
        { title: 'the gate is closed: the process no longer holds the FIFO', fact: { status: cmd('test', '-e', '/proc/${CPID}/fd/4') }, equals: '1' },
        { title: 'the command runs (as the host sees it: sleep) ...', fact: { file: '/proc/${CMD_PID}/comm' }, equals: 'sleep' },
        { title: "... in the box's PID namespace", fact: { link: '/proc/${CMD_PID}/ns/pid' }, equals: { link: '/proc/${INIT}/ns/pid' } },
      ],
    },
    {
      id: 'kill-delete',
      title: 'kill, then delete: the signal ends the command, the script undoes the box',
      feature: { name: 'the runtime operations kill and delete (runtime.md)', syscalls: ['kill(2)', 'umount2(2), rmdir(2) (the box undone)'], man: ['OCI runtime-spec (runtime.md "Operations")', 'kill(2)'] },
      actions: [{ run: rt('kill', ID, 'TERM') }, { awaitExit: 'CPID' }, { run: rt('state', ID), capture: 'STATE', match: 'status.: .([a-z]+)' }, { run: rt('delete', ID) }],
      // What the runtime said before delete is its own claim: shown, not checked.
      probes: [
        { title: 'boxlab-runtime state, before delete: the status it reported', show: { out: cmd('echo', '${STATE}') } },
        { title: 'the runtime directory after delete', show: { out: cmd('ls', '-A', OCI) } },
      ],
      checks: [
        { title: 'the command is gone', fact: { alive: '${CMD_PID}' }, equals: 'no' },
        { title: 'and so is the --pid-file process (an engine reads its exit status)', fact: { alive: '${CPID}' }, equals: 'no' },
        { title: "the box's init is gone with it: nothing holds the namespaces", fact: { alive: '${INIT}' }, equals: 'no' },
        { title: "delete removed the container's directory", fact: { status: cmd('test', '-e', CONTAINER) }, equals: '1' },
      ],
    },
    {
      id: 'podman',
      title: 'podman run --runtime boxlab-runtime: the calls a real engine makes',
      diagram: diagrams.podman,
      feature: { name: 'an engine calling the runtime (podman → conmon → boxlab-runtime)', syscalls: ['execve(2) of the runtime, once per operation'], man: ['podman-run(1)', 'conmon(8)', 'OCI runtime-spec (runtime.md)'] },
      requires: needsPodman,
      creates: [{ undo: shProgram('sh', '-c', PODMAN_UNDO, 'sh', PM, CGROUP_PARENT), what: "podman's containers, storage mount and cgroups" }],
      actions: [
        { run: mkdirP(PM) },
        { run: writeFile(LOGGED, WRAPPER) },
        { run: cmd('chmod', '0755', LOGGED) },
        { run: toFile(PODMAN_OUT, podmanRun(host, ['--rm'], ['/bin/sh', '-c', PODMAN_PROBE])) },
      ],
      probes: [
        { title: 'what the container printed (through conmon, to podman)', show: { file: PODMAN_OUT } },
        { title: 'every call of boxlab-runtime, with its arguments (the wrapper logged them)', show: { file: CALLS } },
      ],
      checks: [
        { title: 'the output came back through podman', fact: { file: PODMAN_OUT }, contains: 'hello from podman' },
        { title: "boxlab built the box: its tools layer is in the container's root", fact: { file: PODMAN_OUT }, contains: 'boxlab built this box' },
        { title: 'podman called create with a bundle and a --pid-file', fact: { file: CALLS, grep: 'create ' }, contains: '--pid-file' },
        { title: 'then start', fact: { file: CALLS, grep: 'start ' }, contains: 'start ' },
        { title: 'and, the command done, delete --force', fact: { file: CALLS, grep: 'delete ' }, contains: 'delete --force ' },
      ],
    },
    {
      id: 'conmon',
      title: "conmon: the engine's watcher adopts the container's process",
      feature: { name: 'a child subreaper (prctl PR_SET_CHILD_SUBREAPER)', syscalls: ['prctl(2) PR_SET_CHILD_SUBREAPER', 'waitpid(2)'], man: ['prctl(2)', 'conmon(8)'] },
      requires: needsPodman,
      actions: [
        { run: podmanRun(host, ['-d', '--name', NAME], ['/bin/sleep', '1000']), capture: 'CTR' },
        { run: pm('inspect', '--format', '{{.State.ConmonPid}} {{.State.Pid}}', NAME), capture: 'CONMON', match: '^([0-9]+) ', also: { CTR_PID: ' ([0-9]+)' } },
      ],
      probes: [
        { title: 'conmon and the process it adopted', show: { out: cmd('ps', '-o', 'pid,ppid,args', '-p', '${CONMON},${CTR_PID}') } },
        { title: 'podman ps', show: { out: pm('ps', '--format', '{{.Names}} {{.Status}}') } },
      ],
      checks: [
        { title: 'conmon runs, one per container', fact: { file: '/proc/${CONMON}/comm' }, equals: 'conmon' },
        { title: "the container's process is boxlab-runtime's script (bash) ...", fact: { file: '/proc/${CTR_PID}/comm' }, equals: 'bash' },
        { title: '... and its parent is conmon, which adopted it when create exited', fact: status('${CTR_PID}', 'PPid'), equals: 'PPid:\t${CONMON}' },
      ],
    },
    {
      id: 'stop',
      title: 'podman stop: kill TERM through the runtime, and conmon reports the exit',
      feature: { name: 'the runtime operation kill, called by the engine', syscalls: ['kill(2)', 'waitpid(2) in conmon'], man: ['podman-stop(1)', 'OCI runtime-spec (runtime.md)'] },
      requires: needsPodman,
      actions: [{ run: pm('stop', '--time', '2', NAME) }, { awaitExit: 'CTR_PID' }, { run: pm('rm', NAME) }],
      probes: [{ title: 'the calls, once more', show: { file: CALLS } }],
      checks: [
        { title: "podman's stop went through the runtime: kill", fact: { file: CALLS, grep: 'kill ' }, contains: 'kill ' },
        { title: "the container's process is gone", fact: { alive: '${CTR_PID}' }, equals: 'no' },
        { title: 'and conmon with it, its work done', fact: { alive: '${CONMON}' }, equals: 'no' },
      ],
    },
  ],
}));
