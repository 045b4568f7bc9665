// The layer unpacker against real tar archives: the format's edge cases, and one crafted
// archive per known breakout class (the classes of containerd's archive tests and of
// node-tar's path-escape CVEs). Each breakout must be refused with nothing written outside.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyLayer, UnpackBudget, type ApplyMode, type ApplyOptions } from '../../rootfs-fetch/unpack.js';
import { limits } from '../../rootfs-fetch/limits.js';
import { LayerError } from '../../rootfs-fetch/in-root.js';
import { RealRunner, type RunResult, type Runner } from '../../src/shell/spawn.js';
import { render, type Cmd } from '../../src/shell/cmd.js';
import { tempDir } from './helpers.js';
import { gnuLongName, writeLayer, type Member } from './layer-archives.js';

const asRoot = process.geteuid?.() === 0;
const runner = new RealRunner();
let t: string, root: string, outside: string;

beforeEach(() => {
  t = tempDir();
  root = join(t, 'root');
  outside = join(t, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'safe');
});
afterEach(() => rmSync(t, { recursive: true }));

let n = 0;
async function apply(members: Member[], mode: ApplyMode = 'flatten', gzip = true, budget?: UnpackBudget, options?: ApplyOptions) {
  const blob = join(t, `layer${n++}.tar${gzip ? '.gz' : ''}`);
  const tarBytes = await writeLayer(blob, members, gzip);
  return { result: await applyLayer(blob, root, mode, runner, budget, options), tarBytes };
}

/** Everything under dir, as "path type" lines: what a breakout would change. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const st = lstatSync(join(d, name));
      out.push(`${rel}${name} ${st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'file'}`);
      if (st.isDirectory()) walk(join(d, name), `${rel}${name}/`);
    }
  };
  walk(dir, '');
  return out;
}

describe('applying a layer', () => {
  it('makes files, directories, symlinks and hard links with their modes; the diff_id is the sha256 of the tar', async () => {
    const { result, tarBytes } = await apply([
      { name: './bin/', type: 'directory' },
      { name: './bin/tool', body: 'echo hi', mode: 0o4755, uid: 1234, gid: 5678 },
      { name: './bin/alias', type: 'link', linkname: './bin/tool' },
      { name: './bin/sh', type: 'symlink', linkname: '/bin/tool' },
      { name: './tmp/', type: 'directory', mode: 0o1777 },
    ], 'flatten', true, undefined, { keepPrivileges: true });
    expect(result.diffId).toBe(`sha256:${createHash('sha256').update(tarBytes).digest('hex')}`);
    expect(readFileSync(join(root, 'bin/tool'), 'utf8')).toBe('echo hi');
    expect(statSync(join(root, 'bin/tool')).mode & 0o7777).toBe(asRoot ? 0o4755 : 0o755 | (statSync(join(root, 'bin/tool')).mode & 0o4000));
    expect(statSync(join(root, 'bin/alias')).ino).toBe(statSync(join(root, 'bin/tool')).ino);
    expect(readlinkSync(join(root, 'bin/sh'))).toBe('/bin/tool');
    expect(statSync(join(root, 'tmp')).mode & 0o7777).toBe(0o1777);
    if (asRoot) expect([statSync(join(root, 'bin/tool')).uid, statSync(join(root, 'bin/tool')).gid]).toEqual([1234, 5678]);
  });

  it('reads an uncompressed layer as well as a gzipped one', async () => {
    await apply([{ name: 'plain', body: 'x' }], 'flatten', false);
    expect(readFileSync(join(root, 'plain'), 'utf8')).toBe('x');
  });

  it('follows a symlinked directory that stays inside the root (usrmerge: lib -> usr/lib)', async () => {
    await apply([
      { name: 'usr/lib/', type: 'directory' },
      { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
      { name: 'lib/libc.so', body: 'elf' },
    ]);
    expect(readFileSync(join(root, 'usr/lib/libc.so'), 'utf8')).toBe('elf');
  });

  it('rejects a corrupt archive with a LayerError', async () => {
    const blob = join(t, 'bad.tar.gz');
    writeFileSync(blob, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4]));
    await expect(applyLayer(blob, root, 'flatten', runner)).rejects.toBeInstanceOf(LayerError);
  });
});

describe('whiteouts, flattened (image-spec layer.md)', () => {
  beforeEach(async () => {
    await apply([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/keep', body: 'lower' },
      { name: 'etc/gone', body: 'lower' },
      { name: 'd/', type: 'directory' },
      { name: 'd/old1', body: 'lower' },
      { name: 'd/sub/old2', body: 'lower' },
    ]);
  });

  it('.wh.NAME deletes the lower entry, and only it', async () => {
    await apply([{ name: 'etc/.wh.gone' }]);
    expect(tree(join(root, 'etc'))).toEqual(['keep file']);
  });

  it('an opaque whiteout empties the directory of lower entries, wherever it stands in its layer', async () => {
    await apply([{ name: 'd/new', body: 'upper' }, { name: 'd/.wh..wh..opq' }]);
    expect(tree(join(root, 'd'))).toEqual(['new file']);
  });

  it("a whiteout hides lower entries only: the same layer's file survives it", async () => {
    await apply([{ name: 'etc/gone', body: 'upper' }, { name: 'etc/.wh.gone' }]);
    expect(readFileSync(join(root, 'etc/gone'), 'utf8')).toBe('upper');
  });

  it('a bare .wh. is an error', async () => {
    await expect(apply([{ name: 'etc/.wh.' }])).rejects.toThrow(/bare/);
  });

  it('a whiteout is never written as a file', async () => {
    await apply([{ name: 'etc/.wh.keep' }]);
    expect(tree(root).filter((l) => l.includes('.wh.'))).toEqual([]);
  });
});

describe.skipIf(!asRoot)('whiteouts for overlayfs (root)', () => {
  it('.wh.NAME becomes a 0/0 character device and an opaque marker becomes trusted.overlay.opaque=y', async () => {
    await apply([{ name: 'etc/.wh.gone' }, { name: 'd/.wh..wh..opq' }, { name: 'd/new', body: 'upper' }], 'overlay');
    const st = lstatSync(join(root, 'etc/gone'));
    expect([st.isCharacterDevice(), st.rdev]).toEqual([true, 0]);
    const xattr = await runner.run({ file: 'getfattr', args: ['--only-values', '-n', 'trusted.overlay.opaque', join(root, 'd')] });
    expect(xattr.stdout).toBe('y');
    expect(tree(join(root, 'd'))).toEqual(['new file']);
  });

  it('device nodes are made as root, in a layer directory (overlay)', async () => {
    await apply([{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }], 'overlay');
    const st = lstatSync(join(root, 'dev/null'));
    expect([st.isCharacterDevice(), st.mode & 0o777]).toEqual([true, 0o666]);
  });
});

describe("the root entry './' changes nothing of the directory it is applied to", () => {
  it.each(['flatten', 'overlay'] as const)("'./', '.' and './/' of mode 0777 leave a 0700 root 0700 (%s)", async (mode) => {
    chmodSync(root, 0o700);
    await apply([{ name: './', type: 'directory', mode: 0o777 }, { name: '.', type: 'directory', mode: 0o777 }, { name: './/', type: 'directory', mode: 0o777 }, { name: 'etc/', type: 'directory', mode: 0o777 }], mode);
    expect(statSync(root).mode & 0o7777).toBe(0o700);
    expect(statSync(join(root, 'etc')).mode & 0o7777).toBe(0o777); // an entry below the root keeps its mode
  });

  it('a root entry that is not a directory is still refused', async () => {
    await expect(apply([{ name: './', body: 'x' }])).rejects.toThrow(/names the root but is a file/);
  });
});

// Device nodes can only be made as root: without root these cannot show anything.
describe.skipIf(!asRoot)('flatten (fetch --out): a tree on the host gets no device node and no setuid bit (root: mknod and chown need it)', () => {
  const hostile: Member[] = [
    { name: './', type: 'directory', mode: 0o777, uid: 1000, gid: 1000 },
    { name: 'bin/su', body: 'root shell', mode: 0o4755 },
    { name: 'bin/wall', body: 'tty group', mode: 0o2755, gid: 5 },
    { name: 'bin/su2', type: 'link', linkname: 'bin/su' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/sda', type: 'character-device', devmajor: 8, devminor: 0, mode: 0o666 },
    { name: 'dev/null2', type: 'link', linkname: 'dev/null' },
    { name: 'run/fifo', type: 'fifo', mode: 0o600 },
    { name: 'srv/', type: 'directory', mode: 0o2775 },
  ];

  it("a layer whose './' is 0777 uid 1000, with a setuid-root file and a char device 1:3: DIR stays 0700 root's, no device, no setuid bit", async () => {
    chmodSync(root, 0o700); // as fetch --out makes it
    const { result } = await apply(hostile);
    const st = statSync(root);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o700, 0, 0]);
    expect(existsSync(join(root, 'dev/null'))).toBe(false);
    expect(existsSync(join(root, 'dev/null2'))).toBe(false);
    expect(readdirSync(join(root, 'dev'))).toEqual([]);
    expect(result.devicesSkipped).toBe(3); // two nodes and a hard link to one
    expect(statSync(join(root, 'bin/su')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(root, 'bin/wall')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(root, 'bin/su2')).ino).toBe(statSync(join(root, 'bin/su')).ino);
    expect(result.privilegesStripped).toBe(2);
    // A fifo opens no device, and a directory's setgid only passes its group on: both stay.
    expect(lstatSync(join(root, 'run/fifo')).isFIFO()).toBe(true);
    expect(statSync(join(root, 'srv')).mode & 0o7777).toBe(0o2775);
    expect(result.skipped).toEqual([]);
  });

  it('with keepPrivileges the setuid and setgid bits stay; device nodes still are not made', async () => {
    chmodSync(root, 0o700);
    const { result } = await apply(hostile, 'flatten', true, undefined, { keepPrivileges: true });
    expect(statSync(join(root, 'bin/su')).mode & 0o7777).toBe(0o4755);
    expect(statSync(join(root, 'bin/wall')).mode & 0o7777).toBe(0o2755);
    expect(result.privilegesStripped).toBe(0);
    expect(readdirSync(join(root, 'dev'))).toEqual([]);
    expect(result.devicesSkipped).toBe(3);
    expect(statSync(root).mode & 0o7777).toBe(0o700);
  });

  it("overlay (a layer directory, only ever mounted nodev in a box) keeps devices and setuid bits; its root stays as made, root's", async () => {
    chmodSync(root, 0o755);
    const { result } = await apply(hostile, 'overlay');
    const st = statSync(root);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o755, 0, 0]);
    expect(statSync(join(root, 'bin/su')).mode & 0o7777).toBe(0o4755);
    for (const d of ['dev/null', 'dev/null2']) expect([lstatSync(join(root, d)).isCharacterDevice(), lstatSync(join(root, d)).rdev]).toEqual([true, 259]);
    expect([result.devicesSkipped, result.privilegesStripped]).toEqual([0, 0]);
  });
});

// One archive per class; each must throw LayerError and leave `outside` as it was.
const BREAKOUTS: Record<string, (outside: string) => Member[]> = {
  'absolute path': (o) => [{ name: `${o}/evil`, body: 'x' }],
  "'..' in a path": () => [{ name: '../outside/evil', body: 'x' }],
  "'..' inside a path (down and out)": () => [{ name: 'a/b/../../../outside/evil', body: 'x' }],
  'symlink escape, absolute': (o) => [{ name: 's', type: 'symlink', linkname: o }, { name: 's/evil', body: 'x' }],
  'symlink escape, up and out': () => [{ name: 's', type: 'symlink', linkname: '../outside' }, { name: 's/evil', body: 'x' }],
  'symlink escape, through parent directories': () => [
    { name: 'd/e/', type: 'directory' },
    { name: 'd/e/s', type: 'symlink', linkname: '../../../outside' },
    { name: 'd/e/s/evil', body: 'x' },
  ],
  'symlink escape, through a chain of links': () => [
    { name: 'a', type: 'symlink', linkname: 'b' },
    { name: 'b', type: 'symlink', linkname: 'c/../..' },
    { name: 'c/', type: 'directory' },
    { name: 'a/outside/evil', body: 'x' },
  ],
  'symlink escape, overriding a directory': (o) => [
    { name: 'd/', type: 'directory' },
    { name: 'd', type: 'symlink', linkname: o },
    { name: 'd/evil', body: 'x' },
  ],
  'hardlink escape, absolute': (o) => [{ name: 'h', type: 'link', linkname: `${o}/secret` }],
  'hardlink escape, relative': () => [{ name: 'h', type: 'link', linkname: '../outside/secret' }],
  'hardlink escape, down and out': () => [{ name: 'd/', type: 'directory' }, { name: 'h', type: 'link', linkname: 'd/../../outside/secret' }],
  'hardlink escape, through a symlink': () => [{ name: 's', type: 'symlink', linkname: '../outside' }, { name: 'h', type: 'link', linkname: 's/secret' }],
  'whiteout pointing outside': () => [{ name: '../outside/.wh.secret' }],
  'whiteout through a symlink': () => [{ name: 's', type: 'symlink', linkname: '../outside' }, { name: 's/.wh.secret' }],
};

describe('breakouts are refused, nothing is written outside the root', () => {
  for (const [name, members] of Object.entries(BREAKOUTS)) {
    for (const mode of ['flatten', 'overlay'] as const) {
      if (mode === 'overlay' && !asRoot) continue;
      it(`${name} (${mode})`, async () => {
        await expect(apply(members(outside), mode)).rejects.toBeInstanceOf(LayerError);
        expect(tree(outside)).toEqual(['secret file']);
        expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('safe');
        expect(readdirSync(t).filter((f) => !f.startsWith('layer')).sort()).toEqual(['outside', 'root']);
      });
    }
  }

  it('a hard link to a symlink that escapes is a link to the symlink; a file written at either name replaces it', async () => {
    await apply([
      { name: 's', type: 'symlink', linkname: '../outside/secret' },
      { name: 'h', type: 'link', linkname: 's' },
      { name: 'h', body: 'pwned' },
      { name: 's', body: 'pwned' },
    ]);
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('safe');
    expect(readFileSync(join(root, 'h'), 'utf8')).toBe('pwned');
    expect(existsSync(join(t, 'evil'))).toBe(false);
  });
});

describe('caps on what a layer expands to', () => {
  const files = (count: number, prefix = 'f') => Array.from({ length: count }, (_, i) => ({ name: `${prefix}${i}`, body: 'x' }));

  it('a small gzip that expands to a huge file of zeros is refused as soon as the cap is passed', async () => {
    const budget = new UnpackBudget(limits({ unpackBytes: 1024 * 1024 }));
    const blob = join(t, 'bomb.tar.gz');
    await writeLayer(blob, [{ name: 'zeros', body: Buffer.alloc(32 * 1024 * 1024) }]);
    expect(statSync(blob).size).toBeLessThan(64 * 1024);
    await expect(applyLayer(blob, root, 'flatten', runner, budget)).rejects.toThrow(/^the image's layers expand to more than 1048576 bytes: refused$/);
    // Stopped at the cap, not at the end of the file: what was written is about the cap.
    expect(statSync(join(root, 'zeros')).size).toBeLessThan(2 * 1024 * 1024);
  });

  it('a layer of more entries than the cap per layer is refused', async () => {
    const budget = new UnpackBudget(limits({ layerEntries: 10 }));
    await expect(apply(files(11), 'flatten', true, budget)).rejects.toThrow(/^more than 10 entries in one layer: refused$/);
  });

  it('layers of one image share the caps: the entries of all count, and their bytes', async () => {
    const budget = new UnpackBudget(limits({ imageEntries: 10 }));
    await apply(files(6, 'a'), 'flatten', true, budget);
    await expect(apply(files(6, 'b'), 'flatten', true, budget)).rejects.toThrow(/^more than 10 entries in one image: refused$/);
    const bytes = new UnpackBudget(limits({ unpackBytes: 20 * 1024 }));
    await apply([{ name: 'one', body: Buffer.alloc(12 * 1024) }], 'flatten', true, bytes);
    await expect(apply([{ name: 'two', body: Buffer.alloc(12 * 1024) }], 'flatten', true, bytes)).rejects.toThrow(/expand to more than 20480 bytes/);
  });
});

describe('names too big or odd for the parser or the file system: a LayerError (one line), not an internal error', () => {
  // tar-stream reads a pax or GNU long-name header into memory whole, and refuses one over 4 MiB.
  const overCap = 4 * 1024 * 1024 + 1;

  it('a pax header larger than the tar parser accepts (a path of 4 MiB)', async () => {
    const err = await apply([{ name: 'before', body: 'x' }, { name: 'p'.repeat(overCap), body: 'x' }]).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(LayerError);
    expect((err as Error).message).toBe('a pax or long-name header is larger than the tar parser accepts: refused');
  });

  it('a GNU long-name header larger than the tar parser accepts', async () => {
    const blob = join(t, 'gnu.tar');
    writeFileSync(blob, Buffer.concat([gnuLongName('g'.repeat(overCap)), Buffer.alloc(1024)]));
    await expect(applyLayer(blob, root, 'flatten', runner)).rejects.toThrow(new LayerError('a pax or long-name header is larger than the tar parser accepts: refused'));
    expect(tree(root)).toEqual([]);
  });

  it('a GNU long name the parser accepts is read as the name (the hand-made header is a real one)', async () => {
    const blob = join(t, 'gnu-ok.tar');
    const file = (await writeLayer(join(t, 'unused'), [{ name: 'short', body: 'long name' }], false));
    writeFileSync(blob, Buffer.concat([gnuLongName(`${'d'.repeat(120)}/file`), file]));
    await applyLayer(blob, root, 'flatten', runner);
    expect(readFileSync(join(root, 'd'.repeat(120), 'file'), 'utf8')).toBe('long name');
  });

  it('a name with a component over 255 bytes', async () => {
    await expect(apply([{ name: `dir/${'n'.repeat(300)}`, body: 'x' }])).rejects.toThrow(new LayerError('a name longer than the file system takes (over 255 bytes in one component, or 4095 in all): refused'));
  });

  it.each([
    ['a path', { name: 'x', pax: { path: 'a\u0000b' }, body: 'x' }],
    ['a symlink target', { name: 's', type: 'symlink', linkname: 'x', pax: { linkpath: 'a\u0000b' } }],
    ['a hard link target', { name: 'h', type: 'link', linkname: 'x', pax: { linkpath: 'a\u0000b' } }],
  ] as const)('a NUL byte in %s', async (_, m) => {
    await expect(apply([{ name: 'a', body: 'x' }, m as Member])).rejects.toThrow(/NUL byte in .*: refused$/);
  });
});

describe("a layer's names are printed escaped and cut short in its refusals", () => {
  it.each([
    ['an absolute path', [{ name: `/\u001b[2J${'x'.repeat(10_000)}`, body: 'x' }]],
    // Link targets stay under what the file system takes (4095 bytes, 255 a component).
    ['a symlink escape', [{ name: 's', type: 'symlink', linkname: `/\u001b[2J${'x'.repeat(4000)}` }, { name: 's/evil', body: 'x' }]],
    ['a hard link to nothing', [{ name: `h\u001b[2J`, type: 'link', linkname: `\u009b2J${'y'.repeat(250)}` }]],
  ] as const)('%s', async (_, members) => {
    const err = (await apply(members as unknown as Member[]).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(LayerError);
    expect(err.message).toContain('\\x1b[2J');
    expect(err.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(err.message.length).toBeLessThan(500);
  });
});

/** A RealRunner that notes each process it starts. */
class CountingRunner extends RealRunner {
  readonly started: string[] = [];
  override async run(c: Cmd, o?: Parameters<Runner['run']>[1]): Promise<RunResult> {
    this.started.push(render(c));
    return super.run(c, o);
  }
}

describe.skipIf(!asRoot)('special files cost no process each (root)', () => {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('a layer of whiteouts, device nodes, fifos and opaque directories starts at most two processes, and makes each right', async () => {
    const counting = new CountingRunner();
    const blob = join(t, 'special.tar.gz');
    await writeLayer(blob, [
      ...range(30).map((i) => ({ name: `w/.wh.gone${i}` })),
      ...range(10).map((i) => ({ name: `dev/c${i}`, type: 'character-device' as const, devmajor: 1, devminor: i, mode: 0o620, uid: 5, gid: 6 })),
      ...range(5).map((i) => ({ name: `run/p${i}`, type: 'fifo' as const, mode: 0o640 })),
      ...range(8).map((i) => ({ name: `o${i}/.wh..wh..opq` })),
    ]);
    await applyLayer(blob, root, 'overlay', counting);
    expect(counting.started.length).toBeLessThanOrEqual(2);
    for (const i of range(30)) expect([lstatSync(join(root, `w/gone${i}`)).isCharacterDevice(), lstatSync(join(root, `w/gone${i}`)).rdev]).toEqual([true, 0]);
    for (const i of range(10)) {
      const st = lstatSync(join(root, `dev/c${i}`));
      expect([st.isCharacterDevice(), st.rdev, st.mode & 0o7777, st.uid, st.gid]).toEqual([true, 256 + i, 0o620, 5, 6]);
    }
    for (const i of range(5)) expect([lstatSync(join(root, `run/p${i}`)).isFIFO(), lstatSync(join(root, `run/p${i}`)).mode & 0o7777]).toEqual([true, 0o640]);
    for (const i of range(8)) expect((await runner.run({ file: 'getfattr', args: ['--only-values', '-n', 'trusted.overlay.opaque', join(root, `o${i}`)] })).stdout).toBe('y');
    expect(readdirSync(root).sort()).toEqual(['dev', 'o0', 'o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'run', 'w']);
  });

  it('later entries of the same layer still win over a whiteout or a node, and a hard link to a node is that node', async () => {
    await apply([
      { name: 'a/.wh.x' },
      { name: 'a/x', body: 'file after whiteout' },
      { name: 'a/.wh.d' },
      { name: 'a/d/', type: 'directory' },
      { name: 'dev/n', type: 'character-device', devmajor: 1, devminor: 3 },
      { name: 'dev/n', body: 'file after node' },
      { name: 'dev/z', type: 'character-device', devmajor: 1, devminor: 5, mode: 0o666 },
      { name: 'dev/zero', type: 'link', linkname: 'dev/z' },
    ], 'overlay');
    expect(readFileSync(join(root, 'a/x'), 'utf8')).toBe('file after whiteout');
    expect((await runner.run({ file: 'getfattr', args: ['--only-values', '-n', 'trusted.overlay.opaque', join(root, 'a/d')] })).stdout).toBe('y');
    expect(readFileSync(join(root, 'dev/n'), 'utf8')).toBe('file after node');
    for (const n of ['dev/z', 'dev/zero']) expect([lstatSync(join(root, n)).isCharacterDevice(), lstatSync(join(root, n)).rdev]).toEqual([true, 261]);
  });

  it('a node or an opaque marker whose directory a later entry turns into a symlink out of the root lands nowhere outside', async () => {
    await apply([
      { name: 'd/.wh..wh..opq' },
      { name: 'd/null', type: 'character-device', devmajor: 1, devminor: 3 },
      { name: 'd/.wh.secret' },
      { name: 'd', type: 'symlink', linkname: outside },
    ], 'overlay');
    expect(tree(outside)).toEqual(['secret file']);
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('safe');
    expect((await runner.run({ file: 'getfattr', args: ['-n', 'trusted.overlay.opaque', outside] })).code).not.toBe(0);
    expect(readlinkSync(join(root, 'd'))).toBe(outside);
  });
});
