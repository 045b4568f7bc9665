// `boxlab run` driven by a RecordingRunner: the script it hands to bash, the exit code it
// passes on, the files it leaves. As root (its root check is real), with a static busybox.
import { existsSync, fstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
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

  it('hands bash a root-only, unlinked script of the run on fd 3, passes its exit code on, and leaves nothing', async () => {
    const { runCommand } = await import('../../src/commands/run.js');
    let seen: { fd: number; mode: number; links: number; text: string } | undefined;
    const runner = new RecordingRunner((_, _c, o) => {
      const fd = o!.fd3!;
      const st = fstatSync(fd);
      seen = { fd, mode: st.mode & 0o777, links: st.nlink, text: readFileSync(`/proc/self/fd/${fd}`, 'utf8') };
      return { code: 7 };
    });
    const code = await runCommand(['--seccomp', 'unconfined', '--name', 'rec', '--hostname', 'rec', '--rootfs', `${dir}/rootfs`, '--', '/bin/true'], runner);
    expect(code).toBe(7);
    expect(runner.calls).toEqual(['bash /dev/fd/3']);
    expect(seen!.mode).toBe(0o600);
    // Unlinked before bash starts: nothing to remove, even when the run is killed.
    expect(seen!.links).toBe(0);
    expect(seen!.text).toContain('echo rec > /proc/sys/kernel/hostname');
    // The script records the box where ps, exec and rm look for it.
    expect(seen!.text).toContain(`> ${dir}/run/boxes/rec.box`);
    // The descriptor is closed and the box record file gone when the run ends.
    // (the number may already serve another file: what it names is checked, not whether it is open)
    const now = (() => {
      try {
        return readlinkSync(`/proc/self/fd/${seen!.fd}`);
      } catch {
        return 'closed';
      }
    })();
    expect(now).not.toMatch(/\.sh \(deleted\)$/);
    expect(existsSync(`${dir}/run/boxes/rec.box`)).toBe(false);
    expect(readdirSync(`${dir}/run`).filter((f) => f.endsWith('.sh'))).toEqual([]);
  });
});
