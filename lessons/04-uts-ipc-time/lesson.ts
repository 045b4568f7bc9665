import { defineLesson } from '../../src/model/lesson.js';
import { BOX, boxRun, boxRunWithout, hostToolInBox } from '../../src/box/box.js';
import { cmd } from '../../src/shell/cmd.js';
import { cat } from '../../src/shell/coreutils.js';
import { makeShm } from '../../src/shell/ipc.js';
import { nsenter } from '../../src/shell/nsenter.js';
import { withParentDeathSignal } from '../../src/shell/setpriv.js';
import { unshare } from '../../src/shell/unshare.js';
import * as diagrams from './diagrams.js';

/** A process in every namespace of the box but its IPC namespace. */
const noIpcNs = (file: string, ...args: string[]) => boxRunWithout('ipc', file, ...args);
/** Segment sizes nothing else on a host uses (a concurrent run of this lesson aside: its ids tell them apart). */
const HOST_SEGMENT = '31337';
const BOX_SEGMENT = '31338';
const DAY = 86400;
const HOSTNAME = 'boxlab-box';
/**
 * Whether a table of /proc/sysvipc/shm lists one segment: this run's, known by its id and its
 * size. Another run of this lesson makes a segment of the same size at the same time (never
 * with the same id), and a fresh IPC namespace may reuse an id (never with the same size).
 */
const seen = (id: string, size: string): string[] => [
  '-v', `id=${id}`, '-v', `size=${size}`,
  '$2 == id && $4 == size { n++ } END { print "shmid " id ", " size " bytes: " (n ? "seen" : "not seen") }',
  '/proc/sysvipc/shm',
];
const onHost = (id: string, size: string) => ({ out: cmd('awk', ...seen(id, size)) });
const inBox = (id: string, size: string) => ({ out: boxRun('/bin/awk', ...seen(id, size)) });
const SEEN = (id: string, size: string) => `shmid ${id}, ${size} bytes: seen`;
const NOT_SEEN = (id: string, size: string) => `shmid ${id}, ${size} bytes: not seen`;

export default defineLesson({
  number: 4,
  slug: 'uts-ipc-time',
  title: 'UTS, IPC and time namespaces',
  buildsOn: [3],
  steps: [
    {
      id: 'uts',
      title: 'A hostname of its own',
      feature: { name: 'UTS namespace', syscalls: ['unshare(2) CLONE_NEWUTS', 'sethostname(2)'], man: ['uts_namespaces(7)'] },
      actions: [
        { run: cat('/proc/sys/kernel/hostname'), capture: 'HOST_NAME' },
        { run: hostToolInBox(['uts'], cmd('hostname', HOSTNAME)) },
      ],
      checks: [
        { title: 'the box has its own UTS namespace', fact: { link: `/proc/${BOX}/ns/uts` }, differs: { link: '/proc/self/ns/uts' } },
        { title: 'the kernel gives the box its hostname', fact: { out: boxRun('/bin/cat', '/proc/sys/kernel/hostname') }, equals: HOSTNAME },
        { title: "the host's hostname is unchanged", fact: { file: '/proc/sys/kernel/hostname' }, equals: '${HOST_NAME}' },
      ],
    },
    {
      id: 'ipc-leak',
      title: "Break it: without an IPC namespace the box sees the host's shared memory",
      feature: { name: 'System V IPC objects, host-wide without a namespace', syscalls: ['shmget(2)'], man: ['sysvipc(7)', 'ipc_namespaces(7)'] },
      breakIt: { demo: 'ipc-visibility', role: 'attack' },
      creates: [{ shm: 'HOST_SHM' }],
      actions: [{ run: makeShm(Number(HOST_SEGMENT)), capture: 'HOST_SHM' }],
      probes: [{ title: "the host's segment in the kernel's table (its header, and this run's line)", show: { out: cmd('awk', '-v', 'id=${HOST_SHM}', 'NR == 1 || $2 == id', '/proc/sysvipc/shm') } }],
      checks: [
        {
          title: "a process without the IPC namespace sees the host's segment",
          fact: { out: noIpcNs('/bin/awk', ...seen('${HOST_SHM}', HOST_SEGMENT)) },
          equals: SEEN('${HOST_SHM}', HOST_SEGMENT),
        },
      ],
    },
    {
      id: 'ipc',
      title: 'IPC namespace: segments on either side are invisible to the other',
      diagram: diagrams.ipc,
      feature: { name: 'IPC namespace', syscalls: ['unshare(2) CLONE_NEWIPC', 'shmget(2)'], man: ['ipc_namespaces(7)'] },
      breakIt: { demo: 'ipc-visibility', role: 'defence' },
      // Made by the host's ipcmk inside the box's IPC namespace: it dies with the namespace.
      actions: [{ run: hostToolInBox(['ipc'], makeShm(Number(BOX_SEGMENT))), capture: 'BOX_SHM' }],
      checks: [
        { title: 'the box has its own IPC namespace', fact: { link: `/proc/${BOX}/ns/ipc` }, differs: { link: '/proc/self/ns/ipc' } },
        { title: "the box does not see the host's segment", fact: inBox('${HOST_SHM}', HOST_SEGMENT), equals: NOT_SEEN('${HOST_SHM}', HOST_SEGMENT) },
        { title: 'the box sees its own segment', fact: inBox('${BOX_SHM}', BOX_SEGMENT), equals: SEEN('${BOX_SHM}', BOX_SEGMENT) },
        { title: "the host does not see the box's segment", fact: onHost('${BOX_SHM}', BOX_SEGMENT), equals: NOT_SEEN('${BOX_SHM}', BOX_SEGMENT) },
      ],
    },
    {
      id: 'time',
      title: 'Time namespace: a process whose clocks say it booted a day earlier',
      diagram: diagrams.clocks,
      feature: { name: 'time namespace', syscalls: ['unshare(2) CLONE_NEWTIME', 'clock_gettime(2)'], man: ['time_namespaces(7)'] },
      requires: [{ path: '/proc/self/ns/time', reason: 'this kernel has no time namespaces (they came in Linux 5.6)' }],
      creates: [{ process: 'TIMED_LAUNCHER' }],
      actions: [
        { start: withParentDeathSignal('KILL', unshare({ ns: ['time'], fork: true, killChild: 'KILL', boottime: DAY, monotonic: DAY }, 'sleep', '1000')), pid: 'TIMED_LAUNCHER' },
        { childOf: 'TIMED_LAUNCHER', pid: 'TIMED' },
      ],
      probes: [
        { title: 'uptime on the host (seconds)', show: { file: '/proc/uptime' } },
        { title: 'uptime in the time namespace, a day more', show: { out: nsenter({ target: '${TIMED}', ns: ['time'] }, 'cat', '/proc/uptime') } },
      ],
      checks: [
        { title: 'the process has its own time namespace', fact: { link: '/proc/${TIMED}/ns/time' }, differs: { link: '/proc/self/ns/time' } },
        { title: 'the kernel holds a boot-time offset of one day for it', fact: { file: '/proc/${TIMED}/timens_offsets', grep: 'boottime' }, contains: ` ${DAY} ` },
      ],
    },
  ],
  shell: boxRun('/bin/sh'),
});
