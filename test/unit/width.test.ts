// Every lesson read as a learner reads it before running it: `--dry-run` on a projector's 100
// columns. No line is wider (only --explain prints commands whole), every check names what it
// expects, the counts are the lesson's own, and the closing sections are there.
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import chalk from 'chalk';
import { LESSONS, loadByNumber, loadLesson } from '../../lessons/index.js';
import { runLesson } from '../../src/engine/execute.js';
import { RecordingRunner } from '../../src/shell/spawn.js';
import { workspaceVars } from '../../src/engine/workspace.js';
import { columns, terminalFormatter, type TerminalOptions } from '../../src/report/terminal.js';
import { commandFitter, splitWrapper, wrapWords } from '../../src/report/fit.js';
import { shellWords } from '../../src/shell/cmd.js';

chalk.level = 0;
const vars = workspaceVars('abcd1234', { CACHE_DIR: '/var/cache/boxlab/rootfs', ROOTFS_CACHE: '/var/cache/boxlab/rootfs/busybox-x', BUSYBOX: '/bin/busybox' });

async function dryRun(n: number, variant?: string, opts: TerminalOptions = {}): Promise<string> {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const lesson = await loadLesson(LESSONS.find((l) => l.number === n)!, variant);
  await runLesson(lesson, { runner: new RecordingRunner(), emit: terminalFormatter(stream, 100, opts), dryRun: true, vars: { ...vars, REGISTRY: '127.0.0.1:5000' }, load: loadByNumber });
  return Buffer.concat(chunks).toString('utf8');
}

const cases: [number, string | undefined][] = [...LESSONS.map((l): [number, undefined] => [l.number, undefined]), [6, 'rootless'], [11, 'registry']];

describe('--dry-run at 100 columns', () => {
  it.each(cases)('lesson %i %s: no line is wider than 100 columns', async (n, variant) => {
    const text = await dryRun(n, variant);
    const wide = text.split('\n').filter((l) => columns(l) > 100);
    expect(wide).toEqual([]);
  });

  it.each(cases)('lesson %i %s: every check names its expectation; counts are the lesson\'s own', async (n, variant) => {
    const text = await dryRun(n, variant);
    const lesson = await loadLesson(LESSONS.find((l) => l.number === n)!, variant);
    const lines = text.split('\n');
    const starts = lines.flatMap((l, i) => (l.startsWith('  ? check: ') ? [i] : []));
    const checks = lesson.steps.reduce((a, s) => a + s.checks.length, 0);
    expect(starts.length).toBe(checks);
    for (const i of starts) {
      // The title may wrap, the source may take lines of its own: the expectation follows.
      const expects = lines.slice(i + 1, i + 30).find((l) => /^ {6}expects( \(.+\))?: /.test(l));
      expect(expects, lines[i]).toMatch(/: (it |the process )/);
    }
    expect(text).toContain(`dry run: ${lesson.steps.length} step${lesson.steps.length === 1 ? '' : 's'} and ${checks} checks shown`);
    expect(text).not.toMatch(/\(0 steps\)/);
  });

  it('shows the closing sections: lesson 1 on chroot as a boundary, lesson 5 on NAT', async () => {
    const one = await dryRun(1);
    expect(one).toMatch(/not a security boundary/i);
    const five = await dryRun(5);
    expect(five).toMatch(/MASQUERADE|masquerade/);
    expect(five).toMatch(/route_localnet/);
  });

  it('lesson 12: a command read by several checks of a step is shown once', async () => {
    const text = await dryRun(12);
    // Each source spelled out: its first line and the lines continuing it.
    const reads = text.split(/\n(?= {6}reads: )/).slice(1).map((b) => b.split(/\n(?! {15})/)[0]);
    expect(new Set(reads).size).toBe(reads.length);
    expect(text).toMatch(/\(the same as (above|in step \d+)\)/);
  });

  it('lesson 8: the BPF program reaches the screen as a summary, not as base64', async () => {
    const text = await dryRun(8);
    expect(text).toMatch(/KB of text: --explain or --script shows it/);
    expect(text.split('\n').length).toBeLessThan(250);
  });

  it('lesson 7: the wrapper is spelled out once and named after that', async () => {
    const text = await dryRun(7);
    const spelled = text.split('\n').filter((l) => l.includes('capsh "--chroot=/proc/$BOX/root"'));
    expect(spelled.length).toBeLessThanOrEqual(3);
    expect(text).toMatch(/as the box's root without cap_net_raw = in the box, as the box's root plus\s+--drop=cap_net_raw/);
    expect(text).toMatch(/\$ in the box, as the box's root: \/bin\//);
    expect(text).not.toMatch(/root \(\d\): /);
  });

  it('--explain prints every command whole, however wide', async () => {
    const text = await dryRun(7, undefined, { explain: true });
    expect(text.split('\n').some((l) => columns(l) > 100 && l.includes('nsenter --target $BOX'))).toBe(true);
  });
});

describe('fitting a command', () => {
  it('reads shell words with their quoting', () => {
    expect(shellWords(`sh -c 'a b' "x \\" y" $'p\\'q' z`)).toEqual(['sh', '-c', "'a b'", '"x \\" y"', "$'p\\'q'", 'z']);
  });

  it.each([
    ['nsenter --target "${BOX}" --mount --uts --ipc --net --pid --cgroup --root --wd /bin/kill -TERM 5', 'in the box', '/bin/kill -TERM 5'],
    ['nsenter --target "${BOX}" --mount sh -euc x', "in the box's mount namespace", 'sh -euc x'],
    ['nsenter --target "${BOX}" --mount --uts --pid --root=/ --wd=/ capsh "--chroot=/proc/${BOX}/root" --drop=cap_sys_admin --shell=/bin/mount -- -t tmpfs x /root', "in the box, as the box's root without cap_sys_admin", '/bin/mount -t tmpfs x /root'],
    ['setpriv --pdeathsig KILL sh -c \'n=$1; shift; exec "$@"\' sh 2 /sys/fs/cgroup/pids/boxlab-1/a/cgroup.procs /sys/fs/cgroup/cpu/boxlab-1/a/cgroup.procs sleep 9', 'dying with boxlab, in cgroup boxlab-1/a', 'sleep 9'],
    ['podman --root /w/storage --runroot /w/run --tmpdir /w/tmp --cgroup-manager cgroupfs --events-backend file --runtime /w/boxlab-runtime-logged run --rm --rootfs /r /bin/true', 'podman with boxlab-runtime-logged', 'run --rm --rootfs /r /bin/true'],
    [`sh -c 'exec "$@" >"$0" 2>&1' /w/podman-out podman --root /w/storage --runtime /w/rt ps`, 'its output to podman-out, podman with rt', 'ps'],
  ])('%s', (line, label, payload) => {
    const w = splitWrapper(shellWords(line))!;
    expect(w.label).toBe(label);
    expect(w.payload.join(' ')).toBe(payload);
  });

  it('names a wrapper once, whether its words were quoted or not', () => {
    const fitter = commandFitter(40);
    const first = fitter.fit('podman --root /work/storage --runroot /work/run --runtime /work/rt ps', '$ ');
    const again = fitter.fit('podman --root "/work/storage" --runroot "/work/run" --runtime "/work/rt" inspect x', '$ ');
    expect(first.legend.length).toBeGreaterThan(0);
    expect(again.legend).toEqual([]);
    expect(again.lines).toEqual(['$ podman with rt: inspect x']);
  });

  it('is no wrapper when the command is the kernel-facing one', () => {
    expect(splitWrapper(shellWords('unshare --mount --pid --fork sleep 1'))).toBeUndefined();
  });

  it('wraps at word breaks and cuts only a word longer than a line', () => {
    expect(wrapWords(['aaaa', 'bbbb', 'cccc'], 10, '$ ', '    ')).toEqual(['$ aaaa', '    bbbb', '    cccc']);
    expect(wrapWords(['x'.repeat(20)], 10, '$ ', '  ')).toEqual(['$ xxxxxxxx', '  xxxxxxxx', '  xxxx']);
  });

  it('names a wrapper once, then by its label; a command that fits stays as it is', () => {
    const f = commandFitter(60);
    const long = 'nsenter --target 42 --mount --uts --ipc --net --pid --cgroup --root --wd /bin/hostname box';
    const first = f.fit(long, '  $ ');
    expect(first.legend.join(' ')).toContain('(in 42 = nsenter --target 42');
    expect(first.lines).toEqual(['  $ in 42: /bin/hostname box']);
    const again = f.fit(long.replace('hostname box', 'hostname'), '  $ ');
    expect(again.legend).toEqual([]);
    expect(f.fit('ls /', '  $ ').lines).toEqual(['  $ ls /']);
  });
});

describe('closing text per variant', () => {
  it('lesson 6 speaks of rootless only with --rootless, and the marker never shows', async () => {
    const plain = await dryRun(6);
    const rootless = await dryRun(6, 'rootless');
    const closing = (t: string): string => t.slice(t.indexOf('What you built'));
    expect(closing(plain)).not.toMatch(/rootless|ordinary user/i);
    expect(closing(plain)).toContain('uid 100000');
    expect(closing(rootless)).toContain('ordinary user');
    expect(closing(rootless)).not.toContain('uid 100000');
    expect(plain + rootless).not.toContain('<!--');
    expect(plain).not.toMatch(/nobody outside/);
  });
});

describe('expected duration', () => {
  it.each(LESSONS.map((l) => l.number))('lesson %i has a measured run time, shown in its banner with the reading time', async (n) => {
    const lesson = await loadLesson(LESSONS.find((l) => l.number === n)!);
    expect(lesson.runSeconds).toBeGreaterThan(0);
    const text = await dryRun(n);
    expect(text).toMatch(new RegExp(`⏱ about \\d+ min \\([\\d,]+ words to read; the commands take ${lesson.runSeconds! < 10 ? lesson.runSeconds!.toFixed(1) : Math.round(lesson.runSeconds!)} s\\)`));
  });
});

describe('a real run names its wrappers as a dry run does', () => {
  it('a PID kept in BOX reads as "the box"', () => {
    const f = commandFitter(60, (pid) => (pid === '28614' ? 'BOX' : undefined));
    const line = 'nsenter --target 28614 --mount --uts --ipc --net --pid --cgroup --root --wd /bin/hostname';
    expect(f.fit(line, '  $ ').lines).toEqual(['  $ in the box: /bin/hostname']);
  });
});

describe("boxlab's own commands on a projector", () => {
  it('are said by name where PATH finds this install under it, and by path where it does not', async () => {
    const { commandNames, installedCommandNames, withShortNames } = await import('../../src/paths.js');
    const { mkdtempSync, symlinkSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const [[full, name]] = commandNames() as [[string, string]];
    const dir = mkdtempSync(join(tmpdir(), 'boxlab-unit-path-'));
    try {
      expect(installedCommandNames(dir)).toEqual([]);
      symlinkSync('/bin/true', join(dir, 'boxlab'));
      expect(installedCommandNames(dir)).toEqual([]); // another program called boxlab
      rmSync(join(dir, 'boxlab'));
      symlinkSync(full, join(dir, 'boxlab'));
      expect(installedCommandNames(`/nonexistent:${dir}`)).toEqual([[full, name]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const names: [string, string][] = [[full, 'boxlab']];
    expect(withShortNames(`${full} fetch --busybox`, names)).toBe('boxlab fetch --busybox');
    expect(withShortNames(`sh -c 'x' sh ${full}; ${full} inspect $IMAGE`, names)).toBe(`sh -c 'x' sh boxlab; boxlab inspect $IMAGE`);
    // A longer path that starts with it is another file: left whole.
    expect(withShortNames(`${full}.bak ${full}x`, names)).toBe(`${full}.bak ${full}x`);
    const work: [string, string][] = [['/var/lib/boxlab/work/ab12/rootfs', '$ROOTFS'], ['/var/lib/boxlab/work/ab12', '$WORK']];
    expect(withShortNames('mount -o "lowerdir=/var/lib/boxlab/work/ab12/lower,upperdir=/var/lib/boxlab/work/ab12/upper" x /var/lib/boxlab/work/ab12/rootfs', work)).toBe('mount -o "lowerdir=$WORK/lower,upperdir=$WORK/upper" x $ROOTFS');
    expect(withShortNames("tee x <<< $'a /var/lib/boxlab/work/ab12/rootfs/dev/null 0\\n/var/lib/boxlab/work/ab12/rootfs/dev/null b'", work)).toBe("tee x <<< $'a $ROOTFS/dev/null 0\\n$ROOTFS/dev/null b'");
    expect(withShortNames('ls /var/lib/boxlab/work/ab123 /x/var/lib/boxlab/work/ab12', work)).toBe('ls /var/lib/boxlab/work/ab123 /x/var/lib/boxlab/work/ab12');
  });
});
