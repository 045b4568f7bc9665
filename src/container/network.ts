// boxlab run --network bridge: a veth from the box to one shared bridge, as Docker's docker0
// (lesson 5 builds the same by hand). The box reaches the host and the other boxes on the
// bridge. No NAT and no forwarding: boxlab changes no host routing or firewall setting.
import type { Action, Resource } from '../model/lesson.js';
import { cmd, shProgram, type Cmd } from '../shell/cmd.js';
import { addAddress, addDefaultRoute, addVethPair, linkUp, setMaster } from '../shell/ip.js';
import { stateDir } from '../box/state.js';

/** RFC 2544's benchmarking range: never the host's own network, nor lesson 5's ranges. */
export const SUBNET = '198.18.0';
export const BRIDGE = 'boxlab0';
export const GATEWAY = `${SUBNET}.1`;
/** One file per address in use, holding the PID of the run that holds it (noclobber makes
 *  taking one atomic). `boxlab reset` removes those of dead runs. */
export const leasesDir = (): string => `${stateDir()}/leases`;
/** The host end of the box's veth: boxlab + the run id (15 characters at most, as IFNAMSIZ). */
const HOST_END = 'boxlab${RUN_ID}';

// The bridge is shared: made by the first run that needs it, if the range is free on this host.
const ENSURE_BRIDGE = [
  'br=$1 gw=$2',
  '[ ! -e "/sys/class/net/$br" ] || exit 0',
  'other=$(ip -4 route show "${gw%.*}.0/24")',
  'if [ -n "$other" ]; then echo "boxlab: ${gw%.*}.0/24 is already routed on this host ($other): --network bridge will not take it" >&2; exit 1; fi',
  // Two runs may race to make it: the loser finds it made.
  'ip link add "$br" type bridge 2>/dev/null || exit 0',
  // No router advertisement from a box may set the host's routes (CVE-2020-13401's class):
  // boxes keep CAP_NET_RAW, so they can send one.
  '[ ! -e "/proc/sys/net/ipv6/conf/$br/accept_ra" ] || echo 0 > "/proc/sys/net/ipv6/conf/$br/accept_ra"',
  'ip addr add "$gw/24" dev "$br"',
  'ip link set "$br" up',
].join('\n');

// The first free address from .2 up; the file is this run's lease.
const LEASE = ['mkdir -p "$1"', 'set -C', 'for n in $(seq 2 254); do', '  if { echo "$2" > "$1/$3.$n.lease"; } 2>/dev/null; then echo "$3.$n"; exit 0; fi', 'done', 'echo "boxlab: no free address in $3.0/24" >&2', 'exit 1'].join('\n');

export function bridgeStep(): { creates: Resource[]; actions: Action[]; inBox: Cmd[] } {
  return {
    // Undone in reverse: the veth first (deleting it now, not when the namespace goes, frees
    // the bridge port at once), then the bridge if it was the last, then the lease.
    creates: [{ dir: `${leasesDir()}/\${BOX_IP}.lease` }, { link: BRIDGE, ifUnused: true }, { link: HOST_END }],
    actions: [
      { run: shProgram('sh', '-euc', ENSURE_BRIDGE, 'sh', BRIDGE, GATEWAY) },
      { run: shProgram('sh', '-euc', LEASE, 'sh', leasesDir(), '${HOST_PID}', SUBNET), capture: 'BOX_IP' },
      // The pair is made with its far end already in the box, named eth0 there.
      { run: addVethPair(HOST_END, 'eth0', '${BOX}') },
      { run: setMaster(HOST_END, BRIDGE, true) },
      { run: cmd('sh', '-c', '[ ! -e "$1" ] || echo 0 > "$1"', 'sh', `/proc/sys/net/ipv6/conf/${HOST_END}/accept_ra`) },
    ],
    // Inside the box's network namespace, with the hostname and lo.
    inBox: [addAddress('${BOX_IP}/24', 'eth0'), linkUp('eth0'), addDefaultRoute(GATEWAY)],
  };
}
