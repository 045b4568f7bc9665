// --shell in every lesson: a shell, or a word on why not; and on entering, what the box has
// of its own and what it shares, derived from the shell's command and the namespace links.
import { describe, expect, it } from 'vitest';
import { loadAll } from '../../lessons/index.js';
import { summariseBox } from '../../src/engine/boxsummary.js';
import { fillCmd, fillKnown } from '../../src/shell/cmd.js';
import { workspaceVars } from '../../src/engine/workspace.js';

const vars = workspaceVars('abcd1234', { BOX: '4242', BUSYBOX: '/bin/busybox', ROOTFS_CACHE: '/c', CACHE_DIR: '/c' });
/** The host's namespaces are [1]; every other process's are its own. */
const link = (path: string): string => (path.startsWith('/proc/self/') ? `${path.split('/').pop()}:[1]` : `${path.split('/').pop()}:[2]`);

describe('--shell', () => {
  it('every lesson and variant offers a shell or says why not', async () => {
    for (const l of await loadAll()) expect(l.shell !== undefined || (l.noShell ?? '') !== '', `lesson ${l.number}: ${l.title}`).toBe(true);
  });

  it.each([
    [1, ['its own root directory'], ["the host's mount, UTS, IPC, network, PID, cgroup, user, time namespaces", 'root here is root on the host', 'every capability root has', 'no cgroup limits']],
    [4, ['mount, UTS, IPC, network, PID, cgroup namespaces', 'its own root directory'], ["the host's user, time namespaces", 'root here is root on the host']],
    [6, ['mount, PID, user namespaces'], ["the host's UTS, IPC, network, cgroup, time namespaces"]],
    [7, ['27 capabilities dropped', 'no_new_privs'], ['root here is root on the host', 'no seccomp filter']],
    [8, ['27 capabilities dropped', 'no_new_privs'], ['root here is root on the host']],
    [11, ['27 capabilities dropped', 'no_new_privs'], ['root here is root on the host']],
    [9, ['the limits of cgroup boxlab-', '27 capabilities dropped', 'no_new_privs'], ['root here is root on the host', 'no seccomp filter']],
    [12, ['a bounding set of 13 capabilities', 'no_new_privs', 'the limits of cgroup boxlab-abcd1234'], ["the host's user, time namespaces"]],
  ] as const)('lesson %i: what its box has and shares', async (n, has, shares) => {
    const lesson = (await loadAll()).find((l) => l.number === n && !/rootless|registry/.test(l.title))!;
    const s = summariseBox(fillCmd(lesson.shell!, vars, fillKnown), link);
    for (const h of has) expect(s.isolates).toContain(h);
    for (const x of shares) expect(s.shares).toContain(x);
  });
});
