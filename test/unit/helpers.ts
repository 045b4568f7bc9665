import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { EnvError } from '../../src/errors.js';
import type { Lesson, LessonDef, Step } from '../../src/model/lesson.js';
import type { Event } from '../../src/engine/events.js';
import type { PlanHost } from '../../src/container/plan.js';
import { v1Driver } from '../../src/box/cgroup-driver.js';

export const feature = { name: 'test feature', syscalls: ['test(2)'], man: ['test(7)'] };

/** A lesson from steps, with prose for each of them. */
export function lessonOf(steps: Step[], extra: Partial<LessonDef> = {}): Lesson {
  return {
    number: 50,
    slug: 'test',
    title: 'test lesson',
    steps,
    ...extra,
    prose: { intro: 'intro', outro: '', steps: Object.fromEntries(steps.map((s) => [s.id, `about ${s.id}`])) },
  };
}

export function collect(): { events: Event[]; emit: (e: Event) => void } {
  const events: Event[] = [];
  return { events, emit: (e) => void events.push(e) };
}

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'boxlab-unit-'));

/** The promise rejects with an EnvError (one line for the CLI) whose message matches. */
export async function refusedInOneLine(p: Promise<unknown>, re: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EnvError);
  expect((err as Error).message).toMatch(re);
  expect((err as Error).message).not.toContain('\n');
}

/** A host for planning runs without reading one: cgroup v1 drivers, setpriv able to filter,
 *  every kernel path present (/proc/kcore a file), no AppArmor. */
export const fakePlanHost = (o: Partial<PlanHost> = {}): PlanHost => ({
  cgroups: v1Driver({ memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids', cpu: '/sys/fs/cgroup/cpu' }),
  setprivSeccomp: true,
  seccompBpf: 'AAAA',
  exists: () => true,
  isDir: (p) => !p.includes('kcore'),
  chroot: '/usr/sbin/chroot',
  busybox: { path: '/bin/busybox', size: 1 },
  apparmor: { state: 'off', parser: false, loaded: new Map() },
  ...o,
});
