// `boxlab fetch`: a root filesystem into the image cache, from a registry, a tarball,
// debootstrap or the local busybox; with --out, also unpacked (layers flattened) into a directory.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from './args.js';
import { EnvError, UsageError } from '../errors.js';
import { RealRunner } from '../shell/spawn.js';
import { Store } from '../../rootfs-fetch/store.js';
import { progressTo } from '../../rootfs-fetch/progress-bars.js';
import { busyboxCacheDir, findBusybox } from '../../rootfs-fetch/busybox.js';
import { parsePlatform } from '../../rootfs-fetch/manifest.js';
import { storedName, type Image } from '../../rootfs-fetch/images.js';
import { existingOut, exportImage } from '../../rootfs-fetch/export.js';

const USAGE = 'usage: boxlab fetch REF [--plain-http] [--platform linux/ARCH] | --tarball URL --sha256 HEX [--name NAME] | --debootstrap SUITE [--mirror URL] | --busybox;  each with [--out DIR [--keep-privileges]] (--out: a new or empty directory of root\'s; no device nodes, setuid/setgid bits removed unless --keep-privileges)';

const FLAGS = {
  out: { type: 'string' },
  'keep-privileges': { type: 'boolean' },
  'plain-http': { type: 'boolean' },
  platform: { type: 'string' },
  tarball: { type: 'string' },
  sha256: { type: 'string' },
  name: { type: 'string' },
  debootstrap: { type: 'string' },
  mirror: { type: 'string' },
  busybox: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export async function fetchCommand(argv: string[]): Promise<number> {
  const { values: f, positionals } = parse(argv, FLAGS, 1);
  const ref = positionals[0];
  const sources = [ref, f.tarball, f.debootstrap, f.busybox || undefined].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new UsageError(sources.length ? `fetch takes one source at a time\n${USAGE}` : USAGE);
  if (f.tarball && !/^[a-f0-9]{64}$/.test(f.sha256 ?? '')) throw new UsageError('--tarball needs --sha256 with the 64 hex digits of its sha256 (sha256sum FILE)');
  if (!f.tarball && (f.sha256 || f.name)) throw new UsageError('--sha256 and --name go with --tarball');
  if ((f['plain-http'] || f.platform) && !ref) throw new UsageError('--plain-http and --platform go with an image reference');
  if (f['keep-privileges'] && f.out === undefined) throw new UsageError('--keep-privileges goes with --out');
  const out = f.out === undefined ? undefined : resolve(f.out);
  if (ref) storedName(ref); // a bad reference is a usage error before anything happens
  if (process.geteuid?.() !== 0) throw new EnvError('fetch unpacks layers with their owners and device nodes, and needs root: sudo boxlab fetch ...');
  if (out) existingOut(out); // an existing one must be empty and root's, before anything is pulled

  const store = new Store().init();
  const runner = await new RealRunner().ready();
  const progress = progressTo(process.stderr, f.quiet);
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let image: Image;
    if (ref) {
      const { pull } = await import('../../rootfs-fetch/pull.js');
      image = (await pull(ref, { store, runner, progress, plainHttp: f['plain-http'], platform: f.platform ? parsePlatform(f.platform) : undefined, signal: ac.signal })).image;
    } else {
      const build = await import('../../rootfs-fetch/build.js');
      if (f.tarball) {
        const name = storedName(f.name ?? `boxlab.local/tarball:${f.sha256!.slice(0, 12)}`);
        image = await build.importTarball(store, runner, f.tarball, f.sha256!, name, ac.signal);
      } else if (f.debootstrap) {
        progress.line(`debootstrap --variant=minbase ${f.debootstrap}: a minute or more (53 s for bookworm here)`);
        image = await build.debootstrapImage(store, runner, f.debootstrap, f.mirror, `boxlab.local/debootstrap:${f.debootstrap}`);
      } else {
        image = await build.buildBusyboxImage(store, runner, await busyboxRootfs(runner));
      }
      progress.line(`${image.name}: ${image.layers.length} layer(s), built here`);
    }
    if (ac.signal.aborted) return interrupted();
    if (out) await exportImage(store, image, out, runner, { keepPrivileges: f['keep-privileges'], progress });
    process.stdout.write(`${image.name}\n`);
    return 0;
  } catch (e) {
    if (ac.signal.aborted) return interrupted();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function interrupted(): number {
  process.stderr.write('boxlab: fetch interrupted: no partial blob was kept\n');
  return 130;
}

/** The busybox rootfs the lessons use, built into its cache if it is not there yet. */
async function busyboxRootfs(runner: RealRunner): Promise<string> {
  const busybox = findBusybox();
  if (!busybox) throw new EnvError('busybox not found: apt-get install busybox-static');
  const dir = busyboxCacheDir(busybox);
  if (existsSync(dir)) return dir;
  const { busyboxRecipe } = await import('../../rootfs-fetch/busybox.js');
  const tmp = `${dir}.tmp-${process.pid}`;
  for (const c of [...busyboxRecipe(tmp, busybox), { file: 'mv', args: ['-T', tmp, dir] }]) {
    const r = await runner.run(c);
    if (r.code !== 0) {
      await runner.run({ file: 'rm', args: ['-rf', tmp] });
      throw new EnvError(`building the busybox rootfs failed: ${r.stderr.trim()}`);
    }
  }
  return dir;
}
