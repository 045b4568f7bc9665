import { defineLesson } from '../../src/model/lesson.js';
import { chroot } from '../../src/shell/chroot.js';
import { mountFs } from '../../src/shell/mount.js';
import { withParentDeathSignal } from '../../src/shell/setpriv.js';
import { HOST_SECRET, rootfsStep, SECRET_TEXT } from '../common.js';

const inJail = (...command: string[]) => chroot('${ROOTFS}', ...command);

export default defineLesson({
  number: 1,
  slug: 'chroot',
  title: 'chroot: a different root directory',
  steps: [
    rootfsStep,
    {
      id: 'chroot',
      title: 'Run a process with the rootfs as its /',
      feature: { name: 'change root directory', syscalls: ['chroot(2)'], man: ['chroot(2)', 'chroot(8)'] },
      creates: [{ process: 'JAILED' }],
      actions: [
        { run: inJail('/bin/ls', '/') },
        { start: withParentDeathSignal('KILL', inJail('/bin/sleep', '3600')), pid: 'JAILED', until: 'sleep' },
      ],
      probes: [{ title: "the jailed process's root, as the kernel records it", show: { link: '/proc/${JAILED}/root' } }],
      checks: [
        { title: 'the kernel set the root of the jailed process to the rootfs', fact: { link: '/proc/${JAILED}/root' }, equals: '${ROOTFS}' },
        { title: 'a host file outside the rootfs is not found by its path', fact: { status: inJail('/bin/cat', HOST_SECRET) }, differs: '0' },
      ],
      replay: false,
    },
    {
      id: 'escape',
      title: 'Break it: reach the host through /proc/PID/root',
      feature: { name: "procfs magic links (/proc/PID/root follows another process's root)", syscalls: ['mount(2) of proc', 'open(2)'], man: ['proc(5)'] },
      breakIt: { demo: 'proc-root-escape', role: 'attack' },
      creates: [{ mount: '${ROOTFS}/proc' }],
      actions: [
        { run: mountFs('proc', 'proc', '${ROOTFS}/proc') },
        { run: inJail('/bin/ls', '/proc/${HOST_PID}/root/') },
      ],
      probes: [{ title: 'the host secret, read from inside the chroot', show: { out: inJail('/bin/cat', `/proc/\${HOST_PID}/root${HOST_SECRET}`) } }],
      checks: [
        { title: "the jail's /proc shows host processes, boxlab itself among them", fact: { link: '${ROOTFS}/proc/${HOST_PID}/ns/pid' }, equals: { link: '/proc/self/ns/pid' } },
        { title: 'the jailed process read a file outside its root', fact: { out: inJail('/bin/cat', `/proc/\${HOST_PID}/root${HOST_SECRET}`) }, equals: SECRET_TEXT },
      ],
    },
  ],
  shell: inJail('/bin/sh'),
});
