// A lesson's markdown: `# Title`, an intro, then `## step-id` sections bound to steps;
// any other `##` section is part of the closing text. Inside a fenced code block nothing is a
// heading: a shell comment such as `# or with nftables:` is code and stays where it is.
import type { Prose } from '../model/lesson.js';

export function parseProse(md: string, stepIds: string[]): Prose {
  const prose: Prose = { intro: '', steps: {}, outro: '' };
  const ids = new Set(stepIds);
  let target: { kind: 'intro' } | { kind: 'step'; id: string } | { kind: 'outro' } = { kind: 'intro' };
  const add = (line: string): void => {
    if (target.kind === 'intro') prose.intro += line + '\n';
    else if (target.kind === 'outro') prose.outro += line + '\n';
    else prose.steps[target.id] = (prose.steps[target.id] ?? '') + line + '\n';
  };
  let fence: string | undefined;
  let titled = false;
  for (const line of md.split('\n')) {
    const f = /^\s*(```|~~~)/.exec(line);
    if (f && (fence === undefined || f[1] === fence)) fence = fence === undefined ? f[1] : undefined;
    else if (fence !== undefined) {
      add(line);
      continue;
    }
    // The lesson's title (its first `# ` line) is the lesson's own; a later one is prose.
    if (fence === undefined && !f && !titled && /^# /.test(line)) {
      titled = true;
      continue;
    }
    const h = f ? null : /^## +(.+?)\s*$/.exec(line);
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
