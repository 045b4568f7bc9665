// Real tar archives made in the tests (tar-stream's packer), gzipped or not.
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export type Member = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo'; body?: string | Buffer; linkname?: string; mode?: number; uid?: number; gid?: number; devmajor?: number; devminor?: number; pax?: Record<string, string> };

export async function tarOf(members: Member[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  })();
  for (const m of members) {
    const type = m.type ?? 'file';
    const header = { name: m.name, type, mode: m.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: m.uid ?? 0, gid: m.gid ?? 0, linkname: m.linkname, mtime: new Date(1_700_000_000_000), devmajor: m.devmajor, devminor: m.devminor, pax: m.pax };
    await new Promise<void>((resolve, reject) => pack.entry(header, type === 'file' ? m.body ?? '' : undefined, (e) => (e ? reject(e) : resolve())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Writes the layer to path; gzipped unless told otherwise. Returns the uncompressed tar. */
export async function writeLayer(path: string, members: Member[], gzip = true): Promise<Buffer> {
  const t = await tarOf(members);
  writeFileSync(path, gzip ? gzipSync(t) : t);
  return t;
}

/**
 * A GNU long-name entry (typeflag L) that announces `size` bytes of name, then its data: what
 * GNU tar writes for a name over 100 bytes, made here by hand (tar-stream writes pax instead).
 */
export function gnuLongName(name: string, size = Buffer.byteLength(name) + 1): Buffer {
  const h = Buffer.alloc(512);
  h.write('././@LongLink', 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('L', 156);
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(name) / 512) * 512);
  data.write(name);
  return Buffer.concat([h, data]);
}
