// boxlab-runtime's pieces that need no root: IDs, signals, the global flags and errors as
// engines read them, and the create/start gate in the run script.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkId, hooksOf } from '../../src/container/containers.js';
import { runtimeCommand, signalNumber } from '../../src/commands/runtime.js';
import { UsageError } from '../../src/errors.js';
import { planRun } from '../../src/container/plan.js';
import { runScript } from '../../src/container/script.js';
import { parseRunFlags } from '../../src/container/flags.js';
import { specFromFlags } from '../../src/container/from-flags.js';
import { fakePlanHost, tempDir as newTempDir } from './helpers.js';

let dirs: string[] = [];
const tempDir = (): string => {
  const d = newTempDir();
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

const host = fakePlanHost({ cgroups: undefined, setprivSeccomp: false, seccompBpf: undefined });

describe('boxlab-runtime', () => {
  it('takes IDs that are directory names, and nothing else', () => {
    expect(checkId('abc-1.2_3+x')).toBe('abc-1.2_3+x');
    expect(checkId('a'.repeat(128))).toHaveLength(128);
    for (const bad of ['', '../x', 'a/b', '.hidden', '-x', 'a b', 'a'.repeat(129), 'ü']) expect(() => checkId(bad)).toThrow(UsageError);
  });

  it("checks a config's hooks: an absolute path, NAME=value entries, a positive timeout", () => {
    expect(hooksOf({ hooks: { poststop: [{ path: '/bin/true', args: ['true', '-x'], env: ['A=1'], timeout: 3 }] } })).toEqual({ poststop: [{ path: '/bin/true', args: ['true', '-x'], env: ['A=1'], timeout: 3 }] });
    const bad = [{ prestart: [{ path: 'true' }] }, { prestart: [{ path: '/bin/true', env: ['-u'] }] }, { prestart: [{ path: '/bin/true', env: ['NOEQUALS'] }] }, { prestart: [{ path: '/bin/true', timeout: 0 }] }, { prestart: [{ path: '/bin/true', args: [1] }] }, { bogus: [] }, { prestart: {} }];
    for (const hooks of bad) expect(() => hooksOf({ hooks })).toThrow(UsageError);
  });

  it('reads signals by name, SIG name and number, and refuses others', () => {
    expect(signalNumber('TERM')).toBe(15);
    expect(signalNumber('SIGKILL')).toBe(9);
    expect(signalNumber('usr1')).toBe(10);
    expect(signalNumber('9')).toBe(9);
    for (const bad of ['0', '65', 'NOPE', '-1', '9x']) expect(() => signalNumber(bad)).toThrow(UsageError);
  });

  it('writes an error to stderr and, with --log-format json, as a JSON line in --log', async () => {
    const dir = tempDir();
    const log = join(dir, 'log.json');
    const code = await runtimeCommand(['--root', dir, '--log', log, '--log-format', 'json', 'state', 'missing']);
    expect(code).toBe(1);
    const line = JSON.parse(readFileSync(log, 'utf8').trim());
    expect(line).toMatchObject({ level: 'error', msg: 'container missing does not exist' });
    expect(Number.isNaN(Date.parse(line.time))).toBe(false);
  });

  it('refuses --systemd-cgroup, an unknown command and an unknown flag with exit codes, never a trace', async () => {
    const dir = tempDir();
    expect(await runtimeCommand(['--root', dir, '--systemd-cgroup', 'state', 'x'])).toBe(1);
    expect(await runtimeCommand(['--root', dir, 'frobnicate'])).toBe(2);
    expect(await runtimeCommand(['--root', dir, 'kill', '--bogus', 'x'])).toBe(2);
  });

  it("the run script waits at the gate after the box is built, and starts the command only after it", () => {
    const spec = specFromFlags(parseRunFlags(['--seccomp', 'unconfined', '--rootfs', '/', '--', '/bin/true']), undefined, () => ({ profile: {}, from: 'x' }));
    const gate = { fifo: '/r/c/exec.fifo', created: '/r/c/created', started: '/r/c/started', payloadPid: '/r/c/payload.pid' };
    const script = runScript(planRun(spec, host, { fdsClosed: true }), { invocation: 'x', commented: false, interactive: true, gate });
    execFileSync('bash', ['-n'], { input: script });
    const at = (s: string): number => script.indexOf(s);
    expect(at('pivot_root')).toBeGreaterThan(0);
    expect(at('mkfifo -m 0600 /r/c/exec.fifo')).toBeGreaterThan(at('pivot_root'));
    expect(at(': > /r/c/created')).toBeGreaterThan(at('exec 4<>/r/c/exec.fifo'));
    expect(at('read -r _ <&4')).toBeGreaterThan(at(': > /r/c/created'));
    // The FIFO's descriptor is closed before the command starts: the box never holds it.
    expect(at('exec 4<&-')).toBeGreaterThan(at('read -r _ <&4'));
    expect(at('nsenter --target')).toBeGreaterThan(0);
    const payload = script.lastIndexOf('<&0 &');
    expect(payload).toBeGreaterThan(at('exec 4<&-'));
    expect(script.slice(payload)).toMatch(/^<&0 &\nprintf '%s' "\$!" > \/r\/c\/payload\.pid\np_=\$!/);
  });
});

// The gate itself, in bash: the script blocks until a line arrives, and then goes on.
const bash = spawnSync('bash', ['--version']).status === 0;
describe.skipIf(!bash)('the gate, run', () => {
  it('blocks until start writes a line, then runs on', async () => {
    const dir = tempDir();
    const f = (n: string) => join(dir, n);
    const lines = [`mkfifo -m 0600 ${f('fifo')}`, `exec 4<>${f('fifo')}`, `: > ${f('created')}`, 'read -r _ <&4 || exit 1', 'exec 4<&-', `rm -f ${f('fifo')}`, `: > ${f('started')}`, 'echo ran'];
    const { spawn } = await import('node:child_process');
    const child = spawn('bash', ['-c', lines.join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    const { existsSync, openSync, writeSync, closeSync, constants } = await import('node:fs');
    for (let i = 0; i < 500 && !existsSync(f('created')); i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    expect(out).toBe('');
    expect(existsSync(f('started'))).toBe(false);
    const fd = openSync(f('fifo'), constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(fd, '\n');
    closeSync(fd);
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(out).toBe('ran\n');
    expect(existsSync(f('fifo'))).toBe(false);
  });
});
