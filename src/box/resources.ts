// How each kind of host resource is undone: one definition serves a run's own cleanup,
// `boxlab reset` and the --script output.
import { existsSync } from 'node:fs';
import type { Cmd } from '../shell/cmd.js';
import { killPid, removeTree } from '../shell/coreutils.js';
import { umount } from '../shell/mount.js';
import type { Resource } from '../engine/lesson.js';
import { isSameLiveProcess } from '../kernel/proc.js';
import { mountsOf } from '../kernel/mountinfo.js';
import type { HostResource } from './state.js';

/** Every work directory is /tmp/boxlab-RUNID, so a prefix scan finds leftovers of any run. */
export const WORK_PREFIX = '/tmp/boxlab-';

/** Undo commands; values may be ${NAME} placeholders (lesson data) or filled (reset). */
export function teardown(r: Resource): Cmd[] {
  if ('dir' in r) return [removeTree(r.dir)];
  if ('mount' in r) return [umount(r.mount, { lazy: true })];
  return [killPid('KILL', `\${${r.process}}`)];
}

export function hostTeardown(r: HostResource): Cmd[] {
  if ('process' in r) return [killPid('KILL', String(r.process))];
  return teardown(r);
}

export function describe(r: HostResource | Resource): string {
  if ('dir' in r) return `directory ${r.dir}`;
  if ('mount' in r) return `mount ${r.mount}`;
  return `process ${r.process}`;
}

export function isPresent(r: HostResource): boolean {
  if ('dir' in r) return existsSync(r.dir);
  if ('mount' in r) return mountsOf('self').some((m) => m.mountPoint === r.mount);
  return isSameLiveProcess(r.process, r.startTime);
}
