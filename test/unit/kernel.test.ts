import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../../src/kernel/mountinfo.js';
import { cgroupLayout, describeLayout } from '../../src/kernel/cgroup-layout.js';
import { doctor, kernelAtLeast, lsmFinding } from '../../src/box/doctor.js';
import { RecordingRunner } from '../../src/shell/spawn.js';
import { parseProse } from '../../src/engine/prose.js';
import { isDynamicElf } from '../../rootfs-fetch/busybox.js';

const HYBRID = `22 1 0:21 / /proc rw,relatime - proc proc rw
28 27 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
29 28 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 28 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 28 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
37 28 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
38 28 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
40 1 0:40 / /tmp/with\\040space rw shared:3 - tmpfs boxlab-x rw`;

describe('mountinfo', () => {
  it('parses fields, optional tags and escapes', () => {
    const m = parseMountinfo(HYBRID);
    expect(m).toHaveLength(8);
    expect(m[7]).toMatchObject({ id: 40, parent: 1, root: '/', mountPoint: '/tmp/with space', optional: ['shared:3'], fsType: 'tmpfs', source: 'boxlab-x' });
  });
});

describe('cgroup layout', () => {
  it('tells hybrid (v1 controllers + an empty cgroup2) apart', () => {
    const l = cgroupLayout(parseMountinfo(HYBRID), () => '');
    expect(l.kind).toBe('hybrid');
    expect(l.v1.flatMap((h) => h.controllers).sort()).toEqual(['cpu', 'memory', 'pids']);
    expect(describeLayout(l)).toBe('hybrid: controllers on v1 (cpu, memory, pids); cgroup2 at /sys/fs/cgroup/unified with no controllers');
  });

  it('reads the controllers of a pure v2 host', () => {
    const v2 = parseMountinfo('30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate');
    const l = cgroupLayout(v2, () => 'cpuset cpu io memory pids\n');
    expect(l).toMatchObject({ kind: 'v2', v2: { mountPoint: '/sys/fs/cgroup', controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] } });
  });
});

describe('small facts', () => {
  it.each([
    ['6.18.44-fc', 5, 6, true],
    ['5.6.0', 5, 6, true],
    ['5.4.0-100', 5, 6, false],
    ['4.19.0', 5, 6, false],
  ])('kernel %s >= %i.%i is %s', (v, a, b, want) => {
    expect(kernelAtLeast(v, a, b)).toBe(want);
  });

  it('binds markdown sections to step ids', () => {
    const p = parseProse('# T\n\nintro\n\n## one\n\nfirst\n\n## Why\n\nend\n', ['one']);
    expect(p).toEqual({ intro: 'intro', steps: { one: 'first' }, outro: '## Why\n\nend' });
  });

  it('tells a dynamic ELF from a static one', () => {
    expect(isDynamicElf(process.execPath)).toBe(true);
  });
});

describe('the tiny pause program', () => {
  it('is a static ELF64 executable for each architecture', async () => {
    const { pauseElf } = await import('../../rootfs-fetch/pause-elf.js');
    for (const [arch, machine] of [['x64', 0x3e], ['arm64', 0xb7]] as const) {
      const b = pauseElf(arch);
      expect(b.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      expect(b.readUInt16LE(16)).toBe(2); // ET_EXEC
      expect(b.readUInt16LE(18)).toBe(machine);
      expect(b.readUInt32LE(64)).toBe(1); // one PT_LOAD, no PT_INTERP: nothing to load but itself
      expect(Number(b.readBigUInt64LE(24))).toBe(0x400000 + 120);
    }
    expect(() => pauseElf('mips')).toThrow(/no pause program/);
  });
});

describe('doctor: the tools an image pull unpacks layers with', () => {
  /** doctor's findings for tar and setfattr, with the tools answering as `answers` says (nothing runs). */
  async function findings(answers: Record<string, { code: number; stdout?: string }>) {
    const runner = new RecordingRunner((line) => answers[line]);
    const f = await doctor(runner);
    expect(runner.calls).toEqual(expect.arrayContaining(['tar --version', 'setfattr --version']));
    return f.filter((x) => x.name === 'tar' || x.name === 'setfattr');
  }

  it('GNU tar and setfattr found: ok, with their versions', async () => {
    expect(await findings({ 'tar --version': { code: 0, stdout: 'tar (GNU tar) 1.35\nCopyright...\n' }, 'setfattr --version': { code: 0, stdout: 'setfattr 2.5.2\n' } })).toEqual([
      { name: 'tar', level: 'ok', detail: 'tar (GNU tar) 1.35' },
      { name: 'setfattr', level: 'ok', detail: 'setfattr 2.5.2' },
    ]);
  });

  it('either missing: a failure, with the package that has it', async () => {
    expect(await findings({ 'tar --version': { code: 127 }, 'setfattr --version': { code: 127 } })).toEqual([
      { name: 'tar', level: 'fail', detail: 'not found', fix: 'apt-get install tar' },
      { name: 'setfattr', level: 'fail', detail: 'not found', fix: 'apt-get install attr' },
    ]);
  });

  it("a tar that is not GNU tar (busybox's, bsdtar): a warning", async () => {
    const [tar] = await findings({ 'tar --version': { code: 0, stdout: 'bsdtar 3.7.2 - libarchive 3.7.2\n' }, 'setfattr --version': { code: 0, stdout: 'setfattr 2.5.2\n' } });
    expect(tar).toEqual({ name: 'tar', level: 'warn', detail: 'bsdtar 3.7.2 - libarchive 3.7.2: not GNU tar: image layers with device nodes or whiteouts are unpacked with GNU tar', fix: 'apt-get install tar' });
  });
});

describe('doctor: the LSM stack and AppArmor', () => {
  const files = (f: Record<string, string>) => (p: string): string => f[p] ?? '';
  it('reads the stack from securityfs and counts the AppArmor profiles that enforce', () => {
    const f = lsmFinding(
      files({
        '/sys/kernel/security/lsm': 'lockdown,capability,landlock,yama,apparmor,bpf',
        '/sys/module/apparmor/parameters/enabled': 'Y\n',
        '/sys/kernel/security/apparmor/profiles': 'docker-default (enforce)\nlsb_release (enforce)\nnvidia_modprobe (complain)\n',
      }),
      () => true,
    );
    expect(f.detail).toBe('lockdown, capability, landlock, yama, apparmor, bpf; AppArmor enabled, 2 profiles enforcing');
    expect(f.level).toBe('ok');
  });
  it("warns where boxlab run would refuse to start boxes: AppArmor on without securityfs, or without apparmor_parser", () => {
    const on = { '/sys/kernel/security/lsm': 'capability,apparmor', '/sys/module/apparmor/parameters/enabled': 'Y', '/sys/kernel/security/apparmor/profiles': '' };
    const noParser = lsmFinding(files(on), () => false);
    expect([noParser.level, noParser.fix]).toEqual(['warn', 'apt-get install apparmor']);
    const unmounted = lsmFinding(files({ '/sys/module/apparmor/parameters/enabled': 'Y', '/proc/self/mounts': 'proc /proc proc rw 0 0\n' }), () => true);
    expect([unmounted.level, unmounted.fix]).toEqual(['warn', 'mount -t securityfs securityfs /sys/kernel/security']);
  });
  it('says when AppArmor is absent, disabled, or securityfs is not mounted (and how to mount it)', () => {
    expect(lsmFinding(files({ '/sys/kernel/security/lsm': 'capability,yama' })).detail).toBe('capability, yama; no AppArmor');
    expect(lsmFinding(files({ '/sys/kernel/security/lsm': 'capability,apparmor', '/sys/module/apparmor/parameters/enabled': 'N' })).detail).toMatch(/built in but disabled/);
    const none = lsmFinding(files({ '/proc/self/mounts': 'proc /proc proc rw 0 0\n' }));
    expect(none.detail).toMatch(/securityfs is not mounted/);
    expect(none.fix).toBe('mount -t securityfs securityfs /sys/kernel/security');
  });
});
