// Which host programs a lesson runs, so a missing one is reported before anything starts.
import { accessSync, constants } from 'node:fs';
import type { Cmd } from '../shell/cmd.js';
import type { Action, Fact, Step } from '../engine/lesson.js';
import { teardown } from '../box/resources.js';

export function hostTools(steps: Step[]): string[] {
  const cmds: Cmd[] = [];
  const fromFact = (f: Fact): void => void ('out' in f ? cmds.push(f.out) : 'status' in f ? cmds.push(f.status) : undefined);
  const fromAction = (a: Action): void => {
    if ('run' in a) cmds.push(a.run);
    else if ('start' in a) cmds.push(a.start);
    else if ('ensureDir' in a) cmds.push(...a.build);
  };
  for (const s of steps) {
    s.actions.forEach(fromAction);
    for (const p of s.probes ?? []) fromFact(p.show);
    for (const c of s.checks) fromFact(c.fact);
    for (const r of s.creates ?? []) cmds.push(...teardown(r));
  }
  // Wrappers such as setpriv and chroot run a second host program named in their argv.
  const files = cmds.flatMap((c) => (c.file === 'setpriv' ? ['setpriv', c.args[2] ?? ''] : [c.file]));
  return [...new Set(files.filter((f) => f && !f.includes('$') && !f.startsWith('/')))].sort();
}

export function onPath(tool: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((dir) => {
    try {
      accessSync(`${dir}/${tool}`, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export const missingTools = (tools: string[]): string[] => tools.filter((t) => !onPath(t));
