import type { Cmd } from './cmd.js';

export interface CapshOpts {
  /** chroot(2) here before running the program (capsh --chroot). */
  chroot?: string;
  /** Capabilities to drop from the bounding set, e.g. ['cap_sys_admin']. */
  drop?: string[];
  /** Become this uid and gid (after the chroot) before the exec. */
  uid?: number;
}

/** capsh(1): adjust capabilities, then exec PROGRAM with ARGS (--shell=PROGRAM -- ARGS). */
export function capsh(o: CapshOpts, program: string, ...args: string[]): Cmd {
  const opts: string[] = [];
  if (o.chroot) opts.push(`--chroot=${o.chroot}`);
  if (o.drop?.length) opts.push(`--drop=${o.drop.join(',')}`);
  if (o.uid !== undefined) opts.push(`--gid=${o.uid}`, `--uid=${o.uid}`);
  return { file: 'capsh', args: [...opts, `--shell=${program}`, '--', ...args] };
}

/** setpriv(1) keeping only these capabilities in the bounding set, then exec INNER. */
export function withBoundingSet(keep: string[], inner: Cmd): Cmd {
  const set = ['-all', ...keep.map((c) => `+${c.replace(/^cap_/, '')}`)].join(',');
  return { ...inner, file: 'setpriv', args: [`--bounding-set=${set}`, inner.file, ...inner.args], inner };
}
