// Both generated scripts, a lesson's (--script) and a run's, pass shellcheck: they are
// teaching material a learner runs with bash alone, and values in them must stay data.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { planRun } from '../../src/container/plan.js';
import { runScript } from '../../src/container/script.js';
import { parseRunFlags } from '../../src/container/flags.js';
import { specFromFlags } from '../../src/container/from-flags.js';
import { fakePlanHost } from './helpers.js';
import { packageRoot } from '../../src/paths.js';

const shellcheck = spawnSync('shellcheck', ['--version']).status === 0;
const check = (script: string): string => {
  const n = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
  if (n.status !== 0) return n.stderr;
  const r = spawnSync('shellcheck', ['-S', 'warning', '-'], { input: script, encoding: 'utf8' });
  return r.status === 0 ? '' : r.stdout;
};

const host = fakePlanHost();
const profile = () => ({ profile: { defaultAction: 'SCMP_ACT_ALLOW' }, from: 'test' });

describe.skipIf(!shellcheck)(shellcheck ? 'shellcheck over the generated scripts' : 'shellcheck over the generated scripts (skipped: not installed; apt-get install shellcheck)', () => {
  it.each([
    ['every option', ['--memory', '32m', '--pids', '9', '--network', 'bridge', '-w', '/etc', '-e', 'A=$x `y` ${WORK}', '--userns']],
    ['-t and -i', ['-t', '-i']],
    ['-d', ['-d']],
  ])("a run's script: %s", (_, flags) => {
    const spec = specFromFlags(parseRunFlags([...flags, '--rootfs', '/', '--', '/bin/sh', '-c', 'echo "$HOME" ${PATH}']), undefined, profile);
    // Where AppArmor is on too: the load of boxlab-default and the profile in the chain.
    const hosts = [host, fakePlanHost({ apparmor: { state: 'on', parser: true, loaded: new Map() } })];
    for (const [payloadViaFile, h] of [[false, hosts[0]], [true, hosts[0]], [true, hosts[1]]] as const) {
      const plan = planRun(spec, h!, { fdsClosed: true, payloadViaFile });
      expect(check(runScript(plan, { invocation: 'boxlab run', commented: true, tty: spec.tty, interactive: spec.interactive }))).toBe('');
      expect(check(runScript(plan, { runId: 'abcd1234', invocation: 'boxlab run', commented: false, runStateFile: '/run/boxlab/abcd1234.json', stateFile: '/run/boxlab/boxes/x.box', onExit: ['rm -f /run/boxlab/boxes/x.json'] }))).toBe('');
    }
  }, 20_000);

  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])('lesson %i --script', (n) => {
    const script = execFileSync('node', [`${packageRoot()}/bin/boxlab.js`, 'lesson', String(n), '--script'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(check(script)).toBe('');
    // (A node start, bash -n and shellcheck: seconds on a loaded machine.)
  }, 20_000);
});
