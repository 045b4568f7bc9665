// The real runner on node:child_process: what a tool's end looks like to everything above it.
import { describe, expect, it } from 'vitest';
import { cmd } from '../../src/shell/cmd.js';
import { RealRunner, SpawnError } from '../../src/shell/spawn.js';

describe('RealRunner (node:child_process)', () => {
  const runner = new RealRunner();

  it('exit codes, output as written, stdin with a newline, LC_ALL=C over our environment', async () => {
    const r = await runner.run(cmd('sh', '-c', 'read -r x; printf "%s|%s|%s\\n" "$x" "$LC_ALL" "${PATH:+path}"; echo err >&2; exit 3'));
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('|C|path\n');
    const fed = await runner.run({ ...cmd('sh', '-c', 'read -r x; echo "got $x"'), stdin: 'hello' });
    expect([fed.code, fed.stdout]).toEqual([0, 'got hello\n']);
    expect((await runner.run(cmd('sh', '-c', 'echo err >&2; exit 3'))).stderr).toBe('err\n');
    expect((await runner.run(cmd('sh', '-c', 'echo "$LC_ALL"'))).stdout).toBe('C\n');
  });

  it('a signal is 128+N through os.constants.signals (SIGABRT too); a missing tool is 127', async () => {
    expect((await runner.run(cmd('sh', '-c', 'kill -ABRT $$'))).code).toBe(134);
    expect((await runner.run(cmd('sh', '-c', 'kill -TERM $$'))).code).toBe(143);
    const gone = await runner.run(cmd('boxlab-no-such-tool-x'));
    expect([gone.code, gone.stderr]).toEqual([127, 'boxlab-no-such-tool-x: command not found']);
  });

  it("a tool past its time limit is killed with its whole group (a child holding our pipe too): 124", async () => {
    const t0 = Date.now();
    const r = await runner.run(cmd('sh', '-c', 'sleep 30 & echo started; wait'), { timeoutMs: 300 });
    expect(r.code).toBe(124);
    expect(r.stdout).toBe('started\n');
    expect(r.stderr).toMatch(/sh: killed after 0.3 s$/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('an abort kills the group; start() gives a PID and its exit, and refuses a missing tool in one error type', async () => {
    const ac = new AbortController();
    const running = runner.run(cmd('sh', '-c', 'sleep 30'), { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    expect((await running).code).toBe(137);
    const s = await runner.start(cmd('sh', '-c', 'exit 5'));
    expect(s.pid).toBeGreaterThan(0);
    expect((await s.exited).code).toBe(5);
    await expect(runner.start(cmd('boxlab-no-such-tool-x'))).rejects.toThrow(SpawnError);
    expect(await runner.attach(cmd('sh', '-c', 'exit 7'))).toBe(7);
  });
});
