// Which host programs a lesson runs, so a missing one is reported before anything starts.
import { accessSync, constants } from 'node:fs';
import type { Cmd } from '../shell/cmd.js';
import { actionCmds, factCmds, stepFacts, type Step } from '../model/lesson.js';
import { teardown } from '../box/resources.js';

export function hostTools(steps: Step[]): string[] {
  const cmds: Cmd[] = steps.flatMap((s) => [
    ...s.actions.flatMap(actionCmds),
    ...stepFacts(s).flatMap(factCmds),
    ...(s.creates ?? []).flatMap(teardown),
  ]);
  // Wrappers (setpriv) exec a second host program.
  const files: string[] = [];
  for (let c of cmds) {
    files.push(c.file);
    while (c.inner) files.push((c = c.inner).file);
  }
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
