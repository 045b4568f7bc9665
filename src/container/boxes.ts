// Boxes started with `boxlab run -d`: their records in /run/boxlab/boxes (root's alone: a
// record holds the run's spec, -e values included), for ps, exec and rm.
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvError, UsageError } from '../errors.js';
import { privateStateDir, readStates, stateDir } from '../box/state.js';
import { isSameLiveProcess } from '../kernel/proc.js';
import type { RunSpec } from './spec.js';

export interface BoxRecord {
  name: string;
  /** The run's script (bash), whose life is the box's, and its start time: a record left by
   *  a killed run must never name a process that took the PID since. */
  pid: number;
  pidStart: string;
  runId: string;
  source: string;
  args: string[];
  started: string;
  spec: RunSpec;
}

export const boxesDir = (): string => join(stateDir(), 'boxes');

/** The directory, made private (0700) if need be. */
export function privateBoxesDir(): string {
  const dir = join(privateStateDir(), 'boxes');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** A box's files: its BOX=PID file, its record and its log. */
export const boxFiles = (name: string): { box: string; record: string; log: string } => ({
  box: join(boxesDir(), `${name}.box`),
  record: join(boxesDir(), `${name}.json`),
  log: join(boxesDir(), `${name}.log`),
});

export function writeRecord(r: BoxRecord): void {
  writeFileSync(boxFiles(r.name).record, JSON.stringify(r, null, 2), { mode: 0o600 });
}

/** The records of running boxes; the files of a box whose script is gone are removed. */
export function records(): BoxRecord[] {
  if (!existsSync(boxesDir())) return [];
  const live: BoxRecord[] = [];
  for (const f of readdirSync(boxesDir()).filter((n) => n.endsWith('.json'))) {
    let r: BoxRecord | undefined;
    try {
      r = JSON.parse(readFileSync(join(boxesDir(), f), 'utf8')) as BoxRecord;
    } catch {
      // half written or not ours: gone with the rest below
    }
    if (r && isSameLiveProcess(r.pid, r.pidStart)) live.push(r);
    else for (const file of Object.values(boxFiles(f.slice(0, -5)))) rmSync(file, { force: true });
  }
  // A .box or .log left without its record (the run was killed before writing it).
  for (const f of readdirSync(boxesDir()).filter((n) => /\.(box|log)$/.test(n))) {
    if (!existsSync(join(boxesDir(), f.replace(/\.(box|log)$/, '.json'))) && !isStarting(join(boxesDir(), f))) rmSync(join(boxesDir(), f), { force: true });
  }
  return live;
}

/** A box file whose run is still starting: its state file names a live owner. (A run writes
 *  its .box before boxlab writes the record, for -d.) */
function isStarting(file: string): boolean {
  return readStates().some(({ state }) => isSameLiveProcess(state.owner, state.ownerStart) && state.resources.some((r) => 'dir' in r && r.dir === file));
}

export function findBox(name: string | undefined): BoxRecord {
  if (!name) throw new UsageError('which box? (boxlab ps lists them)');
  const r = records().find((b) => b.name === name);
  if (!r) throw new EnvError(`no running box named ${name} (boxlab ps lists them)`);
  return r;
}

const readIf = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');

/** The record the run's script writes once its box exists: the init's PID and start time. */
export interface BoxInit {
  pid: number;
  start: string;
}

/** A .box file's record, if it is one (a half-written file is not). */
export function boxInit(text: string): BoxInit | undefined {
  try {
    const r = JSON.parse(text) as Partial<BoxInit>;
    return Number.isInteger(r.pid) && r.pid! > 0 && typeof r.start === 'string' && /^\d+$/.test(r.start) ? { pid: r.pid!, start: r.start } : undefined;
  } catch {
    return undefined;
  }
}

/** The box's init, as the host numbers it, once the box exists and while it is the same
 *  process (its start time is in the file) in a mount namespace other than ours. */
export function boxPid(name: string): number | undefined {
  const init = boxInit(readIf(boxFiles(name).box));
  if (!init || !isSameLiveProcess(init.pid, init.start)) return undefined;
  try {
    if (readlinkSync(`/proc/${init.pid}/ns/mnt`) === readlinkSync('/proc/self/ns/mnt')) return undefined;
  } catch {
    return undefined;
  }
  return init.pid;
}
