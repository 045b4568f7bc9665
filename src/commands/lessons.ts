import { parse } from './args.js';
import { LESSONS, loadLesson } from '../../lessons/index.js';
import { allPractice } from '../../lessons/practice.js';
import { exerciseKey, readProgress } from '../engine/progress.js';
import { durationText } from '../engine/duration.js';
import type { HostFacts } from '../model/host-facts.js';
import { realHost } from '../container/host.js';
import { wrapText } from '../report/fit.js';
import { screenWidth } from '../report/terminal.js';

/** `host`: whose facts the lessons are built from (tests pass a fake). */
export async function lessonsCommand(argv: string[], host: HostFacts = realHost()): Promise<number> {
  parse(argv, {});
  const { passed, exercises = {} } = readProgress();
  const practice = allPractice(host);
  const lessons = await Promise.all(LESSONS.map(async (e) => ({ e, l: await loadLesson(e, undefined, host) })));
  // The title last, wrapped in its column: a projector's 100 columns hold every row.
  const head = `  #  ${'time'.padEnd(8)}${'exercises'.padEnd(11)}${'progress'.padEnd(9)}`;
  process.stdout.write(`${head}lesson\n`);
  for (const { e, l } of lessons) {
    const mark = passed[String(e.number)] ? 'passed' : 'not yet';
    const own = practice.find((p) => p.lesson === e.number)?.exercises ?? [];
    const done = own.filter((x) => exercises[exerciseKey(e.number, x.id)]).length;
    const minutes = durationText(l.prose, l.runSeconds).replace(/^about (\d+) min.*/, '$1 min');
    const row = `${String(e.number).padStart(3)}  ${minutes.padEnd(8)}${(own.length ? `${done}/${own.length}` : '-').padEnd(11)}${mark.padEnd(9)}`;
    const variants = Object.keys(l.variants ?? {}).map((v) => `${v}: ${passed[`${e.number}-${v}`] ? 'passed' : 'not yet'} (npm run lesson ${e.number} -- --${v})`);
    process.stdout.write(`${wrapText(l.title, screenWidth(), row, ' '.repeat(head.length)).join('\n')}\n`);
    for (const v of variants) process.stdout.write(`${' '.repeat(head.length)}${v}\n`);
  }
  process.stdout.write('\ntime: reading the text at 150 words a minute, plus the commands (measured once per lesson)\n');
  process.stdout.write(`\nrun one: npm run lesson ${LESSONS[0]!.number}   then do it yourself: npm run practice ${LESSONS[0]!.number}\n`);
  return 0;
}
