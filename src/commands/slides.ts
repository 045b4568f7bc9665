// `boxlab slides N [-o FILE]`: lesson N as a self-contained HTML deck, one slide per step,
// built from the lesson's dry run (the same commands and checks --dry-run shows). Needs no root.
import { commandNames, withShortNames } from '../paths.js';
import { asShellVariables } from '../shell/cmd.js';
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
  const vars = lessonVars(true);
  await runLesson(lesson, { runner: new RecordingRunner(() => ({ code: 1, stderr: 'dry run' })), emit: (e) => void events.push(e), dryRun: true, vars, load: loadByNumber });
  // On a projector: $WORK for this run's directory (said once, on the title slide), boxlab for
  // its own path, $BOX for a PID known only when it runs.
  const short: [string, string][] = [[vars.ROOTFS!, '$ROOTFS'], [vars.WORK!, '$WORK'], ...commandNames()];
  const shorten = (c: string): string => asShellVariables(withShortNames(c, short));
  const slides = stepSlides(lesson, events, shorten);
  const html = renderSlides(lesson, slides, [`$WORK is this run's directory, ${vars.WORK}; $ROOTFS is $WORK/rootfs`, '$BOX and the like: PIDs and values known only when the lesson runs']);
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
  process.stderr.write(`boxlab: lesson ${entry.number} as ${(html.match(/<section class="slide/g) ?? []).length} slides in ${out} (arrow keys move, n shows the notes)\n`);
  return 0;
}
