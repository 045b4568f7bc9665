// `boxlab slides N [-o FILE]`: lesson N as a self-contained HTML deck, one slide per step,
// built from the lesson's dry run (the same commands and checks --dry-run shows). Needs no root.
import { commandNames } from '../paths.js';
import { writeFileSync } from 'node:fs';
import { parse } from './args.js';
import { EnvError, UsageError } from '../errors.js';
import { findLesson, LESSONS, loadByNumber, loadLesson } from '../../lessons/index.js';
import { RecordingRunner } from '../shell/spawn.js';
import { runLesson } from '../engine/execute.js';
import type { Event } from '../engine/events.js';
import { lessonVars } from './lesson.js';
import { renderSlides, stepSlides } from '../report/slides.js';

export async function slidesCommand(argv: string[]): Promise<number> {
  const { values: f, positionals } = parse(argv, { output: { type: 'string', short: 'o' } }, 1);
  const key = positionals[0];
  if (!key) throw new UsageError('which lesson? e.g. boxlab slides 3 (boxlab lessons lists them)');
  const entry = findLesson(key);
  if (!entry) throw new UsageError(`no lesson '${key}': there are lessons ${LESSONS.map((l) => l.number).join(', ')}`);
  if (f.output === '') throw new UsageError('-o takes a file name, or - for standard output');
  const lesson = await loadLesson(entry);
  const events: Event[] = [];
  await runLesson(lesson, { runner: new RecordingRunner(() => ({ code: 1, stderr: 'dry run' })), emit: (e) => void events.push(e), dryRun: true, vars: lessonVars(true), load: loadByNumber });
  const html = renderSlides(lesson, stepSlides(lesson, events, commandNames()));
  const out = f.output ?? `slides-${String(entry.number).padStart(2, '0')}.html`;
  if (out === '-') {
    process.stdout.write(html);
    return 0;
  }
  try {
    writeFileSync(out, html);
  } catch (e) {
    throw new EnvError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  process.stderr.write(`boxlab: lesson ${entry.number} as ${stepSlides(lesson, events, commandNames()).length + 2} slides in ${out} (arrow keys move, n shows the notes)\n`);
  return 0;
}
