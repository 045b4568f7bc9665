import { parse } from './args.js';
import { indexProblems, LESSONS, loadAll, markdownPath } from '../../lessons/index.js';
import { lintLessons, lintPractice } from '../engine/lint.js';
import { allPractice } from '../../lessons/practice.js';

export async function lintCommand(argv: string[]): Promise<number> {
  parse(argv, {});
  const lessons = await loadAll();
  const practice = allPractice();
  const problems = [...(await indexProblems()), ...lintLessons(lessons, LESSONS.map(markdownPath)), ...lintPractice(practice, lessons)];
  for (const p of problems) process.stdout.write(`${p}\n`);
  const exercises = practice.reduce((n, p) => n + p.exercises.length, 0);
  process.stdout.write(problems.length ? `${problems.length} problem(s)\n` : `${lessons.length} lessons and variants, ${exercises} exercises, no problems\n`);
  return problems.length ? 1 : 0;
}
