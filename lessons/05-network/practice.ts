import { definePractice } from '../../src/engine/exercise.js';
import { BOX, boxRun } from '../../src/box/box.js';
import { cmd, type Cmd } from '../../src/shell/cmd.js';
import { nsenter } from '../../src/shell/nsenter.js';
import { withParentDeathSignal } from '../../src/shell/setpriv.js';
import { unshare } from '../../src/shell/unshare.js';

/** The box's own view of its devices (lesson 5's netns step mounts a sysfs in the box). */
const boxSys = (path: string) => ({ out: boxRun('/bin/cat', `/sys/class/net/${path}`) });
const netFeature = { name: 'network namespace', syscalls: ['unshare(2) CLONE_NEWNET', 'setns(2)'], man: ['network_namespaces(7)'] };

/** A port the lesson does not use (it listens on 47001); 47002 is B79A in /proc/net/tcp*. */
const PORT = '47002';
/** The TCP listeners on that port in the socket tables of PID's network namespace, IPv4 and
 *  IPv6 (busybox nc listens on [::]); a line saying there is none otherwise. */
const listenersIn = (pid: string): Cmd =>
  cmd('awk', '$2 ~ /:B79A$/ && $4 == "0A" { print "listening: " FILENAME " " $2; n++ } END { if (!n) print "no listener on port 47002 (:B79A)" }', `/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`);

// RFC 5737 documentation addresses, as the lesson uses them, but only between the box and a
// namespace the exercise makes: the host never holds one (the last check proves it).
const BOX_END = '198.51.100.20';
const PEER_END = '198.51.100.21';
/** The IPv4 addresses in a PID's network namespace (of one device), as `ip -o -4 addr show` prints them. */
const addrsIn = (pid: string, dev?: string): Cmd => nsenter({ target: pid, ns: ['net'] }, 'ip', '-o', '-4', 'addr', 'show', ...(dev ? ['dev', dev] : []));

export default definePractice({
  lesson: 5,
  exercises: [
    {
      id: 'lo-up',
      title: "the box's own loopback",
      goal: "The box's network namespace has one device, lo, and it is down. Bring it up, so that the box pings itself on 127.0.0.1.",
      from: 'netns',
      checks: [
        { title: "the box's lo is up (flags 0x9: IFF_UP|IFF_LOOPBACK)", fact: boxSys('lo/flags'), equals: '0x9' },
        { title: 'the box reaches itself on 127.0.0.1', fact: { status: boxRun('/bin/ping', '-c', '1', '-W', '2', '127.0.0.1') }, equals: '0' },
      ],
      hints: [
        "Every network namespace starts with a loopback device of its own, down. Your shell is in the host's network namespace, whose lo is up and is not the box's: bring the box's lo up from a process in the box's network namespace.",
        'nsenter(1) --target "$BOX" --net runs a host program (the host\'s ip) in the box\'s network namespace only. ip-link(8): `ip link set DEV up` sets IFF_UP.',
        'nsenter --target "$BOX" --net ip link set ____ up',
      ],
      solution: 'nsenter --target "$BOX" --net ip link set lo up',
    },
    {
      id: 'own-port',
      title: 'a port of its own',
      goal: `Start a TCP listener on port ${PORT} in the box's network namespace, in the background: the box's socket table must show it, and the host's must not.`,
      from: 'netns',
      checks: [
        { title: `the box's socket table has a listener on port ${PORT} (hex B79A, state 0A)`, fact: { out: listenersIn(BOX) }, contains: 'listening: ' },
        { title: "the host's socket table has none", fact: { out: listenersIn('self') }, contains: 'no listener' },
      ],
      hints: [
        "Ports belong to a network namespace: a socket bound by a process in the box's namespace goes into the box's table (/proc/$BOX/net/tcp6), not the host's (/proc/net/tcp6), even for the same port number.",
        'nsenter(1) --target "$BOX" with the option for the network namespace only. The host has no nc of its own; its busybox has one: "$BUSYBOX" nc -l -p PORT (busybox(1)). End the line with & to keep your shell.',
        `nsenter --target "$BOX" ____ "$BUSYBOX" nc -l -p ${PORT} &`,
      ],
      solution: `nsenter --target "$BOX" --net "$BUSYBOX" nc -l -p ${PORT} &\nsleep 0.5`,
    },
    {
      id: 'veth-peer',
      title: 'a cable between two namespaces',
      goal: `$PEER sits alone in a network namespace of its own. Join it to the box with a veth pair: the box's end eth0 with ${BOX_END}/24, the other end in $PEER's namespace with ${PEER_END}/24, both up, so that the box pings ${PEER_END}. Nothing of it on the host.`,
      from: 'lo-up',
      setup: [
        {
          id: 'peer',
          title: 'a second network namespace around a placeholder ($PEER)',
          feature: netFeature,
          creates: [{ process: 'PEER_LAUNCHER' }],
          actions: [
            { start: withParentDeathSignal('KILL', unshare({ ns: ['net'], fork: true, killChild: 'KILL' }, 'sleep', 'infinity')), pid: 'PEER_LAUNCHER' },
            { childOf: 'PEER_LAUNCHER', pid: 'PEER' },
          ],
          checks: [{ title: "$PEER has a network namespace of its own, not the box's", fact: { link: '/proc/${PEER}/ns/net' }, differs: { link: `/proc/${BOX}/ns/net` } }],
        },
      ],
      checks: [
        { title: `the box's eth0 holds ${BOX_END}/24`, fact: { out: addrsIn(BOX, 'eth0') }, contains: `inet ${BOX_END}/24` },
        { title: `$PEER's namespace holds ${PEER_END}/24 on an interface`, fact: { out: addrsIn('${PEER}') }, contains: `inet ${PEER_END}/24` },
        { title: "the box's eth0 has carrier: its peer is up", fact: boxSys('eth0/carrier'), equals: '1' },
        { title: `the box reaches $PEER: ping ${PEER_END} from the box`, fact: { status: boxRun('/bin/ping', '-c', '1', '-W', '2', PEER_END) }, equals: '0' },
        { title: 'the host holds no address in 198.51.100.0/24 (no route to it)', fact: { file: '/proc/net/route' }, lacks: '\t006433C6\t' },
      ],
      hints: [
        'A veth pair is a virtual cable: two devices made together, where what goes in one comes out of the other. Put one end in each network namespace, give each an address in the same /24, and bring both up.',
        'ip-link(8): `ip link add NAME type veth peer name NAME2 netns PID` makes the pair with its far end already in PID\'s namespace; run it in the box\'s namespace (nsenter(1) --target "$BOX" --net) and the host never holds either end. Then ip-address(8) `ip addr add` and `ip link set ... up` in each namespace.',
        `nsenter --target "$BOX" --net ip link add eth0 type veth peer name eth0 netns ____   # then in each namespace: ip addr add ADDR/24 dev eth0; ip link set eth0 up`,
      ],
      solution: [
        'nsenter --target "$BOX" --net ip link add eth0 type veth peer name eth0 netns "$PEER"',
        `nsenter --target "$BOX" --net ip addr add ${BOX_END}/24 dev eth0`,
        'nsenter --target "$BOX" --net ip link set eth0 up',
        `nsenter --target "$PEER" --net ip addr add ${PEER_END}/24 dev eth0`,
        'nsenter --target "$PEER" --net ip link set eth0 up',
      ].join('\n'),
    },
  ],
});
