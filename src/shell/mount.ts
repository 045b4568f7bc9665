import { render, type Cmd } from './cmd.js';

/**
 * Paths through /proc/PID/root from outside a mount namespace must be used as given:
 * mount(8) would otherwise canonicalize them to a host path (`/proc/PID/root/sys` -> `/sys`).
 */
export interface PathOpts {
  noCanonicalize?: boolean;
}

/** mount(8) a filesystem of a type: mount -t TYPE [-o OPTS] SOURCE TARGET. */
export function mountFs(type: string, source: string, target: string, options?: string, p: PathOpts = {}): Cmd {
  const args = p.noCanonicalize ? ['--no-canonicalize', '-t', type] : ['-t', type];
  if (options) args.push('-o', options);
  return { file: 'mount', args: [...args, source, target] };
}

/** A bind mount: the same directory seen at a second place. */
export function bindMount(source: string, target: string, o: { recursive?: boolean } & PathOpts = {}): Cmd {
  return { file: 'mount', args: [...(o.noCanonicalize ? ['--no-canonicalize'] : []), o.recursive ? '--rbind' : '--bind', source, target] };
}

/** Make a bind mount read-only (a bind mount takes no flags of its own at first). */
export function remountReadOnly(target: string, p: PathOpts = {}): Cmd {
  return { file: 'mount', args: [...(p.noCanonicalize ? ['--no-canonicalize'] : []), '-o', 'remount,bind,ro', target] };
}

export type Propagation = 'shared' | 'private' | 'slave' | 'unbindable';

/** Change a mount's propagation type (mount_namespaces(7)). */
export function makePropagation(kind: Propagation, target: string): Cmd {
  return { file: 'mount', args: [`--make-${kind}`, target] };
}

/** umount(8); lazy detaches now and frees the mount once nothing uses it. */
export function umount(target: string, o: { lazy?: boolean } & PathOpts = {}): Cmd {
  return { file: 'umount', args: [...(o.noCanonicalize ? ['--no-canonicalize'] : []), ...(o.lazy ? ['-l'] : []), target] };
}

export interface FstabEntry {
  source: string;
  target: string;
  type: string;
  options: string;
}

/** fstab(5) text: one line per mount; spaces in paths as \040, as the format wants. */
export function fstab(entries: FstabEntry[]): string {
  const esc = (s: string): string => s.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011').replace(/\n/g, '\\012');
  return entries.map((e) => `${esc(e.source)} ${esc(e.target)} ${e.type} ${e.options} 0 0`).join('\n');
}

/** mount(8) -a: every mount of an fstab file, in order, by one process (X-mount.mkdir makes mount points). */
export const mountAll = (file: string): Cmd => ({ file: 'mount', args: ['--all', '--fstab', file] });

/**
 * An overlay mount. libmount 2.39+ uses the new mount API, whose fsconfig(2) takes strings of
 * at most 256 bytes: an image's lowerdir list is longer (three layer paths are ~270 bytes).
 * LIBMOUNT_FORCE_MOUNT2=always keeps the classic mount(2), whose options may fill a page.
 * (Found in the Debian 13 VM; util-linux 2.38 ignores the variable.)
 */
export function mountOverlay(source: string, target: string, l: { lower: string; upper: string; work: string; options?: string }): Cmd {
  const m = mountFs('overlay', source, target, `${l.options ? `${l.options},` : ''}lowerdir=${l.lower},upperdir=${l.upper},workdir=${l.work}`);
  return { file: 'env', args: ['LIBMOUNT_FORCE_MOUNT2=always', m.file, ...m.args], inner: m, inline: `LIBMOUNT_FORCE_MOUNT2=always ${render(m)}` };
}
