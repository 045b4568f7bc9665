#!/usr/bin/env node
// Before and after in ONE run: two builds of boxlab (each a folder with bin/, dist/, lessons/),
// measured interleaved on the same machine at the same load, since figures from different
// runs are not comparable. As root, under the kernel lock on a shared machine:
//   flock /tmp/boxlab-kernel.lock node scripts/bench-compare.mjs BEFORE AFTER [--pairs 30]
// (a BEFORE build: copy bin, dist, lessons, rootfs-fetch and package.json of the old commit
// into a folder, with node_modules linked). Prints, for each build: a full run's --script
// (wall and CPU, with crun's in the same triples), `boxlab run`, `lesson 2 --dry-run` against
// `node -e 0`, and the programs a run's script execs (strace). Medians.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { argv } from 'zx';
import { crunYardstick, median, timed } from './bench-lib.mjs';

const [before, after] = argv._.map((d) => resolve(String(d)));
if (!before || !after) {
  console.error('usage: node scripts/bench-compare.mjs BEFORE_DIR AFTER_DIR [--pairs N]');
  process.exit(2);
}
const pairs = Number(argv.pairs ?? 30);
const builds = { before, after };
const ms = (x) => x.toFixed(1);

/** The programs a command execs (successful execve calls, strace -f), the first being strace's bash. */
function execs(command) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-strace-'));
  try {
    spawnSync('strace', ['-f', '-qq', '-o', join(dir, 'log'), '-e', 'trace=execve', '-e', 'status=successful', 'bash', '-c', `${command} >/dev/null 2>&1`]);
    const progs = readFileSync(join(dir, 'log'), 'utf8').split('\n').map((l) => /execve\("([^"]*)"/.exec(l)?.[1]).filter(Boolean).map((p) => p.split('/').pop());
    progs.shift();
    return `${progs.length}: ${progs.join(' ')}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each of `who` timed `n` times, interleaved, the order reversed every other round. */
function interleaved(n, who, command) {
  const rows = Object.fromEntries(who.map((w) => [w, []]));
  for (let k = 0; k < n; k++) for (const w of k % 2 ? who : [...who].reverse()) rows[w].push(timed(command(w)));
  return Object.fromEntries(who.map((w) => [w, { wall: median(rows[w].map((r) => r.wall)), cpu: median(rows[w].map((r) => r.cpu)) }]));
}

const rootfs = spawnSync('sh', ['-c', 'ls -d /var/cache/boxlab/rootfs/busybox-* | head -1'], { encoding: 'utf8' }).stdout.trim();
if (!rootfs || process.geteuid() !== 0) {
  console.error('bench-compare: needs root and the busybox rootfs (run a lesson or boxlab fetch --busybox first)');
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), 'bench-compare-'));
try {
  const flags = ['--memory', '64m', '--pids', '100', '--seccomp', 'unconfined'];
  const cli = (w) => join(builds[w], 'bin', 'boxlab.js');
  const script = (w) => join(tmp, `${w}.sh`);
  for (const w of ['before', 'after']) writeFileSync(script(w), spawnSync(process.execPath, [cli(w), 'run', '--script', ...flags, '--rootfs', rootfs, '--', '/bin/true'], { encoding: 'utf8' }).stdout);
  const bundle = join(tmp, 'bundle');
  spawnSync('sh', ['-c', `mkdir -p ${bundle} && cp -a ${rootfs} ${bundle}/rootfs`]);
  writeFileSync(join(bundle, 'config.json'), spawnSync(process.execPath, [cli('after'), 'spec', ...flags, '--', '/bin/true'], { encoding: 'utf8' }).stdout);
  const yard = crunYardstick(bundle, `boxlab-compare-${process.pid}`);
  if (yard.fails) {
    console.error(`bench-compare: crun cannot be the yardstick here (${yard.fails})`);
    process.exit(1);
  }
  console.log(`bench-compare — ${new Date().toISOString()} — before ${before}, after ${after}`);
  const s = interleaved(pairs, ['before', 'after', 'crun'], (w) => (w === 'crun' ? yard.command() : `bash ${script(w)}`));
  // crun's own figures: its wrapper on a hybrid host (bench-lib.mjs) taken off.
  s.crun = { wall: s.crun.wall - yard.wrapper.wall, cpu: s.crun.cpu - yard.wrapper.cpu };
  console.log(`run --script, /bin/true in a full box (${pairs} interleaved triples with crun): crun ${ms(s.crun.wall)} ms wall, ${ms(s.crun.cpu)} ms CPU${yard.hybrid ? ` (its wrapper on this hybrid host, ${ms(yard.wrapper.wall)} ms, taken off)` : ''}`);
  for (const w of ['before', 'after']) console.log(`  ${w.padEnd(6)} ${ms(s[w].wall)} ms wall, ${ms(s[w].cpu)} ms CPU = ${(s[w].wall / s.crun.wall).toFixed(2)}x wall, ${(s[w].cpu / s.crun.cpu).toFixed(2)}x CPU crun`);
  const r = interleaved(15, ['before', 'after', 'node'], (w) => (w === 'node' ? `${process.execPath} -e 0` : `${process.execPath} ${cli(w)} run ${flags.join(' ')} --rootfs ${rootfs} -- /bin/true`));
  console.log(`boxlab run (15 interleaved): node -e 0 ${ms(r.node.wall)} ms; target node -e 0 + 2x crun = ${ms(r.node.wall + 2 * s.crun.wall)} ms`);
  for (const w of ['before', 'after']) console.log(`  ${w.padEnd(6)} ${ms(r[w].wall)} ms wall, ${ms(r[w].cpu)} ms CPU`);
  const d = interleaved(21, ['before', 'after', 'node'], (w) => (w === 'node' ? `${process.execPath} -e 0` : `${process.execPath} ${cli(w)} lesson 2 --dry-run`));
  console.log(`lesson 2 --dry-run (21 interleaved): node -e 0 ${ms(d.node.wall)} ms`);
  for (const w of ['before', 'after']) console.log(`  ${w.padEnd(6)} ${ms(d[w].wall)} ms = ${(d[w].wall / d.node.wall).toFixed(2)}x node -e 0`);
  for (const w of ['before', 'after']) console.log(`programs the --script execs, ${w}: ${execs(`bash ${script(w)}`)}`);
} finally {
  spawnSync('sh', ['-c', `for b in $(crun list -q 2>/dev/null | grep '^boxlab-compare-${process.pid}-'); do crun delete -f "$b"; done`]);
  rmSync(tmp, { recursive: true, force: true });
}
