// `boxlab push NAME DEST`: a cached image to a registry (rootfs-fetch/push.ts has the flow).
import { parse } from './args.js';
import { UsageError } from '../errors.js';
import { openStore } from './images.js';
import { progressTo } from '../../rootfs-fetch/progress-bars.js';

const USAGE = `usage: boxlab push NAME[:TAG] [REGISTRY/]REPO[:TAG] [--plain-http] [--verbose] [--quiet]
  a cached image (boxlab images) to a registry, e.g.
    boxlab push boxlab.local/busybox:layers 127.0.0.1:5000/me/busybox:1 --plain-http
  --plain-http  http instead of https (a registry on this machine: scripts/registry.sh start)
  --verbose     each HTTP request and the registry's status, as the registry receives them
  --quiet       no progress lines (--verbose still prints the requests)
  Anonymous only: boxlab asks the registry's token realm, if it has one, for an anonymous
  push token; it has no login and reads no credentials, so it pushes only to a registry that
  lets anyone push (the loopback one of scripts/registry.sh).`;

const FLAGS = {
  'plain-http': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function pushCommand(argv: string[]): Promise<number> {
  const { values: f, positionals } = parse(argv, FLAGS, 2);
  if (f.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError(USAGE.split('\n')[0]!);
  const [source, dest] = positionals as [string, string];
  const { storedName } = await import('../../rootfs-fetch/images.js');
  const { parseReference } = await import('../../rootfs-fetch/reference.js');
  storedName(source); // bad references are usage errors before the cache is opened
  parseReference(dest);
  const store = openStore();
  const progress = progressTo(process.stderr, f.quiet);
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { push } = await import('../../rootfs-fetch/push.js');
    const r = await push(source, dest, { store, progress, plainHttp: f['plain-http'], signal: ac.signal, trace: f.verbose ? (line) => (f.quiet ? process.stderr.write(`${line}\n`) : progress.line(line)) : undefined });
    process.stdout.write(`${r.name}@${r.digest}\n`);
    return 0;
  } catch (e) {
    if (ac.signal.aborted) {
      process.stderr.write('boxlab: push interrupted: the tag was not pushed (the manifest goes last)\n');
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
