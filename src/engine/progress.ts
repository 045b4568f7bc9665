// The learner's progress: which lessons have passed, kept between sessions.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const progressDir = (): string =>
  process.env.BOXLAB_STATE_HOME ?? join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'boxlab');

interface Progress {
  passed: Record<string, string>; // lesson number -> ISO time it last passed
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
  mkdirSync(progressDir(), { recursive: true });
  writeFileSync(file(), JSON.stringify(p, null, 1));
}

/** `key` is the lesson number, or NUMBER-VARIANT (6-rootless). */
export function markPassed(key: string): void {
  const p = readProgress();
  p.passed[key] = new Date().toISOString();
  write(p);
}

export function confirmHost(): void {
  write({ ...readProgress(), hostConfirmed: new Date().toISOString() });
}

export const hostConfirmed = (): boolean => existsSync(file()) && readProgress().hostConfirmed !== undefined;
