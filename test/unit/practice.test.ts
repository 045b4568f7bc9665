// Practice mode without root: how an exercise's state is prepared, what the linter demands of
// an exercise, the learner's shell rc (valid bash, variables as data), the fd-3 conversation.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadAll } from '../../lessons/index.js';
import { allPractice } from '../../lessons/practice.js';
import { lintPractice } from '../../src/engine/lint.js';
import { exports, preparation } from '../../src/engine/practice.js';
import { rcFile } from '../../src/practice/shell.js';
import type { Exercise, Practice } from '../../src/engine/exercise.js';
import { RealRunner } from '../../src/shell/spawn.js';

const exercise = (over: Partial<Exercise> = {}): Exercise => ({
  id: 'x',
  title: 'a title',
  goal: 'a goal',
  checks: [{ title: 'the host is named', fact: { file: '/proc/sys/kernel/hostname' }, equals: 'x' }],
  hints: ['concept', 'tool(1)', 'tool ____ x'],
  solution: 'true',
  ...over,
});

describe('practice', () => {
  it('prepares from the lesson start, or up to a named step (break-its only when named), then the setup', async () => {
    const lessons = await loadAll();
    const l2 = lessons.find((l) => l.number === 2)!;
    expect(preparation(l2, exercise()).steps).toEqual([]);
    const upToPivot = preparation(l2, exercise({ from: 'pivot' })).steps.map((s) => s.id);
    expect(upToPivot.at(-1)).toBe('pivot');
    expect(upToPivot).not.toContain(l2.steps[0]!.id); // the leak break-it is not replayed
    const withLeak = preparation(l2, exercise({ from: l2.steps[0]!.id })).steps.map((s) => s.id);
    expect(withLeak).toEqual([l2.steps[0]!.id]);
    expect(() => preparation(l2, exercise({ from: 'nope' }))).toThrow(/has no step 'nope'/);
  });

  it('the linter: two exercises per lesson, three hints with a blank, a start that exists, variables that are set', async () => {
    const lessons = await loadAll();
    const one = (ex: Exercise): string[] => lintPractice([{ lesson: 4, exercises: [ex, exercise({ id: 'y' })] } as Practice], lessons).filter((p) => p.startsWith('lesson 4 '));
    expect(one(exercise())).toEqual([]);
    expect(one(exercise({ hints: ['a', 'b', 'c'] }))).toEqual(['lesson 4 exercise x: its third hint is the command with one part left out as ____']);
    expect(one(exercise({ from: 'nope' }))).toEqual(["lesson 4 exercise x: starts from step 'nope', which lesson 4 does not have"]);
    expect(one(exercise({ checks: [{ title: 't', fact: { file: '${NEVER_SET}' }, equals: 'x' }] }))).toEqual(['lesson 4 exercise x: a check uses ${NEVER_SET}, which the prepared run never sets']);
    expect(one(exercise({ id: 'Bad Id' }))).toContain('lesson 4 exercise Bad Id: its id must be lowercase words joined by -');
    expect(lintPractice([{ lesson: 4, exercises: [exercise()] }], lessons)).toContain('lesson 4: has 1 exercise(s); practice needs two or more');
  });

  it('every exercise of the curriculum passes the linter', async () => {
    const problems = lintPractice(allPractice(), await loadAll()).filter((p) => !/has \d exercise\(s\)/.test(p));
    expect(problems).toEqual([]);
  });

  it("the learner's rc is valid bash, and a variable's value stays data", () => {
    const rc = rcFile({ BOX: '42', WORK: "/w/it's $(id) `x`", lower: 'skipped' }, '4.1 hostname');
    expect(spawnSync('bash', ['-n'], { input: rc }).status).toBe(0);
    const r = spawnSync('bash', ['-c', `${exports({ WORK: "/w/it's $(id) `x`" })}; printf '%s' "$WORK"`], { encoding: 'utf8' });
    expect(r.stdout).toBe("/w/it's $(id) `x`");
    expect(rc).not.toContain('lower=');
    const sc = spawnSync('shellcheck', ['-s', 'bash', '-S', 'warning', '-'], { input: rc, encoding: 'utf8' });
    if (!sc.error) expect(sc.stdout).toBe('');
  });

  it("the conversation on fd 3: each line the shell writes is answered in order, and the shell's exit code comes back", async () => {
    const asked: string[] = [];
    const code = await new RealRunner().converse(
      { file: 'bash', args: ['-c', 'for q in prompt hint; do printf "%s\\n" "$q" >&3; IFS= read -r a <&3; [ "$a" = "answer to $q" ] || exit 9; done; exit 3'] },
      {},
      async (q) => (asked.push(q), `answer to ${q}`),
    );
    expect([asked, code]).toEqual([['prompt', 'hint'], 3]);
  });
});

describe("the learner's shell", () => {
  it('says solved a moment after the prompt when what the command started acts late (a container writing its output)', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { PassThrough } = await import('node:stream');
    const { exerciseShell } = await import('../../src/practice/shell.js');
    const dir = mkdtempSync(join(tmpdir(), 'boxlab-unit-shell-'));
    try {
      const out = join(dir, 'mine.out');
      const ex: Exercise = { id: 'late', title: 'late output', goal: 'g', checks: [{ title: 'the output is there', fact: { file: out }, equals: 'hi' }], hints: ['a', 'b', 'c ____'], solution: 'true' };
      // The learner's bash, played: one command whose effect lands 300 ms after its prompt, then
      // nothing typed for 2.5 s.
      const runner = new RealRunner();
      const asked: string[] = [];
      runner.converse = async (_c, _env, answer) => {
        asked.push(await answer('prompt'));
        setTimeout(() => writeFileSync(out, 'hi'), 300);
        await new Promise((r) => setTimeout(r, 2500));
        return 0;
      };
      const screen = new PassThrough();
      let text = '';
      screen.on('data', (d) => (text += String(d)));
      let solvedEvents = 0;
      const ending = await exerciseShell(ex, '1/late', {}, runner, dir, screen, { hint: () => {}, check: () => {}, solved: () => void solvedEvents++ });
      expect(asked).toEqual(['open']);
      expect(text).toContain('✓ solved: late output');
      expect([ending, solvedEvents]).toEqual(['solved', 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
