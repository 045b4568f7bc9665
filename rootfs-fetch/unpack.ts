// Applying an image layer (a tar, maybe gzipped) to a directory. tar-stream only parses;
// every file system change is made here, through in-root.ts's checks.
//
// Two ways to apply OCI whiteouts (image-spec layer.md):
//   flatten  one tree for all layers: a whiteout deletes what lower layers put there (`--out`);
//   overlay  one directory per layer, for overlayfs lowerdirs: a whiteout becomes a 0/0
//            character device and an opaque directory gets trusted.overlay.opaque=y, the
//            markers the kernel's overlayfs reads (containerd's overlay snapshotter does this).
//
// The root entry ('./') never changes the directory it is applied to: its owner and mode are
// the caller's (an --out directory on the host, a layer directory in the cache). A flattened
// tree lands on the host, outside any box, on a file system seldom mounted nodev or nosuid:
// there, character and block devices are not made and setuid/setgid bits are removed
// (unless the caller keeps them), and the result counts both.
//
// Node cannot mknod or set an xattr, and a process per whiteout or device node made a layer
// of thousands cost thousands of processes. Each such node starts as an empty placeholder
// file (so later entries see a file there, as they saw the node); at the end of the layer one
// `tar -x` makes all the nodes in a directory of our own and rename(2) moves each onto its
// placeholder, and one setfattr (per 256 directories) marks the opaque ones. Both re-check
// every path first, as in-root.ts resolves it: no path from the layer reaches either tool.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, fstatSync, linkSync, lchownSync, chmodSync, lutimesSync, mkdirSync, openSync, constants, readdirSync, readSync, renameSync, rmSync, rmdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar, { type Header } from 'tar-stream';
import type { Runner } from '../src/shell/spawn.js';
import { render, type Cmd } from '../src/shell/cmd.js';
import { LayerError, lstatOrUndefined, memberParts, resolveParent } from './in-root.js';
import { LIMITS, type Limits } from './limits.js';
import { printable } from './untrusted.js';

export type ApplyMode = 'flatten' | 'overlay';

export interface UnpackResult {
  /** sha256 of the uncompressed tar: the layer's diff_id in the image config. */
  diffId: string;
  entries: number;
  /** Entries not made, with why (device nodes when not root, in overlay mode). */
  skipped: string[];
  /** flatten: character and block devices (and hard links to them) not made. */
  devicesSkipped: number;
  /** flatten: entries whose setuid/setgid bits were removed. */
  privilegesStripped: number;
}

export interface ApplyOptions {
  /** flatten: keep setuid/setgid bits on files (`--keep-privileges`). Devices are never made. */
  keepPrivileges?: boolean;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
/** Paths per setfattr: 256 of at most PATH_MAX (4 KiB) stay well under ARG_MAX (2 MiB). */
const PATHS_PER_PROCESS = 256;

type FileStat = NonNullable<ReturnType<typeof lstatOrUndefined>>;

/** A node still to make: its placeholder's inode, and the attributes a device or fifo entry gives it. */
interface Node {
  type: 'character-device' | 'block-device' | 'fifo';
  major: number;
  minor: number;
  ino: number;
  header?: Header;
}

/** Opens a layer blob and undoes its compression, chosen by the first bytes (not the media type, which can lie). */
export function openLayer(blob: string): Readable {
  const fd = openSync(blob, 'r');
  const magic = Buffer.alloc(4);
  const n = readSync(fd, magic, 0, 4, 0);
  closeSync(fd);
  const raw = createReadStream(blob);
  if (n >= 2 && magic[0] === 0x1f && magic[1] === 0x8b) return raw.pipe(zlib.createGunzip());
  if (n === 4 && magic.readUInt32LE(0) === 0xfd2fb528) {
    const zstd = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;
    if (!zstd) throw new LayerError(`${blob} is zstd-compressed, which needs Node 22.15 or newer`);
    return raw.pipe(zstd());
  }
  return raw;
}

/**
 * What the layers of one image may still expand to: one budget is shared by the applyLayer
 * calls of an image, so a gzip bomb, or a million tiny files, stops at the cap and not at a
 * full disk.
 */
export class UnpackBudget {
  bytes = 0;
  entries = 0;
  constructor(readonly limits: Pick<Limits, 'unpackBytes' | 'imageEntries' | 'layerEntries'> = LIMITS) {}
}

/** Applies one layer to root. Throws LayerError for a malicious or malformed layer. */
export async function applyLayer(blob: string, root: string, mode: ApplyMode, runner: Runner, budget = new UnpackBudget(), options: ApplyOptions = {}): Promise<UnpackResult> {
  const hash = createHash('sha256');
  const tee = new Transform({
    transform(chunk: Buffer, _enc, done) {
      // Counted as the tar comes out of the decompressor, before any of it is written.
      if ((budget.bytes += chunk.length) > budget.limits.unpackBytes) return done(new LayerError(`the image's layers expand to more than ${budget.limits.unpackBytes} bytes: refused`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const extract = tar.extract();
  const feeding = pipeline(openLayer(blob), tee, extract as unknown as NodeJS.WritableStream);
  const layer = new LayerWriter(root, mode, runner, budget, options);
  try {
    for await (const entry of extract) await layer.entry(entry.header, entry as unknown as Body);
    await feeding;
  } catch (caught) {
    extract.destroy();
    // A refusal upstream (the cap) also breaks the entry being written: report the refusal.
    const upstream = await feeding.then(() => undefined, (f: unknown) => f);
    throw asLayerError(upstream instanceof LayerError ? upstream : caught, blob);
  }
  await layer.finish();
  return { diffId: `sha256:${hash.digest('hex')}`, entries: layer.entries, skipped: layer.skipped, devicesSkipped: layer.devicesSkipped, privilegesStripped: layer.privilegesStripped };
}

/**
 * What a malformed layer breaks, as a LayerError: the decompressor's and tar-stream's own
 * refusals (tar-stream's errors have no code, only these messages), and a name the file
 * system will not take. Anything else is not the layer's doing and goes on as it is.
 */
function asLayerError(e: unknown, blob: string): unknown {
  if (!(e instanceof Error) || e instanceof LayerError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  // tar-stream reads a pax or GNU long-name header into memory whole, up to a cap of its own.
  if (e.message === 'Header exceeds max size') return new LayerError(`a pax or long-name header is larger than the tar parser accepts: refused`);
  if (code === 'ENAMETOOLONG') return new LayerError(`a name longer than the file system takes (over 255 bytes in one component, or 4095 in all): refused`);
  if (/^Z_/.test(code) || /unexpected end|Invalid (?:tar )?header/i.test(e.message)) return new LayerError(`${blob} is not a valid layer (${printable(e.message)})`);
  return e;
}

/** An entry's contents: read to the end, or resumed to skip them. */
type Body = AsyncIterable<Buffer> & { resume(): unknown };

class LayerWriter {
  entries = 0;
  readonly skipped: string[] = [];
  devicesSkipped = 0;
  privilegesStripped = 0;
  /** flatten: paths (relative to root) of this layer's devices, not made: a hard link to one is not made either. */
  private readonly skippedDevices = new Set<string>();
  /** Paths (relative to root) this layer made: a whiteout in the same layer spares them. */
  private readonly made = new Set<string>();
  /** overlay: paths where this layer put a whiteout device. */
  private readonly whitedOut = new Set<string>();
  /** Nodes to make at the end, by path (relative to root), each over its placeholder. */
  private readonly nodes = new Map<string, Node>();
  /** overlay: directories (relative to root) to mark opaque at the end. */
  private readonly opaques = new Set<string>();
  /** Directory times are set last: every entry inside a directory changes its mtime. */
  private readonly dirTimes: [string, Date][] = [];
  private readonly asRoot = process.geteuid?.() === 0;

  constructor(private readonly root: string, private readonly mode: ApplyMode, private readonly runner: Runner, private readonly budget: UnpackBudget, private readonly options: ApplyOptions) {}

  async entry(h: Header, body: Body): Promise<void> {
    const cap = this.budget.limits;
    if (++this.entries > cap.layerEntries) throw new LayerError(`more than ${cap.layerEntries} entries in one layer: refused`);
    if (++this.budget.entries > cap.imageEntries) throw new LayerError(`more than ${cap.imageEntries} entries in one image: refused`);
    const type = h.type ?? 'file';
    const parts = memberParts(h.name);
    if (parts.length === 0) {
      // './' (or '.'): the root itself. Its owner, mode and time stay the caller's: an image
      // must not make an --out directory 0777, or give it to a local user.
      body.resume();
      if (type !== 'directory') throw new LayerError(`'${printable(h.name)}' names the root but is a ${type}`);
      return;
    }
    const base = parts[parts.length - 1]!;
    if (base.startsWith(WHITEOUT)) {
      body.resume();
      if (type !== 'file') throw new LayerError(`whiteout '${printable(h.name)}' is a ${type}, not a file`);
      return this.whiteout(parts);
    }
    const dir = resolveParent(this.root, parts, { create: true, followLinks: true, onCreate: (p) => this.made.add(p) })!;
    const rel = [...dir, base].join('/');
    const path = join(this.root, rel);
    this.made.add(rel);
    this.nodes.delete(rel); // whatever was planned here, this entry replaces it
    this.skippedDevices.delete(rel);
    const existing = lstatOrUndefined(path);
    if (type === 'directory') {
      body.resume();
      if (existing && !existing.isDirectory()) unlinkSync(path);
      if (!existing?.isDirectory()) mkdirSync(path);
      if (this.whitedOut.has(rel)) this.opaques.add(rel);
      this.attributes(path, h, 'directory');
      if (h.mtime) this.dirTimes.push([path, h.mtime]);
      return;
    }
    if (existing) existing.isDirectory() ? rmSync(path, { recursive: true }) : unlinkSync(path);
    switch (type) {
      case 'file':
      case 'contiguous-file': {
        // O_EXCL|O_NOFOLLOW: whatever is at the path now, we made the only name for it.
        const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        await pipeline(body, createWriteStream('', { fd, autoClose: true }));
        break;
      }
      case 'symlink':
        body.resume();
        if (!h.linkname) throw new LayerError(`symlink '${printable(h.name)}' has no target`);
        if (h.linkname.includes('\0')) throw new LayerError(`NUL byte in the target of symlink '${printable(h.name)}' ('${printable(h.linkname)}'): refused`);
        symlinkSync(h.linkname, path); // stored as is: it is only ever followed inside the box
        break;
      case 'link': {
        body.resume();
        const target = this.linkTarget(h);
        if (target === undefined) {
          // flatten: a hard link to a device this layer did not make is not made either.
          this.devicesSkipped++;
          this.skippedDevices.add(rel);
          return;
        }
        // A link to a node still to make: another node like it (the placeholder is no device).
        const node = this.nodes.get(relative(this.root, target));
        if (node) return this.plan(rel, node);
        linkSync(target, path); // link(2) does not follow a symlink: the link names the symlink itself
        return; // a hard link shares the target's inode: its attributes are the target's
      }
      case 'character-device':
      case 'block-device':
      case 'fifo':
        body.resume();
        if (type !== 'fifo' && this.mode === 'flatten') {
          // A flattened tree is on the host, not in a box: nothing there should open a device.
          this.devicesSkipped++;
          this.skippedDevices.add(rel);
          return;
        }
        if (type !== 'fifo' && !this.asRoot) {
          this.skipped.push(`${printable(h.name)}: device nodes are made only as root`);
          return;
        }
        return this.plan(rel, { type, major: h.devmajor ?? 0, minor: h.devminor ?? 0, header: h });
      default:
        body.resume();
        this.skipped.push(`${printable(h.name)}: entry type ${type} is not supported`);
        return;
    }
    this.attributes(path, h, type === 'symlink' ? 'symlink' : 'file');
  }

  /**
   * A hard link's target: an earlier entry of this root, never a directory, never outside.
   * Undefined for a device of this layer that flatten mode did not make.
   */
  private linkTarget(h: Header): string | undefined {
    const parts = memberParts(h.linkname ?? '', 'hard link target');
    if (parts.length === 0) throw new LayerError(`hard link '${printable(h.name)}' has no target`);
    const dir = resolveParent(this.root, parts, { create: false, followLinks: true });
    const target = dir && join(this.root, ...dir, parts[parts.length - 1]!);
    if (dir && this.skippedDevices.has([...dir, parts[parts.length - 1]!].join('/'))) return undefined;
    const st = target && lstatOrUndefined(target);
    if (!target || !st) throw new LayerError(`hard link '${printable(h.name)}' -> '${printable(h.linkname)}': no such entry in the layer's root`);
    if (st.isDirectory()) throw new LayerError(`hard link '${printable(h.name)}' -> '${printable(h.linkname)}' names a directory`);
    return target;
  }

  private attributes(path: string, h: Header, kind: 'directory' | 'symlink' | 'file'): void {
    if (this.asRoot) lchownSync(path, h.uid ?? 0, h.gid ?? 0);
    if (kind === 'symlink') {
      if (h.mtime) lutimesSync(path, h.mtime, h.mtime);
      return;
    }
    let mode = (h.mode ?? 0o644) & 0o7777;
    // flatten: no setuid or setgid file on the host (a directory's setgid only passes its group on).
    if (kind === 'file' && this.mode === 'flatten' && !this.options.keepPrivileges && mode & 0o6000) {
      mode &= ~0o6000;
      this.privilegesStripped++;
    }
    // After chown, which clears setuid/setgid bits.
    chmodSync(path, mode);
    if (h.mtime) lutimesSync(path, h.mtime, h.mtime);
  }

  private async whiteout(parts: string[]): Promise<void> {
    const base = parts[parts.length - 1]!;
    const shown = parts.join('/');
    const isOpaque = base === OPAQUE;
    if (!isOpaque && base.startsWith(WHITEOUT + WHITEOUT)) {
      this.skipped.push(`${printable(shown)}: aufs metadata, ignored`);
      return;
    }
    const name = base.slice(WHITEOUT.length);
    if (!isOpaque && (name === '' || name === '.' || name === '..')) throw new LayerError(`'${printable(shown)}' is not a valid whiteout (a bare '${printable(base)}')`);
    // A whiteout names a path of the lower layers' tree: it never goes through a symlink.
    const create = this.mode === 'overlay';
    const dir = resolveParent(this.root, parts, { create, followLinks: false, onCreate: (p) => this.made.add(p) });
    if (!dir) return; // flatten: nothing below to hide
    const dirPath = join(this.root, ...dir);
    if (isOpaque) {
      if (this.mode === 'overlay') return void this.opaques.add(dir.join('/'));
      for (const child of readdirSync(dirPath)) this.removeLower([...dir, child].join('/'));
      return;
    }
    const rel = [...dir, name].join('/');
    if (this.mode === 'flatten') return this.removeLower(rel);
    const st = lstatOrUndefined(join(this.root, rel));
    if (st?.isDirectory()) return void this.opaques.add(rel); // made by this layer: hide only the lower one's contents
    if (st) return; // a file of this layer hides the lower one by itself
    this.whitedOut.add(rel);
    this.plan(rel, { type: 'character-device', major: 0, minor: 0 });
  }

  /** flatten: remove what lower layers put at rel, keeping what this layer made. */
  private removeLower(rel: string): void {
    const path = join(this.root, rel);
    const st = lstatOrUndefined(path);
    if (!st) return;
    if (st.isDirectory()) {
      for (const child of readdirSync(path)) this.removeLower(`${rel}/${child}`);
      if (!this.made.has(rel) && readdirSync(path).length === 0) rmdirSync(path);
    } else if (!this.made.has(rel)) {
      unlinkSync(path);
    }
  }

  /** A node to make at the end; for now an empty file of ours at its path (rel's parent is resolved). */
  private plan(rel: string, node: Omit<Node, 'ino'>): void {
    const fd = openSync(join(this.root, rel), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    const ino = fstatSync(fd).ino;
    closeSync(fd);
    this.nodes.set(rel, { ...node, ino });
  }

  /**
   * rel's full path if it is still what this layer left there: reached through real
   * directories only (no symlink a later entry made on the way), and of the kind expected.
   */
  private still(rel: string, expected: (st: FileStat) => boolean): string | undefined {
    const parts = rel === '' ? [] : rel.split('/');
    try {
      if (parts.length && !resolveParent(this.root, parts, { create: false, followLinks: false })) return undefined;
    } catch (e) {
      if (e instanceof LayerError) return undefined;
      throw e;
    }
    const st = lstatOrUndefined(join(this.root, rel));
    return st && expected(st) ? join(this.root, rel) : undefined;
  }

  /** Every planned node, by one tar in a fresh directory inside the root, then renamed into place. */
  private async makeNodes(): Promise<void> {
    if (this.nodes.size === 0) return;
    const nodes = [...this.nodes];
    const stage = join(this.root, `.boxlab-nodes-${randomBytes(6).toString('hex')}`);
    mkdirSync(stage, { mode: 0o700 });
    try {
      // Named 0, 1, 2...: tar sees no name from the layer.
      const list = join(stage, 'nodes.tar');
      const pack = tar.pack();
      const written = pipeline(pack, createWriteStream(list));
      nodes.forEach(([, n], i) => pack.entry({ name: String(i), type: n.type, devmajor: n.major, devminor: n.minor, mode: 0o600, mtime: new Date(0) }));
      pack.finalize();
      await written;
      await this.make({ file: 'tar', args: ['-x', '-f', list, '-C', stage] });
      nodes.forEach(([rel, n], i) => {
        // A later entry that removed the placeholder (a directory replaced above it) wins.
        const path = this.still(rel, (st) => st.isFile() && st.ino === n.ino);
        if (!path) return;
        renameSync(join(stage, String(i)), path);
        if (n.header) this.attributes(path, n.header, 'file');
      });
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }

  /** trusted.overlay.opaque=y on each planned directory that is still one (-h: never through a link). */
  private async markOpaque(): Promise<void> {
    const dirs = [...this.opaques].map((rel) => this.still(rel, (st) => st.isDirectory())).filter((p): p is string => p !== undefined);
    for (let i = 0; i < dirs.length; i += PATHS_PER_PROCESS) {
      await this.make({ file: 'setfattr', args: ['-h', '-n', 'trusted.overlay.opaque', '-v', 'y', '--', ...dirs.slice(i, i + PATHS_PER_PROCESS)] });
    }
  }

  private async make(c: Cmd): Promise<void> {
    const r = await this.runner.run(c, { timeoutMs: 10 * 60_000 });
    if (r.code !== 0) throw new Error(`${render(c).slice(0, 200)}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  async finish(): Promise<void> {
    await this.makeNodes();
    await this.markOpaque();
    // Last: making nodes and the stage directory changed directory times.
    for (const [path, t] of this.dirTimes.reverse()) lutimesSync(path, t, t);
  }
}
