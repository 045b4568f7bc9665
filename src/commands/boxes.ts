// `boxlab ps`, `exec`, `logs`, `stop` and `rm`: the boxes a `boxlab run -d` left running, from
// their records (src/container/boxes.ts). exec goes in the one way a run's own command does (boxEntry, enter.ts).
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvError, UsageError } from '../errors.js';
import { fillCmd } from '../shell/cmd.js';
import { foregroundPassingSignals, RealRunner, type Runner } from '../shell/spawn.js';
import { workspaceVars } from '../engine/workspace.js';
import { isSameLiveProcess } from '../kernel/proc.js';
import { printable, printableLines } from '../../rootfs-fetch/untrusted.js';
import { parseExecArgs } from '../container/flags.js';
import { RELAY_CMD } from '../container/script.js';
import { hostFacts, requireNonDumpable, requireSeccomp } from '../container/host.js';
import { boxEntry, enterBoxViaFile } from '../container/enter.js';
import { boxFiles, boxPid, findBox, records } from '../container/boxes.js';

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
  try {
    const c = fillCmd(cmd, { BOX: String(box) });
    // The same relay as a run's: the command in the background, signals passed on to it.
    return await foregroundPassingSignals(runner, { file: 'bash', args: ['-c', RELAY_CMD, 'boxlab-exec', c.file, ...c.args] });
  } finally {
    rmSync(file, { force: true });
  }
}

/** `boxlab logs [-f] NAME`: what the box's command wrote (stdout and stderr, in one log that
 *  lives as long as the box). To a terminal, the box's bytes are escaped as any text from
 *  outside (no escape sequence of the image's reaches it); to a pipe or a file, as written. */
export async function logsCommand(argv: string[]): Promise<number> {
  const follow = argv[0] === '-f' || argv[0] === '--follow';
  const rest = follow ? argv.slice(1) : argv;
  if (rest.length > 1) throw new UsageError(`unexpected argument: ${printable(rest[1])} (boxlab logs [-f] NAME)`);
  const r = findBox(rest[0]);
  const file = boxFiles(r.name).log;
  const raw = !process.stdout.isTTY;
  const out = (b: Buffer): void => void process.stdout.write(raw ? b : printableLines(b.toString('utf8')));
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    throw new EnvError(`box ${r.name} has no log (it is still starting)`);
  }
  const buf = Buffer.alloc(64 * 1024);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n > 0) {
        out(buf.subarray(0, n));
        continue;
      }
      // At the end: done, unless following a box that still runs.
      if (!follow || !isSameLiveProcess(r.pid, r.pidStart)) return 0;
      await new Promise((res) => setTimeout(res, 200));
    }
  } finally {
    closeSync(fd);
  }
}

/** As docker stop: SIGTERM to the command (the script passes it on), a grace period, then the
 *  box's init (and with it every process) is killed; only while each is the same process. A
 *  box keeps nothing once stopped (no `start` again): its record and log go with it. */
async function stopBox(name: string | undefined, graceMs: number): Promise<string> {
  const r = findBox(name);
  const live = (): boolean => isSameLiveProcess(r.pid, r.pidStart);
  if (live()) process.kill(r.pid, 'SIGTERM');
  for (let t = 0; t < graceMs && live(); t += 30) await new Promise((res) => setTimeout(res, 30));
  if (live()) {
    const box = boxPid(r.name);
    if (box) process.kill(box, 'SIGKILL');
    for (let i = 0; i < 100 && live(); i++) await new Promise((res) => setTimeout(res, 20));
  }
  const f = boxFiles(r.name);
  for (const file of [f.box, f.record, f.log]) rmSync(file, { force: true });
  return r.name;
}

/** `boxlab stop [-t SECONDS] NAME`: docker's grace period (10 s by default). */
export async function stopCommand(argv: string[]): Promise<number> {
  let grace = 10;
  let rest = argv;
  if (argv[0] === '-t' || argv[0] === '--time') {
    if (!/^[0-9]{1,4}$/.test(argv[1] ?? '')) throw new UsageError(`-t takes whole seconds (0-9999), not ${printable(argv[1] ?? '(nothing)')}`);
    grace = Number(argv[1]);
    rest = argv.slice(2);
  }
  if (rest.length > 1) throw new UsageError(`unexpected argument: ${printable(rest[1])} (boxlab stop [-t SECONDS] NAME)`);
  process.stdout.write(`${await stopBox(rest[0], grace * 1000)}\n`);
  return 0;
}

/** `boxlab rm NAME`: stop with a 3 s grace period (a -d box is removed when it stops). */
export async function rmCommand(argv: string[]): Promise<number> {
  if (argv.length > 1) throw new UsageError(`unexpected argument: ${printable(argv[1])} (boxlab rm NAME)`);
  process.stdout.write(`${await stopBox(argv[0], 3000)}\n`);
  return 0;
}
