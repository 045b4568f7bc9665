// A step's kernel-feature label says what its commands do: a step whose unshare makes several
// namespaces names each of them (lesson 2's box made six under the label "mount namespace").
import { describe, expect, it } from 'vitest';
import { loadAll } from '../../lessons/index.js';
import { actionCmds } from '../../src/model/lesson.js';
import type { Cmd } from '../../src/shell/cmd.js';

const NAMES: Record<string, RegExp> = { mount: /mount/i, uts: /UTS/, ipc: /IPC/, net: /network/i, pid: /PID/, cgroup: /cgroup/i, user: /user/i, time: /time/i };

/** The namespaces each unshare in a command chain makes. */
function unshared(c: Cmd): string[][] {
  const out: string[][] = [];
  for (let x: Cmd | undefined = c; x; x = x.inner) {
    const words = [x.file, ...x.args];
    const at = words.indexOf('unshare');
    if (at < 0) continue;
    const ns: string[] = [];
    for (const w of words.slice(at + 1)) {
      if (!w.startsWith('-')) break;
      const m = /^--(mount|uts|ipc|net|pid|cgroup|user|time)$/.exec(w);
      if (m) ns.push(m[1]!);
    }
    out.push(ns);
    break;
  }
  return out;
}

describe('step labels', () => {
  it('a step that makes three or more namespaces names each in its kernel feature', async () => {
    const wrong: string[] = [];
    let seen = 0;
    for (const lesson of await loadAll()) {
      for (const step of lesson.steps) {
        for (const ns of step.actions.flatMap(actionCmds).flatMap(unshared)) {
          if (ns.length < 3) continue;
          seen++;
          const missing = ns.filter((n) => !NAMES[n]!.test(step.feature.name));
          if (missing.length) wrong.push(`lesson ${lesson.number} ${step.id}: "${step.feature.name}" does not name ${missing.join(', ')}`);
        }
      }
    }
    expect(seen).toBeGreaterThan(2);
    expect(wrong).toEqual([]);
  });
});
