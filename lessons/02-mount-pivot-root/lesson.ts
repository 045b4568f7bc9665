import { defineLesson } from '../../src/model/lesson.js';
import { BOX, BOX_NAMESPACES, boxRun, createBox, hostToolInBox, hostToolInBoxMounts } from '../../src/box/box.js';
import { cmd } from '../../src/shell/cmd.js';
import { mkdirP, writeFile } from '../../src/shell/coreutils.js';
import { bindMount, makePropagation, mountFs, umount } from '../../src/shell/mount.js';
import { pivotRoot } from '../../src/shell/pivot_root.js';
import { unshare } from '../../src/shell/unshare.js';
import { HOST_SECRET } from '../common.js';
import * as diagrams from './diagrams.js';

const SHARED = '${WORK}/shared';
const HOST_MOUNTS = { file: '/proc/self/mountinfo' };
// mountinfo's 4th field is a path inside its own filesystem: /tmp/boxlab-X/rootfs where /tmp
// is on /, /boxlab-X/rootfs where /tmp is a tmpfs (Debian 13). Checks match its tail only.
const BOX_MOUNTS = { file: `/proc/${BOX}/mountinfo` };
/** All of a container's namespaces at once: lessons 3 to 5 look at the others. */
const box = createBox(BOX_NAMESPACES, { cleanEnv: true });

export default defineLesson({
  number: 2,
  slug: 'mount-pivot-root',
  title: 'Mount namespace and pivot_root',
  buildsOn: [1],
  steps: [
    {
      id: 'leak',
      title: 'Break it: a mount leaks back through shared propagation',
      feature: { name: 'mount propagation (shared peer groups)', syscalls: ['mount(2) MS_SHARED', 'unshare(2) CLONE_NEWNS'], man: ['mount_namespaces(7)'] },
      breakIt: { demo: 'propagation-leak', role: 'attack' },
      creates: [{ mount: SHARED }, { mount: `${SHARED}/leak` }],
      actions: [
        { run: mkdirP(SHARED) },
        { run: mountFs('tmpfs', 'boxlab-shared', SHARED, 'size=1m') },
        { run: makePropagation('shared', SHARED) },
        { run: mkdirP(`${SHARED}/leak`, `${SHARED}/inner`) },
        { run: unshare({ ns: ['mount'], propagation: 'unchanged' }, 'mount', '-t', 'tmpfs', 'boxlab-leak', `${SHARED}/leak`) },
      ],
      quiz: { question: 'The tmpfs is shared (it has a peer group). A mount made under it in a new mount namespace: will it appear on the host?', answer: 'yes', check: 'a mount made in the new namespace appeared on the host' },
      checks: [
        { title: 'the throwaway tmpfs is shared on the host (a peer group)', fact: { ...HOST_MOUNTS, grep: ` ${SHARED} ` }, contains: 'shared:' },
        { title: 'a mount made in the new namespace appeared on the host', fact: HOST_MOUNTS, contains: ` ${SHARED}/leak ` },
      ],
    },
    {
      id: 'box',
      title: 'Create the box: six namespaces at once (mount, UTS, IPC, network, PID, cgroup)',
      diagram: diagrams.namespaces,
      feature: {
        name: 'mount, UTS, IPC, network, PID and cgroup namespaces (this lesson uses the mount one)',
        syscalls: ['unshare(2) CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET|CLONE_NEWPID|CLONE_NEWCGROUP', 'prctl(2) PR_SET_PDEATHSIG'],
        man: ['namespaces(7)', 'mount_namespaces(7)', 'unshare(1)'],
      },
      creates: box.creates,
      actions: box.actions,
      probes: [{ title: 'the box init: PID on the host, then PID inside', show: { out: cmd('grep', 'NSpid', `/proc/${BOX}/status`) } }],
      checks: [
        { title: 'the box has its own mount namespace', fact: { link: `/proc/${BOX}/ns/mnt` }, differs: { link: '/proc/self/ns/mnt' } },
        { title: 'every mount in the box is private (no shared: peer group)', fact: BOX_MOUNTS, lacks: 'shared:' },
      ],
    },
    {
      id: 'private',
      title: 'A mount made in the box stays in the box',
      feature: { name: 'private mount propagation', syscalls: ['mount(2) MS_PRIVATE|MS_REC'], man: ['mount_namespaces(7)'] },
      breakIt: { demo: 'propagation-leak', role: 'defence' },
      actions: [{ run: hostToolInBox(['mount'], mountFs('tmpfs', 'boxlab-inner', `${SHARED}/inner`, 'size=1m')) }],
      quiz: { question: 'A mount made inside the box\'s new mount namespace: will the host see it?', answer: 'no', check: 'the host does not' },
      checks: [
        { title: 'the box sees its new mount', fact: BOX_MOUNTS, contains: ` ${SHARED}/inner ` },
        { title: 'the host does not', fact: HOST_MOUNTS, lacks: ` ${SHARED}/inner ` },
      ],
    },
    {
      id: 'new-root',
      title: 'Prepare the new root: a mount point, and /proc for the box',
      feature: { name: "bind mount (the new root), and procfs for the box's PID namespace", syscalls: ['mount(2) MS_BIND', 'mount(2) of proc'], man: ['mount(8)', 'proc(5)'] },
      actions: [
        { run: hostToolInBox(['mount'], bindMount('${ROOTFS}', '${ROOTFS}')) },
        { run: hostToolInBox(['mount', 'pid'], mountFs('proc', 'proc', '${ROOTFS}/proc')) },
        { run: mkdirP('${ROOTFS}/.oldroot') },
      ],
      checks: [
        { title: 'the rootfs is now a mount point of its own in the box', fact: BOX_MOUNTS, contains: '/rootfs ${ROOTFS} ' },
        { title: "the box's /proc is mounted in the box", fact: BOX_MOUNTS, contains: ' ${ROOTFS}/proc ' },
        { title: '... and not on the host', fact: HOST_MOUNTS, lacks: ' ${ROOTFS}/proc ' },
      ],
    },
    {
      id: 'volume',
      title: 'A volume: bind-mount a host directory into the box',
      feature: { name: 'bind mount (a volume)', syscalls: ['mount(2) MS_BIND'], man: ['mount(8)'] },
      actions: [
        { run: mkdirP('${WORK}/volume') },
        { run: writeFile('${WORK}/volume/hello.txt', 'written on the host') },
        { run: hostToolInBox(['mount'], bindMount('${WORK}/volume', '${ROOTFS}/mnt')) },
      ],
      checks: [{ title: 'the box has the host directory at its /mnt', fact: BOX_MOUNTS, contains: '/volume ${ROOTFS}/mnt ' }],
    },
    {
      id: 'pivot',
      title: 'pivot_root: the rootfs becomes / for the whole namespace',
      diagram: diagrams.pivot,
      feature: { name: 'pivot_root', syscalls: ['pivot_root(2)'], man: ['pivot_root(2)', 'pivot_root(8)'] },
      actions: [{ run: hostToolInBox(['mount'], pivotRoot('${ROOTFS}', '${ROOTFS}/.oldroot')) }],
      probes: [{ title: "the box's mount table", show: BOX_MOUNTS }],
      checks: [
        { title: "the box's / is the rootfs", fact: BOX_MOUNTS, contains: '/rootfs / ' },
        { title: 'the old root waits at /.oldroot', fact: BOX_MOUNTS, contains: ' /.oldroot ' },
      ],
    },
    {
      id: 'detach',
      title: 'Detach the old root',
      feature: { name: 'lazy unmount', syscalls: ['umount2(2) MNT_DETACH'], man: ['umount(8)'] },
      actions: [
        { run: hostToolInBoxMounts(umount(`/proc/${BOX}/root/.oldroot`, { lazy: true, noCanonicalize: true })) },
        { run: hostToolInBoxMounts(cmd('rmdir', `/proc/${BOX}/root/.oldroot`)) },
      ],
      probes: [{ title: '/ inside the box', show: { out: boxRun('/bin/ls', '/') } }],
      checks: [
        { title: 'no mount of the host root is left in the box', fact: BOX_MOUNTS, lacks: ' /.oldroot ' },
        { title: 'the volume is readable inside the box', fact: { out: boxRun('/bin/cat', '/mnt/hello.txt') }, equals: 'written on the host' },
      ],
    },
    {
      id: 'escape-closed',
      title: 'The lesson 1 escape no longer reaches the host',
      feature: { name: 'pivot_root + PID namespace', syscalls: ['pivot_root(2)', 'clone(2) CLONE_NEWPID'], man: ['pid_namespaces(7)'] },
      breakIt: { demo: 'proc-root-escape', role: 'defence' },
      probes: [{ title: '/proc/1/root inside the box', show: { out: boxRun('/bin/ls', '/proc/1/root/') } }],
      actions: [{ run: boxRun('/bin/cat', `/proc/\${HOST_PID}/root${HOST_SECRET}`), mayFail: true }],
      checks: [
        { title: "PID 1 in the box's /proc is the box's init", fact: { file: `/proc/${BOX}/status` }, contains: `NSpid:\t${BOX}\t1` },
        { title: "boxlab's host PID does not exist in the box", fact: { status: boxRun('/bin/ls', '/proc/${HOST_PID}/root/') }, differs: '0' },
        { title: "the host secret is out of reach through boxlab's PID", fact: { status: boxRun('/bin/cat', `/proc/\${HOST_PID}/root${HOST_SECRET}`) }, differs: '0' },
        { title: '... and through /proc/1/root', fact: { status: boxRun('/bin/cat', `/proc/1/root${HOST_SECRET}`) }, differs: '0' },
      ],
    },
  ],
  shell: boxRun('/bin/sh'),
});
