import type { Cmd } from './cmd.js';

export const NAMESPACES = ['mount', 'uts', 'ipc', 'net', 'pid', 'user', 'cgroup', 'time'] as const;
export type Namespace = (typeof NAMESPACES)[number];

export interface UnshareOpts {
  ns: Namespace[];
  fork?: boolean;
  /** Signal the forked child gets when unshare dies (unshare sets PR_SET_PDEATHSIG on it). */
  killChild?: string;
  propagation?: 'private' | 'shared' | 'slave' | 'unchanged';
  mapRootUser?: boolean;
  /** Clock offsets in seconds for a new time namespace (needs --time and --fork). */
  boottime?: number;
  monotonic?: number;
}

/** unshare(1): new namespaces for the given command. */
export function unshare(o: UnshareOpts, ...command: string[]): Cmd {
  const args: string[] = o.ns.map((n) => `--${n}`);
  if (o.fork || o.killChild) args.push('--fork');
  if (o.killChild) args.push(`--kill-child=${o.killChild}`);
  if (o.propagation) args.push('--propagation', o.propagation);
  if (o.mapRootUser) args.push('--map-root-user');
  if (o.boottime !== undefined) args.push('--boottime', String(o.boottime));
  if (o.monotonic !== undefined) args.push('--monotonic', String(o.monotonic));
  return { file: 'unshare', args: [...args, ...command] };
}
