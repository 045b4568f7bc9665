// `boxlab ps`, `exec` and `rm`: the boxes a `boxlab run -d` left running, from their records
// (src/run/boxes.ts). exec goes in the one way a run's own command does (boxEntry, enter.ts).
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvError, UsageError } from '../errors.js';
import { fillCmd } from '../shell/cmd.js';
import { RealRunner, type Runner } from '../shell/runner.js';
import { workspaceVars } from '../engine/workspace.js';
import { isSameLiveProcess } from '../kernel/proc.js';
import { printable } from '../../rootfs-fetch/untrusted.js';
import { parseExecArgs } from '../run/flags.js';
import { RELAY_CMD } from '../run/script.js';
import { hostFacts, requireNonDumpable, requireSeccomp } from '../run/host.js';
import { boxEntry, enterBoxViaFile } from '../run/enter.js';
import { boxFiles, boxPid, findBox, records } from '../run/boxes.js';

export async function psCommand(argv: string[]): Promise<number> {
  if (argv.length) throw new UsageError(`unexpected argument: ${argv[0]}`);
  // The command is the image's: printed escaped, as any text from outside.
  const rows = records().map((r) => [r.name, String(boxPid(r.name) ?? '-'), printable(r.source, 60), printable(r.args.join(' '), 60), r.started.slice(11, 19)]);
  const table = [['NAME', 'BOX PID', 'ROOT', 'COMMAND', 'STARTED'], ...rows];
  const w = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  for (const r of table) process.stdout.write(r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd() + '\n');
  return 0;
}

/** `boxlab exec [-i] [-t] NAME CMD...`: the same way in as the run's own command (enter.ts):
 *  its cgroups, its capabilities, its seccomp filter (or no exec at all), its identity. The
 *  command always reads boxlab's stdin (docker exec's -i); -t is accepted as docker takes it,
 *  and the command then uses the caller's terminal: a box run with -d has no terminal of its
 *  own to give it. */
export async function execCommand(argv: string[], runner: Runner = new RealRunner()): Promise<number> {
  const { name, args, tty } = parseExecArgs(argv);
  const r = findBox(name);
  if (tty && process.stdin.isTTY) {
    process.stderr.write(`boxlab: ${name} runs detached (-d), with no terminal of its own: the command uses yours, without job control\n`);
  }
  const box = boxPid(r.name);
  if (!box) throw new EnvError(`box ${name} is still starting`);
  const host = hostFacts(r.spec, true);
  requireSeccomp(r.spec, host);
  requireNonDumpable();
  const work = workspaceVars(r.runId).WORK!;
  const entry = boxEntry(r.spec, host, { runId: r.runId, work, args, closeFds: true, ownSession: false });
  if (entry.seccompFile && !existsSync(entry.seccompFile)) throw new EnvError(`box ${name}: its seccomp filter (${entry.seccompFile}) is gone: no exec without it`);
  // The chain in a root-only file in the box's work directory, as a run's: no value of the
  // box's environment in a command line.
  const file = join(work, `exec-${randomBytes(4).toString('hex')}.sh`);
  const { cmd, text } = enterBoxViaFile(entry, file);
  writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  // Ctrl-C at the terminal reaches the relay (in boxlab's process group), which passes it on
  // to the command: boxlab itself must not die of it and leave the command on the terminal.
  // A SIGINT or SIGTERM sent to boxlab alone is passed on by boxlab.
  let relay = 0;
  const pass = (sig: NodeJS.Signals) => (): void => {
    if (relay > 0 && (sig !== 'SIGINT' || !process.stdin.isTTY)) process.kill(relay, sig);
  };
  const onInt = pass('SIGINT');
  const onTerm = pass('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const c = fillCmd(cmd, { BOX: String(box) });
    // The same relay as a run's: the command in the background, signals passed on to it.
    const { pid, exited } = runner.foreground({ file: 'bash', args: ['-c', RELAY_CMD, 'boxlab-exec', c.file, ...c.args] });
    relay = pid;
    return await exited;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    rmSync(file, { force: true });
  }
}

export async function rmCommand(argv: string[]): Promise<number> {
  const r = findBox(argv[0]);
  // As docker stop: SIGTERM to the command (the script passes it on), a grace period, then
  // the box's init (and with it every process) is killed. Only while each is the same process.
  const live = (): boolean => isSameLiveProcess(r.pid, r.pidStart);
  if (live()) process.kill(r.pid, 'SIGTERM');
  for (let i = 0; i < 100 && live(); i++) await new Promise((res) => setTimeout(res, 30));
  if (live()) {
    const box = boxPid(r.name);
    if (box) process.kill(box, 'SIGKILL');
    for (let i = 0; i < 100 && live(); i++) await new Promise((res) => setTimeout(res, 20));
  }
  const f = boxFiles(r.name);
  for (const file of [f.box, f.record, f.log]) rmSync(file, { force: true });
  process.stdout.write(`${r.name}\n`);
  return 0;
}
