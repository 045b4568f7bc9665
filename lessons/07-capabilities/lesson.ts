import { defineLesson, type Action, type Fact, type Step } from '../../src/model/lesson.js';
import { BOX, boxPayload, boxRun, hostToolInBoxMounts, hostToolInFullBox, NOT_DOCKER_CAPS as NOT_DOCKER, taughtShell } from '../../src/box/box.js';
import { withNoNewPrivs, withParentDeathSignal } from '../../src/shell/setpriv.js';
import { writeBase64 } from '../../src/shell/seccomp.js';
import { pauseElf } from '../../rootfs-fetch/pause-elf.js';
import { cmd } from '../../src/shell/cmd.js';
import { writeFile } from '../../src/shell/coreutils.js';
import { withBoundingSet } from '../../src/shell/capsh.js';
import { bindMount, mountFs, remountReadOnly } from '../../src/shell/mount.js';
import { CAPABILITIES, capMask, DOCKER_DEFAULT_CAPS } from '../../src/kernel/capabilities.js';
import { kernelMasks } from '../../src/container/spec.js';
import * as diagrams from './diagrams.js';

const BOX_STATUS = { file: `/proc/${BOX}/status` };
const BOX_MOUNTS = { file: `/proc/${BOX}/mountinfo` };
const capFeature = (cap: string) => ({ name: cap.toUpperCase(), syscalls: ['capable(CAP_...) in the kernel'], man: ['capabilities(7)'] });
const DOCKER_MASK = capMask(DOCKER_DEFAULT_CAPS);
const NOBODY = 65534;

/** What the attack did that matters, read from the kernel or the host (not only "allowed"). */
interface Harm {
  title: string;
  fact: Fact;
  equals: string;
}

/** One capability's break-it: the attack works with it, fails without it (`drop`: the
 *  capabilities that must go for it to fail, when another one grants the same). */
function capPair(id: string, cap: string, what: string, program: string, args: string[], o: { prep?: Action[]; prepWithout?: Action[]; harm?: Harm; unharmed?: Harm; drop?: string[]; requires?: Step['requires'] } = {}): Step[] {
  const demo = `cap-${id}`;
  const drop = o.drop ?? [cap];
  return [
    {
      id: `${id}-with`,
      title: `Break it: with ${cap.toUpperCase()}, root in the box ${what}`,
      feature: capFeature(cap),
      breakIt: { demo, role: 'attack' },
      ...(o.requires ? { requires: o.requires } : {}),
      actions: [...(o.prep ?? []), { run: boxPayload({}, program, ...args) }],
      checks: [
        { title: `with ${cap}: the kernel allowed it`, fact: { status: boxPayload({}, program, ...args) }, equals: '0' },
        ...(o.harm ? [o.harm] : []),
      ],
    },
    {
      id: `${id}-without`,
      title: `Drop ${drop.map((c) => c.toUpperCase()).join(' and ')}: the same attack fails`,
      feature: capFeature(cap),
      breakIt: { demo, role: 'defence' },
      ...(o.requires ? { requires: o.requires } : {}),
      actions: [...(o.prepWithout ?? []), { run: boxPayload({ drop }, program, ...args), mayFail: true }],
      checks: [
        { title: `without ${cap}: the kernel refused it`, fact: { status: boxPayload({ drop }, program, ...args) }, differs: '0' },
        ...(o.unharmed ? [o.unharmed] : []),
      ],
    },
  ];
}

/**
 * The box's volume (lesson 2's, the host's $WORK/volume at /mnt) made read-only, as
 * `-v /host/dir:/mnt:ro` makes it: a bind mount remounted read-only, from the host. Root in
 * the box with CAP_SYS_ADMIN remounts it read-write (a bind mount's read-only flag is per
 * mount, and the box owns its mount namespace) and changes the host's file.
 */
const RO_FILE = '${WORK}/volume/config';
const RO_TEXT = 'set on the host, read-only for the box';
const RO_ATTACK = 'mount -o remount,bind,rw /mnt && echo changed-by-the-box > /mnt/config';
const roVolume = (): Action[] => [{ run: writeFile(RO_FILE, RO_TEXT) }, { run: hostToolInBoxMounts(remountReadOnly(inRoot('/mnt'), asIs)) }];
const PRIVATE = '${WORK}/volume/private-notes';
const PRIVATE_TEXT = 'private-notes-${RUN_ID}';

/**
 * kernel.core_pattern is not namespaced: a `|program` there runs as root on the host for any
 * crash. The box writes a plain name instead (cores named so, in the crashing program's
 * directory, as the default `core` does), with its run's id so the evidence is this run's own.
 */
const CORE = '/proc/sys/kernel/core_pattern';
const CORE_BY_ROOT = 'core-boxlab-${RUN_ID}';
const CORE_NO_CAPS = 'core-boxlab-${RUN_ID}-no-caps';
const setCore = (drop: string[] | undefined, value: string) => boxPayload(drop ? { drop } : {}, '/bin/sh', '-c', `echo "$1" > ${CORE}`, 'sh', value);

const inRoot = (path: string) => `/proc/${BOX}/root${path}`;
const asIs = { noCanonicalize: true };

// The paths Docker masks and makes read-only, where this kernel has them (the box shares it):
// the same lists as boxlab run's (src/container/spec.ts), read from the host when the lesson runs.
export default defineLesson((host) => {
const { files: MASKED_FILES, dirs: MASKED_DIRS, readOnly: READ_ONLY } = kernelMasks(host);
return {
  number: 7,
  slug: 'capabilities',
  title: "Capabilities: cutting root's privileges into pieces",
  buildsOn: [6],
  steps: [
    {
      id: 'sets',
      title: "The box's capability sets",
      diagram: diagrams.sets,
      feature: { name: 'capability sets', syscalls: ['capget(2)'], man: ['capabilities(7)'] },
      actions: [{ run: cmd('grep', 'CapBnd', `/proc/${BOX}/status`), capture: 'BOX_CAPBND' }],
      probes: [
        { title: "the box's five sets, as the kernel keeps them", show: { out: cmd('grep', '^Cap', `/proc/${BOX}/status`) } },
        { title: 'the bounding set, decoded', show: { out: cmd('capsh', '--decode=${BOX_CAPBND}') } },
      ],
      checks: [{ title: "the box's root has every capability the host's root has", fact: { ...BOX_STATUS, grep: 'CapBnd' }, equals: { file: '/proc/self/status', grep: 'CapBnd' } }],
    },
    ...capPair('sys-admin', 'cap_sys_admin', 'remounts a read-only volume read-write and changes a host file', '/bin/sh', ['-c', RO_ATTACK], {
      prep: roVolume(),
      prepWithout: roVolume(),
      harm: { title: "the host's file in the read-only volume was changed from the box", fact: { file: RO_FILE }, equals: 'changed-by-the-box' },
      unharmed: { title: "the host's file is as the host wrote it", fact: { file: RO_FILE }, equals: RO_TEXT },
    }),
    ...capPair('net-raw', 'cap_net_raw', 'opens a raw socket (ping)', '/bin/ping', ['-c', '1', '-W', '1', '127.0.0.1']),
    // adjtimex -t with the tick the kernel already has: a write that changes nothing.
    ...capPair('sys-time', 'cap_sys_time', 'sets a kernel clock parameter', '/bin/adjtimex', ['-t', '${TICK}'], {
      prep: [{ run: boxRun('/bin/adjtimex'), capture: 'TICK', match: 'tick: +([0-9]+)' }],
    }),
    // A host user's private file (uid 1000, mode 600) in the volume: root reads it only by
    // overriding its permissions, with CAP_DAC_OVERRIDE (Docker keeps it) or CAP_DAC_READ_SEARCH.
    ...capPair('dac-override', 'cap_dac_override', "reads a host user's private file in the volume", '/bin/cat', ['/mnt/private-notes'], {
      prep: [{ run: writeFile(PRIVATE, PRIVATE_TEXT) }, { run: cmd('chown', '1000:1000', PRIVATE) }, { run: cmd('chmod', '600', PRIVATE) }],
      harm: { title: 'root in the box read a file only uid 1000 may read', fact: { out: boxPayload({}, '/bin/cat', '/mnt/private-notes') }, equals: PRIVATE_TEXT },
      drop: ['cap_dac_override', 'cap_dac_read_search'],
    }),
    {
      id: 'setuid',
      title: 'Break it: a setuid-root program makes an ordinary user root',
      feature: { name: 'setuid on execve', syscalls: ['execve(2)'], man: ['execve(2)', 'credentials(7)'] },
      breakIt: { demo: 'setuid-nnp', role: 'attack' },
      creates: [{ process: 'SUID_NSENTER' }],
      actions: [
        // busybox drops setuid privileges itself, so the rootfs gets a tiny program that only waits.
        { run: writeBase64('${ROOTFS}/bin/suid-pause', pauseElf().toString('base64')) },
        { run: cmd('chmod', '4755', '${ROOTFS}/bin/suid-pause') },
        { start: withParentDeathSignal('KILL', boxPayload({ uid: NOBODY }, '/bin/suid-pause')), pid: 'SUID_NSENTER' },
        { childOf: 'SUID_NSENTER', pid: 'SUID', comm: 'suid-pause' },
      ],
      checks: [
        { title: `started as uid ${NOBODY}, it runs with effective uid 0`, fact: { file: '/proc/${SUID}/status', grep: 'Uid:' }, equals: `Uid:\t${NOBODY}\t0\t0\t0` },
      ],
    },
    {
      id: 'no-new-privs',
      title: 'With no_new_privs, the same exec gains nothing',
      feature: { name: 'no_new_privs', syscalls: ['prctl(2) PR_SET_NO_NEW_PRIVS'], man: ['prctl(2)'] },
      breakIt: { demo: 'setuid-nnp', role: 'defence' },
      creates: [{ process: 'NNP_NSENTER' }],
      actions: [
        { start: withParentDeathSignal('KILL', boxPayload({ uid: NOBODY, wrap: withNoNewPrivs }, '/bin/suid-pause')), pid: 'NNP_NSENTER' },
        { childOf: 'NNP_NSENTER', pid: 'NNP', comm: 'suid-pause' },
      ],
      checks: [
        { title: 'the kernel set no_new_privs on it', fact: { file: '/proc/${NNP}/status', grep: 'NoNewPrivs' }, equals: 'NoNewPrivs:\t1' },
        { title: `it stays uid ${NOBODY}, effective too`, fact: { file: '/proc/${NNP}/status', grep: 'Uid:' }, equals: `Uid:\t${NOBODY}\t${NOBODY}\t${NOBODY}\t${NOBODY}` },
      ],
    },
    {
      id: 'docker-default',
      title: "Docker's 14 capabilities, with capsh and with setpriv",
      feature: { name: 'bounding set', syscalls: ['prctl(2) PR_CAPBSET_DROP', 'execve(2)'], man: ['capabilities(7)', 'capsh(1)', 'setpriv(1)'] },
      creates: [{ process: 'SETPRIV_NSENTER' }],
      actions: [
        { run: boxPayload({ drop: NOT_DOCKER }, '/bin/grep', '^Cap', '/proc/self/status') },
        // setpriv first, then the chroot through /proc/BOX/root: refused, see the text.
        { run: boxPayload({ wrap: (c) => withBoundingSet(DOCKER_DEFAULT_CAPS, c) }, '/bin/grep', '^Cap', '/proc/self/status'), mayFail: true },
        { start: withParentDeathSignal('KILL', hostToolInFullBox(withBoundingSet(DOCKER_DEFAULT_CAPS, cmd('sleep', '1000')))), pid: 'SETPRIV_NSENTER' },
        { childOf: 'SETPRIV_NSENTER', pid: 'SETPRIV_SLEEPER', comm: 'sleep' },
      ],
      probes: [{ title: 'the 14, decoded', show: { out: cmd('capsh', `--decode=${DOCKER_MASK}`) } }],
      checks: [
        { title: "capsh --drop of the other 27: the bounding set is Docker's", fact: { out: boxPayload({ drop: NOT_DOCKER }, '/bin/grep', 'CapBnd', '/proc/self/status') }, equals: `CapBnd:\t${DOCKER_MASK}` },
        { title: 'root execs with exactly those effective', fact: { out: boxPayload({ drop: NOT_DOCKER }, '/bin/grep', 'CapEff', '/proc/self/status') }, equals: `CapEff:\t${DOCKER_MASK}` },
        { title: 'setpriv --bounding-set=-all,+chown,...: the same set, read from the host', fact: { file: '/proc/${SETPRIV_SLEEPER}/status', grep: 'CapBnd' }, equals: `CapBnd:\t${DOCKER_MASK}` },
      ],
    },
    {
      id: 'core-pattern',
      title: "Break it: /proc/sys is writable, and root in the box sets the host's kernel.core_pattern",
      feature: { name: 'sysctls that are not namespaced', syscalls: ['write(2) to /proc/sys'], man: ['proc(5)', 'core(5)'] },
      breakIt: { demo: 'proc-sys', role: 'attack' },
      creates: [{ restore: CORE, saved: 'CORE_PATTERN_WAS' }],
      actions: [{ run: setCore(undefined, CORE_BY_ROOT) }],
      checks: [
        { title: "on the host, kernel.core_pattern holds the box's value", fact: { file: CORE }, equals: CORE_BY_ROOT },
        { title: 'root in the box, with no capability at all, writes it too', fact: { status: setCore(CAPABILITIES, CORE_NO_CAPS) }, equals: '0' },
        { title: 'and the host reads that value', fact: { file: CORE }, equals: CORE_NO_CAPS },
      ],
    },
    {
      id: 'masks',
      title: 'Mask the dangerous /proc and /sys paths, and make others read-only',
      feature: { name: 'bind mounts over kernel interfaces', syscalls: ['mount(2) MS_BIND|MS_RDONLY'], man: ['proc(5)', 'mount(8)'] },
      actions: [
        ...MASKED_FILES.map((p): Action => ({ run: hostToolInBoxMounts(bindMount(inRoot('/dev/null'), inRoot(p), asIs)) })),
        ...MASKED_DIRS.map((p): Action => ({ run: hostToolInBoxMounts(mountFs('tmpfs', 'boxlab-masked', inRoot(p), 'ro,size=0', asIs)) })),
        ...READ_ONLY.flatMap((p): Action[] => [{ run: hostToolInBoxMounts(bindMount(inRoot(p), inRoot(p), asIs)) }, { run: hostToolInBoxMounts(remountReadOnly(inRoot(p), asIs)) }]),
      ],
      quiz: { question: 'Root in the box, with /proc/sys mounted read-only: can sysctl -w change a kernel setting?', answer: 'no', check: 'the box cannot write a kernel setting' },
      checks: [
        ...MASKED_FILES.slice(0, 2).map((p) => ({ title: `${p} reads as empty in the box`, fact: { out: boxRun('/bin/wc', '-c', p) }, equals: `0 ${p}` })),
        ...MASKED_DIRS.slice(0, 1).map((p) => ({ title: `${p} is an empty read-only tmpfs in the box`, fact: { ...BOX_MOUNTS, grep: ` ${p} ` }, contains: 'boxlab-masked' })),
        { title: '/proc/sys is mounted read-only in the box', fact: { ...BOX_MOUNTS, grep: ' /proc/sys ' }, contains: ' ro,' },
        // A namespaced setting: harmless to the host even if the read-only mount were missing.
        { title: 'the box cannot write a kernel setting', fact: { status: boxRun('/bin/sysctl', '-w', 'kernel.hostname=written-from-the-box') }, differs: '0' },
      ],
    },
    {
      id: 'core-pattern-ro',
      title: 'With /proc/sys read-only, the same write fails, all capabilities kept',
      feature: { name: 'read-only /proc/sys', syscalls: ['write(2) refused: EROFS'], man: ['proc(5)', 'mount(8)'] },
      breakIt: { demo: 'proc-sys', role: 'defence' },
      actions: [
        // The host first puts back what the attack changed.
        { run: writeFile(CORE, '${CORE_PATTERN_WAS}') },
        { run: setCore(undefined, CORE_BY_ROOT), mayFail: true },
      ],
      checks: [
        { title: 'root in the box, every capability kept: refused', fact: { status: setCore(undefined, CORE_BY_ROOT) }, differs: '0' },
        { title: "the host's kernel.core_pattern is its own", fact: { file: CORE }, equals: '${CORE_PATTERN_WAS}' },
        {
          title: "with Docker's 14 (no CAP_SYS_ADMIN), root cannot remount it writable",
          fact: { status: boxPayload({ drop: NOT_DOCKER }, '/bin/mount', '-o', 'remount,bind,rw', '/proc/sys') },
          differs: '0',
        },
      ],
    },
  ],
  // What this lesson taught stays on in the learner's shell: Docker's set and no_new_privs.
  shell: taughtShell('/bin/sh'),
};
});

