// How each kind of host resource is undone: one definition serves a run's own cleanup,
// `boxlab reset` and the --script output.
import { existsSync, readFileSync } from 'node:fs';
import type { Cmd } from '../shell/cmd.js';
import { killPid, removeTree, writeFile } from '../shell/coreutils.js';
import { umount } from '../shell/mount.js';
import { deleteLink, removeBridgeIfUnused } from '../shell/ip.js';
import { removeShm } from '../shell/ipc.js';
import { removeCgroup } from '../shell/cgroup-files.js';
import type { Resource } from '../model/lesson.js';
import { isSameLiveProcess } from '../kernel/proc.js';
import { mountsOf } from '../kernel/mountinfo.js';
import type { HostResource } from './state.js';

/** Every work directory is WORK_PARENT/RUNID: a directory only root may write to, so no other
 *  user can prepare a run's directory (or plant links in it) before the run makes it. */
export const WORK_PARENT = '/var/lib/boxlab/work';
export const WORK_PREFIX = `${WORK_PARENT}/`;
/** Every host network link a lesson makes is called boxlab-something. */
export const LINK_PREFIX = 'boxlab';

/** The variable a resource's identity lives in, known only once its step has run. */
export const resourceVar = (r: Resource): string | undefined => ('process' in r ? r.process : 'shm' in r ? r.shm : undefined);

/** Undo commands; values may be ${NAME} placeholders (lesson data) or filled (reset). */
export function teardown(r: Resource): Cmd[] {
  if ('dir' in r) return [removeTree(r.dir)];
  if ('mount' in r) return [umount(r.mount, { lazy: true })];
  if ('link' in r) return [r.ifUnused ? removeBridgeIfUnused(r.link) : deleteLink(r.link)];
  if ('cgroup' in r) return [removeCgroup(r.cgroup)];
  if ('shm' in r) return [removeShm(`\${${r.shm}}`)];
  if ('restore' in r) return [writeFile(r.restore, `\${${r.saved}}`)];
  if ('undo' in r) return [r.undo];
  return [killPid('KILL', `\${${r.process}}`)];
}

export function hostTeardown(r: HostResource): Cmd[] {
  if ('process' in r) return [killPid('KILL', String(r.process))];
  if ('shm' in r) return [removeShm(String(r.shm))];
  if ('restore' in r) return [writeFile(r.restore, r.content)];
  if ('undo' in r) return [r.undo];
  return teardown(r);
}

export function describe(r: HostResource | Resource): string {
  if ('dir' in r) return `directory ${r.dir}`;
  if ('mount' in r) return `mount ${r.mount}`;
  if ('link' in r) return `network link ${r.link}`;
  if ('cgroup' in r) return `cgroup ${r.cgroup}`;
  if ('shm' in r) return `shared memory segment ${r.shm}`;
  if ('restore' in r) return `the text of ${r.restore}`;
  if ('undo' in r) return r.what;
  return `process ${r.process}`;
}

/** What undoing a resource does, in words, for a screen too narrow for its program. */
export function undoing(r: Resource): string {
  if ('cgroup' in r) return `cgroup ${r.cgroup}: emptied and removed`;
  if ('dir' in r) return `directory ${r.dir} removed`;
  if ('mount' in r) return `${r.mount} unmounted`;
  if ('link' in r) return `network link ${r.link} deleted${r.ifUnused ? ' once no port is left' : ''}`;
  if ('shm' in r) return `shared memory segment \${${r.shm}} removed`;
  if ('restore' in r) return `${r.restore} written back as it was`;
  if ('undo' in r) return `${r.what}: undone`;
  return `process \${${r.process}} killed`;
}

/** The ids in /proc/sysvipc/shm (the reader's IPC namespace). */
export const shmIds = (): number[] =>
  readText('/proc/sysvipc/shm')
    .split('\n')
    .slice(1)
    .map((l) => Number(l.trim().split(/\s+/)[1]))
    .filter((n) => Number.isInteger(n));

export function isPresent(r: HostResource): boolean {
  if ('dir' in r) return existsSync(r.dir);
  if ('mount' in r) return mountsOf('self').some((m) => m.mountPoint === r.mount);
  if ('link' in r) return existsSync(`/sys/class/net/${r.link}`);
  if ('cgroup' in r) return existsSync(r.cgroup);
  if ('shm' in r) return shmIds().includes(r.shm);
  // Present while it differs from what was kept: undone by writing it back.
  if ('restore' in r) return readText(r.restore).replace(/\n$/, '') !== r.content;
  // Its command knows: run once, it must succeed when nothing is left.
  if ('undo' in r) return true;
  return isSameLiveProcess(r.process, r.startTime);
}

/** A file's text, or '' when it cannot be read (gone meanwhile). */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
