// Lessons are data: importing them reads nothing of the host (issue 16). Lessons 7, 9 and 12
// depend on host facts (masked paths, cgroup layout, setpriv), passed in when they are loaded:
// a host without the memory controller and without seccomp still lists lessons and plans them.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { relative } from 'node:path';

// Every path the fs functions are asked about, and every process started, while the lesson
// and practice modules are imported.
const touched = vi.hoisted(() => ({ paths: [] as string[], spawned: [] as string[], on: false }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const watched = ['existsSync', 'statSync', 'lstatSync', 'readFileSync', 'readdirSync', 'openSync', 'readlinkSync', 'accessSync'] as const;
  const wrapped: Record<string, unknown> = { ...fs };
  for (const name of watched) {
    const real = fs[name] as (...a: unknown[]) => unknown;
    wrapped[name] = (...a: unknown[]) => {
      if (touched.on) touched.paths.push(String(a[0]));
      return real(...a);
    };
  }
  return { ...wrapped, default: wrapped };
});
vi.mock('node:child_process', async (importOriginal) => {
  const cp = await importOriginal<typeof import('node:child_process')>();
  const wrapped: Record<string, unknown> = { ...cp };
  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'exec', 'execSync'] as const) {
    const real = cp[name] as (...a: unknown[]) => unknown;
    wrapped[name] = (...a: unknown[]) => {
      if (touched.on) touched.spawned.push(String(a[0]));
      return real(...a);
    };
  }
  return { ...wrapped, default: wrapped };
});

import type { HostFacts } from '../../src/model/host-facts.js';
import { packageRoot } from '../../src/paths.js';

/** A host with cgroup v2 but no controller in it, no seccomp in setpriv, two kernel files. */
const asked: string[] = [];
const fakeHost: HostFacts = {
  cgroupLayout: () => (asked.push('cgroupLayout'), { kind: 'v2', v1: [], v2: { mountPoint: '/sys/fs/cgroup', controllers: [] } }),
  setprivSeccomp: () => (asked.push('setprivSeccomp'), false),
  exists: (p) => ['/proc/keys', '/proc/acpi', '/proc/sys'].includes(p),
  isDir: (p) => ['/proc/acpi', '/proc/sys'].includes(p),
  chroot: () => '/usr/sbin/chroot',
  busybox: () => ({ path: '/bin/busybox', size: 2_000_000, dynamic: false }),
  apparmor: () => (asked.push('apparmor'), { state: 'off', parser: false, loaded: new Map() }),
};

touched.on = true;
const index = await import('../../lessons/index.js');
// Each lesson module is imported when asked for: all of them, here.
await Promise.all(index.LESSONS.map((e) => e.load()));
const practice = await import('../../lessons/practice.js');
touched.on = false;
const root = packageRoot(import.meta.url);

afterAll(() => vi.restoreAllMocks());

describe('lessons as data', () => {
  it('importing every lesson and practice module touches no host path and starts no process', () => {
    // Reading the project's own files (lesson 8's profiles) is reading data, not the host.
    // The spy sees reads: lesson 8 reads its two profiles when it loads.
    expect(touched.paths.some((p) => p.endsWith('08-seccomp/teaching.json'))).toBe(true);
    const outside = touched.paths.filter((p) => relative(root, p).startsWith('..'));
    expect(outside).toEqual([]);
    expect(touched.spawned).toEqual([]);
    expect(asked).toEqual([]);
  });

  it('lessons 7, 9 and 12 ask the host they are given, when they are loaded', async () => {
    const lessons = await index.loadAll(fakeHost);
    expect(lessons.map((l) => l.number)).toEqual(expect.arrayContaining(index.LESSONS.map((e) => e.number)));
    expect(asked).toContain('cgroupLayout');
    expect(asked).toContain('setprivSeccomp');
    // Lesson 7's masks are the run's list (src/container/spec.ts) filtered by this host.
    const masks = lessons.find((l) => l.number === 7)!.steps.find((s) => s.id === 'masks')!;
    const targets = masks.actions.map((a) => ('run' in a ? a.run.args.at(-1) : ''));
    expect(targets).toEqual(['/proc/${BOX}/root/proc/keys', '/proc/${BOX}/root/proc/acpi', '/proc/${BOX}/root/proc/sys', '/proc/${BOX}/root/proc/sys']);
  });

  it('without the memory controller, lesson 12 plans a run without limits and skips its cgroup step, saying why', async () => {
    const l12 = await index.loadByNumber(12, fakeHost);
    const cg = l12.steps.find((s) => s.id === 'cgroup')!;
    expect(cg.requires?.[0]?.reason).toMatch(/no cgroup limits on this host: no cgroup hierarchy offers memory, pids, cpu/);
    expect(JSON.stringify(l12.steps)).not.toMatch(/memory\.max|cgroup\.procs/);
    // No setpriv filter: lesson 12 runs unconfined, and its seccomp step is skipped.
    expect(l12.steps.find((s) => s.id === 'seccomp')!.requires).toHaveLength(1);
  });

  it("on cgroup v2, lesson 9's release_agent break-it needs a v1 file, and says v2 has none", async () => {
    const l9 = await index.loadByNumber(9, fakeHost);
    for (const id of ['release-agent', 'release-agent-denied']) {
      const req = l9.steps.find((s) => s.id === id)!.requires![0]!;
      // A path no v2 host has: the engine skips the step, with this reason.
      expect(req).toMatchObject({ path: '/sys/fs/cgroup/freezer/release_agent', reason: expect.stringMatching(/^no cgroup v1 hierarchy here: cgroup v2 has no release_agent/) });
    }
  });

  it('`boxlab lessons` lists all twelve on that host', async () => {
    const { lessonsCommand } = await import('../../src/commands/lessons.js');
    let out = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    try {
      expect(await lessonsCommand([], fakeHost)).toBe(0);
    } finally {
      write.mockRestore();
    }
    for (const e of index.LESSONS) expect(out).toMatch(new RegExp(`^ *${e.number}  \\S`, 'm'));
    expect(practice.allPractice(fakeHost).map((p) => p.lesson)).toEqual(index.LESSONS.map((e) => e.number));
  });

  it('lesson 1 plans on that host', async () => {
    const { runLesson } = await import('../../src/engine/execute.js');
    const { RecordingRunner } = await import('../../src/shell/spawn.js');
    const { workspaceVars } = await import('../../src/engine/workspace.js');
    const runner = new RecordingRunner();
    const events: string[] = [];
    const lesson = await index.loadByNumber(1, fakeHost);
    const vars = workspaceVars('abcd1234', { CACHE_DIR: '/var/cache/boxlab/rootfs', ROOTFS_CACHE: '/var/cache/boxlab/rootfs/busybox-x', BUSYBOX: '/bin/busybox' });
    const outcome = await runLesson(lesson, { runner, emit: (e) => void events.push(e.type), dryRun: true, vars, load: (n) => index.loadByNumber(n, fakeHost) });
    expect(outcome.code).toBe(0);
    expect(events.filter((t) => t === 'step').length).toBe(lesson.steps.length);
  });
});
