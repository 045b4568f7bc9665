// A lesson's markdown: `# Title`, an intro, then `## step-id` sections bound to steps;
// any other `##` section is part of the closing text.
import type { Prose } from './lesson.js';

export function parseProse(md: string, stepIds: string[]): Prose {
  const prose: Prose = { intro: '', steps: {}, outro: '' };
  const ids = new Set(stepIds);
  let target: { kind: 'intro' } | { kind: 'step'; id: string } | { kind: 'outro' } = { kind: 'intro' };
  const add = (line: string): void => {
    if (target.kind === 'intro') prose.intro += line + '\n';
    else if (target.kind === 'outro') prose.outro += line + '\n';
    else prose.steps[target.id] = (prose.steps[target.id] ?? '') + line + '\n';
  };
  for (const line of md.split('\n')) {
    if (/^# /.test(line)) continue;
    const h = /^## +(.+?)\s*$/.exec(line);
    if (h) {
      target = ids.has(h[1]!) ? { kind: 'step', id: h[1]! } : { kind: 'outro' };
      if (target.kind === 'outro') add(line);
      continue;
    }
    add(line);
  }
  const trim = (s: string): string => s.trim();
  return { intro: trim(prose.intro), outro: trim(prose.outro), steps: Object.fromEntries(Object.entries(prose.steps).map(([k, v]) => [k, trim(v)])) };
}
