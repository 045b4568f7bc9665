import { describe, expect, it } from 'vitest';
import { CORE_PATTERN, escapeFiles, isBoxlabValue } from '../../src/kernel/escapes.js';
import { parseMountinfo } from '../../src/kernel/mountinfo.js';

// A hybrid host: v1 controllers, a named systemd hierarchy, and an empty v2 tree beside them.
const MOUNTINFO = [
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '33 30 0:30 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer',
  '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '41 30 0:30 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer',
].join('\n');

describe('the host files a weak box can change', () => {
  it('are core_pattern and the release_agent of every v1 hierarchy, once each, where they exist', () => {
    const files = escapeFiles(parseMountinfo(MOUNTINFO), () => true);
    expect(files).toEqual([CORE_PATTERN, '/sys/fs/cgroup/cpu,cpuacct/release_agent', '/sys/fs/cgroup/freezer/release_agent', '/sys/fs/cgroup/systemd/release_agent']);
    // cgroup v2 has no release_agent; a file the kernel lacks is left out.
    expect(escapeFiles(parseMountinfo(MOUNTINFO), (p) => !p.includes('freezer'))).not.toContain('/sys/fs/cgroup/freezer/release_agent');
    expect(escapeFiles(parseMountinfo(MOUNTINFO.split('\n')[4]!), () => true)).toEqual([CORE_PATTERN]);
  });

  it("tell a value one of boxlab's break-its wrote from the host's own", () => {
    expect(isBoxlabValue('core-boxlab-f63f5d31')).toBe(true);
    expect(isBoxlabValue('/var/lib/boxlab/work/f63f5d31/rootfs/escape.sh')).toBe(true);
    expect(isBoxlabValue('|/lib/systemd/systemd-coredump %P %u %g %s %t %c %h')).toBe(false);
    expect(isBoxlabValue('')).toBe(false);
  });
});
