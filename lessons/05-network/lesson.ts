import { defineLesson, type Action } from '../../src/model/lesson.js';
import { BOX, boxRun, boxRunWithout, hostToolInBox, hostToolInBoxMounts } from '../../src/box/box.js';
import { cmd, type Cmd } from '../../src/shell/cmd.js';
import { addAddress, addBridge, addVethPair, linkUp, moveLinkToPid, renameLink, setMaster } from '../../src/shell/ip.js';
import { mountFs } from '../../src/shell/mount.js';
import { killPid } from '../../src/shell/coreutils.js';
import { nsenter } from '../../src/shell/nsenter.js';
import { withParentDeathSignal } from '../../src/shell/setpriv.js';
import { unshare } from '../../src/shell/unshare.js';
import * as diagrams from './diagrams.js';

/** A process in every namespace of the box but its network namespace. */
const noNetNs = (file: string, ...args: string[]) => boxRunWithout('net', file, ...args);
/** The host's ip, acting in the box's network namespace. */
const inBoxNet = (c: Cmd) => hostToolInBox(['net'], c);
const inBox2Net = (c: Cmd) => nsenter({ target: '${BOX2}', ns: ['net'] }, c.file, ...c.args);

// Documentation ranges (RFC 5737), used only between interfaces this lesson creates. Not
// 192.0.2.0/24: some hosts (this project's own VMs) use it for their real network. The first
// step proves the host has no route into either range before anything is assigned.
const HOST_IP = '198.51.100.1';
const BOX_IP = '198.51.100.2';
const BRIDGE_IP = '203.0.113.1';
const BOX_ON_BRIDGE = '203.0.113.2';
const BOX2_ON_BRIDGE = '203.0.113.3';
/** The two /24 networks as /proc/net/route writes them: hex, little-endian. */
const ROUTE_HEX = { '198.51.100.0': '006433C6', '203.0.113.0': '007100CB' };
/** A port nothing else uses, as /proc/net/tcp6 writes it (hex); busybox nc listens on [::]. */
const PORT = '47001';
const LISTENING = '00000000000000000000000000000000:B799 00000000000000000000000000000000:0000 0A';
const HOST_TCP = { file: '/proc/self/net/tcp6' };
const BOX_NET_DEV = { file: `/proc/${BOX}/net/dev` };
const boxSys = (path: string) => ({ out: boxRun('/bin/cat', `/sys/class/net/${path}`) });
/** The host has no ping of its own (iputils is not installed): its static busybox has one. */
const busyboxPing = (ip: string): Cmd => cmd('${BUSYBOX}', 'ping', '-c', '1', '-W', '2', ip);
const netFeature = { name: 'network namespace', syscalls: ['unshare(2) CLONE_NEWNET', 'setns(2)'], man: ['network_namespaces(7)'] };
const vethFeature = { name: 'veth pair', syscalls: ['netlink RTM_NEWLINK'], man: ['veth(4)', 'ip-link(8)'] };

function listener(pid: string, run: (...c: string[]) => Cmd): Action[] {
  return [{ start: withParentDeathSignal('KILL', run('/bin/nc', '-l', '-p', PORT)), pid }];
}

export default defineLesson({
  number: 5,
  slug: 'network',
  title: 'Network namespace: veth, addresses, a bridge',
  buildsOn: [4],
  steps: [
    {
      id: 'subnets',
      title: 'First, make sure the test subnets are free on this host',
      feature: { name: 'the routing table', syscalls: ['netlink RTM_GETROUTE'], man: ['route(8)', 'proc(5)'] },
      actions: [],
      probes: [{ title: "the host's routes", show: { file: '/proc/net/route' } }],
      checks: Object.entries(ROUTE_HEX).map(([net, hex]) => ({ title: `the host has no route into ${net}/24`, fact: { file: '/proc/net/route' }, lacks: `\t${hex}\t` })),
    },
    {
      id: 'shared-stack',
      title: "Break it: without a network namespace the box listens on the host's network",
      feature: { name: "the host's network stack, shared", syscalls: ['bind(2)', 'listen(2)'], man: ['network_namespaces(7)'] },
      breakIt: { demo: 'shared-network', role: 'attack' },
      creates: [{ process: 'HOST_LISTENER' }],
      actions: [...listener('HOST_LISTENER', noNetNs), { childOf: 'HOST_LISTENER', pid: 'HOST_NC', comm: 'nc' }, { await: HOST_TCP, contains: LISTENING }],
      checks: [{ title: `a port the box opened (${PORT}) is listening on the host`, fact: { ...HOST_TCP, grep: ':B799 ' }, contains: LISTENING }],
    },
    {
      id: 'netns',
      title: 'A new network namespace: only lo, and it is down',
      feature: netFeature,
      actions: [
        // sysfs shows the network devices of the namespace that mounts it.
        { run: hostToolInBoxMounts(mountFs('sysfs', 'sysfs', `/proc/${BOX}/root/sys`, 'ro', { noCanonicalize: true }), ['net']) },
      ],
      probes: [{ title: "the box's network devices (its /proc/net/dev)", show: BOX_NET_DEV }],
      quiz: { question: 'A brand-new network namespace has a loopback device. Is it up?', answer: 'no', check: 'lo is down (IFF_UP not set in its flags)' },
      checks: [
        { title: 'the box has its own network namespace', fact: { link: `/proc/${BOX}/ns/net` }, differs: { link: '/proc/self/ns/net' } },
        { title: 'its only device is lo', fact: { out: boxRun('/bin/ls', '/sys/class/net') }, equals: 'lo' },
        { title: 'lo is down (IFF_UP not set in its flags)', fact: boxSys('lo/flags'), equals: '0x8' },
      ],
    },
    {
      id: 'own-ports',
      title: 'In its own network namespace, the box listens on its own ports',
      feature: netFeature,
      breakIt: { demo: 'shared-network', role: 'defence' },
      creates: [{ process: 'BOX_LISTENER' }],
      actions: [
        // Stop the attack's listener, then listen on the same port in the box's namespace.
        { run: killPid('TERM', '${HOST_NC}') },
        { awaitExit: 'HOST_NC' },
        ...listener('BOX_LISTENER', boxRun),
        { await: { file: `/proc/${BOX}/net/tcp6` }, contains: LISTENING },
      ],
      checks: [
        { title: "the listener is in the box's socket table", fact: { file: `/proc/${BOX}/net/tcp6` }, contains: LISTENING },
        { title: "... and not in the host's", fact: HOST_TCP, lacks: LISTENING },
      ],
    },
    {
      id: 'lo-up',
      title: 'Bring lo up',
      feature: { name: 'loopback device', syscalls: ['netlink RTM_NEWLINK (IFF_UP)'], man: ['ip-link(8)'] },
      actions: [{ run: inBoxNet(linkUp('lo')) }],
      checks: [
        { title: 'lo is up (IFF_UP|IFF_LOOPBACK)', fact: boxSys('lo/flags'), equals: '0x9' },
        { title: 'the box can reach itself on 127.0.0.1', fact: { status: boxRun('/bin/ping', '-c', '1', '-W', '2', '127.0.0.1') }, equals: '0' },
      ],
    },
    {
      id: 'veth',
      title: 'A veth pair: one end on the host, the other in the box',
      diagram: diagrams.veth,
      feature: vethFeature,
      creates: [{ link: 'boxlab-h0' }],
      actions: [
        { run: addVethPair('boxlab-h0', 'boxlab-c0') },
        { run: moveLinkToPid('boxlab-c0', BOX) },
        { run: inBoxNet(renameLink('boxlab-c0', 'eth0')) },
        { run: addAddress(`${HOST_IP}/24`, 'boxlab-h0') },
        { run: linkUp('boxlab-h0') },
        { run: inBoxNet(addAddress(`${BOX_IP}/24`, 'eth0')) },
        { run: inBoxNet(linkUp('eth0')) },
      ],
      probes: [{ title: "the box's devices now", show: BOX_NET_DEV }],
      checks: [
        { title: "the box's end is its eth0", fact: BOX_NET_DEV, contains: 'eth0:' },
        { title: 'the host end is not in the box', fact: BOX_NET_DEV, lacks: 'boxlab-h0' },
        { title: "the box's eth0 has carrier: its peer on the host is up", fact: boxSys('eth0/carrier'), equals: '1' },
        { title: 'the host end has carrier too', fact: { file: '/sys/class/net/boxlab-h0/carrier' }, equals: '1' },
        { title: `the box's kernel routes holds its address ${BOX_IP}`, fact: { file: `/proc/${BOX}/net/fib_trie` }, contains: BOX_IP },
      ],
    },
    {
      id: 'ping',
      title: 'Ping across the pair, both ways',
      feature: { name: 'ICMP echo over the veth pair', syscalls: ['socket(2) SOCK_RAW', 'sendto(2)'], man: ['icmp(7)', 'ping(8)'] },
      actions: [{ run: boxRun('/bin/ping', '-c', '1', '-W', '2', HOST_IP) }, { run: busyboxPing(BOX_IP) }],
      probes: [{ title: "the box's packet counters", show: { ...BOX_NET_DEV, grep: 'eth0:' } }],
      checks: [
        { title: 'box to host: the echo reply came back', fact: { status: boxRun('/bin/ping', '-c', '1', '-W', '2', HOST_IP) }, equals: '0' },
        { title: 'host to box: the echo reply came back', fact: { status: busyboxPing(BOX_IP) }, equals: '0' },
      ],
    },
    {
      id: 'bridge',
      title: 'Two boxes on a bridge',
      diagram: diagrams.bridge,
      feature: { name: 'Linux bridge', syscalls: ['netlink RTM_NEWLINK (IFLA_MASTER)'], man: ['bridge(8)', 'ip-link(8)'] },
      creates: [{ link: 'boxlab-br0' }, { process: 'BOX2_LAUNCHER' }, { link: 'boxlab-h1' }, { link: 'boxlab-h2' }],
      actions: [
        { run: addBridge('boxlab-br0') },
        { run: addAddress(`${BRIDGE_IP}/24`, 'boxlab-br0') },
        { run: linkUp('boxlab-br0') },
        // A second box: just a network namespace around a placeholder.
        { start: withParentDeathSignal('KILL', unshare({ ns: ['net'], fork: true, killChild: 'KILL' }, 'sleep', 'infinity')), pid: 'BOX2_LAUNCHER' },
        { childOf: 'BOX2_LAUNCHER', pid: 'BOX2' },
        ...plug('boxlab-h1', BOX, inBoxNet, 'eth1', BOX_ON_BRIDGE),
        ...plug('boxlab-h2', '${BOX2}', inBox2Net, 'eth0', BOX2_ON_BRIDGE),
      ],
      probes: [{ title: 'box 1 pings box 2 through the bridge', show: { out: boxRun('/bin/ping', '-c', '1', '-W', '2', BOX2_ON_BRIDGE) } }],
      checks: [
        { title: 'box 1 is plugged into the bridge', fact: { link: '/sys/class/net/boxlab-h1/master' }, contains: 'boxlab-br0' },
        { title: 'box 2 is plugged into the bridge', fact: { link: '/sys/class/net/boxlab-h2/master' }, contains: 'boxlab-br0' },
        { title: 'box 2 is another network namespace', fact: { link: '/proc/${BOX2}/ns/net' }, differs: { link: `/proc/${BOX}/ns/net` } },
        { title: 'box 1 reaches box 2', fact: { status: boxRun('/bin/ping', '-c', '1', '-W', '2', BOX2_ON_BRIDGE) }, equals: '0' },
        { title: 'box 2 reaches box 1', fact: { status: inBox2Net(busyboxPing(BOX_ON_BRIDGE)) }, equals: '0' },
      ],
    },
  ],
  shell: boxRun('/bin/sh'),
});

/** A veth from the bridge into a box: host end HOST on the bridge, box end DEV with ADDR. */
function plug(host: string, pid: string, inNet: (c: Cmd) => Cmd, dev: string, addr: string): Action[] {
  const peer = `${host}p`;
  return [
    { run: addVethPair(host, peer) },
    { run: moveLinkToPid(peer, pid) },
    { run: inNet(renameLink(peer, dev)) },
    { run: inNet(addAddress(`${addr}/24`, dev)) },
    { run: inNet(linkUp(dev)) },
    { run: setMaster(host, 'boxlab-br0') },
    { run: linkUp(host) },
  ];
}
