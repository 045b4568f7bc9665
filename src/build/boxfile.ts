// A Boxfile: the subset of Dockerfile syntax the lessons need, parsed and then resolved (ARG,
// ENV and WORKDIR applied in order, variables substituted where Docker substitutes them) into
// the steps a build runs. Pure: no file system, no process. Anything outside the subset is
// refused with its line number, as one line.
import { posix } from 'node:path';
import { UsageError } from '../errors.js';
import { printable } from '../../rootfs-fetch/untrusted.js';
import { keyValues, oneWord, splitWords, WordError, type Vars } from './words.js';

/** A Boxfile is read whole: a bigger one is refused before it is read. */
export const MAX_BOXFILE_BYTES = 1024 * 1024;

const SUPPORTED = ['FROM', 'RUN', 'COPY', 'ENV', 'ARG', 'WORKDIR', 'USER', 'CMD', 'ENTRYPOINT', 'LABEL', 'EXPOSE'] as const;
/** Dockerfile instructions a Boxfile does not take (said so, rather than "unknown"). */
const DOCKER_ONLY = ['ADD', 'HEALTHCHECK', 'ONBUILD', 'SHELL', 'STOPSIGNAL', 'VOLUME', 'MAINTAINER'];

export type Keyword = (typeof SUPPORTED)[number];

/** One instruction as written: its keyword, the rest of its (joined) line, where it starts. */
export interface Instruction {
  keyword: Keyword;
  rest: string;
  line: number;
}

/** An error at a line of the Boxfile: `FILE:LINE: message`. */
export const at = (file: string, line: number, message: string): UsageError => new UsageError(`${printable(file, 120)}:${line}: ${message}`);

/** The instructions of a Boxfile's text: comments dropped, `\` continuations joined. */
export function parseBoxfile(text: string, file = 'Boxfile'): Instruction[] {
  if (Buffer.byteLength(text) > MAX_BOXFILE_BYTES) throw new UsageError(`${printable(file, 120)}: larger than ${MAX_BOXFILE_BYTES / 1024 / 1024} MiB, the most a Boxfile may be`);
  if (text.includes('\0')) throw new UsageError(`${printable(file, 120)}: has a NUL byte: not a text file`);
  const lines = text.split(/\r?\n/);
  const out: Instruction[] = [];
  let directives = true;
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!;
    const start = i + 1;
    if (/^\s*#/.test(first)) {
      // Parser directives (# escape=`) come first; boxlab keeps Docker's default escape only.
      if (directives && /^\s*#\s*escape\s*=/i.test(first)) throw at(file, start, 'the escape directive is not supported by boxlab build (the escape character is \\)');
      continue;
    }
    directives = false;
    if (first.trim() === '') continue;
    let joined = first;
    // A line ending in \ goes on; comment lines and blank lines inside it are skipped.
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      joined = joined.replace(/\\\s*$/, '');
      let next = lines[++i]!;
      while (/^\s*#/.test(next) && i + 1 < lines.length) next = lines[++i]!;
      if (/^\s*#/.test(next)) next = '';
      joined += next;
    }
    joined = joined.replace(/\\\s*$/, '');
    const m = /^\s*([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(joined);
    if (!m) throw at(file, start, `${printable(joined.trim(), 60)}: not an instruction`);
    const keyword = m[1]!.toUpperCase();
    if (DOCKER_ONLY.includes(keyword)) throw at(file, start, `${keyword} is not supported by boxlab build`);
    if (!(SUPPORTED as readonly string[]).includes(keyword)) throw at(file, start, `${printable(m[1], 40)} is not a Boxfile instruction (boxlab build knows ${SUPPORTED.join(', ')})`);
    const rest = (m[2] ?? '').trim();
    if (rest === '') throw at(file, start, `${keyword} needs arguments`);
    out.push({ keyword: keyword as Keyword, rest, line: start });
  }
  if (out.length === 0) throw new UsageError(`${printable(file, 120)}: no instructions`);
  return out;
}

/** The image a build makes, field by field as its config will hold them. */
export interface ImageState {
  env: [string, string][];
  cwd: string;
  user: string;
  cmd: string[] | null;
  entrypoint: string[] | null;
  labels: [string, string][];
  exposed: string[];
}

/** A step that makes a layer (RUN, COPY) or changes only the config (the others). */
export type Step = { line: number; text: string } & (
  | { kind: 'RUN'; args: string[]; shellForm: boolean; args_: [string, string][] }
  | { kind: 'COPY'; sources: string[]; dest: string; chown?: { uid: number; gid: number } }
  | { kind: 'WORKDIR'; dir: string }
  | { kind: 'CONFIG' }
);

/** What FROM scratch gives. */
export const EMPTY_STATE: ImageState = { env: [], cwd: '/', user: '', cmd: null, entrypoint: null, labels: [], exposed: [] };

export interface Resolved {
  /** An image name, or 'scratch'. */
  from: string;
  fromLine: number;
  /** Each step with the image state after it. */
  steps: { step: Step; state: ImageState }[];
  /** --build-arg names no ARG declared (Docker warns about them). */
  unusedArgs: string[];
}

const SHELL = ['/bin/sh', '-c'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A JSON array of strings (the exec form), or undefined when the text is not one. */
function execForm(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(rest);
    if (Array.isArray(v) && v.every((a) => typeof a === 'string')) return v as string[];
  } catch {
    // Docker runs text that only looks like JSON in the shell form: so does boxlab.
  }
  return undefined;
}

/** Leading --name=value flags of an instruction, and the text after them. */
function flagsOf(rest: string): { flags: Map<string, string>; after: string } {
  const flags = new Map<string, string>();
  let after = rest;
  for (let m: RegExpExecArray | null; (m = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(after)); ) {
    flags.set(m[1]!, m[2] ?? '');
    after = after.slice(m[0].length);
  }
  return { flags, after };
}

function numericIds(text: string, what: string): { uid: number; gid: number } {
  if (text === 'root' || text === 'root:root') return { uid: 0, gid: 0 };
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(text);
  const ok = (n: number): boolean => n < 2 ** 32 - 1;
  if (!m || !ok(Number(m[1])) || !ok(Number(m[2] ?? m[1]))) throw new WordError(`${what} ${printable(text, 60)}: boxlab build takes numeric ids (UID or UID:GID) or root`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

/**
 * The steps of a parsed Boxfile, with --build-arg values: each step with its values
 * substituted and the image state it leaves. `base` is the state the FROM image gives.
 */
export function resolveBoxfile(instructions: Instruction[], buildArgs: Map<string, string>, file = 'Boxfile', base?: (from: string) => ImageState): Resolved {
  let from: string | undefined;
  let fromLine = 0;
  const steps: Resolved['steps'] = [];
  const declared = new Set<string>();
  // ARGs before FROM are for FROM only (until declared again after it).
  const globalArgs = new Map<string, string>();
  const args = new Map<string, string>();
  let state: ImageState = EMPTY_STATE;
  let cmdSetHere = false;
  const vars = (): Vars => {
    const v = new Map(args);
    for (const [k, val] of state.env) v.set(k, val);
    return v;
  };
  for (const ins of instructions) {
    const fail = (message: string): never => {
      throw at(file, ins.line, `${ins.keyword}: ${message}`);
    };
    const text = `${ins.keyword} ${ins.rest}`;
    try {
      if (ins.keyword !== 'FROM' && ins.keyword !== 'ARG' && from === undefined) fail('comes before FROM (only ARG may)');
      switch (ins.keyword) {
        case 'FROM': {
          if (from !== undefined) fail('a second FROM: multi-stage builds are not supported by boxlab build');
          const { flags, after } = flagsOf(ins.rest);
          if (flags.size) fail(`--${[...flags.keys()][0]} is not supported by boxlab build`);
          const words = splitWords(after, globalArgs);
          if (words.length !== 1) fail(words.length === 3 && words[1]!.toUpperCase() === 'AS' ? 'AS names a stage: multi-stage builds are not supported by boxlab build' : 'takes one image name (or scratch)');
          from = words[0]!;
          fromLine = ins.line;
          if (from !== 'scratch' && base) state = base(from);
          break;
        }
        case 'ARG': {
          const words = splitWords(ins.rest, from === undefined ? globalArgs : vars());
          for (const w of words) {
            const eq = w.indexOf('=');
            const name = eq < 0 ? w : w.slice(0, eq);
            if (!ENV_NAME.test(name)) fail(`${printable(name, 60)} is not a variable name`);
            declared.add(name);
            const value = buildArgs.get(name) ?? (eq < 0 ? (from !== undefined ? globalArgs.get(name) : undefined) : w.slice(eq + 1));
            const into = from === undefined ? globalArgs : args;
            if (value === undefined) into.delete(name);
            else into.set(name, value);
          }
          steps.push({ step: { kind: 'CONFIG', line: ins.line, text }, state });
          break;
        }
        case 'ENV': {
          const pairs = keyValues(ins.rest, vars(), true);
          let env = state.env;
          for (const [k, v] of pairs) {
            if (!ENV_NAME.test(k)) fail(`${printable(k, 60)} is not a variable name`);
            if (v.includes('\0')) fail('a NUL byte in a value');
            env = [...env.filter(([n]) => n !== k), [k, v]];
          }
          state = { ...state, env };
          steps.push({ step: { kind: 'CONFIG', line: ins.line, text }, state });
          break;
        }
        case 'LABEL': {
          let labels = state.labels;
          for (const [k, v] of keyValues(ins.rest, vars(), false)) labels = [...labels.filter(([n]) => n !== k), [k, v]];
          state = { ...state, labels };
          steps.push({ step: { kind: 'CONFIG', line: ins.line, text }, state });
          break;
        }
        case 'EXPOSE': {
          const ports = splitWords(ins.rest, vars()).map((p) => {
            const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(p);
            if (!m || Number(m[1]) > 65535) fail(`${printable(p, 40)} is not PORT or PORT/tcp|udp|sctp`);
            return `${Number(m![1])}/${(m![2] ?? 'tcp').toLowerCase()}`;
          });
          state = { ...state, exposed: [...new Set([...state.exposed, ...ports])] };
          steps.push({ step: { kind: 'CONFIG', line: ins.line, text }, state });
          break;
        }
        case 'WORKDIR': {
          const dir = oneWord(ins.rest, vars());
          if (dir === '' || dir.includes('\0')) fail('needs a directory');
          state = { ...state, cwd: posix.resolve(state.cwd, dir) };
          steps.push({ step: { kind: 'WORKDIR', line: ins.line, text, dir: state.cwd }, state });
          break;
        }
        case 'USER': {
          const user = oneWord(ins.rest, vars());
          numericIds(user, 'USER');
          state = { ...state, user };
          steps.push({ step: { kind: 'CONFIG', line: ins.line, text }, state });
          break;
        }
        case 'CMD':
        case 'ENTRYPOINT': {
          const argv = execForm(ins.rest) ?? [...SHELL, ins.rest];
          if (ins.keyword === 'CMD') cmdSetHere = true;
          // Docker: an ENTRYPOINT resets a CMD the base image gave (not one this file set).
          state = ins.keyword === 'CMD' ? { ...state, cmd: argv } : { ...state, entrypoint: argv, cmd: cmdSetHere ? state.cmd : null };
          steps.push({ step: { kind: 'CONFIG', line: ins.line, text }, state });
          break;
        }
        case 'RUN': {
          const { flags } = flagsOf(ins.rest);
          if (flags.size) fail(`--${[...flags.keys()][0]} is not supported by boxlab build`);
          const exec = execForm(ins.rest);
          if (exec && exec.length === 0) fail('an empty command');
          // Build args reach the command's environment, not the image's (Docker's rule).
          const runArgs = [...args].filter(([k]) => !state.env.some(([n]) => n === k));
          steps.push({ step: { kind: 'RUN', line: ins.line, text, args: exec ?? [...SHELL, ins.rest], shellForm: !exec, args_: runArgs }, state });
          break;
        }
        case 'COPY': {
          const { flags, after } = flagsOf(ins.rest);
          let chown: { uid: number; gid: number } | undefined;
          for (const [k, v] of flags) {
            if (k === 'chown') chown = numericIds(oneWord(v, vars()), '--chown');
            else fail(`--${k} is not supported by boxlab build`);
          }
          const words = execForm(after) ?? splitWords(after, vars());
          if (words.length < 2) fail('needs a source and a destination');
          const sources = words.slice(0, -1);
          let dest = words[words.length - 1]!;
          if (sources.some((s) => s === '' || s.includes('\0')) || dest === '' || dest.includes('\0')) fail('an empty path');
          // A destination ending in / (or several sources) is a directory; relative to WORKDIR.
          const isDir = dest.endsWith('/') || sources.length > 1;
          dest = posix.resolve(state.cwd, dest) + (isDir && dest !== '/' ? '/' : '');
          steps.push({ step: { kind: 'COPY', line: ins.line, text, sources, dest: dest.replace(/\/+$/, '/'), chown }, state });
          break;
        }
      }
    } catch (e) {
      if (e instanceof WordError) throw at(file, ins.line, `${ins.keyword}: ${printable(e.message, 120)}`);
      throw e;
    }
  }
  if (from === undefined) throw new UsageError(`${printable(file, 120)}: no FROM`);
  return { from, fromLine, steps, unusedArgs: [...buildArgs.keys()].filter((k) => !declared.has(k)) };
}
