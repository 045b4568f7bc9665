// Host files that a box with too much privilege can change and that the kernel then acts on
// as root for the whole host: kernel.core_pattern (a `|program` runs at any crash) and the
// release_agent of every cgroup v1 hierarchy (runs when a group empties). A learner's shell
// in a weak box, or an exercise's, can reach them: a run keeps their text to write it back.
import { existsSync } from 'node:fs';
import { mountsOf, type MountEntry } from './mountinfo.js';

export const CORE_PATTERN = '/proc/sys/kernel/core_pattern';

/** The escape files this host has: core_pattern, and release_agent where v1 is mounted. */
export function escapeFiles(mounts: MountEntry[] = mountsOf('self'), exists: (p: string) => boolean = existsSync): string[] {
  const agents = mounts.filter((m) => m.fsType === 'cgroup').map((m) => `${m.mountPoint}/release_agent`);
  return [...new Set([CORE_PATTERN, ...agents])].filter((p) => exists(p));
}

/** A value one of boxlab's own break-its wrote (it names boxlab): the run that wrote it puts
 *  the host's back, so another run must not keep it as the host's own. */
export const isBoxlabValue = (text: string): boolean => text.includes('boxlab');
