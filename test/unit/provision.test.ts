// provision.sh makes `boxlab` a command through scripts/link-command.sh. Tried here in a
// directory of the test's own, never /usr/local/bin: nothing outside it changes.
import { spawnSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { tempDir } from './helpers.js';

const root = packageRoot();
const script = join(root, 'scripts/link-command.sh');
const target = join(root, 'bin/boxlab.js');
const link = (dir: string) => spawnSync('bash', [script, dir], { encoding: 'utf8', env: { ...process.env, PATH: '/usr/bin:/bin' } });

describe('boxlab as a command (scripts/link-command.sh)', () => {
  let dir: string;
  beforeEach(() => void (dir = tempDir()));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('links DIR/boxlab to bin/boxlab.js, and the link runs boxlab', () => {
    const r = link(dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`boxlab is now a command (${dir}/boxlab -> ${target})`);
    expect(readlinkSync(join(dir, 'boxlab'))).toBe(target);
    const help = spawnSync(join(dir, 'boxlab'), ['--help'], { encoding: 'utf8' });
    expect(help.stdout).toMatch(/^usage: boxlab <command>/);
  });

  it('is idempotent: a second run leaves the link as it is', () => {
    link(dir);
    const before = lstatSync(join(dir, 'boxlab')).ino;
    const r = link(dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('boxlab is a command already');
    expect(lstatSync(join(dir, 'boxlab')).ino).toBe(before);
  });

  it("moves a link to another checkout here", () => {
    symlinkSync('/elsewhere/bin/boxlab.js', join(dir, 'boxlab'));
    expect(link(dir).status).toBe(0);
    expect(readlinkSync(join(dir, 'boxlab'))).toBe(target);
  });

  it('never replaces a file that is not a link', () => {
    writeFileSync(join(dir, 'boxlab'), '#!/bin/sh\necho another boxlab\n');
    const r = link(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('exists and is not a link, so it is left as it is');
    expect(readFileSync(join(dir, 'boxlab'), 'utf8')).toContain('another boxlab');
  });
});

describe('provision.sh', () => {
  const text = readFileSync(join(root, 'scripts/provision.sh'), 'utf8');
  it('makes boxlab a command in /usr/local/bin, after npm ci has built it', () => {
    expect(text).toMatch(/npm ci[^\n]*\n(?:#[^\n]*\n)*bash scripts\/link-command\.sh \/usr\/local\/bin/);
  });

  const shellcheck = spawnSync('shellcheck', ['--version']).status === 0;
  it.skipIf(!shellcheck)('and link-command.sh pass shellcheck', () => {
    const r = spawnSync('shellcheck', ['-x', 'provision.sh', 'link-command.sh'], { cwd: join(root, 'scripts'), encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});
