// src/box/state.ts: the state file a run writes before it makes anything, in a state directory
// of the test's own (BOXLAB_RUN_DIR), so the host's /run/boxlab is never read or written.
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { privateStateDir, readStates, StateFile } from '../../src/box/state.js';
import { processStartTime } from '../../src/kernel/proc.js';

let top: string;
let dir: string;
beforeEach(() => {
  top = mkdtempSync(join(tmpdir(), 'boxlab-unit-state-'));
  dir = join(top, 'run');
  process.env.BOXLAB_RUN_DIR = dir;
});
afterEach(() => {
  delete process.env.BOXLAB_RUN_DIR;
  rmSync(top, { recursive: true, force: true });
});

const onDisk = (s: StateFile) => JSON.parse(readFileSync(s.path, 'utf8'));

describe('the state file', () => {
  it('is on disk, root-only, before anything is made, naming its owner by PID and start time', () => {
    const s = new StateFile('abc123');
    expect(s.path).toBe(join(dir, 'abc123.json'));
    expect(lstatSync(s.path).mode & 0o777).toBe(0o600);
    expect(onDisk(s)).toEqual({ runId: 'abc123', owner: process.pid, ownerStart: processStartTime(process.pid), resources: [] });
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
  });

  it('records each resource as it is added, forgets it once undone, and leaves no temporary file', () => {
    const s = new StateFile('r1');
    s.add({ dir: '/var/lib/boxlab/work/r1' });
    s.add({ mount: '/var/lib/boxlab/work/r1/rootfs' });
    s.add({ process: 4242, startTime: '99' });
    expect(onDisk(s).resources).toEqual([{ dir: '/var/lib/boxlab/work/r1' }, { mount: '/var/lib/boxlab/work/r1/rootfs' }, { process: 4242, startTime: '99' }]);
    s.remove({ mount: '/var/lib/boxlab/work/r1/rootfs' });
    s.remove({ mount: '/never/added' });
    expect(onDisk(s).resources).toEqual([{ dir: '/var/lib/boxlab/work/r1' }, { process: 4242, startTime: '99' }]);
    expect(readdirSync(dir)).toEqual(['r1.json']);
    s.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('follows the process the run is handed over to (a run script), with that one\'s start time', () => {
    const s = new StateFile('r2');
    s.handOver(1);
    expect(onDisk(s)).toMatchObject({ owner: 1, ownerStart: processStartTime(1) });
  });

  it('is read back by reset; a half-written file reads as a run of nobody, so it is swept, not fatal', () => {
    new StateFile('good', process.pid, [{ dir: '/x' }]);
    writeFileSync(join(dir, 'torn.json'), '{"runId": "torn", "own');
    writeFileSync(join(dir, 'other.txt'), 'not a state file');
    const states = readStates().sort((a, b) => a.path.localeCompare(b.path));
    expect(states.map((s) => [s.path, s.state.runId, s.state.owner])).toEqual([
      [join(dir, 'good.json'), 'good', process.pid],
      [join(dir, 'torn.json'), 'torn.json', 0],
    ]);
  });

  it('reads no state where there is no state directory', () => {
    expect(readStates()).toEqual([]);
  });
});

describe('the state directory', () => {
  it('is made 0700, and tightened when it was looser', () => {
    expect(privateStateDir()).toBe(dir);
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
    chmodSync(dir, 0o755);
    privateStateDir();
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
  });

  it('is refused when it is a symlink (someone else could point it anywhere)', () => {
    mkdirSync(join(top, 'elsewhere'));
    symlinkSync(join(top, 'elsewhere'), dir);
    expect(() => privateStateDir()).toThrow(`${dir} is not a directory of ours: refusing to keep state there`);
  });
});
