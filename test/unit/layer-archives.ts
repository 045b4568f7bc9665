// Real tar archives made in the tests (tar-stream's packer), gzipped or not.
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export type Member = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo'; body?: string | Buffer; linkname?: string; mode?: number; uid?: number; gid?: number; devmajor?: number; devminor?: number };

export async function tarOf(members: Member[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  })();
  for (const m of members) {
    const type = m.type ?? 'file';
    const header = { name: m.name, type, mode: m.mode ?? (type === 'directory' ? 0o755 : 0o644), uid: m.uid ?? 0, gid: m.gid ?? 0, linkname: m.linkname, mtime: new Date(1_700_000_000_000), devmajor: m.devmajor, devminor: m.devminor };
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
