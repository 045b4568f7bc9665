// `boxlab progress`: the local learner's progress, for them or for an instructor collecting a room's.
import { parse } from './args.js';
import { LESSONS } from '../../lessons/index.js';
import { allPractice } from '../../lessons/practice.js';
import { exerciseKey, progressDir, readProgress } from '../engine/progress.js';

export async function progressCommand(argv: string[]): Promise<number> {
  const { values: f } = parse(argv, { json: { type: 'boolean' } });
  const { passed, exercises = {} } = readProgress();
  const practice = allPractice();
  const rows = LESSONS.map((e) => {
    const own = practice.find((p) => p.lesson === e.number)?.exercises ?? [];
    const solved = own.filter((x) => exercises[exerciseKey(e.number, x.id)]).map((x) => x.id);
    const next = own.find((x) => !solved.includes(x.id))?.id;
    return { lesson: e.number, passed: passed[String(e.number)] ?? null, exercises: own.length, solved, next: next ?? null };
  });
  if (f.json) {
    process.stdout.write(JSON.stringify({ user: process.env.SUDO_USER ?? process.env.USER ?? null, dir: progressDir(), lessons: rows }) + '\n');
    return 0;
  }
  const total = rows.reduce((n, r) => n + r.exercises, 0);
  const done = rows.reduce((n, r) => n + r.solved.length, 0);
  const seen = rows.filter((r) => r.passed).length;
  process.stdout.write(`lessons passed: ${seen} of ${rows.length}; exercises solved: ${done} of ${total}\n`);
  for (const r of rows) {
    if (!r.passed && r.solved.length === 0) continue;
    process.stdout.write(`  lesson ${String(r.lesson).padStart(2)}: ${r.passed ? 'passed' : 'not passed'}, ${r.solved.length}/${r.exercises} exercises${r.next ? ` (next: npm run practice ${r.lesson} -- --exercise ${r.next})` : ''}\n`);
  }
  const first = rows.find((r) => r.next);
  if (first && done === 0) process.stdout.write(`start with: npm run practice ${first.lesson}\n`);
  return 0;
}
