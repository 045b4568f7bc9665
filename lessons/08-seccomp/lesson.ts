import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineLesson, type Action } from '../../src/model/lesson.js';
import { boxPayload, hostToolInFullBox, taughtShell } from '../../src/box/box.js';
import { cmd, render, type Cmd } from '../../src/shell/cmd.js';
import { bwrapSeccomp, setprivHasSeccomp, withSeccompFilter, writeBase64 } from '../../src/shell/seccomp.js';
import { withParentDeathSignal } from '../../src/shell/setpriv.js';
import { compile, encode, parseProfile } from '../../src/seccomp/bpf.js';
import { packageRoot } from '../../src/paths.js';
import * as diagrams from './diagrams.js';

// The profiles beside this file, compiled by the same code as `boxlab seccomp compile`.
const here = join(packageRoot(import.meta.url), 'lessons', '08-seccomp');
const program = (name: string) => encode(compile(parseProfile(JSON.parse(readFileSync(join(here, name), 'utf8')))).program);
const TEACHING = program('teaching.json');
const DOCKER_LIKE = program('docker-like.json');
const TEACHING_BPF = '${WORK}/teaching.bpf';
const DOCKER_BPF = '${WORK}/docker-like.bpf';
/** The payload launch with the filter installed first (setpriv, then capsh --chroot). */
const filtered = (program: string, ...args: string[]) => boxPayload({ wrap: (c) => withSeccompFilter(TEACHING_BPF, c) }, program, ...args);
/** What the teaching profile refuses, tried in the box (the host's keyctl: busybox has none). */
const ATTACKS: [string, Cmd][] = [
  ['unshare', boxPayload({}, '/bin/unshare', '-m', '/bin/true')],
  ['mount', boxPayload({}, '/bin/mount', '-t', 'tmpfs', 'boxlab-unfiltered', '/mnt')],
  ['keyctl', hostToolInFullBox(cmd('keyctl', 'show', '@s'))],
];
/** The same calls on a host process (bwrap gives it a mount namespace of its own to mount in). */
const HOST_ATTACKS: [string, Cmd][] = [
  ['unshare', cmd('unshare', '--mount', 'true')],
  ['mount', cmd('mount', '-t', 'tmpfs', 'boxlab-filtered', '/mnt')],
  ['keyctl', cmd('keyctl', 'show', '@s')],
];
const feature = { name: 'seccomp filter (classic BPF)', syscalls: ['seccomp(2) SECCOMP_SET_MODE_FILTER', 'prctl(2) PR_SET_NO_NEW_PRIVS'], man: ['seccomp(2)', 'Documentation/userspace-api/seccomp_filter.rst'] };
const NO_SETPRIV = {
  command: setprivHasSeccomp,
  reason: `setpriv here has no --seccomp-filter (util-linux < 2.41, e.g. Debian 12); it would run: ${render(filtered('/bin/sleep', '1000'))}. The next step applies the same program to a host process with bwrap`,
};
const NEEDS_BWRAP = { command: cmd('bwrap', '--version'), reason: 'bwrap is not installed (apt-get install bubblewrap)' };

export default defineLesson({
  number: 8,
  slug: 'seccomp',
  title: 'seccomp: a filter on every system call',
  buildsOn: [7],
  steps: [
    {
      id: 'program',
      title: 'A profile compiled to a BPF program',
      diagram: diagrams.pipeline,
      feature,
      actions: [{ run: writeBase64(TEACHING_BPF, TEACHING.toString('base64')) }, { run: writeBase64(DOCKER_BPF, DOCKER_LIKE.toString('base64')) }],
      probes: [{ title: 'the teaching program, 8 bytes an instruction (code, jt, jf, k)', show: { out: cmd('od', '-An', '-tx1', '-w8', '-v', TEACHING_BPF) } }],
      checks: [
        { title: `the teaching program is ${TEACHING.length / 8} instructions`, fact: { out: cmd('stat', '-c', '%s', TEACHING_BPF) }, equals: String(TEACHING.length) },
        { title: `the Docker-like program is ${DOCKER_LIKE.length / 8} instructions`, fact: { out: cmd('stat', '-c', '%s', DOCKER_BPF) }, equals: String(DOCKER_LIKE.length) },
      ],
    },
    {
      id: 'unfiltered',
      title: 'Break it: without a filter, root in the box unshares, mounts and reaches the keyrings',
      feature: { name: 'the full system call table', syscalls: ['unshare(2)', 'mount(2)', 'keyctl(2)'], man: ['syscalls(2)'] },
      breakIt: { demo: 'seccomp-syscalls', role: 'attack' },
      actions: [],
      checks: [
        { title: 'no seccomp filter on the box', fact: { file: '/proc/${BOX}/status', grep: 'Seccomp:' }, equals: 'Seccomp:\t0' },
        ...ATTACKS.map(([name, c]) => ({ title: `${name}(2) works in the box`, fact: { status: c }, equals: '0' })),
      ],
    },
    {
      id: 'in-box',
      title: 'The filter on the box payload: setpriv --seccomp-filter',
      diagram: diagrams.filter,
      feature,
      breakIt: { demo: 'seccomp-syscalls', role: 'defence' },
      requires: [NO_SETPRIV],
      creates: [{ process: 'FILTERED_NSENTER' }],
      actions: [
        { start: withParentDeathSignal('KILL', filtered('/bin/sleep', '1000')), pid: 'FILTERED_NSENTER' },
        { childOf: 'FILTERED_NSENTER', pid: 'FILTERED', comm: 'sleep' },
      ],
      probes: [{ title: "the filtered payload's seccomp state", show: { out: cmd('grep', '^Seccomp', '/proc/${FILTERED}/status') } }],
      checks: [
        { title: 'the kernel runs a filter on the payload (Seccomp: 2)', fact: { file: '/proc/${FILTERED}/status', grep: 'Seccomp:' }, equals: 'Seccomp:\t2' },
        { title: 'unshare(2) in the box now fails', fact: { status: filtered('/bin/unshare', '-m', '/bin/true') }, differs: '0' },
        { title: 'mount(2) in the box now fails', fact: { status: filtered('/bin/mount', '-t', 'tmpfs', 'boxlab-filtered', '/mnt') }, differs: '0' },
        { title: 'an allowed call still works: ls', fact: { status: filtered('/bin/ls', '/') }, equals: '0' },
      ],
    },
    {
      id: 'on-host',
      title: 'The same program on a host process, with bwrap --seccomp',
      feature,
      breakIt: { demo: 'seccomp-syscalls', role: 'defence' },
      requires: [NEEDS_BWRAP],
      creates: [{ process: 'BWRAPPED' }],
      actions: [
        ...HOST_ATTACKS.map(([, c]): Action => ({ run: bwrapSeccomp(TEACHING_BPF, c), mayFail: true })),
        { start: withParentDeathSignal('KILL', bwrapSeccomp(TEACHING_BPF, cmd('sleep', '1000'))), pid: 'BWRAPPED' },
        { childOf: 'BWRAPPED', pid: 'BWRAPPED_SLEEP', comm: 'sleep' },
      ],
      probes: [{ title: "the filtered process's seccomp state", show: { out: cmd('grep', '^Seccomp', '/proc/${BWRAPPED_SLEEP}/status') } }],
      checks: [
        { title: 'the kernel runs one filter on the process (Seccomp: 2)', fact: { file: '/proc/${BWRAPPED_SLEEP}/status', grep: 'Seccomp' }, equals: 'Seccomp:\t2' },
        ...HOST_ATTACKS.map(([name, c]) => ({ title: `${name}(2) fails under the filter`, fact: { status: bwrapSeccomp(TEACHING_BPF, c) }, differs: '0' })),
        { title: 'an allowed call still works: ls', fact: { status: bwrapSeccomp(TEACHING_BPF, cmd('ls', '/')) }, equals: '0' },
      ],
    },
    {
      id: 'docker-like',
      title: 'A Docker-like profile: allow a list, refuse the rest',
      feature,
      requires: [NEEDS_BWRAP],
      actions: [{ run: bwrapSeccomp(DOCKER_BPF, cmd('sh', '-c', 'echo a shell runs')) }, { run: bwrapSeccomp(DOCKER_BPF, cmd('unshare', '--user', 'true')), mayFail: true }],
      checks: [
        { title: 'an ordinary program runs under it', fact: { status: bwrapSeccomp(DOCKER_BPF, cmd('sh', '-c', 'exit 0')) }, equals: '0' },
        { title: 'unshare(2), not on the list, is refused', fact: { status: bwrapSeccomp(DOCKER_BPF, cmd('unshare', '--user', 'true')) }, differs: '0' },
      ],
    },
  ],
  shell: taughtShell('/bin/sh'),
});
