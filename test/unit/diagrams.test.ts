import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import chalk from 'chalk';
import { LESSONS, loadByNumber, loadLesson } from '../../lessons/index.js';
import { runLesson } from '../../src/engine/execute.js';
import { RecordingRunner } from '../../src/shell/spawn.js';
import { workspaceVars } from '../../src/engine/workspace.js';
import { terminalFormatter } from '../../src/report/terminal.js';

chalk.level = 0;
const vars = workspaceVars('abcd1234', { CACHE_DIR: '/var/cache/boxlab/rootfs', ROOTFS_CACHE: '/var/cache/boxlab/rootfs/busybox-x', BUSYBOX: '/bin/busybox' });

describe('diagrams', () => {
  it('every lesson from 2 on draws at least one', async () => {
    for (const e of LESSONS.filter((l) => l.number >= 2)) {
      const l = await loadLesson(e);
      expect(l.steps.filter((s) => s.diagram).length, `lesson ${e.number}`).toBeGreaterThan(0);
    }
  });

  it('--dry-run prints a step\'s diagram after its text and before its first command', async () => {
    const lesson = await loadByNumber(5);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await runLesson(lesson, { runner: new RecordingRunner(), emit: terminalFormatter(out, 100), dryRun: true, vars, load: loadByNumber });
    const text = Buffer.concat(chunks).toString('utf8');
    const step = text.slice(text.indexOf('· A veth pair'), text.indexOf('· Ping across'));
    const drawn = step.indexOf('│ boxlab-h0   198.51.100.1/24');
    expect(drawn).toBeGreaterThan(0);
    expect(drawn).toBeLessThan(step.indexOf('$ ip link add boxlab-h0'));
    expect(step.indexOf('A veth pair is a virtual cable')).toBeLessThan(drawn);
  });
});
