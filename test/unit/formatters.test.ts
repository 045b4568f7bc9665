import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { spawnSync } from 'node:child_process';
import chalk from 'chalk';
import { LESSONS, loadByNumber, loadLesson } from '../../lessons/index.js';
import { runLesson } from '../../src/engine/execute.js';
import { RecordingRunner } from '../../src/shell/spawn.js';
import { workspaceVars } from '../../src/engine/workspace.js';
import { scriptFormatter } from '../../src/report/script.js';
import { jsonFormatter } from '../../src/report/json.js';
import { evidence, terminalFormatter } from '../../src/report/terminal.js';
import { expectation } from '../../src/engine/facts.js';
import type { Check } from '../../src/model/lesson.js';
import type { Event } from '../../src/engine/events.js';
import { cmd } from '../../src/shell/cmd.js';
import { feature, lessonOf } from './helpers.js';

chalk.level = 0;
const vars = workspaceVars('abcd1234', { CACHE_DIR: '/var/cache/boxlab/rootfs', ROOTFS_CACHE: '/var/cache/boxlab/rootfs/busybox-x', BUSYBOX: '/bin/busybox' });

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function scriptOf(n: number): Promise<string> {
  const out = capture();
  const lesson = await loadLesson(LESSONS.find((l) => l.number === n)!);
  await runLesson(lesson, { runner: new RecordingRunner(), emit: scriptFormatter(out.stream, `boxlab lesson ${n} --script`), dryRun: true, vars, load: loadByNumber });
  return out.text();
}

describe('--script', () => {
  it.each(LESSONS.map((l) => l.number))('lesson %i is valid bash with one check line per check', async (n) => {
    const script = await scriptOf(n);
    const syntax = spawnSync('bash', ['-n'], { input: script });
    expect(syntax.stderr.toString()).toBe('');
    expect(syntax.status).toBe(0);
    const lesson = await loadByNumber(n);
    const own = lesson.steps.flatMap((s) => s.checks).length;
    expect(script.match(/^boxlab_check /gm)!.length).toBeGreaterThanOrEqual(own);
    expect(script).toMatch(/^set -euo pipefail$/m);
    expect(script).toContain('trap boxlab_cleanup EXIT');
  });

  it('registers cleanups unexpanded, so a PID set later is still killed', async () => {
    const script = await scriptOf(2);
    expect(script).toContain(`boxlab_on_exit 'kill -KILL "\${BOX_LAUNCHER}" 2>/dev/null; wait "\${BOX_LAUNCHER}" 2>/dev/null'`);
    expect(script).toContain('BOX=$(boxlab_child "${BOX_LAUNCHER}" sleep)');
    expect(script).toContain('HOST_PID=$$');
  });

  it("keeps a file to restore before its step, and writes that text back on exit", async () => {
    const script = await scriptOf(7);
    const kept = script.indexOf('CORE_PATTERN_WAS=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || true)');
    const undo = script.indexOf(`boxlab_on_exit 'tee /proc/sys/kernel/core_pattern <<< "\${CORE_PATTERN_WAS}"'`);
    const attack = script.indexOf('echo "$1" > /proc/sys/kernel/core_pattern');
    expect(kept).toBeGreaterThan(0);
    expect(undo).toBeGreaterThan(kept);
    expect(attack).toBeGreaterThan(undo);
  });

  it('renders facts the way the engine reads them', async () => {
    const script = await scriptOf(2);
    expect(script).toContain(`boxlab_check 'the box has its own mount namespace' differs "$(readlink "/proc/\${BOX}/ns/mnt")" "$(readlink /proc/self/ns/mnt)"`);
  });
});

describe('--script with requirements', () => {
  it('wraps a step that needs a kernel feature in a test for it', async () => {
    const script = await scriptOf(4);
    expect(script).toContain(`if [ ! -e /proc/self/ns/time ]; then\n  boxlab_say '  skipped: this kernel has no time namespaces (they came in Linux 5.6)'\nelse`);
    expect(spawnSync('bash', ['-n'], { input: script }).status).toBe(0);
  });
});

describe('--script, run by bash', () => {
  it.skipIf(process.geteuid?.() !== 0)("takes a capture's `also` variables from the same output, as the engine does", async () => {
    const out = capture();
    const lesson = lessonOf([{
      id: 'inspect', title: 'inspect', feature,
      actions: [{ run: cmd('printf', 'manifest sha256:aa\\nconfig   sha256:bb\\n'), capture: 'M', match: 'manifest sha256:([a-f]+)', also: { C: 'config +sha256:([a-f]+)' } }],
      checks: [{ title: 'both', fact: { out: cmd('echo', '${M}-${C}') }, equals: 'aa-bb' }],
    }]);
    await runLesson(lesson, { runner: new RecordingRunner(), emit: scriptFormatter(out.stream, 'test'), dryRun: true, vars, load: loadByNumber });
    const run = spawnSync('bash', [], { input: out.text(), encoding: 'utf8' });
    expect(run.stdout).toContain('C=bb');
    expect(run.stdout).toContain('M=aa');
    expect(run.status).toBe(0);
  });
});

describe('--json', () => {
  it('writes one parseable event per line', async () => {
    const out = capture();
    const lesson = await loadByNumber(1);
    await runLesson(lesson, { runner: new RecordingRunner(), emit: jsonFormatter(out.stream), dryRun: true, vars, load: loadByNumber });
    const events = out.text().trim().split('\n').map((l) => JSON.parse(l) as Event);
    expect(events[0]!.type).toBe('lesson');
    expect(events.at(-1)!.type).toBe('end');
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['lesson', 'step', 'feature', 'resource', 'cmd', 'probe', 'check', 'cleanup', 'end']));
  });
});

describe('the terminal', () => {
  it('shows the command, its kernel feature and the evidence of each check', () => {
    const out = capture();
    const emit = terminalFormatter(out.stream, 100);
    const check = { title: 'own mount namespace', fact: { link: '/proc/7/ns/mnt' }, differs: { link: '/proc/self/ns/mnt' } };
    emit({ type: 'step', id: 's', title: 'Create the box', index: 1, total: 2, explain: 'Uses `unshare`.' });
    emit({ type: 'feature', feature: { name: 'mount namespace', syscalls: ['unshare(2)'], man: ['mount_namespaces(7)'] } });
    emit({ type: 'cmd', action: { run: cmd('unshare', '--mount') }, shown: 'unshare --mount', result: { code: 0, stdout: 'hello\n', stderr: '', ms: 2.5 } });
    emit({ type: 'check', check, source: 'readlink /proc/7/ns/mnt', against: "the host's", ok: true, actual: 'mnt:[2]', expected: 'not mnt:[1]' });
    emit({ type: 'end', ok: false, code: 1, reason: 'step "x": check failed', ms: 1, toolMs: 1, steps: 1, outro: '' });
    const text = out.text();
    expect(text).toContain('━━ Step 1/2 · Create the box');
    expect(text).toContain('⚙ kernel feature: mount namespace — unshare(2) — man mount_namespaces(7)');
    expect(text).toContain('$ unshare --mount (2.5 ms)');
    expect(text).toContain('│ hello');
    expect(text).toContain('✓ own mount namespace');
    expect(text).toContain("evidence (readlink /proc/7/ns/mnt): it is mnt:[2], which differs from the host's (mnt:[1])");
    expect(text).toContain('✘ step "x": check failed');
  });

  it("shows a long output's head and tail, the lines between counted: a listing's news is often last", () => {
    const out = capture();
    const emit = terminalFormatter(out.stream, 100);
    const listing = Array.from({ length: 30 }, (_, i) => `layer ${i + 1}`).join('\n');
    emit({ type: 'cmd', action: { run: cmd('ls') }, shown: 'ls', result: { code: 0, stdout: `${listing}\n`, stderr: '', ms: 1 } });
    const lines = out.text().split('\n').filter((l) => l.includes('│'));
    expect(lines).toHaveLength(14);
    expect(lines[0]).toContain('layer 1');
    expect(lines[7]).toContain('… 17 more lines …');
    expect(lines.at(-1)).toContain('layer 30');
  });

  it('stays quiet during replays unless something fails there', () => {
    const out = capture();
    const emit = terminalFormatter(out.stream, 88);
    emit({ type: 'cmd', action: { run: cmd('true') }, shown: 'true', result: { code: 0, stdout: '', stderr: '', ms: 1 }, quiet: true });
    expect(out.text()).toBe('');
    emit({ type: 'check', check: { title: 'c', fact: { file: '/x' }, equals: 'a' }, source: 'cat /x', ok: false, actual: 'b', expected: 'a', quiet: true });
    expect(out.text()).toContain('✗ while replaying: c');
  });
});

describe('a check line says what it compares and what it expects', () => {
  const ns: Check = { title: 'own mount namespace', fact: { link: '/proc/7/ns/mnt' }, differs: { link: '/proc/self/ns/mnt' } };
  const refused: Check = { title: 'refused', fact: { status: cmd('mount', '-t', 'tmpfs', 'x', '/mnt') }, differs: '0' };
  const works: Check = { title: 'works', fact: { status: cmd('true') }, equals: '0' };
  const limit: Check = { title: 'limit', fact: { file: '/sys/fs/cgroup/pids/x/pids.max' }, equals: '100' };
  const oom: Check = { title: 'oom', fact: { file: '/sys/fs/cgroup/x/memory.events' }, contains: 'oom_kill 1' };
  const throttled: Check = { title: 'throttled', fact: { file: '/sys/fs/cgroup/x/cpu.stat', grep: 'nr_throttled' }, lacks: 'nr_throttled 0' };
  const pid1: Check = { title: 'pid 1', fact: { file: '/proc/7/status' }, contains: 'NSpid:\t7\t1' };
  const gone: Check = { title: 'gone', fact: { alive: '7' }, equals: 'no' };
  const same: Check = { title: 'same', fact: { link: '/rootfs/proc/1/ns/pid' }, equals: { link: '/proc/self/ns/pid' } };
  const other: Check = { title: 'other', fact: { link: '/proc/8/ns/net' }, differs: { link: '/proc/7/ns/net' } };

  it.each([
    [ns, "it differs from the host's (readlink /proc/self/ns/mnt)"],
    [other, 'it differs from what readlink /proc/7/ns/net gives'],
    [same, "it is the same as the host's (readlink /proc/self/ns/pid)"],
    [refused, 'it fails (any exit status but 0)'],
    [works, 'it succeeds (exit status 0)'],
    [limit, 'it is 100'],
    [oom, 'it contains "oom_kill 1"'],
    [throttled, 'it does not contain "nr_throttled 0"'],
    [pid1, 'it contains "NSpid:\\t7\\t1"'],
    [gone, 'the process is gone'],
  ] as const)('expects: %j', (c, words) => {
    expect(expectation(c)).toBe(words);
  });

  it.each([
    [ns, true, 'mnt:[4026532200]', 'not mnt:[4026531840]', "the host's", "it is mnt:[4026532200], which differs from the host's (mnt:[4026531840])"],
    [ns, false, 'mnt:[4026531840]', 'not mnt:[4026531840]', "the host's", "it is mnt:[4026531840], the same as the host's, and it should differ"],
    [same, true, 'pid:[4026531836]', 'pid:[4026531836]', "the host's", "it is pid:[4026531836], the same as the host's"],
    [same, false, 'pid:[1]', 'pid:[4026531836]', "the host's", "it is pid:[1], but the host's is pid:[4026531836], and they should be the same"],
    [refused, true, '32', 'not 0', undefined, 'exit status 32: it failed, as it should'],
    [refused, false, '0', 'not 0', undefined, 'exit status 0: it succeeded, but it should have failed'],
    [works, true, '0', '0', undefined, 'exit status 0: it succeeded, as expected'],
    [works, false, '1', '0', undefined, 'exit status 1: it failed, but exit status 0 was expected'],
    [limit, true, '100', '100', undefined, 'it is 100, as expected'],
    [limit, false, 'max', '100', undefined, 'it is max, but 100 was expected'],
    [limit, false, '', '100', undefined, 'nothing was read (an unreadable file, a vanished process or no output), so nothing proves that it is 100'],
    // Listings are said by the lines that differ: their first lines alone may be the same.
    [{ title: 'top layer', fact: { file: '/x' }, equals: 'bin/\nbin/.wh.sed' }, false, 'bin/\nbin/.wh.grep', 'bin/\nbin/.wh.sed', undefined, 'it has 2 lines, the expected value 2: extra bin/.wh.grep; missing bin/.wh.sed'],
    [{ title: 'cache', fact: { file: '/x' }, equals: { file: '/y' } }, false, '1 a\n2 b\n3 c', '1 a\n2 b', 'that', 'it has 3 lines, that 2: extra "3 c"'],
    // The values this run filled in, not the placeholders the lesson wrote.
    [{ title: 'flag', fact: { file: '${ROOTFS}/loot' }, contains: 'flag-${RUN_ID}' }, false, '', 'contains flag-ab12cd34', undefined, 'nothing was read (an unreadable file, a vanished process or no output), so nothing proves that it contains "flag-ab12cd34"'],
    [{ title: 'inode', fact: { out: cmd('stat', '-c', '%i', '/x') }, equals: { out: cmd('stat', '-c', '%i', '${WORK}/x') } }, false, '', '1234', 'that', 'nothing was read (an unreadable file, a vanished process or no output), so nothing proves that it is the same as that'],
    [oom, true, 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1', 'contains oom_kill 1', undefined, 'its line "oom_kill 1" contains "oom_kill 1", as expected'],
    [oom, false, 'low 0\noom_kill 0', 'contains oom_kill 1', undefined, 'none of its 2 lines contains "oom_kill 1", but one should'],
    [throttled, true, 'nr_throttled 12', 'lacks nr_throttled 0', undefined, '"nr_throttled 12" does not contain "nr_throttled 0", as expected'],
    [throttled, false, 'nr_throttled 0', 'lacks nr_throttled 0', undefined, '"nr_throttled 0" contains "nr_throttled 0", and it should not'],
    [pid1, true, 'Name:\tsh\nNSpid:\t7\t1', 'contains NSpid:\t7\t1', undefined, 'its line "NSpid:\\t7\\t1" contains "NSpid:\\t7\\t1", as expected'],
    [gone, true, 'no', 'no', undefined, 'the process is gone, as expected'],
    [gone, false, 'yes', 'no', undefined, 'the process is alive, but it should be gone'],
    [other, true, 'net:[2]', 'not net:[1]', 'what readlink /proc/7/ns/net gives', 'it is net:[2], which differs from what readlink /proc/7/ns/net gives (net:[1])'],
  ] as const)('evidence of %j (ok %s, actual %j)', (c, _ok, actual, expected, against, words) => {
    const text = evidence(c, actual, expected, against);
    expect(text).toBe(words);
    expect(text).not.toMatch(/≠|: no$| — none of/);
  });

  it('in --dry-run, names the expectation under each check', () => {
    const out = capture();
    const emit = terminalFormatter(out.stream, 88);
    emit({ type: 'check', check: oom, source: 'cat /sys/fs/cgroup/x/memory.events', expects: 'it contains "oom_kill 1"' });
    expect(out.text()).toBe('  ? check: oom\n      expects (cat /sys/fs/cgroup/x/memory.events): it contains "oom_kill 1"\n');
  });
  // Every lesson's --dry-run: test/unit/width.test.ts (at 100 columns, with the wrapped forms).
});

describe('the recap at the end of a real run', () => {
  it('lists each of the lesson\'s own steps once (its last run), its feature and its checks; not the replays', () => {
    const out = capture();
    const emit = terminalFormatter(out.stream, 100);
    const check = (title: string): Check => ({ title, fact: { file: '/proc/self/status' }, contains: 'x' });
    const step = (index: number, title: string): Event => ({ type: 'step', id: `s${index}`, title, index, total: 3, explain: '' });
    const events: Event[] = [
      { type: 'lesson', number: 9, title: 'cgroups', intro: '', dryRun: false, vars: {} },
      { type: 'step', id: 'r', title: 'a replayed step', index: 1, total: 1, explain: '', quiet: true },
      { type: 'check', check: check('replayed'), source: 's', ok: true, actual: 'x', expected: 'x', quiet: true },
      step(1, 'A cgroup for the box'),
      { type: 'feature', feature: { ...feature, name: 'cgroup membership' } },
      { type: 'check', check: check('a'), source: 's', ok: true, actual: 'x', expected: 'x' },
      { type: 'check', check: check('b'), source: 's', ok: true, actual: 'x', expected: 'x' },
      step(2, 'The devices controller'),
      { type: 'feature', feature: { ...feature, name: 'devices controller' } },
      { type: 'skip', id: 's2', title: 'The devices controller', reason: 'no v1 devices hierarchy' },
      step(3, 'CPU'),
      { type: 'check', check: check('c'), source: 's', ok: true, actual: 'x', expected: 'x' },
      step(3, 'CPU'),
      { type: 'check', check: check('c'), source: 's', ok: true, actual: 'x', expected: 'x' },
      { type: 'end', ok: true, code: 0, ms: 1000, toolMs: 500, steps: 3, outro: '' },
    ];
    for (const e of events) emit(e);
    const recap = out.text().split('  Recap\n')[1]!.split('\n\n')[0]!.split('\n');
    expect(recap).toEqual(['   1  A cgroup for the box — cgroup membership  2 checks ✓', '   2  The devices controller — devices controller  skipped', '   3  CPU  1 check ✓']);
  });
});

describe('a lesson\'s duration', () => {
  it('counts words with thousands separators, as toLocaleString("en") would', async () => {
    const { durationText } = await import('../../src/engine/duration.js');
    for (const n of [1, 999, 1000, 1020, 12345, 123456, 1234567]) {
      const prose = { intro: Array.from({ length: n }, () => 'w').join(' '), steps: {}, outro: '' };
      expect(durationText(prose, 4.25)).toBe(`about ${Math.max(1, Math.round(n / 150 + 4.25 / 60))} min (${n.toLocaleString('en')} words to read; the commands take 4.3 s)`);
    }
  });
});
