import { parse } from './args.js';
import { LESSONS, loadLesson } from '../../lessons/index.js';
import { readProgress } from '../engine/progress.js';

export async function lessonsCommand(argv: string[]): Promise<number> {
  parse(argv, {});
  const { passed } = readProgress();
  const lessons = await Promise.all(LESSONS.map(async (e) => ({ e, l: await loadLesson(e) })));
  const width = Math.max(...lessons.map(({ l }) => l.title.length)) + 2;
  process.stdout.write(`  #  ${'lesson'.padEnd(width)}progress\n`);
  for (const { e, l } of lessons) {
    const when = passed[String(e.number)];
    let mark = when ? `passed ${when.slice(0, 10)}` : 'not yet';
    for (const v of Object.keys(l.variants ?? {})) mark += passed[`${e.number}-${v}`] ? `, ${v} passed` : `, ${v} not yet`;
    process.stdout.write(`${String(e.number).padStart(3)}  ${l.title.padEnd(width)}${mark}\n`);
  }
  process.stdout.write(`\nrun one: npm run lesson ${LESSONS[0]!.number}   (or: boxlab lesson ${LESSONS[0]!.slug})\n`);
  return 0;
}
