// `boxlab build [-f Boxfile] [-t NAME:TAG] [--build-arg K=V]... [--no-cache] [--network none|bridge] [CONTEXT]`
import { closeSync, fstatSync, openSync, readSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from './args.js';
import { EnvError, UsageError } from '../errors.js';
import { printable } from '../../rootfs-fetch/untrusted.js';

const USAGE = `usage: boxlab build [-f Boxfile] [-t NAME:TAG] [--build-arg K=V]... [--no-cache] [--network none|bridge] [--seccomp PROFILE|unconfined] [CONTEXT]`;

/** The Boxfile's text; one bigger than the cap is refused from its size, unread. */
function readBoxfile(path: string, shown: string, max: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new UsageError(`${shown}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as NodeJS.ErrnoException).code}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`${shown}: not a file`);
    if (st.size > max) throw new UsageError(`${shown}: ${st.size} bytes, more than the ${max / 1024 / 1024} MiB a Boxfile may be`);
    const buf = Buffer.alloc(st.size);
    let n = 0;
    while (n < st.size) {
      const r = readSync(fd, buf, n, st.size - n, n);
      if (r === 0) break;
      n += r;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export async function buildCommand(argv: string[]): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const { values, positionals } = parse(
    argv,
    { file: { type: 'string', short: 'f' }, tag: { type: 'string', short: 't' }, 'build-arg': { type: 'string', multiple: true }, 'no-cache': { type: 'boolean' }, network: { type: 'string' }, seccomp: { type: 'string' } },
    1,
  );
  const network = values.network ?? 'none';
  if (network !== 'none' && network !== 'bridge') throw new UsageError(`--network takes none or bridge (got ${printable(network, 40)})`);
  const buildArgs = new Map<string, string>();
  for (const a of values['build-arg'] ?? []) {
    const eq = a.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(a.slice(0, eq))) throw new UsageError(`--build-arg takes NAME=VALUE (got ${printable(a, 60)})`);
    buildArgs.set(a.slice(0, eq), a.slice(eq + 1));
  }
  const { openContext } = await import('../build/context.js');
  const { parseBoxfile, MAX_BOXFILE_BYTES } = await import('../build/boxfile.js');
  const context = openContext(positionals[0] ?? '.');
  const file = values.file ?? (existsSync(join(context.dir, 'Boxfile')) || !existsSync(join(context.dir, 'Dockerfile')) ? join(context.dir, 'Boxfile') : join(context.dir, 'Dockerfile'));
  const shown = printable(values.file ?? file.slice(context.dir.length + 1), 120);
  const instructions = parseBoxfile(readBoxfile(file, shown, MAX_BOXFILE_BYTES), shown);
  const { Store } = await import('../../rootfs-fetch/store.js');
  const store = new Store();
  try {
    store.init();
  } catch (e) {
    throw new EnvError(`cannot open the image cache ${store.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}${process.geteuid?.() !== 0 ? ' (run as root)' : ''}`);
  }
  const { build } = await import('../build/build.js');
  const { compressBar } = await import('../build/progress.js');
  const r = await build({
    file: shown, instructions, context, tag: values.tag ?? 'boxlab.local/build:latest', buildArgs, noCache: values['no-cache'] ?? false, network, seccomp: values.seccomp, store,
    log: (l) => process.stderr.write(`${l}\n`),
    bar: (total) => compressBar(process.stderr, '  compressing the layer', total),
  });
  process.stdout.write(`${r.name} ${r.manifest.digest}\n`);
  return 0;
}
