import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { RecordingRunner } from '../../src/shell/spawn.js';
import { cmd, quote } from '../../src/shell/cmd.js';
import { runLesson } from '../../src/engine/execute.js';
import { StateFile, type HostResource } from '../../src/box/state.js';
import { CORE_PATTERN } from '../../src/kernel/escapes.js';
import type { Lesson, Step } from '../../src/model/lesson.js';
import { collect, feature, lessonOf, tempDir } from './helpers.js';

const vars = { RUN_ID: 'r1', WORK: '/tmp/boxlab-r1', ROOTFS: '/tmp/boxlab-r1/rootfs' };
/** The recording runner creates nothing, so tell cleanup that all it recorded exists. */
const isPresent = () => true;
const noLoad = async (): Promise<Lesson> => {
  throw new Error('no lessons to load');
};
const ok = { title: 'echo says ok', fact: { out: cmd('echo', 'ok') }, equals: 'ok' };

function threeSteps(failAt?: string): Step[] {
  return [
    { id: 'one', title: 'one', feature, creates: [{ dir: '${WORK}' }, { mount: '${WORK}/m1' }], actions: [{ run: cmd('mkdir', '-p', '${WORK}') }, { run: cmd('mount', '-t', 'tmpfs', 't', '${WORK}/m1') }], checks: [ok] },
    { id: 'two', title: 'two', feature, creates: [{ mount: '${WORK}/m2' }], actions: [{ run: cmd('mount', '-t', 'tmpfs', 't', '${WORK}/m2') }, { run: cmd(failAt ?? 'true') }], checks: [ok] },
    { id: 'three', title: 'three', feature, creates: [{ mount: '${WORK}/m3' }], actions: [{ run: cmd('mount', '-t', 'tmpfs', 't', '${WORK}/m3') }], checks: [ok] },
  ];
}
const echoOk = (line: string) => (line === 'echo ok' ? { stdout: 'ok\n' } : undefined);

let runDir: string;
beforeEach(() => {
  runDir = tempDir();
  process.env.BOXLAB_RUN_DIR = runDir;
});
afterEach(() => {
  rmSync(runDir, { recursive: true, force: true });
  delete process.env.BOXLAB_RUN_DIR;
});

describe('the step runner', () => {
  it('runs every step and undoes what they created, last first', async () => {
    const runner = new RecordingRunner(echoOk);
    const { events, emit } = collect();
    const out = await runLesson(lessonOf(threeSteps()), { runner, emit, dryRun: false, vars, isPresent, load: noLoad });
    expect(out).toMatchObject({ ok: true, code: 0 });
    expect(runner.calls.slice(-4)).toEqual(['umount -l /tmp/boxlab-r1/m3', 'umount -l /tmp/boxlab-r1/m2', 'umount -l /tmp/boxlab-r1/m1', 'rm -rf --one-file-system /tmp/boxlab-r1']);
    expect(events.filter((e) => e.type === 'check').every((e) => e.type === 'check' && e.ok)).toBe(true);
  });

  it('cleans up in reverse order when step 2 fails, and never starts step 3', async () => {
    const runner = new RecordingRunner((line) => (line === 'false' ? { code: 1, stderr: 'nope\n' } : echoOk(line)));
    const { emit } = collect();
    const out = await runLesson(lessonOf(threeSteps('false')), { runner, emit, dryRun: false, vars, isPresent, load: noLoad });
    expect(out).toMatchObject({ ok: false, code: 1 });
    expect(out.reason).toContain('`false` exited 1: nope');
    expect(runner.calls).not.toContain('mount -t tmpfs t /tmp/boxlab-r1/m3');
    expect(runner.calls.slice(-3)).toEqual(['umount -l /tmp/boxlab-r1/m2', 'umount -l /tmp/boxlab-r1/m1', 'rm -rf --one-file-system /tmp/boxlab-r1']);
  });

  it('on SIGINT cancels, cleans up in reverse and exits 130', async () => {
    const ac = new AbortController();
    // Ctrl-C arrives while step 2's mount runs.
    const runner = new RecordingRunner((line) => {
      if (line.endsWith('/m2')) ac.abort();
      return echoOk(line);
    });
    const { events, emit } = collect();
    const out = await runLesson(lessonOf(threeSteps()), { runner, emit, dryRun: false, vars, isPresent, load: noLoad, signal: ac.signal });
    expect(out).toMatchObject({ ok: false, code: 130, reason: 'interrupted' });
    expect(runner.calls).not.toContain('true');
    expect(runner.calls.slice(-3)).toEqual(['umount -l /tmp/boxlab-r1/m2', 'umount -l /tmp/boxlab-r1/m1', 'rm -rf --one-file-system /tmp/boxlab-r1']);
    expect(events.at(-1)).toMatchObject({ type: 'end', code: 130 });
  });

  it('fails the lesson on a failed check, with the evidence in the event', async () => {
    const runner = new RecordingRunner((line) => (line === 'echo ok' ? { stdout: 'not ok\n' } : undefined));
    const { events, emit } = collect();
    const out = await runLesson(lessonOf(threeSteps()), { runner, emit, dryRun: false, vars, isPresent, load: noLoad });
    expect(out).toMatchObject({ ok: false, code: 1 });
    expect(out.reason).toContain('check failed: echo says ok');
    expect(events.find((e) => e.type === 'check')).toMatchObject({ ok: false, actual: 'not ok', expected: 'ok' });
    expect(runner.calls.at(-1)).toBe('rm -rf --one-file-system /tmp/boxlab-r1');
  });

  it('never lets an empty fact pass a check, whatever the comparison', async () => {
    const checks = [
      { title: 'equals', fact: { out: cmd('cat', '/gone') }, equals: { out: cmd('cat', '/also-gone') } },
      { title: 'differs', fact: { out: cmd('cat', '/gone') }, differs: 'x' },
      { title: 'lacks', fact: { out: cmd('cat', '/gone') }, lacks: 'shared:' },
    ];
    const step: Step = { id: 'e', title: 'e', feature, actions: [], checks };
    const { events, emit } = collect();
    const out = await runLesson(lessonOf([step]), { runner: new RecordingRunner(), emit, dryRun: false, vars, isPresent, load: noLoad });
    expect(out.ok).toBe(false);
    expect(events.filter((e) => e.type === 'check').map((e) => e.type === 'check' && e.ok)).toEqual([false, false, false]);
  });

  it('skips a step whose kernel feature is missing, with the reason, and runs the rest', async () => {
    const steps = threeSteps();
    steps[1] = { ...steps[1]!, requires: [{ path: '/proc/self/ns/no-such-namespace', reason: 'no such namespace here' }] };
    const runner = new RecordingRunner(echoOk);
    const { events, emit } = collect();
    const out = await runLesson(lessonOf(steps), { runner, emit, dryRun: false, vars, isPresent, load: noLoad });
    expect(out.ok).toBe(true);
    expect(events).toContainEqual(expect.objectContaining({ type: 'skip', id: 'two', reason: 'no such namespace here' }));
    expect(runner.calls).not.toContain('mount -t tmpfs t /tmp/boxlab-r1/m2');
    expect(runner.calls).toContain('mount -t tmpfs t /tmp/boxlab-r1/m3');
  });

  it('reports a missing tool as an environment problem', async () => {
    const runner = new RecordingRunner((line) => (line.startsWith('mount') ? { code: 127, stderr: 'mount: command not found' } : echoOk(line)));
    const out = await runLesson(lessonOf(threeSteps()), { runner, emit: () => {}, dryRun: false, vars, isPresent, load: noLoad });
    expect(out).toMatchObject({ ok: false, code: 1 });
    expect(out.reason).toMatch(/missing tool: mount/);
  });

  it('records a resource in the state file before the command that creates it runs', async () => {
    const state = new StateFile('r1');
    const seen: string[] = [];
    const runner = new RecordingRunner((line) => {
      if (line.startsWith('mount')) seen.push(readFileSync(state.path, 'utf8'));
      return echoOk(line);
    });
    await runLesson(lessonOf(threeSteps()), { runner, emit: () => {}, dryRun: false, vars, isPresent, load: noLoad, state });
    expect(seen[0]).toContain('/tmp/boxlab-r1/m1');
    expect(seen[1]).toContain('/tmp/boxlab-r1/m2');
    // Everything undone: the state file is gone.
    expect(() => readFileSync(state.path)).toThrow();
  });

  it("keeps the host's escape files before the learner's own commands, and writes back one that changed", async () => {
    const state = new StateFile('r5');
    let during = '';
    const runner = new RecordingRunner(echoOk);
    // As if the learner's shell had changed core_pattern: it now differs from what was kept.
    const changed = (r: HostResource) => 'restore' in r && r.restore === CORE_PATTERN;
    const session = async () => void (during = readFileSync(state.path, 'utf8'));
    await runLesson(lessonOf([threeSteps()[0]!]), { runner, emit: () => {}, dryRun: false, vars, isPresent: (r) => !('restore' in r) || changed(r), load: noLoad, state, session });
    const kept = (JSON.parse(during) as { resources: HostResource[] }).resources.filter((r) => 'restore' in r);
    const core = readFileSync(CORE_PATTERN, 'utf8').replace(/\n$/, '');
    expect(kept).toContainEqual({ restore: CORE_PATTERN, content: core });
    // Written back: core_pattern (changed), not the files left as they were.
    expect(runner.calls.filter((c) => c.startsWith('tee '))).toEqual([`tee ${CORE_PATTERN} <<< ${quote(core)}`]);
  });

  it('counts a failed teardown of something already gone as done', async () => {
    const state = new StateFile('r4');
    const runner = new RecordingRunner((line) => (line.startsWith('umount') ? { code: 32, stderr: 'not mounted' } : echoOk(line)));
    let checks = 0;
    // Present when cleanup looks, gone by the time the umount has failed.
    const present = () => ++checks % 2 === 1;
    const out = await runLesson(lessonOf(threeSteps()), { runner, emit: () => {}, dryRun: false, vars, load: noLoad, state, isPresent: present });
    expect(out).toMatchObject({ ok: true, code: 0 });
    expect(() => readFileSync(state.path)).toThrow();
  });

  it('keeps the state file when cleanup fails, for reset', async () => {
    const state = new StateFile('r2');
    const runner = new RecordingRunner((line) => (line.startsWith('umount') ? { code: 32, stderr: 'busy' } : echoOk(line)));
    const out = await runLesson(lessonOf(threeSteps()), { runner, emit: () => {}, dryRun: false, vars, isPresent, load: noLoad, state });
    expect(out).toMatchObject({ ok: false, code: 1 });
    expect(out.reason).toMatch(/boxlab reset/);
    expect(JSON.parse(readFileSync(state.path, 'utf8')).resources).toHaveLength(3);
  });

  it('on SIGINT during a command that names what it made, still records it and undoes it', async () => {
    const ac = new AbortController();
    const step: Step = { id: 'ipc', title: 'ipc', feature, creates: [{ shm: 'SHM' }], actions: [{ run: cmd('ipcmk', '--shmem', '64'), capture: 'SHM' }], checks: [ok] };
    // Ctrl-C arrives while ipcmk runs; it finishes and prints the id anyway.
    const runner = new RecordingRunner((line) => {
      if (line.startsWith('ipcmk')) {
        ac.abort();
        return { stdout: 'Shared memory id: 42\n' };
      }
      return echoOk(line);
    });
    const out = await runLesson(lessonOf([step]), { runner, emit: () => {}, dryRun: false, vars, isPresent, load: noLoad, signal: ac.signal });
    expect(out).toMatchObject({ ok: false, code: 130 });
    expect(runner.calls.at(-1)).toBe('ipcrm --shmem-id 42');
  });

  it('one run fills several variables with `also`; one that matches nothing fails the step', async () => {
    const out = 'manifest sha256:aa\nconfig   sha256:bb\n';
    const step = (also: Record<string, string>): Step => ({ id: 'inspect', title: 'inspect', feature, actions: [{ run: cmd('inspect'), capture: 'M', match: 'manifest sha256:([a-f]+)', also }], checks: [{ title: 'both', fact: { out: cmd('echo', '${M}-${C}') }, equals: 'aa-bb' }] });
    const runner = new RecordingRunner((line) => (line === 'inspect' ? { stdout: out } : line === 'echo aa-bb' ? { stdout: 'aa-bb\n' } : undefined));
    expect(await runLesson(lessonOf([step({ C: 'config +sha256:([a-f]+)' })]), { runner, emit: () => {}, dryRun: false, vars, isPresent, load: noLoad })).toMatchObject({ ok: true });
    expect(runner.calls.filter((c) => c === 'inspect')).toHaveLength(1);
    const failed = await runLesson(lessonOf([step({ C: 'layer (x+)' })]), { runner, emit: () => {}, dryRun: false, vars, isPresent, load: noLoad });
    expect(failed).toMatchObject({ ok: false, code: 1 });
    expect(failed.reason).toContain('printed nothing matching layer (x+)');
  });

  it('forgets, without a teardown, what a step recorded but never created', async () => {
    const state = new StateFile('r3');
    const runner = new RecordingRunner(echoOk);
    const out = await runLesson(lessonOf(threeSteps()), { runner, emit: () => {}, dryRun: false, vars, load: noLoad, state, isPresent: () => false });
    expect(out.ok).toBe(true);
    expect(runner.calls.filter((c) => c.startsWith('umount') || c.startsWith('rm'))).toEqual([]);
    expect(() => readFileSync(state.path)).toThrow();
  });

  it('kills a started process at cleanup by its PID', async () => {
    const step: Step = { id: 'bg', title: 'bg', feature, creates: [{ process: 'SLEEPER' }], actions: [{ start: cmd('sleep', '9'), pid: 'SLEEPER' }], checks: [ok] };
    const runner = new RecordingRunner(echoOk);
    await runLesson(lessonOf([step]), { runner, emit: () => {}, dryRun: false, vars, isPresent, load: noLoad });
    expect(runner.calls).toEqual(['sleep 9', 'echo ok', 'kill -KILL 4000']);
  });

  it('replays the steps of earlier lessons quietly, first, without their break-its', async () => {
    const first = lessonOf(
      [
        { id: 'base', title: 'base', feature, actions: [{ run: cmd('echo', 'base') }], checks: [ok] },
        { id: 'demo', title: 'demo', feature, breakIt: { demo: 'd', role: 'attack' }, actions: [{ run: cmd('echo', 'attack') }], checks: [ok] },
      ],
      { number: 1 },
    );
    const second = lessonOf([{ id: 'next', title: 'next', feature, actions: [{ run: cmd('echo', 'next') }], checks: [ok] }], { number: 2, buildsOn: [1] });
    const runner = new RecordingRunner(echoOk);
    const { events, emit } = collect();
    await runLesson(second, { runner, emit, dryRun: false, vars, load: async () => first });
    expect(runner.calls.filter((c) => c !== 'echo ok')).toEqual(['echo base', 'echo next']);
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.map((s) => [s.type === 'step' && s.id, s.quiet ?? false])).toEqual([
      ['base', true],
      ['next', false],
    ]);
  });

  it('replays nothing when a kernel path every step of the lesson needs is missing: each step is skipped with its reason', async () => {
    const first = lessonOf([{ id: 'base', title: 'base', feature, actions: [{ run: cmd('echo', 'base') }], checks: [ok] }], { number: 1 });
    const gone = { path: '/nonexistent/boxlab-feature', reason: 'no such feature here' };
    const second = lessonOf([{ id: 'next', title: 'next', feature, requires: [gone], actions: [{ run: cmd('echo', 'next') }], checks: [ok] }], { number: 2, buildsOn: [1] });
    const runner = new RecordingRunner(echoOk);
    const { events, emit } = collect();
    const out = await runLesson(second, { runner, emit, dryRun: false, vars, load: async () => first });
    expect(out.ok).toBe(true);
    expect(runner.calls).toEqual([]);
    expect(events.filter((e) => e.type === 'replay')).toEqual([]);
    expect(events.filter((e) => e.type === 'skip').map((e) => e.type === 'skip' && e.reason)).toEqual(['no such feature here']);
    // One step that can run: the replay is back.
    const mixed = lessonOf([...second.steps, { id: 'other', title: 'other', feature, actions: [{ run: cmd('echo', 'other') }], checks: [ok] }], { number: 2, buildsOn: [1] });
    const again = new RecordingRunner(echoOk);
    await runLesson(mixed, { runner: again, emit: () => {}, dryRun: false, vars, load: async () => first });
    expect(again.calls.filter((c) => c !== 'echo ok')).toEqual(['echo base', 'echo other']);
  });

  it('runs nothing in a dry run and still shows every check', async () => {
    const runner = new RecordingRunner();
    const { events, emit } = collect();
    const out = await runLesson(lessonOf(threeSteps()), { runner, emit, dryRun: true, vars, isPresent, load: noLoad });
    expect(out.ok).toBe(true);
    expect(runner.calls).toEqual([]);
    expect(events.filter((e) => e.type === 'check')).toHaveLength(3);
  });

  it('treats Ctrl-C at the prompt as an interrupt: cleanup, exit 130', async () => {
    const ac = new AbortController();
    const runner = new RecordingRunner(echoOk);
    const pause = async (_s: Step, i: number) => {
      if (i === 1) return 'run' as const;
      ac.abort();
      return 'quit' as const;
    };
    const out = await runLesson(lessonOf(threeSteps()), { runner, emit: () => {}, dryRun: false, vars, isPresent, load: noLoad, pause, signal: ac.signal });
    expect(out).toMatchObject({ ok: false, code: 130 });
    expect(runner.calls.at(-1)).toBe('rm -rf --one-file-system /tmp/boxlab-r1');
  });

  it('asks before each step and honours skip and quit', async () => {
    const answers = ['run', 'skip', 'quit'] as const;
    const runner = new RecordingRunner(echoOk);
    const { events, emit } = collect();
    const out = await runLesson(lessonOf(threeSteps()), { runner, emit, dryRun: false, vars, isPresent, load: noLoad, pause: async (_s, i) => answers[i - 1]! });
    expect(out).toMatchObject({ ok: false, code: 0 });
    expect(events.some((e) => e.type === 'skip' && e.id === 'two')).toBe(true);
    expect(runner.calls).not.toContain('mount -t tmpfs t /tmp/boxlab-r1/m3');
    expect(runner.calls.at(-1)).toBe('rm -rf --one-file-system /tmp/boxlab-r1');
  });
});

describe('--step: again and back', () => {
  // Step one creates things (evidence only on a repeat); step two changes nothing it keeps.
  const steps = (): Step[] => [
    { id: 'one', title: 'one', feature, creates: [{ mount: '${WORK}/m1' }], actions: [{ run: cmd('mount', '-t', 'tmpfs', 't', '${WORK}/m1') }], checks: [ok] },
    { id: 'two', title: 'two', feature, actions: [{ run: cmd('hostname', 'box') }], checks: [ok] },
    { id: 'three', title: 'three', feature, actions: [{ run: cmd('true') }], checks: [ok] },
  ];

  it('again runs the last step once more when it creates nothing; back shows the one before as evidence, saying why', async () => {
    const runner = new RecordingRunner(echoOk);
    const { events, emit } = collect();
    // Before step 3: again (step 2), back (step 1), then run.
    const answers: Record<number, string[]> = { 3: ['again', 'back', 'run'] };
    const pause = async (_s: Step, i: number) => (answers[i]?.shift() ?? 'run') as 'run';
    const out = await runLesson(lessonOf(steps()), { runner, emit, dryRun: false, vars, isPresent, load: noLoad, pause });
    expect(out).toMatchObject({ ok: true, code: 0 });
    expect(runner.calls.filter((c) => c === 'hostname box')).toHaveLength(2);
    expect(runner.calls.filter((c) => c.startsWith('mount '))).toHaveLength(1);
    const notes = events.flatMap((e) => (e.type === 'note' ? [e.text] : []));
    expect(notes[0]).toBe('Step 2 again, commands and all.');
    expect(notes[1]).toMatch(/^Step 1 again: its evidence only.*made something that exist/);
    const again = events.filter((e) => e.type === 'step' && e.again);
    expect(again.map((e) => e.type === 'step' && e.index)).toEqual([2, 1]);
    // Each repeat read its checks from the kernel again.
    expect(events.filter((e) => e.type === 'check')).toHaveLength(5);
  });

  it('says so when there is nothing to repeat, and a repeat that fails is not fatal', async () => {
    let n = 0;
    const runner = new RecordingRunner((line) => (line === 'hostname box' && n++ > 0 ? { code: 1, stderr: 'busy\n' } : echoOk(line)));
    const { events, emit } = collect();
    const answers: Record<number, string[]> = { 1: ['again', 'run'], 3: ['again', 'run'] };
    const pause = async (_s: Step, i: number) => (answers[i]?.shift() ?? 'run') as 'run';
    const out = await runLesson(lessonOf(steps()), { runner, emit, dryRun: false, vars, isPresent, load: noLoad, pause });
    expect(out).toMatchObject({ ok: true, code: 0 });
    const notes = events.flatMap((e) => (e.type === 'note' ? [e.text] : []));
    expect(notes[0]).toBe('No step has run yet: nothing to repeat.');
    expect(notes.at(-1)).toMatch(/^The repeat did not pass: .*hostname box.*The lesson goes on/);
  });
});
