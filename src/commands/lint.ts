import { parse } from './args.js';
import { LESSONS, loadAll, markdownPath } from '../../lessons/index.js';
import { lintLessons } from '../engine/lint.js';

export async function lintCommand(argv: string[]): Promise<number> {
  parse(argv, {});
  const lessons = await loadAll();
  const problems = lintLessons(lessons, LESSONS.map(markdownPath));
  for (const p of problems) process.stdout.write(`${p}\n`);
  process.stdout.write(problems.length ? `${problems.length} problem(s)\n` : `${lessons.length} lessons and variants, no problems\n`);
  return problems.length ? 1 : 0;
}
