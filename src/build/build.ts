// `boxlab build`: a Boxfile's steps in order. A RUN is a box over the layers so far and its
// upper directory the new layer; a COPY is the context's files as a layer; the others change
// the config only. Each layer is written in one pass (tar, diff_id, gzip, digest), unpacked
// into the layer cache (checked against its diff_id) for the next step, and remembered in the
// build cache. The image lands in the OCI layout `boxlab images` lists.
import { baseHistory, type History } from './history.js';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, rmSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { EnvError } from '../errors.js';
import { RealRunner } from '../shell/spawn.js';
import { StateFile } from '../box/state.js';
import { WORK_PARENT } from '../box/resources.js';
import { checkEnv } from '../container/validate.js';
import { busyboxStandIn } from '../container/images.js';
import { printable } from '../../rootfs-fetch/untrusted.js';
import { chainIds } from '../../rootfs-fetch/digest.js';
import { hostPlatform, MEDIA, type Manifest } from '../../rootfs-fetch/manifest.js';
import { layerDir, loadImage, storedName, unpackLayer, type Image } from '../../rootfs-fetch/images.js';
import type { Descriptor, Store } from '../../rootfs-fetch/store.js';
import { UnpackBudget } from '../../rootfs-fetch/unpack.js';
import { EMPTY_STATE, resolveBoxfile, type ImageState, type Instruction, type Step } from './boxfile.js';
import { copyEntries, copyError, type Context } from './context.js';
import { clampTime, type LayerEntry } from './layer.js';
import { BuildCache, cacheKey, type CachedLayer } from './cache.js';
import { runStep } from './box.js';
import { boxUpperEntries } from './upper.js';
import { saveImage, saveLayer } from './save.js';
import { tarBytes, type CompressBar } from './progress.js';

export interface BuildOptions {
  file: string;
  instructions: Instruction[];
  context: Context;
  tag: string;
  buildArgs: Map<string, string>;
  noCache: boolean;
  network: 'none' | 'bridge';
  seccomp?: string;
  store: Store;
  log: (line: string) => void;
  /** A progress bar for compressing a layer of this many tar bytes (none by default). */
  bar?: (total: number) => CompressBar;
}

/** What a base image's config gives a build, each field checked (it is from outside). */
export function stateOf(img: Image): ImageState {
  const c = (img.config.config ?? {}) as Record<string, unknown>;
  const strings = (v: unknown): string[] | null => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : null);
  const env = checkEnv(c.Env ?? [], `${img.name}: config Env`).map((e): [string, string] => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]);
  const labels = c.Labels && typeof c.Labels === 'object' ? Object.entries(c.Labels as Record<string, unknown>).filter((kv): kv is [string, string] => typeof kv[1] === 'string') : [];
  const exposed = c.ExposedPorts && typeof c.ExposedPorts === 'object' ? Object.keys(c.ExposedPorts as object) : [];
  return { env, cwd: typeof c.WorkingDir === 'string' && c.WorkingDir.startsWith('/') ? c.WorkingDir : '/', user: typeof c.User === 'string' ? c.User : '', cmd: strings(c.Cmd), entrypoint: strings(c.Entrypoint), labels, exposed };
}

/** A path in the image so far (layer directories top first): what the topmost layer that has it says. */
function lowerStat(dirs: string[], abs: string): Stats | undefined {
  for (const d of dirs) {
    try {
      const st = lstatSync(join(d, abs));
      return st.isCharacterDevice() && st.rdev === 0 ? undefined : st; // a whiteout: deleted
    } catch {
      // not in this layer
    }
  }
  return undefined;
}

const userIds = (user: string): { uid: number; gid: number } => {
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  return m ? { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) } : { uid: 0, gid: 0 };
};

export async function build(o: BuildOptions): Promise<{ name: string; manifest: Descriptor; layers: number }> {
  const name = storedName(o.tag);
  const started = Date.now();
  let base: Image | undefined;
  const resolved = resolveBoxfile(o.instructions, o.buildArgs, o.file, (from) => {
    const chosen = busyboxStandIn(from, (n) => o.store.find(n) !== undefined);
    if (chosen.note) o.log(`boxlab: ${chosen.note}`);
    base = loadImage(o.store, chosen.name);
    return stateOf(base);
  });
  for (const a of resolved.unusedArgs) o.log(`boxlab: --build-arg ${printable(a, 60)} was not used: no ARG declares it`);
  if (resolved.steps.some((s) => s.step.kind === 'RUN') && process.geteuid?.() !== 0) throw new EnvError('boxlab build runs each RUN in a box (namespaces, mounts, cgroups): it needs root (sudo)');

  // Every COPY's sources checked before anything is built or printed: a bad one is one line.
  for (const { step } of resolved.steps) {
    if (step.kind !== 'COPY') continue;
    try {
      copyEntries(o.context, step.sources, step.dest, step.chown, () => undefined, undefined, false);
    } catch (e) {
      throw copyError(o.file, step.line, e);
    }
  }
  const total = resolved.steps.length + 1;
  const clamp = clampTime();
  const created = new Date(clamp * 1000).toISOString().replace(/\.000Z$/, 'Z');
  const runner = new RealRunner();
  const cache = new BuildCache();
  const budget = new UnpackBudget();
  const layers: Descriptor[] = base ? base.layers.map((l) => ({ mediaType: MEDIA.ociLayerGzip, digest: l.digest, size: l.size })) : [];
  // The base's own layer media types, as its manifest has them.
  if (base) {
    const m = o.store.json<Manifest>(base.manifest.digest);
    m.layers.forEach((l, i) => (layers[i]!.mediaType = l.mediaType));
  }
  const diffIds: string[] = base ? base.layers.map((l) => l.diffId) : [];
  const dirs = (): string[] => diffIds.map((d) => layerDir(d)).reverse();
  const history: History[] = base ? baseHistory(base.config, base.layers.length) : [];
  o.log(`[1/${total}] FROM ${printable(resolved.from, 120)}${base ? ` (${base.manifest.digest.slice(0, 19)})` : ''}`);

  // The build's own temporary directory: written down before it is made, so reset removes it.
  const buildId = randomBytes(4).toString('hex');
  const tmp = `${WORK_PARENT}/build-${buildId}`;
  let state: StateFile | undefined;
  const workDir = (): string => {
    if (!state) {
      state = new StateFile(`build-${buildId}`, process.pid, [{ dir: tmp }]);
      mkdirSync(WORK_PARENT, { recursive: true, mode: 0o711 });
      mkdirSync(tmp, { mode: 0o700 });
    }
    return tmp;
  };
  const initial = base ? stateOf(base) : EMPTY_STATE;
  try {
    for (const [i, { step }] of resolved.steps.entries()) {
      const t0 = Date.now();
      const head = `[${i + 2}/${total}] ${printable(step.text, 160)}`;
      const secs = (): string => `${((Date.now() - t0) / 1000).toFixed(2)}s`;
      const before = i === 0 ? initial : resolved.steps[i - 1]!.state;
      const parent = chainIds(diffIds).pop() ?? '';
      let made: { key: string; produce: () => Promise<CachedLayer> } | undefined;
      if (step.kind === 'RUN') {
        const env = [...before.env, ...step.args_.filter(([k]) => !before.env.some(([n]) => n === k))].map(([k, v]) => `${k}=${v}`);
        if (!env.some((e) => e.startsWith('PATH='))) env.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
        const key = cacheKey(parent, step.text, { env, cwd: before.cwd, user: before.user, network: o.network });
        made = { key, produce: () => runLayer(o, step, env, before, dirs(), workDir(), runner, head, clamp) };
      } else if (step.kind === 'COPY') {
        let copied: { entries: LayerEntry[]; contentHash: string };
        try {
          copied = copyEntries(o.context, step.sources, step.dest, step.chown, (abs) => lowerStat(dirs(), abs));
        } catch (e) {
          throw copyError(o.file, step.line, e);
        }
        made = { key: cacheKey(parent, step.text, copied.contentHash), produce: () => layerOf(o, copied.entries, clamp) };
      } else if (step.kind === 'WORKDIR' && !lowerStat(dirs(), step.dir)?.isDirectory()) {
        // Docker makes a WORKDIR that is not there: its directories, 0755, root's.
        const parts = step.dir.split('/').filter(Boolean);
        const entries = parts.map((_, j): LayerEntry => {
          const p = parts.slice(0, j + 1).join('/');
          const st = lowerStat(dirs(), `/${p}`);
          return st ? { path: p, type: 'directory', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) } : { path: p, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 };
        });
        made = { key: cacheKey(parent, step.text, null), produce: () => layerOf(o, entries, clamp) };
      }
      if (!made) {
        history.push({ created, created_by: step.text, comment: 'boxlab build', empty_layer: true });
        o.log(`${head}  ${secs()}`);
        continue;
      }
      let layer = o.noCache ? undefined : cache.get(made.key);
      if (layer && !o.store.has(layer.digest)) layer = undefined;
      const cached = layer !== undefined;
      if (!layer) {
        // A RUN's own output comes between this line and its result.
        if (step.kind === 'RUN') o.log(head);
        layer = await made.produce();
        cache.put(made.key, layer);
      }
      await unpackLayer(o.store, { digest: layer.digest, size: layer.size, diffId: layer.diffId, chainId: '', dir: layerDir(layer.diffId) }, runner, budget);
      layers.push({ mediaType: MEDIA.ociLayerGzip, digest: layer.digest, size: layer.size });
      diffIds.push(layer.diffId);
      history.push({ created, created_by: step.text, comment: 'boxlab build' });
      o.log(`${head}  ${cached ? 'CACHED' : layer.digest.slice(0, 19)}  ${secs()}`);
    }
    const final = resolved.steps[resolved.steps.length - 1]?.state ?? initial;
    const manifest = writeImage(o.store, name, final, layers, diffIds, history, created);
    o.log(`image ${name}  ${manifest.digest}  ${((Date.now() - started) / 1000).toFixed(2)}s`);
    return { name, manifest, layers: layers.length };
  } finally {
    if (state) {
      rmSync(tmp, { recursive: true, force: true });
      rmSync(state.path, { force: true });
    }
  }
}

/** A RUN: its box, then its upper directory as a layer. */
async function runLayer(o: BuildOptions, step: Extract<Step, { kind: 'RUN' }>, env: string[], before: ImageState, lowerdirs: string[], tmp: string, runner: RealRunner, head: string, clamp: number): Promise<CachedLayer> {
  const upper = join(tmp, `upper-${randomBytes(3).toString('hex')}`);
  const code = await runStep({ lowerdirs, args: step.args, env, cwd: before.cwd, user: userIds(before.user), network: o.network, seccomp: o.seccomp, upperTo: upper, label: head });
  if (code !== 0) throw new EnvError(`${printable(o.file, 120)}:${step.line}: RUN returned a non-zero code: ${code}`);
  const layer = await layerOf(o, await boxUpperEntries(upper, runner), clamp);
  rmSync(upper, { recursive: true, force: true });
  return layer;
}

/** Entries as a layer blob in the store, with a progress bar when it is large. */
async function layerOf(o: BuildOptions, entries: LayerEntry[], clamp: number): Promise<CachedLayer> {
  const bar = o.bar?.(tarBytes(entries));
  try {
    return await saveLayer(o.store, entries, { clamp, onBytes: bar?.onBytes });
  } finally {
    bar?.end();
  }
}

function writeImage(store: Store, name: string, s: ImageState, layers: Descriptor[], diffIds: string[], history: History[], created: string): Descriptor {
  const config = {
    created,
    ...hostPlatform(),
    config: {
      Env: s.env.map(([k, v]) => `${k}=${v}`),
      ...(s.entrypoint ? { Entrypoint: s.entrypoint } : {}),
      ...(s.cmd ? { Cmd: s.cmd } : {}),
      WorkingDir: s.cwd,
      ...(s.user ? { User: s.user } : {}),
      ...(s.labels.length ? { Labels: Object.fromEntries(s.labels) } : {}),
      ...(s.exposed.length ? { ExposedPorts: Object.fromEntries(s.exposed.map((p) => [p, {}])) } : {}),
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history,
  };
  return saveImage(store, name, config, layers);
}

