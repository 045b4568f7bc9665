// How long a lesson takes: its text read aloud or on a projector (about 150 words a minute,
// with the commands' output to look at), plus the kernel work, measured once per lesson.
import type { Prose } from '../model/lesson.js';

const WORDS_PER_MINUTE = 150;

export const proseWords = (p: Prose): number =>
  [p.intro, ...Object.values(p.steps), p.outro].join(' ').split(/\s+/).filter((w) => /[A-Za-z0-9]/.test(w)).length;

/** 1020 as "1,020": what toLocaleString('en') writes, without loading ICU's data at start-up
 *  (its first call costs 20-30 ms here, most of a dry run's own time). */
const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+$)/g, ',');

/** "about 7 min (1,020 words to read; the commands take 4.3 s)". */
export function durationText(p: Prose, runSeconds?: number): string {
  const words = proseWords(p);
  const minutes = Math.max(1, Math.round(words / WORDS_PER_MINUTE + (runSeconds ?? 0) / 60));
  const run = runSeconds === undefined ? '' : `; the commands take ${runSeconds < 10 ? runSeconds.toFixed(1) : Math.round(runSeconds)} s`;
  return `about ${minutes} min (${thousands(words)} words to read${run})`;
}
