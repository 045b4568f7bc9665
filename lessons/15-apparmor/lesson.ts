import { join } from 'node:path';
import { defineLesson, type Requirement } from '../../src/model/lesson.js';
import { BOX, boxPayload, hostToolInFullBox } from '../../src/box/box.js';
import { cmd, type Cmd, shProgram } from '../../src/shell/cmd.js';
import { withAppArmorProfile, withParentDeathSignal } from '../../src/shell/setpriv.js';
import { writeFile } from '../../src/shell/coreutils.js';
import { packageRoot } from '../../src/paths.js';
import { PROFILES } from '../../src/kernel/apparmor.js';
import { BOXLAB_DEFAULT, loadProfile, profileText, unloadProfile } from '../../src/container/apparmor.js';
import * as diagrams from './diagrams.js';

export const PROFILE = 'boxlab-lesson15';
const SOURCE = join(packageRoot(import.meta.url), 'lessons', '15-apparmor', `${PROFILE}.profile`);
export const PROFILE_FILE = `\${WORK}/${PROFILE}`;
const DEFAULT_FILE = '${WORK}/boxlab-default';
const DEFAULT_TEXT = profileText(BOXLAB_DEFAULT);

/** Every step needs AppArmor running in this kernel, and its parser. */
export const NEEDS_APPARMOR: Requirement[] = [
  { path: '/sys/kernel/security/apparmor', reason: 'this kernel runs no AppArmor (or securityfs is not mounted): the Debian 13 VM does, try npm run vm -- node bin/boxlab.js lesson 15' },
  { command: cmd('apparmor_parser', '--version'), reason: 'apparmor_parser is not installed (apt-get install apparmor)' },
];

/** The box's payload launch (lesson 7's, every capability kept), confined by PROFILE first. */
export const confined = (profile: string, program: string, ...args: string[]): Cmd => boxPayload({ wrap: (c) => withAppArmorProfile(profile, c) }, program, ...args);

// The attacks of root in the box, with CAP_SYS_ADMIN. Each mount names its source after the
// run (and the mode), so the kernel's log line found is this run's own.
const mountAttack = (wrap: (p: string, ...a: string[]) => Cmd, tag: string): Cmd => wrap('/bin/mount', '-t', 'tmpfs', `boxlab-lsm-${tag}-\${RUN_ID}`, '/mnt');
const unconfined = (program: string, ...args: string[]): Cmd => boxPayload({}, program, ...args);
const inLesson = (program: string, ...args: string[]): Cmd => confined(PROFILE, program, ...args);
/**
 * Under boxlab-default, as boxlab run enters a box: into the box's root through /proc/BOX/root
 * while still unconfined (env --chdir), then the profile at the last exec, chroot into '.'.
 * (capsh --chroot=/proc/BOX/root under it would be refused: reading another process's root is
 * ptrace access, which boxlab-default allows only between its own processes.)
 */
export const underDefault = (program: string, ...args: string[]): Cmd =>
  hostToolInFullBox(cmd('env', `--chdir=/proc/${BOX}/root`, 'setpriv', '--no-new-privs', `--apparmor-profile=${BOXLAB_DEFAULT}`, 'chroot', '.', program, ...args));
const inDefault = underDefault;
/** /proc/sysrq-trigger is read-only in the box (lesson 7): made writable, then 'h' (help, harmless). */
const SYSRQ = 'mount -o remount,bind,rw /proc/sysrq-trigger 2>/dev/null; echo h > /proc/sysrq-trigger';
/** The firmware tables the box's mask hides (lesson 7): the mask lifted, then a file read. */
const FIRMWARE = 'umount /sys/firmware 2>/dev/null; for f in /sys/firmware/dmi/tables/smbios_entry_point /sys/firmware/memmap/0/type; do [ -f "$f" ] && exec cat "$f" > /dev/null; done; exit 1';

/** How many times the kernel's log holds sysrq's help: the box's write adds one. */
const SYSRQ_HELPS = shProgram('sh', '-c', 'dmesg | grep -c "sysrq: HELP" || true', 'sysrq-helps');

/** The kernel's last log line holding TEXT (AppArmor's audit lines go there without auditd). */
const kernelLog = (text: string): Cmd => shProgram('sh', '-c', 'dmesg | grep -F -- "$1" | tail -n 1', 'sh', text);
const loaded = (name: string, mode: string) => ({ title: `the kernel lists ${name} in ${mode} mode`, fact: { file: PROFILES, grep: `${name} (` }, equals: `${name} (${mode})` });
const feature = { name: 'AppArmor (a Linux Security Module)', syscalls: ['write(2) to /proc/self/attr/apparmor/exec', 'execve(2)'], man: ['apparmor(7)', 'apparmor.d(5)', 'setpriv(1)'] };

export default defineLesson({
  number: 15,
  slug: 'apparmor',
  title: 'AppArmor: a policy that binds even root with every capability',
  buildsOn: [7],
  steps: [
    {
      id: 'lsm',
      title: 'The Linux Security Modules this kernel runs',
      diagram: diagrams.hooks,
      feature: { name: 'the LSM stack', syscalls: ['(kernel hooks: security_sb_mount, security_file_open …)'], man: ['apparmor(7)', 'Documentation/admin-guide/LSM/index.rst'] },
      requires: NEEDS_APPARMOR,
      probes: [
        { title: 'the LSMs, in the order the kernel asks them', show: { file: '/sys/kernel/security/lsm' } },
        { title: 'the profiles already loaded', show: { out: shProgram('sh', '-c', 'wc -l < "$1"', 'sh', PROFILES) } },
      ],
      actions: [],
      checks: [
        { title: 'AppArmor is among them', fact: { file: '/sys/kernel/security/lsm' }, contains: 'apparmor' },
        { title: 'AppArmor is enabled', fact: { file: '/sys/module/apparmor/parameters/enabled' }, equals: 'Y' },
        { title: "the box's payload runs unconfined", fact: { out: unconfined('/bin/cat', '/proc/self/attr/current') }, equals: 'unconfined' },
      ],
    },
    {
      id: 'unconfined',
      title: 'Break it: root in the box, with CAP_SYS_ADMIN, mounts, and writes to the host kernel\'s SysRq trigger',
      feature: { name: 'CAP_SYS_ADMIN, unconfined', syscalls: ['mount(2)', 'write(2) to /proc/sysrq-trigger'], man: ['capabilities(7)', 'Documentation/admin-guide/sysrq.rst'] },
      breakIt: { demo: 'lsm-mount-sysrq', role: 'attack' },
      requires: NEEDS_APPARMOR,
      actions: [{ run: SYSRQ_HELPS, capture: 'HELPS_BEFORE' }, { run: mountAttack(unconfined, 'open') }, { run: unconfined('/bin/sh', '-c', SYSRQ) }],
      checks: [
        { title: 'mount(2) works in the box', fact: { status: mountAttack(unconfined, 'open') }, equals: '0' },
        { title: "the box's root made /proc/sysrq-trigger writable and wrote to it", fact: { status: unconfined('/bin/sh', '-c', SYSRQ) }, equals: '0' },
        { title: 'the host kernel acted on it: sysrq printed its help to the kernel log, again', fact: { out: SYSRQ_HELPS }, differs: '${HELPS_BEFORE}' },
      ],
    },
    {
      id: 'profile',
      title: "A profile of the lesson's own, loaded with apparmor_parser",
      feature: { name: 'AppArmor profiles', syscalls: ['write(2) to /sys/kernel/security/apparmor/.replace'], man: ['apparmor_parser(8)', 'apparmor.d(5)'] },
      requires: NEEDS_APPARMOR,
      creates: [{ undo: unloadProfile(PROFILE), what: `the AppArmor profile ${PROFILE}` }],
      actions: [{ run: cmd('cp', SOURCE, PROFILE_FILE) }, { run: cmd('apparmor_parser', '--replace', PROFILE_FILE) }],
      probes: [{ title: 'its rules', show: { out: cmd('grep', '-E', '^ +[a-z]', PROFILE_FILE) } }],
      checks: [loaded(PROFILE, 'enforce')],
    },
    {
      id: 'confined',
      title: 'The payload under the profile: setpriv --apparmor-profile, the mount and the SysRq write denied',
      diagram: diagrams.transition,
      feature,
      breakIt: { demo: 'lsm-mount-sysrq', role: 'defence' },
      requires: NEEDS_APPARMOR,
      creates: [{ process: 'CONFINED_NSENTER' }],
      actions: [
        { start: withParentDeathSignal('KILL', inLesson('/bin/sleep', '1000')), pid: 'CONFINED_NSENTER' },
        { childOf: 'CONFINED_NSENTER', pid: 'CONFINED', comm: 'sleep' },
        { run: mountAttack(inLesson, 'enforce'), mayFail: true },
        // Writable for certain (the break-it may have been skipped): a refused write below is then the profile's doing.
        { run: unconfined('/bin/mount', '-o', 'remount,bind,rw', '/proc/sysrq-trigger') },
      ],
      probes: [
        { title: 'what confines the payload', show: { file: '/proc/${CONFINED}/attr/current' } },
        { title: 'the same on a host process: aa-exec -p, the other way in', show: { out: cmd('aa-exec', '-p', PROFILE, '--', 'cat', '/proc/self/attr/current') } },
        { title: "the kernel's audit line", show: { out: kernelLog(`boxlab-lsm-enforce-\${RUN_ID}`) } },
      ],
      checks: [
        { title: `the kernel confines the payload: ${PROFILE} (enforce)`, fact: { file: '/proc/${CONFINED}/attr/current' }, equals: `${PROFILE} (enforce)` },
        { title: 'it still holds every capability the box has', fact: { file: '/proc/${CONFINED}/status', grep: 'CapEff' }, equals: { file: `/proc/${BOX}/status`, grep: 'CapEff' } },
        { title: 'mount(2) is denied', fact: { status: mountAttack(inLesson, 'enforce') }, differs: '0' },
        { title: 'the write to /proc/sysrq-trigger is denied, though the mount is writable now', fact: { status: inLesson('/bin/sh', '-c', 'echo h > /proc/sysrq-trigger') }, differs: '0' },
        { title: 'the kernel logged the denial: apparmor="DENIED" operation="mount"', fact: { out: kernelLog(`boxlab-lsm-enforce-\${RUN_ID}`) }, contains: 'apparmor="DENIED" operation="mount"' },
      ],
    },
    {
      id: 'complain',
      title: 'Complain mode: the same profile logs what it would deny, and denies nothing',
      feature: { name: 'AppArmor complain mode', syscalls: ['write(2) to /sys/kernel/security/apparmor/.replace'], man: ['apparmor_parser(8)', 'aa-complain(8)'] },
      requires: NEEDS_APPARMOR,
      actions: [{ run: cmd('apparmor_parser', '--replace', '--complain', PROFILE_FILE) }, { run: mountAttack(inLesson, 'complain') }],
      probes: [{ title: "the kernel's audit line", show: { out: kernelLog(`boxlab-lsm-complain-\${RUN_ID}`) } }],
      checks: [
        loaded(PROFILE, 'complain'),
        { title: 'the payload already under it follows the new mode', fact: { file: '/proc/${CONFINED}/attr/current' }, equals: `${PROFILE} (complain)` },
        { title: 'mount(2) works again', fact: { status: mountAttack(inLesson, 'complain') }, equals: '0' },
        { title: 'and is logged: apparmor="ALLOWED" operation="mount"', fact: { out: kernelLog(`boxlab-lsm-complain-\${RUN_ID}`) }, contains: 'apparmor="ALLOWED" operation="mount"' },
      ],
    },
    {
      id: 'runtime-default',
      title: "boxlab-default: the profile boxlab run gives every box, generated as Docker's docker-default is",
      feature: { name: "a runtime's default profile", syscalls: ['write(2) to /sys/kernel/security/apparmor/.replace'], man: ['apparmor.d(5)', 'docker run --security-opt apparmor=…'] },
      requires: [...NEEDS_APPARMOR, { path: '/sys/firmware', reason: 'this kernel has no /sys/firmware to hide' }],
      actions: [
        { run: writeFile(DEFAULT_FILE, DEFAULT_TEXT) },
        { run: loadProfile(DEFAULT_FILE, BOXLAB_DEFAULT, DEFAULT_TEXT) },
        { run: unconfined('/bin/mount', '-o', 'remount,bind,rw', '/proc/sysrq-trigger') },
      ],
      probes: [{ title: 'its rules, each group with its reason', show: { out: cmd('grep', '-E', '^ +[a-z#]', DEFAULT_FILE) } }],
      checks: [
        loaded(BOXLAB_DEFAULT, 'enforce'),
        { title: 'an ordinary program runs under it, in the box', fact: { out: inDefault('/bin/cat', '/proc/self/attr/current') }, equals: `${BOXLAB_DEFAULT} (enforce)` },
        { title: 'unconfined, root with CAP_SYS_ADMIN lifts the mask on /sys/firmware and reads a firmware table', fact: { status: unconfined('/bin/sh', '-c', FIRMWARE) }, equals: '0' },
        { title: 'under boxlab-default, the same read is denied', fact: { status: inDefault('/bin/sh', '-c', FIRMWARE) }, differs: '0' },
        { title: 'and so is the SysRq write', fact: { status: inDefault('/bin/sh', '-c', 'echo h > /proc/sysrq-trigger') }, differs: '0' },
        { title: 'and a mount', fact: { status: inDefault('/bin/mount', '-t', 'tmpfs', 'boxlab-lsm-default', '/mnt') }, differs: '0' },
      ],
    },
  ],
  // Every capability kept, boxlab-default: try a mount, then read /proc/self/attr/current.
  shell: underDefault('/bin/sh'),
});
