// The curriculum. Numbers are fixed: the workshop material refers to them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lesson, LessonDef } from '../src/engine/lesson.js';
import { parseProse } from '../src/engine/prose.js';
import { packageRoot } from '../src/paths.js';
// Static imports: lessons are small data, and one bundle chunk loads faster than ten.
import lesson1 from './01-chroot/lesson.js';
import lesson2 from './02-mount-pivot-root/lesson.js';
import lesson3 from './03-pid/lesson.js';
import lesson4 from './04-uts-ipc-time/lesson.js';
import lesson5 from './05-network/lesson.js';
import lesson6 from './06-user/lesson.js';
import lesson7 from './07-capabilities/lesson.js';
import lesson8 from './08-seccomp/lesson.js';
import lesson9 from './09-cgroups/lesson.js';
import lesson10 from './10-overlayfs/lesson.js';
import lesson11 from './11-images/lesson.js';
import lesson12 from './12-container/lesson.js';
import lesson13 from './13-build-push/lesson.js';

export interface LessonEntry {
  number: number;
  slug: string;
  dir: string;
  load: () => Promise<{ default: LessonDef }>;
}

export const LESSONS: LessonEntry[] = [
  { number: 1, slug: 'chroot', dir: '01-chroot', load: async () => ({ default: lesson1 }) },
  { number: 2, slug: 'mount-pivot-root', dir: '02-mount-pivot-root', load: async () => ({ default: lesson2 }) },
  { number: 3, slug: 'pid', dir: '03-pid', load: async () => ({ default: lesson3 }) },
  { number: 4, slug: 'uts-ipc-time', dir: '04-uts-ipc-time', load: async () => ({ default: lesson4 }) },
  { number: 5, slug: 'network', dir: '05-network', load: async () => ({ default: lesson5 }) },
  { number: 6, slug: 'user', dir: '06-user', load: async () => ({ default: lesson6 }) },
  { number: 7, slug: 'capabilities', dir: '07-capabilities', load: async () => ({ default: lesson7 }) },
  { number: 8, slug: 'seccomp', dir: '08-seccomp', load: async () => ({ default: lesson8 }) },
  { number: 9, slug: 'cgroups', dir: '09-cgroups', load: async () => ({ default: lesson9 }) },
  { number: 10, slug: 'overlayfs', dir: '10-overlayfs', load: async () => ({ default: lesson10 }) },
  { number: 11, slug: 'images', dir: '11-images', load: async () => ({ default: lesson11 }) },
  { number: 12, slug: 'container', dir: '12-container', load: async () => ({ default: lesson12 }) },
  { number: 13, slug: 'build-push', dir: '13-build-push', load: async () => ({ default: lesson13 }) },
];

export const markdownPath = (e: LessonEntry): string => join(packageRoot(import.meta.url), 'lessons', e.dir, 'lesson.md');

/** By number ("2") or by name ("mount-pivot-root"). */
export function findLesson(key: string): LessonEntry | undefined {
  return LESSONS.find((l) => String(l.number) === key || l.slug === key || l.dir === key);
}

/** A lesson, or one of its variants (its steps in place of the lesson's). */
export async function loadLesson(e: LessonEntry, variant?: string): Promise<Lesson> {
  const def = (await e.load()).default;
  const v = variant === undefined ? undefined : def.variants?.[variant];
  if (variant !== undefined && !v) throw new Error(`lesson ${e.number} has no ${variant} variant`);
  const chosen: LessonDef = v ? { ...def, title: v.title, buildsOn: v.buildsOn, steps: v.steps, shell: v.shell } : def;
  const ids = [...def.steps, ...Object.values(def.variants ?? {}).flatMap((x) => x.steps)].map((s) => s.id);
  const prose = parseProse(readFileSync(markdownPath(e), 'utf8'), ids);
  return { ...chosen, prose };
}

/** Every lesson and every variant, for the linter. */
export async function loadAll(): Promise<Lesson[]> {
  const out: Lesson[] = [];
  for (const e of LESSONS) {
    out.push(await loadLesson(e));
    for (const v of Object.keys((await e.load()).default.variants ?? {})) out.push(await loadLesson(e, v));
  }
  return out;
}

export async function loadByNumber(n: number): Promise<Lesson> {
  const e = LESSONS.find((l) => l.number === n);
  if (!e) throw new Error(`lesson ${n} is not in the curriculum`);
  return loadLesson(e);
}
