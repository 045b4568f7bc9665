import { defineLesson, type Step } from '../../src/model/lesson.js';
import { BOX, boxRun } from '../../src/box/box.js';
import { cmd, render, type Cmd, shProgram } from '../../src/shell/cmd.js';
import { mkdirP, writeFile } from '../../src/shell/coreutils.js';
import { addVethPair } from '../../src/shell/ip.js';
import { mountFs } from '../../src/shell/mount.js';
import { nsenter, nsenterCmd, type NsenterOpts } from '../../src/shell/nsenter.js';
import { asUser, withParentDeathSignal, withParentDeathSignalChecked } from '../../src/shell/setpriv.js';
import { unshare } from '../../src/shell/unshare.js';
import * as diagrams from './diagrams.js';

/** Inside the user-namespaced box: nsenter --user makes the caller uid 0 there. */
const inUbox = (...command: string[]) => nsenter({ target: '${UBOX}', ns: ['user', 'mount', 'pid'] }, ...command);
const ownerOf = (path: string) => ({ out: cmd('stat', '-c', '%u:%g', path) });
const exists = (path: string) => ({ status: cmd('test', '-e', path) });
/** Host uid 100000 and the 65535 after it: the range runtimes give a box (see /etc/subuid). */
const RANGE = '0 100000 65536';
/** As the kernel prints a uid_map line: three fields of width 10. */
const mapLine = (inside: number, outside: number, count: number) => [inside, outside, count].map((n) => String(n).padStart(10)).join(' ');
const feature = { name: 'user namespace', syscalls: ['unshare(2) CLONE_NEWUSER'], man: ['user_namespaces(7)'] };

/** The volume again, idmapped with the box's own map, in the box's mount namespace only. */
const IDMAPPED = '${WORK}/idmapped';
const idmappedMount = nsenter({ target: '${UBOX}', ns: ['mount'] }, 'mount', '--bind', '-o', 'X-mount.idmap=/proc/${UBOX}/ns/user', '${WORK}/volume', IDMAPPED);
/** util-linux's mount knows X-mount.idmap from 2.39 on (Debian 13 has 2.41, Debian 12 2.38). */
const MOUNT_HAS_IDMAP = {
  command: shProgram('sh', '-c', "mount --version | grep -Eq 'util-linux (2\\.(39|[4-9][0-9])|[3-9]\\.)'", 'mount-has-idmap'),
  reason: `util-linux's mount here is older than 2.39 and has no X-mount.idmap (Debian 13's 2.41 has it); it would run: ${render(idmappedMount)}`,
};

/** The unprivileged account the --rootless variant runs everything as. */
const NOBODY = 65534;
const rootless = (c: Cmd) => asUser(NOBODY, c);
const RBOX_NS: NsenterOpts = { target: '${RBOX}', ns: ['user', 'mount', 'pid'], preserveCredentials: true };
const inRbox = (...command: string[]) => rootless(nsenter(RBOX_NS, ...command));

const rootlessSteps: Step[] = [
  {
    id: 'rootless-userns',
    title: 'As an ordinary user: a user namespace, with yourself mapped to root',
    feature: { name: 'user namespace (owning a new mount and PID namespace)', man: feature.man, syscalls: ['unshare(2) CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID'] },
    creates: [{ process: 'RBOX_LAUNCHER' }],
    actions: [
      {
        // The uid changes first (that clears a parent-death signal), then the signal is set.
        start: rootless(withParentDeathSignalChecked('KILL', '${HOST_PID}', unshare({ ns: ['user', 'mount', 'pid'], fork: true, killChild: 'KILL', mapRootUser: true, propagation: 'private' }, 'sleep', 'infinity'))),
        pid: 'RBOX_LAUNCHER',
      },
      { childOf: 'RBOX_LAUNCHER', pid: 'RBOX' },
    ],
    probes: [{ title: 'inside, the user is root', show: { out: inRbox('grep', '-E', '^(Uid|CapEff)', '/proc/self/status') } }],
    checks: [
      { title: `the box runs as uid ${NOBODY} on the host`, fact: { file: '/proc/${RBOX}/status', grep: 'Uid:' }, equals: `Uid:\t${NOBODY}\t${NOBODY}\t${NOBODY}\t${NOBODY}` },
      { title: `one uid is mapped: 0 inside is ${NOBODY} outside`, fact: { file: '/proc/${RBOX}/uid_map' }, equals: mapLine(0, NOBODY, 1) },
      { title: 'the PID namespace works without privilege: the box init is PID 1', fact: { file: '/proc/${RBOX}/status', grep: 'NSpid' }, equals: 'NSpid:\t${RBOX}\t1' },
    ],
  },
  {
    id: 'rootless-mount',
    title: 'Mounts work in a mount namespace the user owns',
    feature: { name: 'mount namespace owned by a user namespace', syscalls: ['mount(2)'], man: ['mount_namespaces(7)', 'user_namespaces(7)'] },
    actions: [{ run: rootless(nsenterCmd(RBOX_NS, mountFs('tmpfs', 'boxlab-rootless', '/mnt'))) }],
    checks: [
      { title: "the tmpfs is in the box's mount table", fact: { file: '/proc/${RBOX}/mountinfo' }, contains: 'boxlab-rootless' },
      { title: "it is not in the host's", fact: { file: '/proc/self/mountinfo' }, lacks: 'boxlab-rootless' },
    ],
  },
  {
    id: 'rootless-range',
    title: 'What does not work alone: mapping a range of uids',
    feature: { name: 'uid_map written by an unprivileged process', syscalls: ['write(2) to /proc/PID/uid_map'], man: ['user_namespaces(7)', 'newuidmap(1)'] },
    creates: [{ process: 'RANGE_LAUNCHER' }],
    actions: [
      // Checked: a process of nobody's that outlived boxlab is one reset may not kill (root's only).
      { start: rootless(withParentDeathSignalChecked('KILL', '${HOST_PID}', unshare({ ns: ['user'], fork: true, killChild: 'KILL' }, 'sleep', 'infinity'))), pid: 'RANGE_LAUNCHER' },
      { childOf: 'RANGE_LAUNCHER', pid: 'RANGED' },
      { run: rootless(writeFile('/proc/${RANGED}/uid_map', RANGE)), mayFail: true },
    ],
    checks: [{ title: 'the kernel refused the range: the map is still empty', fact: { status: cmd('test', '-s', '/proc/${RANGED}/uid_map') }, equals: '1' }],
  },
  {
    id: 'rootless-cgroup',
    title: 'What does not work alone: cgroups without delegation',
    feature: { name: 'cgroup delegation', syscalls: ['mkdir(2) in cgroupfs', 'access(2)'], man: ['cgroups(7)'] },
    actions: [],
    checks: [{ title: `uid ${NOBODY} may not create cgroups under /sys/fs/cgroup`, fact: { status: rootless(cmd('test', '-w', '/sys/fs/cgroup')) }, equals: '1' }],
  },
  {
    id: 'rootless-veth',
    title: 'What does not work alone: a veth to the host',
    feature: { name: 'CAP_NET_ADMIN in the host network namespace', syscalls: ['netlink RTM_NEWLINK'], man: ['capabilities(7)', 'veth(4)'] },
    // Declared in case it ever succeeded, so it would be removed.
    creates: [{ link: 'boxlab-rl0' }],
    actions: [{ run: rootless(addVethPair('boxlab-rl0', 'boxlab-rl1')), mayFail: true }],
    checks: [{ title: 'no link was created on the host', fact: exists('/sys/class/net/boxlab-rl0'), equals: '1' }],
  },
];

export default defineLesson({
  number: 6,
  slug: 'user',
  title: 'User namespace: root inside, an unprivileged uid (100000) outside',
  buildsOn: [5],
  steps: [
    {
      id: 'root-is-root',
      title: 'Break it: without a user namespace, root in the box is root on the host',
      feature: { name: 'the initial user namespace (identity map)', syscalls: ['open(2) O_CREAT'], man: ['user_namespaces(7)', 'credentials(7)'] },
      breakIt: { demo: 'root-is-root', role: 'attack' },
      actions: [{ run: boxRun('/bin/touch', '/mnt/made-by-box-root') }],
      checks: [
        { title: "the box's uid map is the identity: 0 is 0", fact: { file: `/proc/${BOX}/uid_map` }, equals: mapLine(0, 0, 4294967295) },
        { title: 'the file it made in the volume belongs to root on the host', fact: ownerOf('${WORK}/volume/made-by-box-root'), equals: '0:0' },
      ],
    },
    {
      id: 'userns',
      title: 'A box in a new user namespace: nobody is mapped yet',
      feature: { name: 'user namespace (owning a new mount and PID namespace)', syscalls: ['unshare(2) CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID'], man: ['user_namespaces(7)'] },
      creates: [{ process: 'UBOX_LAUNCHER' }],
      actions: [
        { start: withParentDeathSignal('KILL', unshare({ ns: ['user', 'mount', 'pid'], fork: true, killChild: 'KILL', propagation: 'private' }, 'sleep', 'infinity')), pid: 'UBOX_LAUNCHER' },
        { childOf: 'UBOX_LAUNCHER', pid: 'UBOX' },
      ],
      checks: [
        { title: 'the box has its own user namespace', fact: { link: '/proc/${UBOX}/ns/user' }, differs: { link: '/proc/self/ns/user' } },
        { title: 'its uid_map is empty', fact: { status: cmd('test', '-s', '/proc/${UBOX}/uid_map') }, equals: '1' },
      ],
    },
    {
      id: 'maps',
      title: 'Write the uid and gid maps by hand',
      diagram: diagrams.uidMap,
      feature: { name: 'uid_map, gid_map and setgroups', syscalls: ['write(2) to /proc/PID/uid_map'], man: ['user_namespaces(7)'] },
      actions: [
        { run: writeFile('/proc/${UBOX}/setgroups', 'deny') },
        { run: writeFile('/proc/${UBOX}/uid_map', RANGE) },
        { run: writeFile('/proc/${UBOX}/gid_map', RANGE) },
      ],
      checks: [
        { title: 'uid 0 inside is uid 100000 outside, for 65536 uids', fact: { file: '/proc/${UBOX}/uid_map' }, equals: mapLine(0, 100000, 65536) },
        { title: 'the same for gids', fact: { file: '/proc/${UBOX}/gid_map' }, equals: mapLine(0, 100000, 65536) },
        { title: 'setgroups(2) is denied in the box', fact: { file: '/proc/${UBOX}/setgroups' }, equals: 'deny' },
      ],
    },
    {
      id: 'two-views',
      title: 'uid 0 inside, uid 100000 outside',
      feature,
      creates: [{ process: 'UWORKER_NSENTER' }],
      actions: [
        { start: withParentDeathSignal('KILL', inUbox('sleep', '1000')), pid: 'UWORKER_NSENTER' },
        { childOf: 'UWORKER_NSENTER', pid: 'UWORKER', comm: 'sleep' },
      ],
      probes: [{ title: 'a process in the box, seen from inside', show: { out: inUbox('grep', '-E', '^(Uid|Gid|CapEff)', '/proc/self/status') } }],
      quiz: { question: 'The host sees this worker as uid 100000. Inside its user namespace, is it root (uid 0)?', answer: 'yes', check: 'inside, the same kind of process is uid 0' },
      checks: [
        { title: 'from the host, the worker is uid 100000', fact: { file: '/proc/${UWORKER}/status', grep: 'Uid:' }, equals: 'Uid:\t100000\t100000\t100000\t100000' },
        { title: 'inside, the same kind of process is uid 0', fact: { out: inUbox('grep', '^Uid:', '/proc/self/status') }, equals: 'Uid:\t0\t0\t0\t0' },
        { title: 'with every capability, valid in its own namespaces only', fact: { file: '/proc/${UWORKER}/status', grep: 'CapEff' }, lacks: '0000000000000000' },
      ],
    },
    {
      id: 'volume',
      title: "Root in the box writes as uid 100000, and cannot write the host's root files",
      feature,
      breakIt: { demo: 'root-is-root', role: 'defence' },
      actions: [
        { run: mkdirP('${WORK}/uvolume') },
        { run: cmd('chown', '100000:100000', '${WORK}/uvolume') },
        { run: inUbox('touch', '${WORK}/uvolume/made-by-userns-root') },
        { run: inUbox('touch', '${WORK}/volume/made-by-userns-root'), mayFail: true },
      ],
      checks: [
        { title: 'its file belongs to 100000:100000 on the host', fact: ownerOf('${WORK}/uvolume/made-by-userns-root'), equals: '100000:100000' },
        { title: "it could not create a file in the root-owned volume", fact: exists('${WORK}/volume/made-by-userns-root'), equals: '1' },
      ],
    },
    {
      id: 'idmapped',
      title: "An idmapped mount: the box's root writes the root-owned volume, and nothing is chowned",
      feature: { name: 'idmapped mount', syscalls: ['open_tree(2) OPEN_TREE_CLONE', 'mount_setattr(2) MOUNT_ATTR_IDMAP', 'move_mount(2)'], man: ['mount_setattr(2)', 'mount(8) (X-mount.idmap)'] },
      requires: [MOUNT_HAS_IDMAP],
      actions: [
        { run: mkdirP(IDMAPPED) },
        { run: idmappedMount },
        { run: inUbox('touch', `${IDMAPPED}/made-through-idmap`) },
      ],
      probes: [{ title: 'the volume through the idmapped mount, seen from inside the box', show: { out: inUbox('ls', '-ln', IDMAPPED) } }],
      checks: [
        { title: "the box's mount table marks the mount idmapped", fact: { file: '/proc/${UBOX}/mountinfo', grep: ` ${IDMAPPED} ` }, contains: 'idmapped' },
        { title: "inside, the host's root-owned file reads as the box root's own (0:0)", fact: { out: inUbox('stat', '-c', '%u:%g', `${IDMAPPED}/hello.txt`) }, equals: '0:0' },
        { title: 'through the plain path, the same file reads as nobody (65534:65534)', fact: { out: inUbox('stat', '-c', '%u:%g', '${WORK}/volume/hello.txt') }, equals: '65534:65534' },
        { title: "the file the box's root made through it belongs to root on disk, the volume's owner", fact: ownerOf('${WORK}/volume/made-through-idmap'), equals: '0:0' },
        { title: 'the host directory itself was not chowned', fact: ownerOf('${WORK}/volume'), equals: '0:0' },
      ],
    },
  ],
  shell: inUbox('sh'),
  variants: {
    rootless: { title: 'User namespace, rootless: what an ordinary user can build', steps: rootlessSteps, shell: inRbox('sh') },
  },
});
