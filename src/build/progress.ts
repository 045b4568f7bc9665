// A progress bar while a large layer is tarred and compressed (build, commit): one line on a
// terminal, redrawn in place, with the bytes done, the total and the rate. Small layers, pipes,
// files and --json get nothing: the bar is for a person watching a long step.
import { humanBytes } from '../../rootfs-fetch/progress-bars.js';
import type { LayerEntry } from './layer.js';

/** Below this, compressing takes well under a second here: no bar. */
export const BAR_FROM_BYTES = 8 * 1024 * 1024;

/** The tar the entries make, as tar-stream writes it: a 512-byte header each (a long name
 *  adds a pax header, not counted), file bodies padded to 512, two zero blocks at the end. */
export function tarBytes(entries: LayerEntry[]): number {
  let n = 1024;
  for (const e of entries) n += 512 + (e.type === 'file' && e.source ? Math.ceil(e.source.size / 512) * 512 : 0);
  return n;
}

/**
 * The bar's line (pure: the caller draws it): a label, a bar of `width` cells, bytes done of
 * the total, and the rate in MB/s once some time has passed. Done beyond the total (the total
 * is an estimate) shows as full.
 */
export function compressLine(label: string, done: number, total: number, elapsedMs: number, width = 24): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const fill = Math.round(frac * width);
  const rate = elapsedMs >= 100 ? `  ${(done / 1e6 / (elapsedMs / 1000)).toFixed(1)} MB/s` : '';
  return `${label}  [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${humanBytes(Math.min(done, total))}/${humanBytes(total)}${rate}`;
}

export interface CompressBar {
  /** For writeLayer's onBytes: undefined when there is no bar. */
  onBytes?: (n: number) => void;
  /** Clears the line (the step's own result line follows). */
  end(): void;
}

/** A bar on `stream` for a layer of `total` tar bytes, when it is a terminal and the layer large. */
export function compressBar(stream: NodeJS.WriteStream, label: string, total: number, o: { json?: boolean; now?: () => number } = {}): CompressBar {
  if (o.json || !stream.isTTY || total <= BAR_FROM_BYTES) return { end: () => undefined };
  const now = o.now ?? Date.now;
  const t0 = now();
  let done = 0;
  let last = 0;
  let drawn = false;
  return {
    onBytes(n) {
      done += n;
      const t = now();
      if (t - last < 100) return; // at most 10 redraws a second
      last = t;
      drawn = true;
      stream.write(`\r\x1b[2K${compressLine(label, done, total, t - t0)}`);
    },
    end() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}
