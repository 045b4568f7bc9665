// The one bash renderer both generated scripts use (src/report/bash.ts): what its pieces do
// when bash runs them, and that shellcheck has nothing to say about them.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cleanupStack, commentLines, fileWrite, onExit, placeholderLines, unmet } from '../../src/report/bash.js';
import { writeFile } from '../../src/shell/coreutils.js';
import { cmd } from '../../src/shell/cmd.js';
import { planRun } from '../../src/container/plan.js';
import { runScript } from '../../src/container/script.js';
import { parseRunFlags } from '../../src/container/flags.js';
import { specFromFlags } from '../../src/container/from-flags.js';
import { fakePlanHost, tempDir } from './helpers.js';
import { boxInit } from '../../src/container/boxes.js';

const bash = (script: string, env: Record<string, string> = {}) =>
  spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...env } });
const shellcheck = spawnSync('shellcheck', ['--version']).status === 0;
const lint = (script: string): string => {
  const r = spawnSync('shellcheck', ['-s', 'bash', '-S', 'warning', '-'], { input: script, encoding: 'utf8' });
  return r.status === 0 ? '' : r.stdout;
};

/** A script made of the renderer's pieces: undo entries, one of them failing, then an exit. */
const stackScript = (say: boolean, dir: string): string =>
  [
    '#!/usr/bin/env bash',
    '# shellcheck disable=SC2034',
    'set -euo pipefail',
    ...(say ? ["boxlab_say() { printf '%s\\n' \"$*\"; }"] : []),
    ...placeholderLines('abcd1234'),
    ...cleanupStack({ say, first: [`echo first >> ${dir}/log`] }),
    onExit(`echo "one $RUN_ID" >> ${dir}/log`),
    onExit('false'),
    onExit('echo "$UNSET_VARIABLE"'),
    onExit(`echo three >> ${dir}/log`),
    'exit 3',
  ].join('\n');

describe('the cleanup stack', () => {
  it.each([true, false])('undoes in reverse on exit, past a failing entry and an unset variable, keeping the exit status (say: %s)', (say) => {
    const dir = tempDir();
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const r = bash(stackScript(say, dir));
    expect(r.status).toBe(3);
    expect(readFileSync(join(dir, 'log'), 'utf8')).toBe('three\none abcd1234\nfirst\n');
    // Lessons show their teardown; a run's output is its payload's alone.
    expect(r.stdout.includes('cleanup: echo three')).toBe(say);
    if (!say) expect(r.stdout + r.stderr).toBe('');
  });

  it.skipIf(!shellcheck)('passes bash -n and shellcheck', () => {
    for (const say of [true, false]) {
      const script = stackScript(say, '/tmp/x');
      expect(spawnSync('bash', ['-n'], { input: script }).status).toBe(0);
      expect(lint(script)).toBe('');
    }
  });
});

describe('the pieces', () => {
  it('writes a file as tee would, with bash alone, on one line', () => {
    const dir = tempDir();
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const text = "a 'quoted' line\nand $HOME ${RUN_ID} `x`";
    const line = fileWrite(writeFile(`${dir}/by-printf`, text))!;
    expect(line.split('\n')).toHaveLength(2); // the text's own newline, in $'...' or "..." quoting
    expect(line.startsWith("printf '%s\\n' ")).toBe(true);
    const r = bash(`RUN_ID=r1; ${line}; tee ${dir}/by-tee <<< "$1" >/dev/null`.replace('"$1"', `"$(printf '%s' "$T")"`), { T: text.replace('${RUN_ID}', 'r1') });
    expect(r.status).toBe(0);
    expect(readFileSync(`${dir}/by-printf`, 'utf8')).toBe(readFileSync(`${dir}/by-tee`, 'utf8'));
    expect(fileWrite(cmd('tee', '-a', 'f'))).toBeUndefined();
  });

  it('keeps a comment on its own lines whatever the text holds', () => {
    const r = bash([...commentLines('two\nlines\rwith a CR'), 'echo ok'].join('\n'));
    expect(r.stdout).toBe('ok\n');
  });

  it('tests a requirement as the engine does', () => {
    expect(bash(`if ${unmet({ path: '/proc/self/status', reason: '' })}; then echo unmet; else echo met; fi`).stdout).toBe('met\n');
    expect(bash(`if ${unmet({ path: '/nonexistent', reason: '' })}; then echo unmet; else echo met; fi`).stdout).toBe('unmet\n');
    expect(bash(`if ${unmet({ command: cmd('false'), reason: '' })}; then echo unmet; else echo met; fi`).stdout).toBe('unmet\n');
  });
});

describe("a run's script", () => {
  const host = fakePlanHost();
  const profile = () => ({ profile: { defaultAction: 'SCMP_ACT_ALLOW' }, from: 'test' });

  it("puts each step's comment before its first command, batched or not", () => {
    const spec = specFromFlags(parseRunFlags(['--userns', '--memory', '32m', '--rootfs', '/', '--', '/bin/true']), undefined, profile);
    const plan = planRun(spec, host, { fdsClosed: true });
    const lines = runScript(plan, { invocation: 'boxlab run', commented: true }).split('\n');
    // Step titles in order, and no command line between a title and its own kernel comment.
    const titles = plan.steps.map((s) => lines.indexOf(`# ${s.title}`));
    expect(titles.every((i) => i >= 0)).toBe(true);
    expect([...titles].sort((a, b) => a - b)).toEqual(titles);
    // Every step whose commands run has one after its title and before the next title.
    for (let k = 0; k < titles.length; k++) {
      const end = k + 1 < titles.length ? titles[k + 1]! : lines.length;
      const body = lines.slice(titles[k]!, end).filter((l) => !l.startsWith('#'));
      const next = lines.slice(titles[k]!).findIndex((l) => !l.startsWith('#'));
      // Batched steps share the one nsenter after the last of their comments.
      expect(body.length > 0 || lines[titles[k]! + next]!.startsWith('nsenter --target')).toBe(true);
    }
  });

  it('writes the box record -d, ps, exec and rm read: the init\'s PID and start time, as JSON', () => {
    const dir = tempDir();
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const spec = specFromFlags(parseRunFlags(['--rootfs', '/', '--', '/bin/true']), undefined, profile);
    const script = runScript(planRun(spec, host, { fdsClosed: true }), { runId: 'abcd1234', invocation: 'boxlab run', commented: false, stateFile: `${dir}/b.box`, runStateFile: `${dir}/s.json` });
    const line = script.split('\n').find((l) => l.includes(`${dir}/b.box`))!;
    // This shell stands in for the box's init.
    const r = bash(`BOX=$$; ${line}; echo $$; read -r s < /proc/$$/stat; s=\${s##*) }; set -- $s; echo "\${20}"`);
    const [pid, start] = r.stdout.trim().split('\n');
    expect(boxInit(readFileSync(`${dir}/b.box`, 'utf8'))).toEqual({ pid: Number(pid), start });
    expect(boxInit('BOX=12 34')).toBeUndefined();
    expect(boxInit('{"pid":"12","start":"34"}')).toBeUndefined();
  });
});
