// src/container/reset.ts: what `boxlab reset` undoes and what it leaves alone, read from state
// files, leases and runtime containers in a state directory of the test's own. The runner
// records every command; it carries out only removals inside the test's directory, so the
// host's own mounts, links, cgroups and processes are never touched, whatever it finds there.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reset, type ResetLine } from '../../src/container/reset.js';
import { StateFile } from '../../src/box/state.js';
import { RecordingRunner } from '../../src/shell/spawn.js';
import { leasesDir } from '../../src/container/network.js';
import { defaultRoot } from '../../src/container/containers.js';
import { processStartTime } from '../../src/kernel/proc.js';

let top: string;
beforeEach(() => {
  top = mkdtempSync(join(tmpdir(), 'boxlab-unit-reset-'));
  process.env.BOXLAB_RUN_DIR = join(top, 'run');
  mkdirSync(join(top, 'run'), { mode: 0o700 });
});
afterEach(() => {
  delete process.env.BOXLAB_RUN_DIR;
  rmSync(top, { recursive: true, force: true });
});

/** A runner that really removes what it is asked to remove in the test's directory, and only that. */
function sandboxedRunner(): RecordingRunner {
  return new RecordingRunner((_line, c) => {
    const target = c.args.at(-1) ?? '';
    if (c.file === 'rm' && target.startsWith(top + '/')) rmSync(target, { recursive: true, force: true });
    return undefined;
  });
}

async function runReset(): Promise<{ lines: ResetLine[]; calls: string[]; removed: number }> {
  const runner = sandboxedRunner();
  const lines: ResetLine[] = [];
  const removed = await reset(runner, (l) => lines.push(l));
  // Only what this test made: the host may hold leftovers of its own (none are undone here).
  const mine = (s: string): boolean => s.includes(top);
  return { lines: lines.filter((l) => mine(l.what) || mine(l.done) || l.what.startsWith('run ') || l.what.startsWith('OCI container')), calls: runner.calls.filter(mine), removed };
}

describe('boxlab reset', () => {
  it("undoes a dead run's resources, newest first, and removes its state file", async () => {
    const older = join(top, 'work-dead');
    const newer = join(older, 'upper');
    mkdirSync(newer, { recursive: true });
    // A run whose owner is gone: the PID is ours but the start time is not (the PID was reused).
    writeFileSync(join(top, 'run', 'dead.json'), JSON.stringify({ runId: 'dead', owner: process.pid, ownerStart: 'not-ours', resources: [{ dir: older }, { dir: newer }] }));
    const { lines, calls } = await runReset();
    expect(calls).toEqual([`rm -rf --one-file-system ${newer}`, `rm -rf --one-file-system ${older}`]);
    expect(lines).toEqual([
      { what: `directory ${newer}`, done: `rm -rf --one-file-system ${newer}`, ok: true },
      { what: `directory ${older}`, done: `rm -rf --one-file-system ${older}`, ok: true },
    ]);
    expect(existsSync(older)).toBe(false);
    expect(existsSync(join(top, 'run', 'dead.json'))).toBe(false);
  });

  it('leaves a live run alone: its state file and what it names stay', async () => {
    const kept = join(top, 'work-live');
    mkdirSync(kept);
    const live = new StateFile('live', process.pid, [{ dir: kept }]);
    const { lines, calls } = await runReset();
    expect(lines).toEqual([{ what: 'run live', done: `left alone: its boxlab (pid ${process.pid}) is still running`, ok: true }]);
    expect(calls).toEqual([]);
    expect(existsSync(kept)).toBe(true);
    expect(existsSync(live.path)).toBe(true);
    live.close();
  });

  it('a resource already gone is not undone again, and costs no command', async () => {
    writeFileSync(join(top, 'run', 'gone.json'), JSON.stringify({ runId: 'gone', owner: 0, ownerStart: '', resources: [{ dir: join(top, 'never-made') }, { process: 999999999, startTime: '1' }] }));
    const { lines, calls } = await runReset();
    expect(calls).toEqual([]);
    expect(lines).toEqual([]);
    expect(existsSync(join(top, 'run', 'gone.json'))).toBe(false);
  });

  it("removes an address lease whose run is gone, and keeps a live run's", async () => {
    mkdirSync(leasesDir(), { recursive: true });
    writeFileSync(join(leasesDir(), '10.88.0.2'), '999999999\n');
    writeFileSync(join(leasesDir(), '10.88.0.3'), `${process.pid}\n`);
    const { calls } = await runReset();
    expect(calls).toEqual([`rm -rf --one-file-system ${join(leasesDir(), '10.88.0.2')}`]);
    expect(existsSync(join(leasesDir(), '10.88.0.3'))).toBe(true);
  });

  it("removes a runtime container whose process is gone, and leaves a running one to its engine", async () => {
    const stopped = join(defaultRoot(), 'stopped');
    const running = join(defaultRoot(), 'running');
    mkdirSync(stopped, { recursive: true });
    mkdirSync(running, { recursive: true });
    writeFileSync(join(stopped, 'state.json'), JSON.stringify({ pid: process.pid, pidStart: 'not-ours' }));
    writeFileSync(join(running, 'state.json'), JSON.stringify({ pid: process.pid, pidStart: processStartTime(process.pid) }));
    const { lines, calls } = await runReset();
    expect(calls).toEqual([`rm -rf --one-file-system ${stopped}`]);
    expect(lines).toContainEqual({ what: 'OCI container running', done: 'left alone: it is running (boxlab-runtime delete --force ID)', ok: true });
    expect(existsSync(running)).toBe(true);
  });
});
