import { describe, expect, it } from 'vitest';
import { indexProblems, LESSONS, loadAll, markdownPath } from '../../lessons/index.js';
import { lintLessons } from '../../src/engine/lint.js';
import { cmd, shProgram } from '../../src/shell/cmd.js';
import { nsenterCmd } from '../../src/shell/nsenter.js';
import type { Step } from '../../src/model/lesson.js';
import { feature, lessonOf } from './helpers.js';

const check = { title: 'c', fact: { file: '/proc/self/status' }, contains: 'Name' };
const lintOne = (steps: Step[], prose = true) => {
  const l = lessonOf(steps);
  if (!prose) l.prose.steps = {};
  return lintLessons([l]);
};

describe('the lesson linter', () => {
  it('passes every lesson of the curriculum', async () => {
    const lessons = await loadAll();
    expect(lintLessons(lessons, LESSONS.map(markdownPath))).toEqual([]);
  });

  it('takes each lesson\'s number and name from its directory, and finds data that disagrees', async () => {
    expect(LESSONS.map((e) => `${String(e.number).padStart(2, '0')}-${e.slug}`)).toEqual(LESSONS.map((e) => e.dir));
    expect(await indexProblems()).toEqual([]);
    const l3 = LESSONS.find((e) => e.number === 3)!;
    const original = l3.load;
    l3.load = async () => ({ default: { ...((await original()).default as object), number: 4, slug: 'pid' } as never });
    try {
      expect(await indexProblems()).toEqual(["lessons/03-pid: its data says lesson 4 'pid'"]);
    } finally {
      l3.load = original;
    }
  });

  it('wants a kernel feature and a check on every step', () => {
    const problems = lintOne([{ id: 'a', title: 'a', feature: { name: '', syscalls: [], man: [] }, actions: [], checks: [] }]);
    expect(problems).toContain('lesson 50 step a: needs a kernel feature with its syscalls and man pages');
    expect(problems).toContain('lesson 50 step a: needs at least one check that proves it from kernel facts');
  });

  it('keeps host shell strings out of lessons: a shell program is a shProgram, its values as arguments', () => {
    const step = (run: ReturnType<typeof cmd>, fact = cmd('true')): Step => ({ id: 'a', title: 'a', feature, actions: [{ run }], checks: [{ title: 'c', fact: { status: fact }, equals: '0' }] });
    expect(lintOne([step(cmd('sh', '-c', 'dmesg | grep -c sysrq'))])).toEqual(['lesson 50 step a: runs a host shell string (dmesg | grep -c sysrq): make it a builder with shProgram, its values as arguments']);
    expect(lintOne([step(cmd('true'), cmd('bash', '-euc', 'cat /proc/1/status'))])).toHaveLength(1);
    expect(lintOne([step(shProgram('sh', '-c', 'ls ${WORK}/x', 'ls'))])).toEqual(['lesson 50 step a: its host shell program pastes ${WORK} into the text: pass it as an argument ($1 ...)']);
    expect(lintOne([step(shProgram('sh', '-c', 'ls "$1"/x | wc -l', 'ls', '${WORK}'))])).toEqual([]);
    // The text a box runs is the lesson's (a fork bomb, a probe): only the host's shell is held.
    expect(lintOne([step(nsenterCmd({ target: '${HOST_PID}', ns: ['mount'] }, cmd('sh', '-c', 'echo "$HOSTNAME"')))])).toEqual([]);
  });

  it('wants a diagram to fit 100 columns and to draw the names the step uses', () => {
    const s: Step = { id: 'a', title: 'a', feature, actions: [{ run: cmd('ip', 'link', 'add', 'boxlab-h0', 'type', 'veth', 'peer', 'boxlab-c0') }], checks: [check], creates: [{ link: 'boxlab-h0' }] };
    expect(lintOne([{ ...s, diagram: '┌──┐\n│ boxlab-h0 ━━ boxlab-c0 │\n└──┘' }])).toEqual([]);
    const wide = '─'.repeat(101);
    expect(lintOne([{ ...s, diagram: `ok\n${wide}` }])).toContain("lesson 50 step a: its diagram's line 2 is 101 columns wide (at most 100)");
    // Box-drawing characters are one column each, though three bytes in UTF-8.
    expect(lintOne([{ ...s, diagram: '─'.repeat(100) }])).toEqual([]);
    expect(lintOne([{ ...s, diagram: 'a\tb' }])).toContain("lesson 50 step a: its diagram's line 1 holds a tab or control character");
    const wrong = lintOne([{ ...s, diagram: 'boxlab-h9 198.51.100.7' }]);
    expect(wrong).toContain("lesson 50 step a: its diagram names boxlab-h9, which none of the lesson's commands or facts use");
    expect(wrong).toContain("lesson 50 step a: its diagram names 198.51.100.7, which none of the lesson's commands or facts use");
  });

  it('wants unique ids and a markdown section per step', () => {
    const s: Step = { id: 'a', title: 'a', feature, actions: [], checks: [check] };
    expect(lintOne([s, s])).toContain('lesson 50 step a: duplicate step id');
    expect(lintOne([s], false)).toContain('lesson 50 step a: the markdown has no "## a" section');
  });

  it('wants a cleanup for everything a step creates', () => {
    const problems = lintOne([
      {
        id: 'a',
        title: 'a',
        feature,
        actions: [{ run: cmd('mount', '-t', 'tmpfs', 'x', '${WORK}/m') }, { start: cmd('sleep', '9'), pid: 'P' }, { run: cmd('mkdir', '-p', '/etc/boxlab-x') }],
        checks: [check],
      },
    ]);
    expect(problems).toEqual([
      'lesson 50 step a: mounts ${WORK}/m on the host without declaring it in creates',
      'lesson 50 step a: starts a process (P) without declaring it in creates',
      'lesson 50 step a: creates /etc/boxlab-x outside any declared directory',
    ]);
  });

  it('accepts paths inside a declared directory, ROOTFS being inside WORK', () => {
    const ok: Step = { id: 'a', title: 'a', feature, creates: [{ dir: '${WORK}' }], actions: [{ run: cmd('mkdir', '-p', '${ROOTFS}/x') }], checks: [check] };
    expect(lintOne([ok])).toEqual([]);
  });

  it('wants every variable set before use', () => {
    const s: Step = { id: 'a', title: 'a', feature, actions: [{ run: cmd('ls', '/proc/${BOX}') }], checks: [check] };
    expect(lintOne([s])).toEqual(['lesson 50 step a: uses ${BOX} before anything sets it']);
  });

  it('wants every break-it attack to be defended', () => {
    const s: Step = { id: 'a', title: 'a', feature, breakIt: { demo: 'escape', role: 'attack' }, actions: [], checks: [check] };
    expect(lintOne([s])).toEqual(['break-it escape: the attack is never defended (no defence step)']);
  });
});
