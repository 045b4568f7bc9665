// `boxlab run` driven by a RecordingRunner: the script it hands to bash, the exit code it
// passes on, the files it leaves. As root (its root check is real), with a static busybox.
import { existsSync, mkdirSync, readFileSync, statSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingRunner } from '../../src/shell/spawn.js';
import { realHost } from '../../src/container/host.js';
import { tempDir } from './helpers.js';

const bb = realHost().busybox();
const usable = process.geteuid?.() === 0 && bb !== undefined && !bb.dynamic;

describe.skipIf(!usable)(usable ? 'boxlab run with a recording runner' : 'boxlab run with a recording runner (skipped: needs root and a static busybox)', () => {
  const saved = process.env.BOXLAB_RUN_DIR;
  let dir = '';
  beforeAll(() => {
    dir = tempDir();
    process.env.BOXLAB_RUN_DIR = `${dir}/run`;
    mkdirSync(`${dir}/rootfs/bin`, { recursive: true });
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.BOXLAB_RUN_DIR;
    else process.env.BOXLAB_RUN_DIR = saved;
  });

  it("hands bash a root-only script of the run, passes its exit code on, and removes the script", async () => {
    const { runCommand } = await import('../../src/commands/run.js');
    let seen: { file: string; mode: number; text: string } | undefined;
    const runner = new RecordingRunner((_, c) => {
      const file = c.args[0]!;
      seen = { file, mode: statSync(file).mode & 0o777, text: readFileSync(file, 'utf8') };
      return { code: 7 };
    });
    const code = await runCommand(['--seccomp', 'unconfined', '--name', 'rec', '--hostname', 'rec', '--rootfs', `${dir}/rootfs`, '--', '/bin/true'], runner);
    expect(code).toBe(7);
    expect(runner.calls).toHaveLength(1);
    expect(runner.calls[0]).toMatch(new RegExp(`^bash ${dir}/run/[0-9a-f]{8}\\.sh$`));
    expect(seen!.mode).toBe(0o600);
    expect(seen!.text).toContain('echo rec > /proc/sys/kernel/hostname');
    // The script records the box where ps, exec and rm look for it.
    expect(seen!.text).toContain(`> ${dir}/run/boxes/rec.box`);
    // The box record file and the script go when the run ends.
    expect(existsSync(seen!.file)).toBe(false);
    expect(existsSync(`${dir}/run/boxes/rec.box`)).toBe(false);
  });
});
