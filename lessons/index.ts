// The curriculum. Numbers are fixed: the workshop material refers to them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lessonOf, type Lesson, type LessonDef, type LessonSource } from '../src/model/lesson.js';
import type { HostFacts } from '../src/model/host-facts.js';
import { realHost } from '../src/container/host.js';
import { parseProse } from '../src/engine/prose.js';
import { packageRoot } from '../src/paths.js';
import { RUN_SECONDS } from './durations.js';

export interface LessonEntry {
  number: number;
  slug: string;
  dir: string;
  load: () => Promise<{ default: LessonSource }>;
}

/** Each lesson's directory (NN-slug) and its data: the number and name come from the
 *  directory, and `boxlab lint` checks the lesson's own `number` and `slug` agree. Each is
 *  imported when asked for (its own bundle chunk): `lesson 2` loads lesson 2's code, not
 *  lesson 12's run plan and seccomp compiler. */
const SOURCES: [dir: string, load: () => Promise<{ default: LessonSource }>][] = [
  ['01-chroot', () => import('./01-chroot/lesson.js')],
  ['02-mount-pivot-root', () => import('./02-mount-pivot-root/lesson.js')],
  ['03-pid', () => import('./03-pid/lesson.js')],
  ['04-uts-ipc-time', () => import('./04-uts-ipc-time/lesson.js')],
  ['05-network', () => import('./05-network/lesson.js')],
  ['06-user', () => import('./06-user/lesson.js')],
  ['07-capabilities', () => import('./07-capabilities/lesson.js')],
  ['08-seccomp', () => import('./08-seccomp/lesson.js')],
  ['09-cgroups', () => import('./09-cgroups/lesson.js')],
  ['10-overlayfs', () => import('./10-overlayfs/lesson.js')],
  ['11-images', () => import('./11-images/lesson.js')],
  ['12-container', () => import('./12-container/lesson.js')],
  ['13-build-push', () => import('./13-build-push/lesson.js')],
  ['14-engines', () => import('./14-engines/lesson.js')],
  ['15-apparmor', () => import('./15-apparmor/lesson.js')],
];

export const LESSONS: LessonEntry[] = SOURCES.map(([dir, load]) => {
  const m = /^(\d\d)-([a-z0-9-]+)$/.exec(dir);
  if (!m) throw new Error(`lessons/${dir}: a lesson directory is NN-slug`);
  return { number: Number(m[1]), slug: m[2]!, dir, load };
});

/** Where a lesson's data and its directory disagree (for boxlab lint). */
export async function indexProblems(host: HostFacts = realHost()): Promise<string[]> {
  const problems: string[] = [];
  for (const e of LESSONS) {
    const d = await lessonDef(e, host);
    if (d.number !== e.number || d.slug !== e.slug) problems.push(`lessons/${e.dir}: its data says lesson ${d.number} '${d.slug}'`);
  }
  return problems;
}

export const markdownPath = (e: LessonEntry): string => join(packageRoot(import.meta.url), 'lessons', e.dir, 'lesson.md');

/** By number ("2") or by name ("mount-pivot-root"). */
export function findLesson(key: string): LessonEntry | undefined {
  return LESSONS.find((l) => String(l.number) === key || l.slug === key || l.dir === key);
}

/** The lesson's data, built for this host (lessons 7, 9 and 12 depend on its facts). */
export async function lessonDef(e: LessonEntry, host: HostFacts = realHost()): Promise<LessonDef> {
  return lessonOf((await e.load()).default, host);
}

/** A lesson, or one of its variants (its steps in place of the lesson's). */
export async function loadLesson(e: LessonEntry, variant?: string, host: HostFacts = realHost()): Promise<Lesson> {
  const def = await lessonDef(e, host);
  const v = variant === undefined ? undefined : def.variants?.[variant];
  if (variant !== undefined && !v) throw new Error(`lesson ${e.number} has no ${variant} variant`);
  const chosen: LessonDef = v ? { ...def, title: v.title, buildsOn: v.buildsOn, steps: v.steps, shell: v.shell, noShell: v.noShell } : def;
  const ids = [...def.steps, ...Object.values(def.variants ?? {}).flatMap((x) => x.steps)].map((s) => s.id);
  const prose = parseProse(forVariant(readFileSync(markdownPath(e), 'utf8'), variant ?? 'default'), ids);
  const runSeconds = RUN_SECONDS[variant ? `${e.number}-${variant}` : String(e.number)];
  return { ...chosen, prose, ...(runSeconds !== undefined ? { runSeconds } : {}) };
}

/** A line that ends in `<!-- only: NAME -->` belongs to one variant's text (`default`: the
 *  lesson without a variant flag); the marker itself is never shown. */
export function forVariant(md: string, variant: string): string {
  return md
    .split('\n')
    .flatMap((line) => {
      const m = /\s*<!-- only: ([a-z-]+) -->\s*$/.exec(line);
      if (!m) return [line];
      return m[1] === variant ? [line.slice(0, m.index)] : [];
    })
    .join('\n');
}

/** Every lesson and every variant, for the linter. */
export async function loadAll(host: HostFacts = realHost()): Promise<Lesson[]> {
  const out: Lesson[] = [];
  for (const e of LESSONS) {
    out.push(await loadLesson(e, undefined, host));
    for (const v of Object.keys((await lessonDef(e, host)).variants ?? {})) out.push(await loadLesson(e, v, host));
  }
  return out;
}

export async function loadByNumber(n: number, host: HostFacts = realHost()): Promise<Lesson> {
  const e = LESSONS.find((l) => l.number === n);
  if (!e) throw new Error(`lesson ${n} is not in the curriculum`);
  return loadLesson(e, undefined, host);
}
