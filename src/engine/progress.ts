// The learner's progress: lessons passed and exercises done, kept between sessions. Under
// sudo it is the learner's (SUDO_USER's), not root's: the file lives in their home and is theirs.
import { chownSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The user behind sudo, from /etc/passwd: name, ids and home. */
function sudoUser(): { uid: number; gid: number; home: string } | undefined {
  const name = process.env.SUDO_USER;
  if (!name || process.geteuid?.() !== 0 || name === 'root') return undefined;
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[5]) return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
    }
  } catch {
    // no passwd: root's own progress then
  }
  return undefined;
}

export const progressDir = (): string => {
  if (process.env.BOXLAB_STATE_HOME) return process.env.BOXLAB_STATE_HOME;
  const learner = sudoUser();
  if (learner) return join(learner.home, '.local', 'state', 'boxlab');
  // XDG: an empty XDG_STATE_HOME is as if unset (it would make the path relative to the cwd).
  return join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'boxlab');
};

interface Progress {
  passed: Record<string, string>; // lesson number -> ISO time it last passed
  /** "LESSON/EXERCISE" -> ISO time it was solved. */
  exercises?: Record<string, string>;
  hostConfirmed?: string;
}

const file = (): string => join(progressDir(), 'progress.json');

export function readProgress(): Progress {
  try {
    return JSON.parse(readFileSync(file(), 'utf8')) as Progress;
  } catch {
    return { passed: {} };
  }
}

function write(p: Progress): void {
  const dir = progressDir();
  const learner = process.env.BOXLAB_STATE_HOME ? undefined : sudoUser();
  const made = learner ? [join(learner.home, '.local'), join(learner.home, '.local', 'state'), dir].filter((d) => !existsSync(d)) : [];
  mkdirSync(dir, { recursive: true });
  writeFileSync(file(), JSON.stringify(p, null, 1));
  if (learner) {
    // What sudo's root made in the learner's home is given back to them.
    for (const d of [...made, file()]) {
      try {
        chownSync(d, learner.uid, learner.gid);
      } catch {
        // not ours to fix
      }
    }
  }
}

/** `key` is the lesson number, or NUMBER-VARIANT (6-rootless). */
export function markPassed(key: string): void {
  const p = readProgress();
  p.passed[key] = new Date().toISOString();
  write(p);
}

export const exerciseKey = (lesson: number, id: string): string => `${lesson}/${id}`;

export function markSolved(lesson: number, id: string): void {
  const p = readProgress();
  p.exercises = { ...p.exercises, [exerciseKey(lesson, id)]: new Date().toISOString() };
  write(p);
}

export function confirmHost(): void {
  write({ ...readProgress(), hostConfirmed: new Date().toISOString() });
}

export const hostConfirmed = (): boolean => existsSync(file()) && readProgress().hostConfirmed !== undefined;
