import { parse } from './args.js';
import { EnvError } from '../errors.js';
import { RealRunner } from '../shell/spawn.js';
import { reset } from '../container/reset.js';

export async function resetCommand(argv: string[]): Promise<number> {
  parse(argv, {});
  if (process.geteuid?.() !== 0) throw new EnvError('reset removes mounts and processes and needs root: sudo npm run reset');
  let failed = 0;
  const removed = await reset(new RealRunner(), (l) => {
    if (!l.ok) failed++;
    process.stdout.write(`${l.ok ? 'removed' : 'FAILED '} ${l.what}: ${l.done}\n`);
  });
  process.stdout.write(removed === 0 && failed === 0 ? 'nothing to remove: the host is clean of boxlab\n' : `removed ${removed} leftover(s)\n`);
  return failed > 0 ? 1 : 0;
}
