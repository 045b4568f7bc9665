// boxlab build's pure parts: the Boxfile parser and resolver, the layer writer (real tar
// archives, read back with GNU tar), and the build context's checks.
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, lstatSync as require_stat, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseBoxfile, resolveBoxfile } from '../../src/build/boxfile.js';
import { splitWords } from '../../src/build/words.js';
import { upperEntries, writeLayer, type LayerEntry } from '../../src/build/layer.js';
import { copyEntries, openContext, parseIgnore } from '../../src/build/context.js';
import { opaqueMarks, parseOpaqueMarks } from '../../src/shell/getfattr.js';
import { tempDir } from './helpers.js';

const asRoot = process.geteuid?.() === 0;
let t: string;
beforeEach(() => (t = tempDir()));
afterEach(() => rmSync(t, { recursive: true, force: true }));

const resolve = (text: string, args: Record<string, string> = {}) => resolveBoxfile(parseBoxfile(text), new Map(Object.entries(args)));

describe('Boxfile parser', () => {
  it('joins continuations, skips comments, and keeps line numbers', () => {
    const ins = parseBoxfile('# c\nFROM scratch\n\nRUN a \\\n  # inside\n  b\nCMD x\n');
    expect(ins.map((i) => [i.keyword, i.rest, i.line])).toEqual([['FROM', 'scratch', 2], ['RUN', 'a   b', 4], ['CMD', 'x', 7]]);
  });
  it.each([
    ['FROM x\nHEALTHCHECK CMD true', 'Boxfile:2: HEALTHCHECK is not supported by boxlab build'],
    ['FROM x\n\nFOO bar', 'Boxfile:3: FOO is not a Boxfile instruction'],
    ['FROM x\nCOPY --from=a b c', 'Boxfile:2: COPY: --from is not supported'],
    ['FROM x AS y', 'Boxfile:1: FROM: AS names a stage'],
    ['FROM x\nFROM y', 'Boxfile:2: FROM: a second FROM'],
    ['RUN x', 'Boxfile:1: RUN: comes before FROM'],
    ['FROM x\nUSER bob', 'Boxfile:2: USER: USER bob: boxlab build takes numeric ids'],
    ['FROM x\nENV A="b', 'Boxfile:2: ENV: unterminated quote'],
  ])('refuses %j with its line', (text, message) => {
    expect(() => resolve(text)).toThrow(message);
  });
  it('refuses a Boxfile over 1 MiB in one line', () => {
    expect(() => parseBoxfile('FROM x\n' + 'RUN true\n'.repeat(1024 * 1024 / 4))).toThrow(/^Boxfile: larger than 1 MiB/);
  });
  it('resolves ARG, --build-arg, ENV, WORKDIR, USER, LABEL, EXPOSE, CMD and ENTRYPOINT as Docker does', () => {
    const r = resolve(
      ['ARG BASE=busybox', 'FROM $BASE', 'ARG V=1', 'ENV A=x B="two words" C=${V}', 'ENV D ${A} and more', 'WORKDIR /srv', 'WORKDIR app', 'USER 1000:100', 'LABEL k="v v"', 'EXPOSE 80 53/udp',
        'RUN echo $A', 'RUN ["/bin/echo", "$A"]', "COPY --chown=7:8 a 'b c' ./", 'ENTRYPOINT ["/e"]', 'CMD run'].join('\n'),
      { V: '2', BASE: 'alpine', UNUSED: 'x' },
    );
    expect(r.from).toBe('alpine');
    expect(r.unusedArgs).toEqual(['UNUSED']);
    const last = r.steps[r.steps.length - 1]!.state;
    expect(last.env).toEqual([['A', 'x'], ['B', 'two words'], ['C', '2'], ['D', 'x and more']]);
    expect(last.cwd).toBe('/srv/app');
    expect(last.user).toBe('1000:100');
    expect(last.labels).toEqual([['k', 'v v']]);
    expect(last.exposed).toEqual(['80/tcp', '53/udp']);
    expect(last.entrypoint).toEqual(['/e']);
    expect(last.cmd).toEqual(['/bin/sh', '-c', 'run']);
    const runs = r.steps.map((s) => s.step).filter((s) => s.kind === 'RUN');
    // The shell form is the shell's to expand; the exec form is not expanded at all.
    expect(runs.map((s) => s.kind === 'RUN' && s.args)).toEqual([['/bin/sh', '-c', 'echo $A'], ['/bin/echo', '$A']]);
    expect(runs[0]!.kind === 'RUN' && runs[0]!.args_).toEqual([['V', '2']]);
    const copy = r.steps.map((s) => s.step).find((s) => s.kind === 'COPY');
    expect(copy).toMatchObject({ sources: ['a', 'b c'], dest: '/srv/app/', chown: { uid: 7, gid: 8 } });
  });
  it('splits words with quotes, escapes and defaults', () => {
    const vars = new Map([['X', 'y']]);
    expect(splitWords(`a\\ b 'c $X' "d $X" \${X:-z} \${N:-z} \${X:+w} \${N:+w} $N ""`, vars)).toEqual(['a b', 'c $X', 'd y', 'y', 'z', 'w', '']);
  });
});

/** `tar -tvf` of a gzipped layer: one line per entry. */
const listing = (blob: string): string[] => execFileSync('tar', ['--numeric-owner', '-tvzf', blob], { encoding: 'utf8' }).trim().split('\n');

describe('layer writer', () => {
  it('writes sorted entries with owners, modes, links and whiteouts, mtimes clamped; the same bytes twice', async () => {
    const src = join(t, 'src');
    mkdirSync(join(src, 'd'), { recursive: true });
    writeFileSync(join(src, 'd/f'), 'hello');
    linkSync(join(src, 'd/f'), join(src, 'd/g'));
    const f = (p: string, extra: Partial<LayerEntry> = {}): LayerEntry => ({ path: p, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000, ...extra });
    const stat = (p: string) => {
      const s = require_stat(join(src, p));
      return { path: join(src, p), size: s.size, ino: s.ino, dev: s.dev, nlink: s.nlink };
    };
    const entries: LayerEntry[] = [
      f('z/g', { source: stat('d/g'), mode: 0o4755, uid: 1000, gid: 100 }),
      f('z/f', { source: stat('d/f') }),
      f('z/.wh.gone', { mode: 0o600 }),
      { path: 'z', type: 'directory', mode: 0o750, uid: 5, gid: 6, mtime: 1_700_000_000 },
      { path: 'z/link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 1, linkname: '../etc/passwd' },
    ];
    const a = await writeLayer(entries, join(t, 'a.tgz'), { clamp: 0 });
    const b = await writeLayer([...entries].reverse(), join(t, 'b.tgz'), { clamp: 0 });
    expect(b).toEqual(a);
    expect(execFileSync('cmp', [join(t, 'a.tgz'), join(t, 'b.tgz')]).length).toBe(0);
    const lines = listing(join(t, 'a.tgz'));
    expect(lines.map((l) => l.replace(/\s+/g, ' '))).toEqual([
      'drwxr-x--- 5/6 0 1970-01-01 00:00 z/',
      '-rw------- 0/0 0 1970-01-01 00:00 z/.wh.gone',
      '-rw-r--r-- 0/0 5 1970-01-01 00:00 z/f',
      'hrwsr-xr-x 1000/100 0 1970-01-01 00:00 z/g link to z/f',
      'lrwxrwxrwx 0/0 0 1970-01-01 00:00 z/link -> ../etc/passwd',
    ]);
    expect(a.diffId).toBe(`sha256:${execFileSync('sh', ['-c', `gzip -dc ${join(t, 'a.tgz')} | sha256sum`], { encoding: 'utf8' }).slice(0, 64)}`);
    expect(a.digest).toBe(`sha256:${execFileSync('sha256sum', [join(t, 'a.tgz')], { encoding: 'utf8' }).slice(0, 64)}`);
    // SOURCE_DATE_EPOCH clamps later times and keeps earlier ones.
    await writeLayer(entries, join(t, 'c.tgz'), { clamp: 86400 });
    expect(listing(join(t, 'c.tgz'))[0]).toMatch(/ 1970-01-02 00:00 z\/$/);
    expect(listing(join(t, 'c.tgz'))[4]).toMatch(/ 1970-01-01 00:00 z\/link/);
  });

  it.skipIf(!asRoot)('turns an overlay upper directory into OCI whiteouts and an opaque marker', async () => {
    const up = join(t, 'upper');
    mkdirSync(join(up, 'etc/opq'), { recursive: true });
    execFileSync('mknod', [join(up, 'etc/motd'), 'c', '0', '0']);
    execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(up, 'etc/opq')]);
    writeFileSync(join(up, 'etc/opq/new'), 'n');
    chmodSync(join(up, 'etc/opq/new'), 0o600);
    execFileSync('chown', ['42:43', join(up, 'etc/opq/new')]);
    mkdirSync(join(up, 'proc'));
    // The command build runs, over a tree with a link to a path that is not on this host.
    symlinkSync('/nowhere/boxlab-test', join(up, 'dangling'));
    const c = opaqueMarks(up);
    const marks = parseOpaqueMarks(execFileSync(c.file, c.args, { encoding: 'utf8' }));
    expect(marks).toEqual([join(up, 'etc/opq')]);
    rmSync(join(up, 'dangling'));
    const entries = upperEntries(up, new Set(['etc/opq']), new Set(['proc']));
    await writeLayer(entries, join(t, 'u.tgz'), { clamp: 0 });
    expect(listing(join(t, 'u.tgz')).map((l) => l.replace(/\s+/g, ' ').replace(/^(\S+) (\S+) \d+ \S+ \S+ /, '$1 $2 '))).toEqual([
      'drwxr-xr-x 0/0 etc/',
      '-rw------- 0/0 etc/.wh.motd',
      'drwxr-xr-x 0/0 etc/opq/',
      '-rw------- 0/0 etc/opq/.wh..wh..opq',
      '-rw------- 42/43 etc/opq/new',
    ]);
  });
});

describe('build context', () => {
  const ctxWith = (files: Record<string, string>) => {
    const dir = join(t, 'ctx');
    mkdirSync(dir, { recursive: true });
    for (const [p, body] of Object.entries(files)) {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), body);
    }
    return dir;
  };
  const none = () => undefined;
  it("copies a directory's contents, honours .dockerignore (with !), owns files by --chown", () => {
    const dir = ctxWith({ 'src/a.txt': 'a', 'src/b.log': 'b', 'src/keep.log': 'k', '.dockerignore': '*/*.log\n!src/keep.log\n' });
    const r = copyEntries(openContext(dir), ['src'], '/app/', { uid: 7, gid: 8 }, none);
    expect(r.entries.map((e) => `${e.path} ${e.uid}:${e.gid}`).sort()).toEqual(['app 7:8', 'app/a.txt 7:8', 'app/keep.log 7:8']);
    expect(parseIgnore('**/*.tmp')('x/y/z.tmp')).toBe(true);
  });
  it.each([
    ['../x', /COPY \.\.\/x is outside the build context/],
    ['/etc/passwd', /COPY \/etc\/passwd: no such file in the build context/],
    ['out', /COPY out resolves outside the build context/],
    ['d', /COPY d\/bad is a symlink pointing out of the build context/],
  ])('refuses %s', (source, message) => {
    const dir = ctxWith({ 'd/ok': 'x' });
    symlinkSync('/etc', join(dir, 'out'));
    symlinkSync('../../x', join(dir, 'd/bad'));
    let err: unknown;
    try {
      copyEntries(openContext(dir), [source], '/x/', undefined, none);
    } catch (e) {
      err = e;
    }
    expect(`COPY ${(err as Error).message}`).toMatch(message);
  });
});

describe("an image's history, as build and commit extend it", () => {
  it('has one entry that made a layer per layer: a base without history gets one per layer, first', async () => {
    const { baseHistory } = await import('../../src/build/history.js');
    const made = (h: { empty_layer?: boolean }[]) => h.filter((e) => e.empty_layer !== true).length;
    // boxlab's busybox:layers: three layers, no history.
    const none = baseHistory({ rootfs: { diff_ids: ['a', 'b', 'c'] } }, 3);
    expect(made(none)).toBe(3);
    expect(none[0]).toEqual({ created_by: 'a layer of the base image (its config has no history for it)', comment: 'boxlab build' });
    // A base whose history accounts for its layers is kept as it is, empty entries included.
    const full = [{ created_by: 'ADD rootfs' }, { created_by: 'ENV A=1', empty_layer: true }, { created_by: 'RUN x' }];
    expect(baseHistory({ history: full }, 2)).toEqual(full);
    // Junk in an image's history is dropped, not trusted.
    expect(baseHistory({ history: [null, 'x', [1], { created_by: 'RUN y' }] }, 1)).toEqual([{ created_by: 'RUN y' }]);
  });
});
