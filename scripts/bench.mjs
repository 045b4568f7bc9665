#!/usr/bin/env node
// `npm run bench`: prints the figures the foundation issue sets targets for.
//  - CLI start-up against `node -e 0` (target: at most 2.5x);
//  - each lesson's wall time, the time spent inside spawned tools, and the orchestrator's own
//    overhead per step (total minus tools);
//  - the same lesson run as its --script by bash: the extra cost per step of running it from
//    Node instead of sh (target: at most 3 ms).
//  - pull + unpack of an image from a loopback registry, against skopeo + umoci.
// Medians of several runs. Usage: node scripts/bench.mjs [--runs N] [--only images]
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { $, argv } from 'zx';

$.verbose = false;
const runs = Number(argv.runs ?? 7);
const cli = join(import.meta.dirname, '..', 'bin', 'boxlab.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${ms.toFixed(1)} ms`;

function timeIt(cmd, args, opts = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}
const medianOf = (cmd, args, opts) => median(Array.from({ length: runs }, () => timeIt(cmd, args, opts).ms));

console.log(`boxlab bench — ${new Date().toISOString()} — node ${process.version}, ${runs} runs each, medians`);
console.log(`command: node scripts/bench.mjs --runs ${runs}\n`);

const base = medianOf(process.execPath, ['-e', '0']);
console.log(`start-up`);
console.log(`  node -e 0                ${fmt(base)}`);
for (const args of [['--help'], ['lessons'], ['lesson', '2', '--dry-run']]) {
  const ms = medianOf(process.execPath, [cli, ...args]);
  const ratio = ms / base;
  console.log(`  boxlab ${args.join(' ').padEnd(17)} ${fmt(ms)}  = ${ratio.toFixed(2)}x node -e 0  ${ratio <= 2.5 ? 'ok (target <= 2.5x)' : 'OVER the 2.5x target'}`);
}

if (process.geteuid() !== 0) {
  console.log('\nlessons: skipped, they need root (sudo npm run bench)');
  process.exit(0);
}

console.log('\nlessons (real kernel)');
const tmp = mkdtempSync(join(tmpdir(), 'bench-'));
try {
  // Every lesson of the curriculum, as `boxlab lessons` lists them.
  const numbers = argv.only === 'images' ? [] : timeIt(process.execPath, [cli, 'lessons']).stdout.split('\n').map((l) => /^\s+(\d+)\s/.exec(l)?.[1]).filter(Boolean).map(Number);
  for (const n of numbers) {
    const script = join(tmp, `lesson${n}.sh`);
    writeFileSync(script, timeIt(process.execPath, [cli, 'lesson', String(n), '--script']).stdout);
    // Node and bash runs alternate, so both meet the same machine load.
    const rows = [];
    const bashRuns = [];
    for (let i = 0; i < runs; i++) {
      const { ms, stdout } = timeIt(process.execPath, [cli, 'lesson', String(n), '--yes', '--json'], { env: { ...process.env, BOXLAB_STATE_HOME: tmp } });
      const end = JSON.parse(stdout.trim().split('\n').at(-1));
      rows.push({ wall: ms, engine: end.ms, tools: end.toolMs, steps: end.steps });
      bashRuns.push(timeIt('bash', [script]).ms);
    }
    const steps = rows[0].steps;
    const bash = median(bashRuns);
    const wall = median(rows.map((r) => r.wall));
    const engine = median(rows.map((r) => r.engine));
    const tools = median(rows.map((r) => r.tools));
    const overhead = median(rows.map((r) => (r.engine - r.tools) / r.steps));
    const perStep = (engine - bash) / steps;
    console.log(`  lesson ${n}: ${steps} steps (with the replayed ones)`);
    console.log(`    boxlab lesson ${n} --yes --json, wall    ${fmt(wall)}`);
    console.log(`      start-up before the first step      ${fmt(wall - engine)}  = ${((wall - engine) / base).toFixed(2)}x node -e 0`);
    console.log(`      the steps (engine)                  ${fmt(engine)}, of which in spawned tools ${fmt(tools)}`);
    console.log(`      orchestrator's own time per step    ${fmt(overhead)}  (engine minus tools, / steps)`);
    console.log(`    the same steps and checks, bash --script  ${fmt(bash)}`);
    console.log(`    steps from Node vs sh, per step       ${perStep >= 0 ? '+' : ''}${fmt(perStep)}  ${perStep <= 3 ? 'ok (target <= 3 ms)' : 'OVER the 3 ms target'}`);
  }
  images(tmp);
} finally {
  rmSync(tmp, { recursive: true, force: true });
  await $`node ${cli} reset`.nothrow();
}

/**
 * Pull + unpack of one image from a registry on loopback: boxlab against skopeo copy + umoci
 * unpack (the same work: download, verify, apply the layers with whiteouts into one tree),
 * interleaved, each into an empty cache; then boxlab's second pull (everything cached).
 */
function images(tmp) {
  const have = (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
  if (!['docker-registry', 'skopeo', 'umoci'].every(have)) {
    console.log('\nimages: skipped, needs docker-registry, skopeo and umoci (bash scripts/provision.sh)');
    return;
  }
  const port = String(20000 + (process.pid % 20000));
  const registry = join(import.meta.dirname, 'registry.sh');
  timeIt('bash', [registry, 'start', port, join(tmp, 'registry')]);
  try {
    const ref = `127.0.0.1:${port}/boxlab/busybox:layers`;
    const ours = [];
    const theirs = [];
    const again = [];
    for (let i = 0; i < runs; i++) {
      const env = { ...process.env, BOXLAB_CACHE_DIR: join(tmp, `cache-${i}`) };
      ours.push(timeIt(process.execPath, [cli, 'fetch', ref, '--plain-http', '--quiet', '--out', join(tmp, `ours-${i}`)], { env }).ms);
      again.push(timeIt(process.execPath, [cli, 'fetch', ref, '--plain-http', '--quiet'], { env }).ms);
      const t0 = performance.now();
      timeIt('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(tmp, `layout-${i}`)}:x`]);
      timeIt('umoci', ['unpack', '--image', `${join(tmp, `layout-${i}`)}:x`, join(tmp, `umoci-${i}`)]);
      theirs.push(performance.now() - t0);
    }
    const [o, t, a] = [median(ours), median(theirs), median(again)];
    console.log(`\nimages: ${ref} (3 layers, 1 MiB), empty cache each run`);
    console.log(`  boxlab fetch --out (pull, verify, unpack per layer for overlayfs, then flatten)  ${fmt(o)}`);
    console.log(`  skopeo copy + umoci unpack (pull, verify, flatten)                            ${fmt(t)}`);
    console.log(`  ratio boxlab / (skopeo + umoci)                                              ${(o / t).toFixed(2)}x`);
    console.log(`  second pull, every layer cached (0 layer bytes)                              ${fmt(a)}  = ${(a / base).toFixed(2)}x node -e 0`);
  } finally {
    spawnSync('bash', [registry, 'stop', port]);
  }
}
