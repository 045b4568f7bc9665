// A minimal /dev, made once per host and copied into each box (the run's mounts step).
import { createHash } from 'node:crypto';
import { CACHE_ROOT } from '../paths.js';
import type { Action } from '../model/lesson.js';
import { cmd } from '../shell/cmd.js';
import { mkdirP } from '../shell/coreutils.js';
import { DEVICES } from './spec.js';

const DEV_LINKS: [string, string][] = [['ptmx', 'pts/ptmx'], ['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2']];

/** Named for its content: a change to the nodes or links makes a new one. */
export const DEV_TEMPLATE = `${CACHE_ROOT}/dev-${createHash('sha256').update(JSON.stringify([DEVICES, DEV_LINKS])).digest('hex').slice(0, 12)}`;

export function devTemplate(): Action {
  const tmp = '${WORK}/dev-template';
  return {
    ensureDir: DEV_TEMPLATE,
    tmp,
    build: [
      cmd('mkdir', '-p', '--mode=0700', CACHE_ROOT),
      mkdirP(tmp),
      // The same nodes as the host's: cp -a makes each with mknod(2). The links are made, not
      // copied: a host without udev (a bare VM, a container) has none to copy.
      cmd('cp', '-a', ...DEVICES.map((name) => `/dev/${name}`), `${tmp}/`),
      ...DEV_LINKS.map(([name, target]) => cmd('ln', '-s', target, `${tmp}/${name}`)),
    ],
  };
}
