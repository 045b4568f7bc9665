// `boxlab diff PID|MOUNTPOINT`: an overlay's changes as A/C/D lines, like `docker diff`.
// The layers come from the kernel (mountinfo), the changes from the upper directory itself.
import { resolve } from 'node:path';
import { parse } from './args.js';
import { EnvError, UsageError } from '../errors.js';
import { overlayAt, overlayChanges, type OverlayLayers } from '../kernel/overlay.js';

export async function diffCommand(argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {}, 1);
  const target = positionals[0];
  if (!target) throw new UsageError("usage: boxlab diff PID|MOUNTPOINT (a box's PID: its root; a path: the overlay mounted there)");
  const byPid = /^\d+$/.test(target);
  let layers: OverlayLayers | undefined;
  try {
    layers = byPid ? overlayAt(Number(target), '/') : overlayAt('self', resolve(target));
  } catch (e) {
    throw new EnvError(`cannot read the mounts of process ${target}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!layers) throw new EnvError(byPid ? `the root of process ${target} is not an overlay with an upper directory` : `no overlay with an upper directory is mounted at ${resolve(target)}`);
  for (const c of overlayChanges(layers)) process.stdout.write(`${c.kind} ${c.path}\n`);
  return 0;
}
