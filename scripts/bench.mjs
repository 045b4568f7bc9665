#!/usr/bin/env node
// `npm run bench`: prints the figures the foundation issue sets targets for.
//  - CLI start-up against `node -e 0` (target: at most 2.5x);
//  - each lesson's wall time, the time spent inside spawned tools, and the orchestrator's own
//    overhead per step (total minus tools);
//  - the same lesson run as its --script by bash: the extra cost per step of running it from
//    Node instead of sh (target: at most 3 ms), and the whole curriculum with --yes (target: < 15 s);
//  - pull + unpack of an image from a loopback registry, against skopeo + umoci;
//  - a full container run (--script of boxlab run) against crun and runc (target: at most 2.0x
//    crun, wall and CPU), the programs it execs (counted by strace), and boxlab run itself
//    (target: node -e 0 + 2x crun) with its peak memory and Node's share of it.
//  - podman run --rm /bin/true with boxlab-runtime as its runtime, against runc and crun;
//  - boxlab build of a three-step Boxfile from a cached base, against buildah bud of it.
// Medians of several runs. Usage: node scripts/bench.mjs [--runs N] [--only lessons|images|run|podman|build]
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { $, argv } from 'zx';
import { crunYardstick, median, timed } from './bench-lib.mjs';

$.verbose = false;
const runs = Number(argv.runs ?? 7);
// Not import.meta.dirname: Debian 12's Node 18 lacks it.
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'bin', 'boxlab.js');
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
  const numbers = argv.only && argv.only !== 'lessons' ? [] : timeIt(process.execPath, [cli, 'lessons']).stdout.split('\n').map((l) => /^\s+(\d+)\s/.exec(l)?.[1]).filter(Boolean).map(Number);
  let curriculum = 0;
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
    curriculum += wall;
    console.log(`  lesson ${n}: ${steps} steps (with the replayed ones)`);
    console.log(`    boxlab lesson ${n} --yes --json, wall    ${fmt(wall)}`);
    console.log(`      start-up before the first step      ${fmt(wall - engine)}  = ${((wall - engine) / base).toFixed(2)}x node -e 0`);
    console.log(`      the steps (engine)                  ${fmt(engine)}, of which in spawned tools ${fmt(tools)}`);
    console.log(`      orchestrator's own time per step    ${fmt(overhead)}  (engine minus tools, / steps)`);
    console.log(`    the same steps and checks, bash --script  ${fmt(bash)}`);
    console.log(`    steps from Node vs sh, per step       ${perStep >= 0 ? '+' : ''}${fmt(perStep)}  ${perStep <= 3 ? 'ok (target <= 3 ms)' : 'OVER the 3 ms target'}`);
  }
  if (numbers.length) {
    console.log(`  the whole curriculum, ${numbers.length} lessons with --yes (sum of the medians)  ${(curriculum / 1000).toFixed(1)} s  ${curriculum < 15_000 ? 'ok (target < 15 s)' : 'OVER the 15 s target'}`);
  }
  if (!argv.only || argv.only === 'images') images(tmp);
  if (!argv.only || argv.only === 'run') runtimes(tmp);
  if (!argv.only || argv.only === 'podman') podman(tmp);
  if (!argv.only || argv.only === 'build') build(tmp);
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
  const registry = join(here, 'registry.sh');
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

/** Peak resident memory (KiB) of a command and the children it waited for: GNU time's %M. */
function peakKiB(command) {
  const r = spawnSync('bash', ['-c', `/usr/bin/time -f %M bash -c '${command.replace(/'/g, `'\\''`)}' 2>&1 >/dev/null | tail -1`], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

/**
 * A full run (namespaces, overlay root, pivot_root, caps, cgroup limits): boxlab's exported
 * --script against `crun run` and `runc run` of the equivalent bundle (from boxlab spec).
 * Pairs interleaved and in both orders (a box's teardown slows the next start); medians of
 * the pair ratios, CPU beside wall.
 */
function runtimes(tmp) {
  const have = (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
  const rootfs = spawnSync('sh', ['-c', 'ls -d /var/cache/boxlab/rootfs/busybox-* | head -1'], { encoding: 'utf8' }).stdout.trim();
  if (!rootfs) {
    console.log('\nrun: skipped, no busybox rootfs yet (run a lesson or boxlab fetch --busybox first)');
    return;
  }
  const pairs = Math.max(30, runs);
  const flags = ['--memory', '64m', '--pids', '100', '--seccomp', 'unconfined'];
  const script = join(tmp, 'run.sh');
  writeFileSync(script, timeIt(process.execPath, [cli, 'run', '--script', ...flags, '--rootfs', rootfs, '--', '/bin/true']).stdout);
  const bundle = join(tmp, 'bundle');
  spawnSync('sh', ['-c', `mkdir -p ${bundle} && cp -a ${rootfs} ${bundle}/rootfs`]);
  writeFileSync(join(bundle, 'config.json'), timeIt(process.execPath, [cli, 'spec', ...flags, '--', '/bin/true']).stdout);
  const yard = crunYardstick(bundle, `boxlab-bench-${process.pid}`);
  let n = 0;
  const runcCmd = () => `cd ${bundle} && runc run boxlab-bench-runc-${process.pid}-${n++}`;
  const ours = `bash ${script}`;
  const boxlabRun = `node ${cli} run ${flags.join(' ')} --rootfs ${rootfs} -- /bin/true`;
  // Each with what its own figures carry that is not its work (crun's wrapper on a hybrid host).
  const yardsticks = [...(yard.fails ? [] : [['crun', yard.command, yard.wrapper]]), ...(have('runc') ? [['runc', runcCmd, { wall: 0, cpu: 0 }]] : [])];
  console.log(`\nrun: /bin/true in a full box (namespaces, overlay root, pivot_root, caps, memory+pids limits), ${pairs} interleaved pairs, medians`);
  if (yard.fails) console.log(`  crun: not a yardstick here (${yard.fails})`);
  else if (yard.hybrid) console.log(`  (crun runs under unshare -m + a bind mount that hides cgroup2 here; that wrapper alone, ${fmt(yard.wrapper.wall)} wall and ${fmt(yard.wrapper.cpu)} CPU, is taken off crun's figures)`);
  const pairOf = (a, b, i) => (i % 2 ? [timed(a), timed(b)] : [timed(b), timed(a)].reverse());
  let crunScript;
  for (const [name, other, extra] of yardsticks) {
    const rows = Array.from({ length: pairs }, (_, i) => pairOf(ours, other(), i)).map(([a, b]) => [a, { wall: b.wall - extra.wall, cpu: b.cpu - extra.cpu }]);
    const wallRatio = median(rows.map(([a, b]) => a.wall / Math.max(b.wall, 0.5)));
    const cpuRatio = median(rows.map(([a, b]) => a.cpu / Math.max(b.cpu, 0.5)));
    const target = name === 'crun' ? (wallRatio <= 2 && cpuRatio <= 2 ? '  ok (target <= 2.0x crun, wall and CPU)' : '  OVER the 2.0x crun target (wall and CPU)') : '';
    console.log(`  boxlab --script ${fmt(median(rows.map(([a]) => a.wall)))} wall, ${fmt(median(rows.map(([a]) => a.cpu)))} CPU | ${name} ${fmt(median(rows.map(([, b]) => b.wall)))} wall, ${fmt(median(rows.map(([, b]) => b.cpu)))} CPU | ratio ${wallRatio.toFixed(2)}x wall, ${cpuRatio.toFixed(2)}x CPU${target}`);
    if (name === 'crun') crunScript = { wallRatio, cpuRatio };
  }
  const nodeFloor = median(Array.from({ length: 15 }, () => timed(`${process.execPath} -e 0`).wall));
  const full = Array.from({ length: Math.min(pairs, 15) }, () => timed(boxlabRun));
  const crunWall = yard.fails ? NaN : median(Array.from({ length: 15 }, () => timed(yard.command()).wall)) - yard.wrapper.wall;
  const target = nodeFloor + 2 * crunWall;
  const runWall = median(full.map((r) => r.wall));
  console.log(`  boxlab run --rootfs R /bin/true: ${fmt(runWall)} wall, ${fmt(median(full.map((r) => r.cpu)))} CPU; node -e 0 ${fmt(nodeFloor)}, crun ${fmt(crunWall)}; target node -e 0 + 2x crun = ${fmt(target)}  ${runWall <= target ? 'ok' : 'OVER'}`);
  // Programs exec'd, counted by the kernel's execve calls that succeeded (strace -f), not estimated.
  const ex = execs(ours);
  console.log(`  programs a run execs (strace -f -e trace=execve, successful calls): --script ${ex.count} (target <= 12: ${ex.count <= 12 ? 'ok' : 'OVER'}), boxlab run ${execs(boxlabRun).count}${yard.fails ? '' : `, crun ${execs(yard.command()).count}${yard.hybrid ? ' (3 of them the wrapper)' : ''}`}`);
  console.log(`    the --script's: ${ex.names}`);
  if (!yard.fails) console.log(`    crun's${yard.hybrid ? ', with the wrapper above' : ''}: ${execs(yard.command()).names}`);
  // GNU time's %M is the largest resident set of any one process waited for: Node's, here.
  const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
  const run = peakKiB(boxlabRun);
  const floor = peakKiB(`${process.execPath} -e 0`);
  console.log(`  peak memory (max RSS of one process, GNU time %M): boxlab run ${mib(run)}, of which Node's own (node -e 0) ${mib(floor)}; boxlab --script ${mib(peakKiB(ours))}${yard.fails ? '' : `, crun ${mib(peakKiB(yard.command()))}`}${have('runc') ? `, runc ${mib(peakKiB(runcCmd()))}` : ''}`);
  return crunScript;
}

/** The programs a command execs, from strace: how many, and how many of each. */
function execs(command) {
  const log = join(mkdtempSync(join(tmpdir(), 'bench-strace-')), 'execve');
  try {
    spawnSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=execve', '-e', 'status=successful', 'bash', '-c', `${command} >/dev/null 2>&1`]);
    const progs = readFileSync(log, 'utf8').split('\n').map((l) => /execve\("([^"]*)"/.exec(l)?.[1]).filter(Boolean).map((p) => p.split('/').pop());
    // The first is strace's own `bash -c`, not the run's.
    progs.shift();
    const byName = new Map();
    for (const p of progs) byName.set(p, (byName.get(p) ?? 0) + 1);
    return { count: progs.length, names: [...byName].map(([n, k]) => (k > 1 ? `${n} x${k}` : n)).join(', ') };
  } finally {
    rmSync(dirname(log), { recursive: true, force: true });
  }
}

/**
 * A real engine on top: `podman run --rm /bin/true` with boxlab-runtime, runc and crun as its
 * runtime, interleaved, everything podman keeps in a temporary root. The ratios are boxlab's
 * over each other runtime's, from one run.
 */
function podman(tmp) {
  const have = (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
  const rootfs = spawnSync('sh', ['-c', 'ls -d /var/cache/boxlab/rootfs/busybox-* | head -1'], { encoding: 'utf8' }).stdout.trim();
  if (!have('podman') || !have('conmon') || !rootfs) {
    console.log('\npodman: skipped (needs podman, conmon and the busybox rootfs: bash scripts/provision.sh, a lesson)');
    return;
  }
  const root = join(tmp, 'podman');
  const pm = `podman --root ${root}/storage --runroot ${root}/run --tmpdir ${root}/tmp --cgroup-manager cgroupfs --events-backend file`;
  // This host's setpriv may not apply a filter (boxlab-runtime then refuses one); runc's
  // rlimits must stay within this machine's hard limits. The same flags for all three.
  const filter = spawnSync('sh', ['-c', 'setpriv --help | grep -q -- --seccomp-filter']).status === 0 ? '' : '--security-opt seccomp=unconfined';
  const limits = "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024";
  const runtimes = [['boxlab-runtime', join(here, '..', 'bin', 'boxlab-runtime')], ['runc', 'runc'], ['crun', 'crun']].filter(([n]) => n === 'boxlab-runtime' || have(n));
  const cmdFor = (rt) => `${pm} --runtime ${rt} run --rm --network none ${filter} ${limits} --rootfs ${rootfs} /bin/true`;
  const works = (rt) => spawnSync('bash', ['-c', cmdFor(rt)], { encoding: 'utf8' });
  const n = Math.max(10, runs);
  console.log(`\npodman run --rm --rootfs R /bin/true, by runtime, ${n} runs each, interleaved, medians`);
  const usable = runtimes.filter(([name, rt]) => {
    const r = works(rt);
    if (r.status !== 0) console.log(`  ${name}: fails here (${(r.stderr || r.stdout).trim().split('\n').pop().slice(0, 160)})`);
    return r.status === 0;
  });
  const walls = Object.fromEntries(usable.map(([name]) => [name, []]));
  for (let i = 0; i < n; i++) for (const [name, rt] of i % 2 ? [...usable].reverse() : usable) walls[name].push(timed(cmdFor(rt)).wall);
  const ours = walls['boxlab-runtime'] ? median(walls['boxlab-runtime']) : NaN;
  for (const [name] of usable) {
    const m = median(walls[name]);
    console.log(`  ${name.padEnd(15)} ${fmt(m)}${name === 'boxlab-runtime' ? '' : `   boxlab-runtime / ${name} = ${(ours / m).toFixed(2)}x`}`);
  }
  spawnSync('bash', ['-c', `${pm} rm --all --force >/dev/null 2>&1; umount ${root}/storage/overlay 2>/dev/null; for d in /sys/fs/cgroup/*/libpod_parent; do rmdir "$d/conmon" "$d" 2>/dev/null; done; true`]);
}

/**
 * boxlab build against buildah bud: the same three-step Boxfile (COPY, a RUN that adds a file,
 * a RUN that deletes one of the base), from the same cached base, no build cache, no network,
 * each in a store of its own. Interleaved; the ratio is boxlab's median over buildah's.
 */
function build(tmp) {
  const have = (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
  if (!have('buildah') || !have('skopeo')) {
    console.log('\nbuild: skipped (needs buildah and skopeo: apt-get install buildah skopeo)');
    return;
  }
  const cache = join(tmp, 'build-cache');
  const ctx = join(tmp, 'build-ctx');
  const store = join(tmp, 'buildah');
  const base = 'boxlab.local/busybox:layers';
  spawnSync('sh', ['-c', `mkdir -p ${ctx} && echo 'from the context' > ${ctx}/hello.txt`]);
  writeFileSync(join(ctx, 'Boxfile'), [`FROM ${base}`, 'COPY hello.txt /app/', 'RUN echo added by RUN > /app/added.txt', 'RUN rm /etc/motd', ''].join('\n'));
  const env = { ...process.env, BOXLAB_CACHE_DIR: cache };
  timeIt(process.execPath, [cli, 'fetch', '--busybox', '--quiet'], { env });
  // buildah's store gets the same base, copied by skopeo from boxlab's OCI layout.
  const bh = `buildah --root ${store}/root --runroot ${store}/run --storage-driver vfs`;
  const copy = spawnSync('sh', ['-c', `skopeo copy --quiet oci:${cache}/images:${base} "containers-storage:[vfs@${store}/root+${store}/run]${base}"`], { encoding: 'utf8' });
  if (copy.status !== 0) {
    console.log(`\nbuild: skipped (skopeo could not copy the base into buildah's store: ${copy.stderr.trim().split('\n').pop()})`);
    return;
  }
  const filter = spawnSync('sh', ['-c', 'setpriv --help | grep -q -- --seccomp-filter']).status === 0 ? '' : '--seccomp unconfined';
  const ours = `BOXLAB_CACHE_DIR=${cache} node ${cli} build ${filter} --no-cache -t boxlab.local/bench:1 ${ctx}`;
  // runc, not crun (which refuses a hybrid cgroup layout); rlimits this host allows (as podman).
  const theirs = `${bh} bud --quiet --runtime runc --pull=never --no-cache --network none --layers=false --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -t localhost/bench:1 -f ${ctx}/Boxfile ${ctx}`;
  for (const [name, c] of [['boxlab build', ours], ['buildah bud', theirs]]) {
    const r = spawnSync('bash', ['-c', c], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.log(`\nbuild: ${name} fails here: ${(r.stderr || r.stdout).trim().split('\n').pop().slice(0, 200)}`);
      return;
    }
  }
  const n = Math.max(5, Math.min(runs, 10));
  const rows = Array.from({ length: n }, (_, i) => (i % 2 ? [timed(ours), timed(theirs)] : [timed(theirs), timed(ours)].reverse()));
  const a = median(rows.map(([x]) => x.wall));
  const b = median(rows.map(([, y]) => y.wall));
  console.log(`\nbuild: a three-step Boxfile from a cached base, no build cache, ${n} interleaved pairs, medians`);
  console.log(`  boxlab build ${fmt(a)} | buildah bud (vfs, runc) ${fmt(b)} | ratio ${(a / b).toFixed(2)}x  ${a / b <= 1 ? 'ok (target <= 1.0x buildah)' : 'OVER the 1.0x buildah target'}`);
  spawnSync('sh', ['-c', `${bh} rmi --all --force >/dev/null 2>&1; true`]);
}
