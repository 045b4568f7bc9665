import type { Cmd } from './cmd.js';
import type { Namespace } from './unshare.js';

export interface NsenterOpts {
  /** PID whose namespaces to enter (nsenter --target). */
  target?: string;
  ns?: Namespace[];
  /** Enter one namespace by its file instead, e.g. { mount: '/proc/PID/ns/mnt' }. */
  nsFiles?: Partial<Record<Namespace, string>>;
  /** true: the target's root; a path: that directory, opened before entering. */
  root?: true | string;
  wd?: true | string;
  /** Keep uid and gids when entering a user namespace: an unprivileged caller cannot
   *  setgroups(2) there once setgroups is denied, and its own uid is the one mapped. */
  preserveCredentials?: boolean;
}

/** nsenter(1): run a command inside the namespaces of another process. */
export function nsenter(o: NsenterOpts, ...command: string[]): Cmd {
  const args: string[] = [];
  if (o.target) args.push('--target', o.target);
  for (const n of o.ns ?? []) args.push(`--${n}`);
  for (const [n, file] of Object.entries(o.nsFiles ?? {})) args.push(`--${n}=${file}`);
  if (o.root !== undefined) args.push(o.root === true ? '--root' : `--root=${o.root}`);
  if (o.wd !== undefined) args.push(o.wd === true ? '--wd' : `--wd=${o.wd}`);
  if (o.preserveCredentials) args.push('--preserve-credentials');
  return { file: 'nsenter', args: [...args, ...command] };
}

/** nsenter with a command built by another builder. */
export const nsenterCmd = (o: NsenterOpts, c: Cmd): Cmd => nsenter(o, c.file, ...c.args);
