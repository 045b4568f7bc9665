// The progress bar build and commit show while compressing a large layer: its line (pure),
// when it is drawn at all, and the tar size it is measured against (from a real writeLayer).
import { execFileSync } from 'node:child_process';
import { lstatSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeLayer, type LayerEntry } from '../../src/build/layer.js';
import { BAR_FROM_BYTES, compressBar, compressLine, tarBytes } from '../../src/build/progress.js';
import { tempDir } from './helpers.js';

let t: string;
beforeEach(() => (t = tempDir()));
afterEach(() => rmSync(t, { recursive: true, force: true }));

function fileEntry(host: string, path: string): LayerEntry {
  const s = lstatSync(host);
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, source: { path: host, size: s.size, ino: s.ino, dev: s.dev, nlink: s.nlink } };
}

describe('compression progress', () => {
  it('renders one line: bar, bytes done of the total, MB/s once time has passed; full past an estimated total', () => {
    const MiB = 1024 * 1024;
    expect(compressLine('  compressing', 5 * MiB, 20 * MiB, 2000, 8)).toBe('  compressing  [##......] 5.0 MiB/20.0 MiB  2.6 MB/s');
    expect(compressLine('x', 0, 20 * MiB, 0, 4)).toBe('x  [....] 0 B/20.0 MiB');
    expect(compressLine('x', 21 * MiB, 20 * MiB, 1000, 4)).toBe('x  [####] 20.0 MiB/20.0 MiB  22.0 MB/s');
  });
  it('draws only on a terminal, only for a layer over 8 MiB, never with --json; redraws in place and clears', () => {
    const out: string[] = [];
    const stream = (isTTY: boolean) => ({ isTTY, write: (s: string) => out.push(s) }) as unknown as NodeJS.WriteStream;
    let now = 0;
    expect(compressBar(stream(false), 'x', BAR_FROM_BYTES * 2).onBytes).toBeUndefined();
    expect(compressBar(stream(true), 'x', BAR_FROM_BYTES).onBytes).toBeUndefined();
    expect(compressBar(stream(true), 'x', BAR_FROM_BYTES * 2, { json: true }).onBytes).toBeUndefined();
    const bar = compressBar(stream(true), 'x', 20e6, { now: () => now });
    now = 1000;
    bar.onBytes!(10e6);
    now = 1050; // within 100 ms of the last draw: not drawn
    bar.onBytes!(1e6);
    bar.end();
    expect(out).toEqual(['\r\x1b[2Kx  [############............] 9.5 MiB/19.1 MiB  10.0 MB/s', '\r\x1b[2K']);
  });
  it("estimates the tar's size exactly for short names (what writeLayer counts)", async () => {
    writeFileSync(join(t, 'f'), Buffer.alloc(1000, 1));
    writeFileSync(join(t, 'g'), '');
    const entries: LayerEntry[] = [fileEntry(join(t, 'f'), 'd/f'), fileEntry(join(t, 'g'), 'd/g'), { path: 'd', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 }];
    let counted = 0;
    await writeLayer(entries, join(t, 'l.tgz'), { clamp: 0, onBytes: (n) => (counted += n) });
    expect(counted).toBe(tarBytes(entries));
    expect(counted).toBe(Number(execFileSync('sh', ['-c', `gzip -dc ${join(t, 'l.tgz')} | wc -c`], { encoding: 'utf8' })));
  });
});
