// The state file: every host-side resource a run creates is written here *before* it is
// created, so `boxlab reset` can undo it after any crash, even SIGKILL.
import { chmodSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { EnvError } from '../errors.js';
import { join } from 'node:path';
import { processStartTime } from '../kernel/proc.js';
import type { Cmd } from '../shell/cmd.js';

export const stateDir = (): string => process.env.BOXLAB_RUN_DIR || '/run/boxlab';

/** The state directory, root's alone (0700), made or tightened: run ids, box records and
 *  logs (which hold -e values) are nobody else's business. Returns its path. */
export function privateStateDir(): string {
  const dir = stateDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.geteuid?.()) throw new EnvError(`${dir} is not a directory of ours: refusing to keep state there`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return dir;
}

/** TEXT in a root-only file that is open for reading and already unlinked: a script that
 *  `bash /dev/fd/N` reads from the descriptor. Nothing is left to remove, even if the run is
 *  killed, and no value in it is in an argv that ps would show. */
export function unlinkedFile(name: string, text: string): number {
  const path = join(privateStateDir(), name);
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  try {
    return openSync(path, 'r');
  } finally {
    rmSync(path, { force: true });
  }
}

/** A resource with its placeholders filled in; processes carry PID and start time. */
export type HostResource =
  | { dir: string }
  | { mount: string }
  | { process: number; startTime: string }
  | { shm: number }
  | { link: string; ifUnused?: boolean }
  | { cgroup: string }
  | { restore: string; content: string }
  | { undo: Cmd; what: string };

export interface RunState {
  runId: string;
  /** The orchestrator; while it lives, reset leaves this run alone. */
  owner: number;
  ownerStart: string;
  resources: HostResource[];
}

export class StateFile {
  readonly path: string;
  private state: RunState;

  /** `owner`: the process whose life the run is (this one, or the bash script of a boxlab run). */
  constructor(runId: string, owner = process.pid, resources: HostResource[] = []) {
    this.path = join(privateStateDir(), `${runId}.json`);
    this.state = { runId, owner, ownerStart: processStartTime(owner), resources };
    this.flush();
  }

  /** The run now lives as another process (boxlab run's script): reset follows that one. */
  handOver(owner: number): void {
    this.state.owner = owner;
    this.state.ownerStart = processStartTime(owner);
    this.flush();
  }

  add(r: HostResource): void {
    this.state.resources.push(r);
    this.flush();
  }

  remove(r: HostResource): void {
    const key = JSON.stringify(r);
    const i = this.state.resources.findIndex((x) => JSON.stringify(x) === key);
    if (i >= 0) this.state.resources.splice(i, 1);
    this.flush();
  }

  /** All undone: the file goes. */
  close(): void {
    rmSync(this.path, { force: true });
  }

  private flush(): void {
    // Write then rename, so a crash never leaves half a file.
    writeFileSync(this.path + '.tmp', JSON.stringify(this.state, null, 1), { mode: 0o600 });
    renameSync(this.path + '.tmp', this.path);
  }
}

export function readStates(): { path: string; state: RunState }[] {
  let names: string[];
  try {
    names = readdirSync(stateDir()).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: { path: string; state: RunState }[] = [];
  for (const n of names) {
    const path = join(stateDir(), n);
    try {
      out.push({ path, state: JSON.parse(readFileSync(path, 'utf8')) as RunState });
    } catch {
      out.push({ path, state: { runId: n, owner: 0, ownerStart: '', resources: [] } });
    }
  }
  return out;
}
