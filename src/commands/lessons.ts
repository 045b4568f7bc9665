import { parse } from './args.js';
import { LESSONS, loadLesson } from '../../lessons/index.js';
import { allPractice } from '../../lessons/practice.js';
import { exerciseKey, readProgress } from '../engine/progress.js';
import { durationText } from '../engine/duration.js';
import type { HostFacts } from '../model/host-facts.js';
import { realHost } from '../container/host.js';

/** `host`: whose facts the lessons are built from (tests pass a fake). */
export async function lessonsCommand(argv: string[], host: HostFacts = realHost()): Promise<number> {
  parse(argv, {});
  const { passed, exercises = {} } = readProgress();
  const practice = allPractice(host);
  const lessons = await Promise.all(LESSONS.map(async (e) => ({ e, l: await loadLesson(e, undefined, host) })));
  const width = Math.max(...lessons.map(({ l }) => l.title.length)) + 2;
  process.stdout.write(`  #  ${'lesson'.padEnd(width)}${'time'.padEnd(8)}${'exercises'.padEnd(11)}progress\n`);
  for (const { e, l } of lessons) {
    const when = passed[String(e.number)];
    let mark = when ? `passed ${when.slice(0, 10)}` : 'not yet';
    for (const v of Object.keys(l.variants ?? {})) mark += passed[`${e.number}-${v}`] ? `, ${v} passed` : `, ${v} not yet`;
    const own = practice.find((p) => p.lesson === e.number)?.exercises ?? [];
    const done = own.filter((x) => exercises[exerciseKey(e.number, x.id)]).length;
    const minutes = durationText(l.prose, l.runSeconds).replace(/^about (\d+) min.*/, '$1 min');
    process.stdout.write(`${String(e.number).padStart(3)}  ${l.title.padEnd(width)}${minutes.padEnd(8)}${(own.length ? `${done}/${own.length}` : '-').padEnd(11)}${mark}\n`);
  }
  process.stdout.write('\ntime: reading the text at 150 words a minute, plus the commands (measured once per lesson)\n');
  process.stdout.write(`\nrun one: npm run lesson ${LESSONS[0]!.number}   then do it yourself: npm run practice ${LESSONS[0]!.number}\n`);
  return 0;
}
