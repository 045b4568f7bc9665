// `boxlab seccomp compile PROFILE.json -o FILE.bpf` and `boxlab seccomp disasm FILE.bpf`.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from './args.js';
import { EnvError, UsageError } from '../errors.js';
import { compile, decode, encode, parseProfile, ProfileError } from '../seccomp/bpf.js';
import { disassemble } from '../seccomp/disasm.js';

const USAGE = 'usage: boxlab seccomp compile PROFILE.json -o FILE.bpf | boxlab seccomp disasm FILE.bpf';

function readInput(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new EnvError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function seccompCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'compile') {
    const { values, positionals } = parse(rest, { output: { type: 'string', short: 'o' } }, 1);
    if (!positionals[0] || !values.output) throw new UsageError(USAGE);
    let json: unknown;
    try {
      json = JSON.parse(readInput(positionals[0]).toString('utf8'));
    } catch (e) {
      if (e instanceof EnvError) throw e;
      throw new UsageError(`${positionals[0]} is not JSON: ${(e as Error).message}`);
    }
    try {
      const { program, skipped } = compile(parseProfile(json));
      writeFileSync(values.output, encode(program));
      process.stdout.write(`${values.output}: ${program.length} instructions (${program.length * 8} bytes)\n`);
      for (const [arch, names] of Object.entries(skipped)) if (names.length) process.stdout.write(`  not on ${arch}, skipped: ${names.join(' ')}\n`);
      return 0;
    } catch (e) {
      if (e instanceof ProfileError) throw new UsageError(`${positionals[0]}: ${e.message}`);
      throw e;
    }
  }
  if (verb === 'disasm') {
    const { positionals } = parse(rest, {}, 1);
    if (!positionals[0]) throw new UsageError(USAGE);
    try {
      process.stdout.write(disassemble(decode(readInput(positionals[0]))).join('\n') + '\n');
    } catch (e) {
      if (e instanceof ProfileError) throw new UsageError(`${positionals[0]}: ${e.message}`);
      throw e;
    }
    return 0;
  }
  throw new UsageError(USAGE);
}
