// `boxlab commit BOX IMAGE[:TAG]`: a running box's changes as a new image (src/build/commit.ts).
import { parse } from './args.js';
import { EnvError, UsageError } from '../errors.js';
import { openStore } from './images.js';

const USAGE = `usage: boxlab commit BOX IMAGE[:TAG]
  the changes of a box started with boxlab run -d IMAGE (its overlay upper directory) as one
  more layer on that image, tagged IMAGE[:TAG] in the cache; boxlab run IMAGE runs it.
  The box keeps running; files it writes while the layer is made may stop the commit.`;

export async function commitCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { help: { type: 'boolean', short: 'h' } }, 2);
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError(USAGE.split('\n')[0]!);
  const [box, tag] = positionals as [string, string];
  const { commit, commitName } = await import('../build/commit.js');
  commitName(tag); // a bad name is a usage error before anything is read
  if (process.geteuid?.() !== 0) throw new EnvError("boxlab commit reads a box's upper directory and writes the image cache: it needs root (sudo)");
  const store = openStore();
  const { RealRunner } = await import('../shell/spawn.js');
  const { compressBar } = await import('../build/progress.js');
  const r = await commit({ box, tag, store, runner: new RealRunner(), log: (l) => process.stderr.write(`${l}\n`), bar: (total) => compressBar(process.stderr, '  compressing the layer', total) });
  process.stdout.write(`${r.name} ${r.manifest.digest}\n`);
  return 0;
}
