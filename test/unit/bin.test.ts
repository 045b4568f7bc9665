// bin/boxlab.js on a Node older than package.json's engines: one line and exit 1, before
// anything else loads. The older Node is this one with process.versions.node rewritten by a
// preload, so the very check that runs on a learner's machine runs here.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { tempDir } from './helpers.js';

const root = packageRoot();
const dir = tempDir();
const preload = join(dir, 'node-version.cjs');
writeFileSync(preload, "Object.defineProperty(process.versions, 'node', { value: process.env.BOXLAB_TEST_NODE });\n");
const asNode = (version: string) =>
  spawnSync(process.execPath, ['-r', preload, join(root, 'bin/boxlab.js'), '--help'], { encoding: 'utf8', env: { ...process.env, BOXLAB_TEST_NODE: version } });

describe('bin/boxlab.js and the Node version', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const oldest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node as string;

  it('package.json claims 18.19, the oldest Node the lessons and tests were run on', () => {
    expect(oldest).toBe('>=18.19');
  });

  it.each(['16.20.2', '18.18.2', '12.22.12'])('refuses Node %s in one line', (v) => {
    const r = asNode(v);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`boxlab: needs Node 18.19 or newer, and this is Node ${v}\n`);
  });

  it.each(['18.19.0', '20.0.0', '22.1.0'])('runs on Node %s', (v) => {
    const r = asNode(v);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^usage: boxlab <command>/);
  });
});
