// Values from outside a run, refused before use: a bundle's config.json field by field, an
// image's config, flags; and `boxlab spec IMAGE` reading IMAGE as the image, not the command.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { namesSource, parseRunFlags } from '../../src/container/flags.js';
import { specFromBundle } from '../../src/container/oci.js';
import { specFromFlags } from '../../src/container/from-flags.js';
import { checkArgs, checkBoxMountPoint, checkEnv, checkHostname, checkPath } from '../../src/container/validate.js';
import { requireNonDumpable } from '../../src/container/host.js';
import { tempDir } from './helpers.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** A bundle whose config.json is `config` merged over a minimal valid one. */
function bundle(config: Record<string, unknown>): string {
  const d = tempDir();
  dirs.push(d);
  mkdirSync(join(d, 'rootfs'));
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', root: { path: 'rootfs' }, process: { args: ['/bin/true'] }, ...config }));
  return d;
}
const read = (d: string) => specFromBundle(d, parseRunFlags(['--bundle', d]));

describe("a bundle's config.json: every field used is checked", () => {
  it.each([
    ['an env entry without =, which env(1) would run', { process: { args: ['/x'], env: ['/bin/sh', '-c', 'id > /tmp/x'] } }, /process\.env: "\/bin\/sh" is not NAME=value/],
    ['an env name that is not one', { process: { args: ['/x'], env: ['A B=1'] } }, /is not NAME=value/],
    ['env that is not a list', { process: { args: ['/x'], env: 'A=1' } }, /must be a list of NAME=value/],
    ['a program named NAME=value', { process: { args: ['A=1', '/x'] } }, /a program name with '=' in it/],
    ['args that are not strings', { process: { args: ['/x', 7] } }, /a list of strings/],
    ['a relative cwd', { process: { args: ['/x'], cwd: 'tmp' } }, /is not an absolute path/],
    ['a uid that is not a number', { process: { args: ['/x'], user: { uid: '0; reboot' } } }, /is not a uid\/gid/],
    ['uid (uid_t)-1', { process: { args: ['/x'], user: { uid: 4294967295 } } }, /is not a uid\/gid/],
    ['a hostname with a newline', { hostname: 'box\necho pwned' }, /hostname: "box\\necho pwned" is not a hostname/],
    ['a hostname with shell text', { hostname: "$(reboot)" }, /is not a hostname/],
    ['a mount destination with ..', { mounts: [{ destination: '/data/../../etc', type: 'bind', source: '/tmp' }] }, /mounts\[\]\.destination: .* is not a plain absolute path/],
    ['a bind mount over /', { mounts: [{ destination: '/', type: 'bind', source: '/tmp' }] }, /a bind mount over \/ is not supported/],
    ['a masked path with a newline (an fstab line of its own)', { linux: { maskedPaths: ['/proc/kcore\n/dev/sda /mnt ext4 defaults'] } }, /maskedPaths: .* is not a plain absolute path/],
    ['a read-only path with a space', { linux: { readonlyPaths: ['/proc/sys x'] } }, /readonlyPaths/],
    ['a memory limit that is not a number', { linux: { resources: { memory: { limit: '64m' } } } }, /memory\.limit: "64m" is not a positive whole number/],
    ['capabilities that are not a list', { process: { args: ['/x'], capabilities: { bounding: 'CAP_SYS_ADMIN' } } }, /capabilities\.bounding must be a list/],
  ])('%s: one line, refused', (_, config, message) => {
    const d = bundle(config);
    expect(() => read(d)).toThrow(UsageError);
    expect(() => read(d)).toThrow(message);
  });

  it("names every host path a bind mount brings in (the bundle's config is as powerful as flags)", () => {
    const src = tempDir();
    dirs.push(src);
    const { spec, notes } = read(bundle({ mounts: [{ destination: '/data', type: 'bind', source: src, options: ['rbind', 'ro'] }] }));
    expect(spec.volumes).toEqual([{ host: src, box: '/data', readOnly: true }]);
    expect(notes).toContain(`config.json: the host's ${src} is mounted at /data (read-only)`);
  });
});

describe("an image's config", () => {
  const image = (config: Record<string, unknown>) => ({
    img: { name: 'evil:1', manifest: { mediaType: '', digest: '', size: 0 }, config: { config, rootfs: { type: 'layers', diff_ids: [] } }, configDigest: '', layers: [] },
    process: { args: (config.Cmd as string[]) ?? ['/x'], env: (config.Env as string[]) ?? [], cwd: (config.WorkingDir as string) || '/', user: '' },
  });
  const run = (config: Record<string, unknown>) => specFromFlags(parseRunFlags(['evil:1']), image(config) as never, () => ({ profile: {}, from: 't' }));

  it('an Env entry that is not NAME=value is refused, naming the image', () => {
    expect(() => run({ Env: ['PATH=/bin', 'LD_PRELOAD'] })).toThrow(/evil:1: config Env: "LD_PRELOAD" is not NAME=value/);
  });
  it('a relative WorkingDir is refused', () => {
    expect(() => run({ WorkingDir: 'srv' })).toThrow(/config WorkingDir/);
  });
  it('LD_PRELOAD=... is a valid entry: it is data for the command, never for a host binary (enter.ts)', () => {
    expect(run({ Env: ['LD_PRELOAD=/x.so'] }).env).toEqual(['LD_PRELOAD=/x.so']);
  });
});

describe('flags and checks', () => {
  it('paths that mount(8), an fstab or a shell would read differently are refused', () => {
    for (const p of ['/a b', '/a,b', '/a:b', "/a'b", '/a$b', '/a\\b', '/a/../b', '/a/./b', 'a', '']) expect(() => checkPath(p, '-v'), p).toThrow(UsageError);
    for (const p of ['/', '/srv/www', '/tmp/boxlab-unit-x.Y_1', '/a/b/']) expect(checkPath(p, '-v')).toBe(p);
  });
  it("a mount point over boxlab's tools in the box (/.boxlab, which host root runs after pivot_root) is refused", () => {
    for (const p of ['/.boxlab', '/.boxlab/', '/.boxlab/busybox']) expect(() => checkBoxMountPoint(p, '-v'), p).toThrow(/boxlab's own tools/);
    for (const p of ['/.boxlabx', '/srv/.boxlab', '/data']) expect(checkBoxMountPoint(p, '-v')).toBe(p);
  });
  it('env entries, args and hostnames', () => {
    expect(() => checkEnv(['A=1', 'B'], 'x')).toThrow(/"B" is not NAME=value/);
    expect(() => checkEnv(['A=\0'], 'x')).toThrow(UsageError);
    expect(checkEnv(['A=', 'B_2=x=y $(z)'], 'x')).toEqual(['A=', 'B_2=x=y $(z)']);
    expect(() => checkArgs([], 'x')).not.toThrow();
    expect(() => checkHostname('a'.repeat(65), 'x')).toThrow(UsageError);
    expect(checkHostname('box-1.example', 'x')).toBe('box-1.example');
  });
  it('-e NAME takes the value from boxlab\'s environment, and is left out when unset', () => {
    process.env.BOXLAB_TEST_SECRET = 's3cr3t';
    expect(parseRunFlags(['-e', 'BOXLAB_TEST_SECRET', '-e', 'BOXLAB_TEST_UNSET', 'img']).env).toEqual(['BOXLAB_TEST_SECRET=s3cr3t']);
    delete process.env.BOXLAB_TEST_SECRET;
  });
  it('boxlab spec IMAGE: IMAGE is the image, not the command; with no source, the host / and sh', () => {
    expect(namesSource(['alpine:3.20'])).toBe(true);
    expect(namesSource(['--hostname', 'h', '-e', 'A=1', 'alpine:3.20', 'sh'])).toBe(true);
    expect(namesSource(['--hostname', 'h', '--', '/bin/sh'])).toBe(false);
    expect(namesSource(['--rootfs=/srv'])).toBe(true);
    expect(namesSource([])).toBe(false);
    expect(parseRunFlags(['alpine:3.20']).image).toBe('alpine:3.20');
  });
  it('--rm is accepted and changes nothing (a box always goes with its command)', () => {
    expect(parseRunFlags(['--rm', 'img'])).toEqual(parseRunFlags(['img']));
  });
  it('fs.suid_dumpable=1 stops a run: the way in would be dumpable', () => {
    expect(() => requireNonDumpable(() => '1\n')).toThrow(/suid_dumpable is 1/);
    expect(() => requireNonDumpable(() => '0\n')).not.toThrow();
    expect(() => requireNonDumpable(() => '2\n')).not.toThrow();
  });
});
