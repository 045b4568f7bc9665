// Both cgroup drivers, run for real (mkdir, tee, sh) against a fake cgroup tree in a
// temporary directory: no root, and the same commands the lesson runs on the real tree.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cgroupDriver, v1Driver, v2Driver, type CgroupDriver } from '../../src/box/cgroup-driver.js';
import { inCgroups } from '../../src/shell/cgroup-files.js';
import { cmd } from '../../src/shell/cmd.js';
import { RealRunner } from '../../src/shell/spawn.js';
import { parseMountinfo } from '../../src/kernel/mountinfo.js';
import { cgroupLayout } from '../../src/kernel/cgroup-layout.js';
import type { Action } from '../../src/model/lesson.js';
import { tempDir } from './helpers.js';

let root: string;
const runner = new RealRunner();
const read = (p: string): string => readFileSync(p, 'utf8').trim();

async function apply(actions: Action[]): Promise<void> {
  for (const a of actions) if ('run' in a) expect((await runner.run(a.run)).code).toBe(0);
}
async function all(d: CgroupDriver): Promise<void> {
  await apply(d.create('boxlab-t', ['memory', 'pids', 'cpu']).actions);
  await apply(d.create('boxlab-t/leaf', ['memory', 'pids', 'cpu']).actions);
  for (const c of [...d.memoryLimit('boxlab-t/leaf', 33554432), ...d.pidsLimit('boxlab-t/leaf', 16), ...d.cpuQuota('boxlab-t/leaf', 20000, 100000)]) {
    expect((await runner.run(c)).code).toBe(0);
  }
}

beforeEach(() => {
  root = tempDir();
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('cgroup v1 driver', () => {
  it('makes the group in every controller hierarchy and writes v1 file names', async () => {
    for (const c of ['memory', 'pids', 'cpu']) mkdirSync(`${root}/${c}`);
    const d = v1Driver({ memory: `${root}/memory`, pids: `${root}/pids`, cpu: `${root}/cpu` });
    await all(d);
    expect(read(`${root}/memory/boxlab-t/leaf/memory.limit_in_bytes`)).toBe('33554432');
    expect(read(`${root}/pids/boxlab-t/leaf/pids.max`)).toBe('16');
    expect(read(`${root}/cpu/boxlab-t/leaf/cpu.cfs_quota_us`)).toBe('20000');
    expect(read(`${root}/cpu/boxlab-t/leaf/cpu.cfs_period_us`)).toBe('100000');
    expect(d.create('boxlab-t/leaf', ['memory', 'pids']).creates).toEqual([{ cgroup: `${root}/memory/boxlab-t/leaf` }, { cgroup: `${root}/pids/boxlab-t/leaf` }]);
    expect(d.procs('boxlab-t/leaf', ['memory', 'cpu'])).toEqual([`${root}/memory/boxlab-t/leaf/cgroup.procs`, `${root}/cpu/boxlab-t/leaf/cgroup.procs`]);
    expect(d.oomFile('boxlab-t/leaf')).toBe(`${root}/memory/boxlab-t/leaf/memory.oom_control`);
  });
});

describe('cgroup v2 driver', () => {
  it('hands controllers down through cgroup.subtree_control and writes v2 file names', async () => {
    const d = v2Driver(root);
    await all(d);
    expect(read(`${root}/cgroup.subtree_control`)).toBe('+memory +pids +cpu');
    expect(read(`${root}/boxlab-t/cgroup.subtree_control`)).toBe('+memory +pids +cpu');
    expect(read(`${root}/boxlab-t/leaf/memory.max`)).toBe('33554432');
    expect(read(`${root}/boxlab-t/leaf/memory.swap.max`)).toBe('0');
    expect(read(`${root}/boxlab-t/leaf/pids.max`)).toBe('16');
    expect(read(`${root}/boxlab-t/leaf/cpu.max`)).toBe('20000 100000');
    expect((await runner.run(d.killAll('boxlab-t/leaf', 'pids'))).code).toBe(0);
    expect(read(`${root}/boxlab-t/leaf/cgroup.kill`)).toBe('1');
    expect(d.oomFile('boxlab-t/leaf')).toBe(`${root}/boxlab-t/leaf/memory.events`);
  });
});

describe('joining and choosing', () => {
  it('a command started through inCgroups first writes its own PID into each cgroup.procs', async () => {
    mkdirSync(`${root}/a`);
    mkdirSync(`${root}/b`);
    const r = await runner.run(inCgroups([`${root}/a/cgroup.procs`, `${root}/b/cgroup.procs`], cmd('sh', '-c', 'echo $$')));
    expect(r.code).toBe(0);
    // exec keeps the PID: the command is the process that joined.
    expect(read(`${root}/a/cgroup.procs`)).toBe(r.stdout.trim());
    expect(read(`${root}/b/cgroup.procs`)).toBe(r.stdout.trim());
  });

  it('uses v1 on a hybrid host, v2 where the unified tree has the controllers, and says why when neither', () => {
    const hybrid = parseMountinfo(
      ['29 28 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu', '32 28 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory', '36 28 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids', '38 28 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw'].join('\n'),
    );
    expect((cgroupDriver(cgroupLayout(hybrid, () => '')) as CgroupDriver).kind).toBe('v1');
    const v2 = parseMountinfo('30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
    expect((cgroupDriver(cgroupLayout(v2, () => 'cpuset cpu io memory pids')) as CgroupDriver).kind).toBe('v2');
    expect(cgroupDriver(cgroupLayout(v2, () => 'cpuset io'))).toMatch(/no cgroup hierarchy offers memory, pids, cpu/);
  });
});
