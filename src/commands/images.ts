// `boxlab images`, `boxlab rmi REF` and `boxlab inspect REF`: the image cache, read-only and removal.
import { parse } from './args.js';
import { EnvError, UsageError } from '../errors.js';
import { Store } from '../../rootfs-fetch/store.js';
import { imageProcess, listImages, loadImage, removeImage, type Image } from '../../rootfs-fetch/images.js';
import { literal } from '../shell/cmd.js';
import { humanBytes } from '../../rootfs-fetch/progress-bars.js';
import { printable } from '../../rootfs-fetch/untrusted.js';

const size = (img: Image): number => img.layers.reduce((n, l) => n + l.size, 0);

export function openStore(): Store {
  const store = new Store();
  try {
    return store.init();
  } catch (e) {
    // An EnvError (privateDir's) has a numeric exit code, not an errno name: its message says it.
    const code = (e as NodeJS.ErrnoException).code;
    throw new EnvError(`cannot open the image cache ${store.dir}: ${typeof code === 'string' ? code : (e as Error).message}${process.geteuid?.() !== 0 ? ' (run as root)' : ''}`);
  }
}

export async function imagesCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const { stdout, stderr } = imagesListing(openStore(), values.json);
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  return 0;
}

/**
 * What `boxlab images` prints: the images that read, as a table or JSON on stdout; and on
 * stderr one line for each that does not, which says how to remove it. One bad image does not
 * hide the others.
 */
export function imagesListing(store: Store, json = false): { stdout: string; stderr: string } {
  const { images, unreadable } = listImages(store);
  // Names come from index.json, on disk: printed escaped like anything read from outside.
  const stderr = unreadable.map((u) => `${printable(u.name)}: unreadable (${printable(u.reason, 400)}); boxlab rmi ${printable(u.name)} removes it\n`).join('');
  if (json) return { stdout: JSON.stringify(images.map((i) => ({ name: i.name, digest: i.manifest.digest, size: size(i), layers: i.layers.map((l) => l.digest) }))) + '\n', stderr };
  if (images.length === 0 && unreadable.length === 0) return { stdout: 'no images cached (boxlab fetch --busybox makes one offline; boxlab fetch alpine:3.20 pulls one)\n', stderr };
  if (images.length === 0) return { stdout: '', stderr };
  const rows = images.map((i) => [i.name, i.manifest.digest.slice(0, 19), String(i.layers.length), humanBytes(size(i))]);
  const table = [['IMAGE', 'MANIFEST', 'LAYERS', 'SIZE'], ...rows];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  return { stdout: table.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd() + '\n').join(''), stderr };
}

export async function rmiCommand(argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {}, 1);
  if (!positionals[0]) throw new UsageError('usage: boxlab rmi REF (boxlab images lists them)');
  const { name, freed } = removeImage(openStore(), positionals[0]);
  process.stdout.write(`removed ${name} (${humanBytes(freed)} of blobs no other image uses)\n`);
  return 0;
}

/** What lesson 11 shows: the manifest, the config, and each layer with its overlay lowerdir. */
export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { manifest: { type: 'boolean' }, config: { type: 'boolean' }, lowerdir: { type: 'boolean' }, process: { type: 'boolean' } }, 1);
  if (!positionals[0]) throw new UsageError('usage: boxlab inspect REF [--manifest | --config | --lowerdir | --process]');
  const store = openStore();
  const img = loadImage(store, positionals[0]);
  if (values.manifest) process.stdout.write(JSON.stringify(store.json(img.manifest.digest), null, 2) + '\n');
  else if (values.config) process.stdout.write(JSON.stringify(img.config, null, 2) + '\n');
  // overlayfs lists lowerdirs top first: the last layer of the manifest comes first.
  else if (values.lowerdir) process.stdout.write(img.layers.map((l) => l.dir).reverse().join(':') + '\n');
  else if (values.process) {
    // One line of POSIX sh: the config's WorkingDir, then exactly its Env, then its command.
    const p = imageProcess(img);
    if (p.user && p.user !== 'root' && p.user !== '0' && p.user !== '0:0') process.stderr.write(`boxlab: ${img.name} runs as user ${printable(p.user)}; this line runs it as root\n`);
    process.stdout.write(`cd ${literal(p.cwd)} && exec env -i ${[...p.env, ...p.args].map(literal).join(' ')}\n`);
  } else {
    process.stdout.write(`${img.name}\nmanifest ${img.manifest.digest}\nconfig   ${img.configDigest}\n`);
    img.layers.forEach((l, i) => process.stdout.write(`layer ${i + 1}  ${l.digest}  ${humanBytes(l.size)}\n         diff_id  ${l.diffId}\n         chain_id ${l.chainId}\n         lowerdir ${l.dir}\n`));
  }
  return 0;
}
