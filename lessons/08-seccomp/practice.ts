import { join } from 'node:path';
import { definePractice } from '../../src/engine/exercise.js';
import type { Step } from '../../src/model/lesson.js';
import { described, cmd, type Cmd, shProgram } from '../../src/shell/cmd.js';
import { packageRoot } from '../../src/paths.js';

// setpriv learned --seccomp-filter in util-linux 2.41 (not Debian 12's): both exercises load
// their programs with bwrap, which can on both hosts, and work on host processes.
const NEEDS_BWRAP = { command: cmd('bwrap', '--version'), reason: 'bwrap is not installed (apt-get install bubblewrap)' };
const root = packageRoot(import.meta.url);
const NO_CHROOT = '${WORK}/no-chroot.bpf';
const SLEEP = '2000';

/** COMMAND under the program in FILE (bwrap --seccomp, keeping every capability), its stderr with its stdout. */
const underFilter = (file: string, ...command: string[]): Cmd =>
  shProgram('sh', '-c', 'f=$1; shift; LC_ALL=C exec bwrap --die-with-parent --cap-add ALL --bind / / --dev /dev --seccomp 3 "$@" 3< "$f" 2>&1', 'sh', file, ...command);

/** One line of /proc/PID/status for every process whose command line is exactly `sleep SLEEP`. */
const sleepers = (field: string): Cmd =>
  described(`the ${field}: line of /proc/PID/status of each sleep ${SLEEP}`, shProgram('sh', '-c', 'for d in /proc/[0-9]*; do [ "$(tr "\\0" " " < "$d/cmdline")" = "sleep $1 " ] && grep "^$2:" "$d/status"; done 2>/dev/null; true', 'sh', SLEEP, field));

const compiler: Step = {
  id: 'compiler',
  title: "boxlab's seccomp compiler ($BOXLAB), and the lesson's teaching profile to start from",
  feature: { name: 'seccomp profiles (OCI JSON)', syscalls: ['seccomp(2) SECCOMP_SET_MODE_FILTER'], man: ['seccomp(2)'] },
  actions: [
    { run: cmd('realpath', join(root, 'bin', 'boxlab.js')), capture: 'BOXLAB', match: '^(.*\\S)' },
    { run: cmd('cp', join(root, 'lessons', '08-seccomp', 'teaching.json'), '${WORK}/teaching.json') },
  ],
  checks: [{ title: 'the teaching profile is in the work directory', fact: { status: cmd('test', '-s', '${WORK}/teaching.json') }, equals: '0' }],
};

export default definePractice({
  lesson: 8,
  exercises: [
    {
      id: 'eacces',
      title: 'a profile of your own: chroot(2) answers EACCES',
      goal: 'Write a seccomp profile that makes chroot(2) fail with EACCES (errno 13) and allows every other call, and compile it with boxlab\'s compiler to $WORK/no-chroot.bpf ("$BOXLAB" seccomp compile PROFILE.json -o FILE.bpf; $WORK/teaching.json, the lesson\'s profile, is there to start from).',
      from: 'program',
      requires: [NEEDS_BWRAP],
      setup: [compiler],
      checks: [
        { title: 'the kernel loads the program: true runs under it (bwrap --seccomp)', fact: { status: underFilter(NO_CHROOT, 'true') }, equals: '0' },
        { title: 'under it, chroot(2) fails with EACCES: Permission denied', fact: { out: underFilter(NO_CHROOT, 'chroot', '/', 'true') }, contains: 'Permission denied' },
        { title: 'other calls are allowed: ls / runs under it', fact: { status: underFilter(NO_CHROOT, 'ls', '/') }, equals: '0' },
      ],
      hints: [
        'A profile (the OCI/Docker JSON format) gives a defaultAction for every call no rule names, and rules: system call names, an action, and for SCMP_ACT_ERRNO the errno the call returns (errnoRet). chroot(8) makes the chroot(2) call; EACCES is errno 13 (errno(3)), EPERM is 1.',
        'Copy $WORK/teaching.json and keep its defaultAction (SCMP_ACT_ALLOW) and architectures, with one rule. "$BOXLAB" seccomp compile FILE.json -o FILE.bpf compiles it ("$BOXLAB" seccomp disasm FILE.bpf reads the program back); bwrap(1) tries it on a host process: bwrap --bind / / --dev /dev --seccomp 3 chroot / true 3< FILE.bpf',
        `printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errnoRet": ____}]}' > "$WORK/no-chroot.json"; "$BOXLAB" seccomp compile "$WORK/no-chroot.json" -o "$WORK/no-chroot.bpf"`,
      ],
      solution: [
        `cat > "$WORK/no-chroot.json" <<'EOF'`,
        '{',
        '  "defaultAction": "SCMP_ACT_ALLOW",',
        '  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],',
        '  "syscalls": [{ "names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13 }]',
        '}',
        'EOF',
        '"$BOXLAB" seccomp compile "$WORK/no-chroot.json" -o "$WORK/no-chroot.bpf"',
        '# try it: chroot: cannot change root directory to \'/\': Permission denied',
        'bwrap --bind / / --dev /dev --seccomp 3 chroot / true 3< "$WORK/no-chroot.bpf" || echo "refused: exit $?"',
      ].join('\n'),
    },
    {
      id: 'stacked',
      title: 'two filters on one process',
      goal: `Start \`sleep ${SLEEP}\` in the background under two seccomp filters at once: the lesson's two programs, $WORK/teaching.bpf and $WORK/docker-like.bpf. The kernel keeps both and runs both on every call the process makes.`,
      from: 'program',
      requires: [NEEDS_BWRAP],
      checks: [
        { title: `a sleep ${SLEEP} runs in seccomp filter mode (Seccomp: 2)`, fact: { out: sleepers('Seccomp') }, contains: 'Seccomp:\t2' },
        { title: 'with two filters stacked on it (Seccomp_filters: 2)', fact: { out: sleepers('Seccomp_filters') }, contains: 'Seccomp_filters:\t2' },
      ],
      hints: [
        "Filters stack: each one a process installs is added to those it already has (and inherits across fork and exec), never replacing them, and the kernel runs every one on each system call; the strictest answer wins. /proc/PID/status counts them: Seccomp_filters.",
        'bwrap(1) loads a compiled program from a file descriptor: --seccomp FD loads one, --add-seccomp-fd FD may be given again and again (the two do not mix). Open each file on a descriptor of its own (3< FILE 4< FILE); --bind / / keeps the host\'s files and --dev /dev gives a /dev.',
        `bwrap --bind / / --dev /dev --add-seccomp-fd 3 ____ sleep ${SLEEP} 3< "$WORK/teaching.bpf" 4< "$WORK/docker-like.bpf" &`,
      ],
      solution: `bwrap --bind / / --dev /dev --add-seccomp-fd 3 --add-seccomp-fd 4 sleep ${SLEEP} 3< "$WORK/teaching.bpf" 4< "$WORK/docker-like.bpf" &\nsleep 0.5\ngrep ^Seccomp "/proc/$(pgrep -n -x -f 'sleep ${SLEEP}')/status"`,
    },
  ],
});
