import { shProgram, type Cmd } from './cmd.js';

/** ip(8) link/address commands; `netns` runs them in the network namespace of a PID. */
const ip = (args: string[], netnsPid?: string): Cmd => ({ file: 'ip', args: netnsPid ? ['-n', netnsPid, ...args] : args });

/** With `peerPid`, the peer is made straight in that process's network namespace. */
export const addVethPair = (host: string, peer: string, peerPid?: string): Cmd => ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', peer, ...(peerPid ? ['netns', peerPid] : [])]);
export const addBridge = (name: string): Cmd => ip(['link', 'add', name, 'type', 'bridge']);
/** Move a link into the network namespace of a process (ip link set DEV netns PID). */
export const moveLinkToPid = (dev: string, pid: string): Cmd => ip(['link', 'set', dev, 'netns', pid]);
export const renameLink = (dev: string, name: string): Cmd => ip(['link', 'set', dev, 'name', name]);
/** With `up`, the link is brought up by the same command. */
export const setMaster = (dev: string, bridge: string, up = false): Cmd => ip(['link', 'set', dev, 'master', bridge, ...(up ? ['up'] : [])]);
export const linkUp = (dev: string): Cmd => ip(['link', 'set', dev, 'up']);
export const addAddress = (cidr: string, dev: string): Cmd => ip(['addr', 'add', cidr, 'dev', dev]);
export const deleteLink = (dev: string): Cmd => ip(['link', 'del', dev]);
export const addDefaultRoute = (gateway: string): Cmd => ip(['route', 'add', 'default', 'via', gateway]);
/** A shared bridge is deleted only once no port is left on it. */
export const removeBridgeIfUnused = (name: string): Cmd => shProgram('sh', '-c', 'set -- "$1" /sys/class/net/"$1"/brif/*; [ -e "$2" ] || ip link del "$1"', 'sh', name);
