// The lesson linter: what every lesson must satisfy before a learner sees it.
import { existsSync } from 'node:fs';
import { placeholders, type Cmd } from '../shell/cmd.js';
import type { Fact, Lesson, Resource, Step } from '../model/lesson.js';
import { actionCmds, factCmds, stepFacts, willReplay } from '../model/lesson.js';
import { WORKSPACE } from './workspace.js';
import type { Practice } from './exercise.js';
import { LINK_PREFIX, WORK_PARENT } from '../box/resources.js';
import { CACHE_ROOT } from '../paths.js';

/** Variables the command line provides to every run. */
export const PROVIDED_VARS = ['RUN_ID', 'HOST_PID', ...WORKSPACE.map(([n]) => n), 'CACHE_DIR', 'ROOTFS_CACHE', 'BUSYBOX', 'IMAGES', 'REGISTRY'];

const stringsOfFact = (f: Fact): string[] => ('file' in f ? [f.file, f.grep ?? ''] : 'link' in f ? [f.link] : 'alive' in f ? [f.alive] : factCmds(f).flatMap(words));
const words = (c: Cmd): string[] => [c.file, ...c.args, ...(c.stdin === undefined ? [] : [c.stdin])];

function stepStrings(s: Step): string[] {
  const out: string[] = [];
  for (const a of s.actions) {
    out.push(...actionCmds(a).flatMap(words));
    if ('await' in a) out.push('contains' in a ? a.contains : a.lacks);
    if ('ensureDir' in a) out.push(a.ensureDir, a.tmp);
  }
  out.push(...stepFacts(s).flatMap(stringsOfFact));
  for (const c of s.checks) if ('contains' in c || 'lacks' in c) out.push('contains' in c ? c.contains : c.lacks);
  for (const c of s.checks) for (const v of ['equals' in c ? c.equals : 'differs' in c ? c.differs : undefined]) if (typeof v === 'string') out.push(v);
  for (const r of s.creates ?? []) if ('dir' in r || 'mount' in r || 'link' in r || 'cgroup' in r) out.push('dir' in r ? r.dir : 'mount' in r ? r.mount : 'link' in r ? r.link : r.cgroup);
  return out;
}

/** A shell program a lesson runs on the host as text (`sh -c '... | grep ...'`). Host pipelines
 *  are builders (shProgram: a named program whose values come in as $1, $2 ...), so no value is
 *  ever pasted into shell text; the text in a box or a sandbox (the fork bomb) is the lesson's. */
export function hostShellText(c: Cmd): string | undefined {
  if (!/^(\/bin\/)?(ba)?sh$/.test(c.file) || !/^-[a-z]*c$/.test(c.args[0] ?? '')) return undefined;
  if (c.program === undefined) return `runs a host shell string (${c.args[1]?.slice(0, 40)}): make it a builder with shProgram, its values as arguments`;
  const used = placeholders(c.program);
  return used.length ? `its host shell program pastes \${${used[0]}} into the text: pass it as an argument ($1 ...)` : undefined;
}

const hostShellTexts = (s: Step): string[] => [...s.actions.flatMap(actionCmds), ...stepFacts(s).flatMap(factCmds)].flatMap((c) => hostShellText(c) ?? []);

const dirOf = (r: Resource): string | undefined => ('dir' in r ? r.dir : undefined);
/** Paths compared after expanding the workspace variables (ROOTFS lies in WORK). */
const expand = (p: string): string => WORKSPACE.reduceRight((acc, [name, template]) => acc.split(`\${${name}}`).join(template), p);
const under = (p: string, d: string): boolean => {
  const [a, b] = [expand(p), expand(d)];
  return a === b || a.startsWith(b + '/');
};

export function lintLessons(lessons: Lesson[], markdownPaths: string[] = []): string[] {
  const problems: string[] = [];
  // The first entry per number is the lesson itself; later ones are its variants.
  const byNumber = new Map<number, Lesson>();
  for (const l of lessons) if (!byNumber.has(l.number)) byNumber.set(l.number, l);
  const demos = new Map<string, { attack: number[]; defence: number[] }>();

  markdownPaths.forEach((p) => existsSync(p) || problems.push(`${p}: markdown file missing`));

  for (const l of lessons) {
    const at = (s: Step | undefined, msg: string): number => problems.push(`lesson ${l.number}${s ? ` step ${s.id}` : ''}: ${msg}`);
    if (!l.prose.intro) at(undefined, 'the markdown has no introduction');
    const ids = new Set<string>();
    for (const n of l.buildsOn ?? []) {
      if (!byNumber.has(n)) at(undefined, `buildsOn names lesson ${n}, which does not exist`);
      else if (n >= l.number) at(undefined, `buildsOn names lesson ${n}, which is not an earlier lesson`);
    }

    // Walk the steps as a run would: replays first, then the lesson's own.
    const replayed = (l.buildsOn ?? []).flatMap((n) => collect(n, byNumber, new Set([l.number])));
    const defined = new Set(PROVIDED_VARS);
    // The cache is meant to outlive the run: building into it needs no cleanup.
    const dirs: string[] = ['${CACHE_DIR}', CACHE_ROOT];
    const walk = (s: Step, own: boolean): void => {
      for (const r of s.creates ?? []) {
        const d = dirOf(r) ?? ('cgroup' in r ? r.cgroup : undefined);
        if (d) dirs.push(d);
      }
      for (const r of s.creates ?? []) if ('restore' in r) defined.add(r.saved);
      for (const a of s.actions) {
        if ('start' in a || 'childOf' in a) defined.add(a.pid);
        if ('capture' in a) for (const name of [a.capture, ...Object.keys(a.also ?? {})]) defined.add(name);
      }
      if (!own) return;
      if (ids.has(s.id)) at(s, 'duplicate step id');
      ids.add(s.id);
      if (!s.feature?.name || !s.feature.syscalls?.length || !s.feature.man?.length) at(s, 'needs a kernel feature with its syscalls and man pages');
      if (s.checks.length === 0) at(s, 'needs at least one check that proves it from kernel facts');
      if (s.quiz && !s.checks.some((c) => c.title === s.quiz!.check)) at(s, `its quiz names the check '${s.quiz.check}', which the step does not have`);
      if (!l.prose.steps[s.id]) at(s, `the markdown has no "## ${s.id}" section`);
      for (const name of new Set(stepStrings(s).flatMap(placeholders))) if (!defined.has(name)) at(s, `uses \${${name}} before anything sets it`);
      lintCreates(s, dirs, (m) => at(s, m));
      hostShellTexts(s).forEach((m) => at(s, m));
      if (s.breakIt) {
        const d = demos.get(s.breakIt.demo) ?? { attack: [], defence: [] };
        d[s.breakIt.role].push(l.number);
        demos.set(s.breakIt.demo, d);
      }
    };
    for (const s of replayed) walk(s, false);
    for (const s of l.steps) walk(s, true);
    const strings = [...replayed, ...l.steps].flatMap(stepStrings).join('\n');
    for (const s of l.steps) if (s.diagram !== undefined) lintDiagram(s.diagram, strings).forEach((m) => at(s, m));
  }

  for (const [demo, d] of demos) {
    if (d.attack.length !== 1) problems.push(`break-it ${demo}: needs exactly one attack step, has ${d.attack.length}`);
    if (d.defence.length === 0) problems.push(`break-it ${demo}: the attack is never defended (no defence step)`);
    if (d.attack.length === 1 && d.defence.some((n) => n < d.attack[0]!)) problems.push(`break-it ${demo}: a defence comes before its attack`);
  }
  return problems;
}

/** Every exercise: a goal, checks, three hints and a solution; a start that exists; setup
 *  that declares what it leaves; no variable used before the prepared run sets it. */
export function lintPractice(practices: Practice[], lessons: Lesson[]): string[] {
  const problems: string[] = [];
  const byNumber = new Map<number, Lesson>();
  for (const l of lessons) if (!byNumber.has(l.number)) byNumber.set(l.number, l);
  for (const l of byNumber.values()) {
    const n = practices.find((p) => p.lesson === l.number)?.exercises.length ?? 0;
    if (n < 2) problems.push(`lesson ${l.number}: has ${n} exercise(s); practice needs two or more`);
  }
  for (const p of practices) {
    const l = byNumber.get(p.lesson);
    if (!l) {
      problems.push(`practice for lesson ${p.lesson}: no such lesson`);
      continue;
    }
    const ids = new Set<string>();
    for (const ex of p.exercises) {
      const at = (m: string): number => problems.push(`lesson ${p.lesson} exercise ${ex.id}: ${m}`);
      if (!/^[a-z0-9][a-z0-9-]*$/.test(ex.id)) at('its id must be lowercase words joined by -');
      if (ids.has(ex.id)) at('duplicate exercise id');
      ids.add(ex.id);
      if (!ex.title.trim() || !ex.goal.trim()) at('needs a title and a goal');
      if (ex.checks.length === 0) at('needs at least one check that reads a kernel fact');
      if (ex.hints.length !== 3 || ex.hints.some((h) => !h.trim())) at('needs three hints: the concept, the tool, the command with a part left out');
      else if (!ex.hints[2].includes('____')) at('its third hint is the command with one part left out as ____');
      if (!ex.solution.trim()) at('needs a reference solution');
      for (const [which, from, setup] of [['', ex.from, ex.setup ?? []], ['defended box: ', ex.defended?.from, ex.defended?.setup ?? []]] as const) {
        if (which && !ex.defended) continue;
        const i = from === undefined ? -1 : l.steps.findIndex((s) => s.id === from);
        if (from !== undefined && i < 0) at(`${which}starts from step '${from}', which lesson ${l.number} does not have`);
        const replayed = [...(l.buildsOn ?? []).flatMap((m) => collect(m, byNumber, new Set([l.number]))), ...l.steps.slice(0, i + 1).filter((s, j) => j === i || willReplay(s))];
        const defined = new Set(PROVIDED_VARS);
        const dirs: string[] = ['${CACHE_DIR}', CACHE_ROOT];
        for (const s of [...replayed, ...setup]) {
          for (const r of s.creates ?? []) {
            const d = dirOf(r) ?? ('cgroup' in r ? r.cgroup : undefined);
            if (d) dirs.push(d);
            if ('restore' in r) defined.add(r.saved);
          }
          for (const a of s.actions) {
            if ('start' in a || 'childOf' in a) defined.add(a.pid);
            if ('capture' in a) for (const name of [a.capture, ...Object.keys(a.also ?? {})]) defined.add(name);
          }
          if (setup.includes(s)) {
            hostShellTexts(s).forEach((m) => at(`${which}setup step ${s.id} ${m}`));
            for (const name of new Set(stepStrings(s).flatMap(placeholders))) if (!defined.has(name)) at(`${which}setup step ${s.id} uses \${${name}} before anything sets it`);
            lintCreates(s, dirs, (m) => at(`${which}setup step ${s.id} ${m}`));
          }
        }
        const asStep: Step = { id: ex.id, title: ex.title, feature: { name: '', syscalls: [], man: [] }, actions: [], checks: ex.checks, requires: ex.requires };
        hostShellTexts(asStep).forEach((m) => at(`${which}a check ${m}`));
        const checked = stepStrings(asStep);
        for (const name of new Set(checked.flatMap(placeholders))) if (!defined.has(name)) at(`${which}a check uses \${${name}}, which the prepared run never sets`);
      }
    }
  }
  return problems;
}

/** The widest a diagram may be: what a projector (and a 100-column terminal) shows. */
export const DIAGRAM_COLUMNS = 100;

/** A diagram fits the screen, and the host link names and addresses it draws are the ones the
 *  lesson's commands use (a picture of other names teaches the wrong thing). */
export function lintDiagram(diagram: string, lessonStrings: string): string[] {
  const problems: string[] = [];
  if (!diagram.trim()) problems.push('its diagram is empty');
  diagram.split('\n').forEach((line, i) => {
    // Box-drawing characters are one column each; a tab's width depends on the terminal.
    if (/[\t\x00-\x1f\x7f]/.test(line)) problems.push(`its diagram's line ${i + 1} holds a tab or control character`);
    const width = [...line].length;
    if (width > DIAGRAM_COLUMNS) problems.push(`its diagram's line ${i + 1} is ${width} columns wide (at most ${DIAGRAM_COLUMNS})`);
  });
  const named = new Set(diagram.match(/\bboxlab-[a-z0-9]+(?:-[a-z0-9]+)*|\b\d{1,3}(?:\.\d{1,3}){3}\b/g) ?? []);
  for (const name of named) if (!lessonStrings.includes(name)) problems.push(`its diagram names ${name}, which none of the lesson's commands or facts use`);
  return problems;
}

function collect(n: number, byNumber: Map<number, Lesson>, seen: Set<number>): Step[] {
  const l = byNumber.get(n);
  if (!l || seen.has(n)) return [];
  seen.add(n);
  return [...(l.buildsOn ?? []).flatMap((m) => collect(m, byNumber, seen)), ...l.steps.filter(willReplay)];
}

/** Anything a step leaves on the host must be declared, so it is recorded and undone. */
function lintCreates(s: Step, dirs: string[], problem: (m: string) => void): void {
  const mounts = (s.creates ?? []).flatMap((r) => ('mount' in r ? [r.mount] : []));
  const processes = (s.creates ?? []).flatMap((r) => ('process' in r ? [r.process] : []));
  const links = (s.creates ?? []).flatMap((r) => ('link' in r ? [r.link] : []));
  const shms = (s.creates ?? []).flatMap((r) => ('shm' in r ? [r.shm] : []));
  for (const a of s.actions) {
    if ('start' in a && !processes.includes(a.pid)) problem(`starts a process (${a.pid}) without declaring it in creates`);
    if ('ensureDir' in a && !dirs.some((d) => under(a.tmp, d))) problem(`builds ${a.tmp} outside any declared directory`);
    for (const c of actionCmds(a)) {
      if (c.file === 'mount' && !c.args.some((x) => x.startsWith('--make-'))) {
        const target = c.args[c.args.length - 1]!;
        if (!mounts.includes(target)) problem(`mounts ${target} on the host without declaring it in creates`);
      }
      const add = c.args.indexOf('add');
      if (c.file === 'ip' && c.args.includes('link') && add >= 0 && !c.args.includes('-n')) {
        const name = c.args[add + 1]!;
        if (!links.includes(name)) problem(`adds the host link ${name} without declaring it in creates`);
        if (!name.startsWith(LINK_PREFIX)) problem(`names a host link ${name}: host links must start with ${LINK_PREFIX}, so reset finds them`);
      }
      if (c.file === 'ipcmk' && !('capture' in a && shms.includes(a.capture))) problem('makes an IPC object without capturing its id into a declared shm resource');
      if (c.file === 'mkdir') {
        // The work parent stays, as the cache does: every run's directory is made inside it.
        for (const p of c.args.filter((x) => !x.startsWith('-') && x !== WORK_PARENT)) if (!dirs.some((d) => under(p, d))) problem(`creates ${p} outside any declared directory`);
      }
    }
  }
}
