import { parse } from './args.js';
import { LESSONS, loadLesson } from '../../lessons/index.js';
import { readProgress } from '../engine/progress.js';

export async function lessonsCommand(argv: string[]): Promise<number> {
  parse(argv, {});
  const { passed } = readProgress();
  const lessons = await Promise.all(LESSONS.map(async (e) => ({ e, l: await loadLesson(e) })));
  process.stdout.write('  #  lesson                                  progress\n');
  for (const { e, l } of lessons) {
    const when = passed[String(e.number)];
    const mark = when ? `passed ${when.slice(0, 10)}` : 'not yet';
    process.stdout.write(`${String(e.number).padStart(3)}  ${l.title.padEnd(40)}${mark}\n`);
  }
  process.stdout.write(`\nrun one: npm run lesson ${LESSONS[0]!.number}   (or: boxlab lesson ${LESSONS[0]!.slug})\n`);
  return 0;
}
