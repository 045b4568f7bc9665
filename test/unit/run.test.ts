// boxlab run's pieces without root: flags, the spec from flags, config.json both ways, the
// plan's shape and its bash script (checked with bash -n).
import { cmd, render, type Cmd } from '../../src/shell/cmd.js';
import { fileURLToPath } from 'node:url';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRunFlags, parseExecArgs, bytes } from '../../src/container/flags.js';
import { busyboxStandIn } from '../../src/container/images.js';
import { EnvError } from '../../src/errors.js';
import { capabilities, specFromFlags } from '../../src/container/from-flags.js';
import { configFor, specFromBundle } from '../../src/container/oci.js';
import { planRun, type PlanHost } from '../../src/container/plan.js';
import { runScript } from '../../src/container/script.js';
import { DEFAULT_CAPS } from '../../src/container/spec.js';
import { fstab } from '../../src/shell/mount.js';
import { capMask } from '../../src/kernel/capabilities.js';
import { checkCwd, checkEnv } from '../../src/container/validate.js';
import { UsageError } from '../../src/errors.js';
import { fakePlanHost, tempDir } from './helpers.js';

const profile = () => ({ profile: { defaultAction: 'SCMP_ACT_ALLOW' }, from: 'test' });
const host = (o: Partial<PlanHost> = {}): PlanHost =>
  fakePlanHost({ setprivSeccomp: false, seccompBpf: undefined, isDir: (p) => !p.includes('kcore') && !p.includes('keys') && !p.endsWith('.sh'), ...o });

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe('run flags', () => {
  it('reads Docker-style flags, then IMAGE, then the command', () => {
    const f = parseRunFlags(['-it', '--name', 'web', '-e', 'A=1', '--memory=64m', '-v', '/a:/b:ro', 'alpine:3.20', 'sh', '-c', 'echo -e']);
    expect([f.interactive, f.tty, f.name, f.env, f.memoryBytes, f.volumes, f.image, f.command]).toEqual([
      true, true, 'web', ['A=1'], 64 * 1024 * 1024, [{ host: '/a', box: '/b', readOnly: true }], 'alpine:3.20', ['sh', '-c', 'echo -e'],
    ]);
  });

  it('with --rootfs, everything after the flags (or --) is the command', () => {
    expect(parseRunFlags(['--rootfs', '/r', '--', '/bin/ls', '-l']).command).toEqual(['/bin/ls', '-l']);
    expect(parseRunFlags(['alpine', '--', 'ls', '--', 'x']).command).toEqual(['ls', '--', 'x']);
    expect(parseRunFlags(['--rootfs', '/r', '/bin/ls', '-l']).command).toEqual(['/bin/ls', '-l']);
  });

  it.each([
    [['--memory', 'lots', 'x'], /--memory lots: e.g. 64m/],
    [['--memory', '1k', 'x'], /at least 6m/],
    [['--cap-add', 'FLY', 'x'], /no such capability/],
    [['-v', 'relative:/b', 'x'], /give \/HOST\/PATH:\/BOX\/PATH/],
    [['-v', '/a:/', 'x'], /below \//],
    [['--user', 'bob', 'x'], /UID or UID:GID/],
    [['--frobnicate', 'x'], /unknown flag --frobnicate/],
    [['--rootfs', '/r'], /needs a command/],
    [[], /what to run\?/],
    [['-d', '-t', 'x'], /does not combine/],
  ])('%j is refused: %s', (argv, msg) => expect(() => parseRunFlags(argv)).toThrow(msg));

  it('sizes', () => expect([bytes('64m'), bytes('1g'), bytes('7340032')]).toEqual([64 << 20, 1 << 30, 7340032]));

  it("capabilities: Docker's defaults without MKNOD, then --cap-add, then --cap-drop", () => {
    expect(capabilities([], [])).toEqual(DEFAULT_CAPS);
    expect(capabilities([], []).includes('cap_mknod')).toBe(false);
    expect(capabilities(['cap_net_admin'], ['cap_chown'])).toContain('cap_net_admin');
    expect(capabilities(['cap_net_admin'], ['cap_chown'])).not.toContain('cap_chown');
    expect(capabilities([], ['ALL'])).toEqual([]);
  });
});

describe('specs and config.json', () => {
  it('an image config gives the command, Env and WorkingDir; a given command replaces Cmd only', () => {
    const img = { name: 'docker.io/library/x:1', layers: [{ dir: '/l1' }, { dir: '/l2' }], config: { config: { Entrypoint: ['/ep'], Cmd: ['default'] } } };
    const image = { img: img as never, process: { args: ['/ep', 'default'], env: ['PATH=/bin', 'A=1'], cwd: '/srv', user: '' } };
    const spec = specFromFlags(parseRunFlags(['-e', 'A=2', 'x', 'mine']), image, profile);
    expect([spec.args, spec.env, spec.cwd, spec.lowerdirs]).toEqual([['/ep', 'mine'], ['PATH=/bin', 'A=2'], '/srv', ['/l2', '/l1']]);
  });

  it('config.json from a spec names the limits, namespaces, masks and capabilities; read back, it is the same run', () => {
    const d = tempDir();
    dirs.push(d);
    mkdirSync(join(d, 'rootfs'));
    const spec = specFromFlags(parseRunFlags(['--hostname', 'h', '--memory', '64m', '--pids', '9', '--cpus', '0.5', '--rootfs', d, '--', '/probe']), undefined, profile);
    const config = configFor(spec) as { linux: { resources: unknown; namespaces: { type: string }[] }; process: { capabilities: { bounding: string[] } } };
    expect(config.linux.resources).toEqual({ memory: { limit: 64 << 20, swap: 64 << 20 }, pids: { limit: 9 }, cpu: { quota: 50000, period: 100000 } });
    expect(config.linux.namespaces.map((n) => n.type).sort()).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
    expect(config.process.capabilities.bounding).toContain('CAP_SYS_CHROOT');
    writeFileSync(join(d, 'config.json'), JSON.stringify(config));
    const back = specFromBundle(d, parseRunFlags(['--bundle', d]));
    expect(back.notes).toEqual([]);
    expect([back.spec.args, back.spec.hostname, back.spec.limits, back.spec.caps, back.spec.noNewPrivs]).toEqual([['/probe'], 'h', spec.limits, spec.caps, true]);
  });

  it('a field boxlab does not apply is named, never dropped silently', () => {
    const d = tempDir();
    dirs.push(d);
    mkdirSync(join(d, 'rootfs'));
    writeFileSync(join(d, 'config.json'), JSON.stringify({ process: { args: ['/x'], selinuxLabel: 'system_u:system_r:container_t:s0' }, domainname: 'd', linux: { intelRdt: {}, uidMappings: [] }, mounts: [{ destination: '/data', type: 'nfs' }] }));
    const { notes } = specFromBundle(d, parseRunFlags(['--bundle', d]));
    expect(notes.join('\n')).toMatch(/domainname is not supported/);
    expect(notes.join('\n')).toMatch(/process\.selinuxLabel is not supported/);
    expect(notes.join('\n')).toMatch(/linux\.intelRdt is not supported/);
    expect(notes.join('\n')).toMatch(/uidMappings/);
    expect(notes.join('\n')).toMatch(/mount \/data \(nfs\) is not supported/);
  });
});

describe("what an engine's config.json asks for", () => {
  const bundle = (config: Record<string, unknown>) => {
    const d = tempDir();
    dirs.push(d);
    mkdirSync(join(d, 'rootfs'));
    writeFileSync(join(d, 'config.json'), JSON.stringify(config));
    return specFromBundle(d, parseRunFlags(['--bundle', d]));
  };
  // RLIM_INFINITY (2^64-1), as a JSON number carries it.
  const infinity = 2 ** 64 - 1;

  it('rlimits, oomScoreAdj, root.readonly and /dev/mqueue are applied, not noted', () => {
    const { spec, notes } = bundle({
      process: { args: ['/x'], oomScoreAdj: 500, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }, { type: 'RLIMIT_CORE', soft: infinity, hard: infinity }] },
      root: { path: 'rootfs', readonly: true },
      mounts: [{ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' }],
    });
    expect(notes.filter((n) => /rlimits|oomScoreAdj|readonly|mqueue/.test(n))).toEqual([]);
    expect(spec.rlimits).toEqual([{ name: 'nofile', soft: '1024', hard: '4096' }, { name: 'core', soft: 'unlimited', hard: 'unlimited' }]);
    expect([spec.oomScoreAdj, spec.readonlyRoot, spec.mqueue]).toEqual([500, true, true]);
    const script = runScript(planRun(spec, host(), { fdsClosed: true }), { invocation: 'x', commented: false });
    // The limits as the first hops, on the host (choom in the box would set another PID's).
    expect(script).toMatch(/prlimit --nofile=1024:4096 --core=unlimited:unlimited -- choom -n 500 -- nsenter --target/);
    expect(script).toMatch(/mount --no-canonicalize -o remount,bind,ro "\/proc\/\$\{BOX\}\/root"/);
    expect(script).toMatch(/mqueue .*\/dev\/mqueue mqueue nosuid,nodev,noexec/);
    execFileSync('bash', ['-n'], { input: script });
  });

  it("sysctls of the box's own namespaces are set from inside them, as data; rootfsPropagation after pivot_root", () => {
    const { spec } = bundle({ process: { args: ['/x'] }, linux: { sysctl: { 'net.ipv4.ping_group_range': '0 0', 'kernel.shmmni': '$(id)' }, rootfsPropagation: 'rslave' } });
    expect(spec.sysctl).toEqual([['net.ipv4.ping_group_range', '0 0'], ['kernel.shmmni', '$(id)']]);
    const plan = planRun(spec, host(), { fdsClosed: true });
    const identity = plan.steps.find((st) => st.id === 'identity')!.actions[0] as { run: { batch: Cmd[] } };
    // Each value a data word of its sysctl -w, never expanded.
    expect(identity.run.batch.map((c) => render(c)).filter((l) => l.startsWith('sysctl'))).toEqual(["sysctl -q -w 'net.ipv4.ping_group_range=0 0'", "sysctl -q -w 'kernel.shmmni=$(id)'"]);
    const script = runScript(plan, { invocation: 'x', commented: false });
    expect((identity.run as { namespaces?: readonly string[] }).namespaces).toEqual(['uts', 'net', 'ipc']);
    expect(script).toMatch(/mount --no-canonicalize --make-rslave "\/proc\/\$\{BOX\}\/root"/);
    execFileSync('bash', ['-n'], { input: script });
  });

  it('refuses a sysctl of the host (not of a namespace the box has), a bad value, a bad propagation', () => {
    for (const sysctl of [{ 'kernel.core_pattern': 'x' }, { 'vm.swappiness': '1' }, { 'net.ipv4/../x': '1' }, { 'net.ipv4.ip_forward': '1\n' }, { 'net.ipv4.ip_forward': 1 }, ['x']]) {
      expect(() => bundle({ process: { args: ['/x'] }, linux: { sysctl } })).toThrow(UsageError);
    }
    expect(() => bundle({ process: { args: ['/x'] }, linux: { rootfsPropagation: 'bogus' } })).toThrow(UsageError);
  });

  it('refuses a limit that is not one, a soft above its hard, an oomScoreAdj out of range', () => {
    for (const rlimits of [[{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }], [{ type: 'RLIMIT_NOFILE', soft: 9, hard: 8 }], [{ type: 'RLIMIT_NOFILE', soft: -1, hard: 8 }], [{ type: 'RLIMIT_NOFILE', soft: infinity, hard: 8 }], 'x']) {
      expect(() => bundle({ process: { args: ['/x'], rlimits } })).toThrow(UsageError);
    }
    for (const oomScoreAdj of [1001, -1001, 1.5, '0']) expect(() => bundle({ process: { args: ['/x'], oomScoreAdj } })).toThrow(UsageError);
  });
});

describe('the plan and its script', () => {
  // A volume's source must exist: lesson 12's probe is a file every checkout has.
  const probe = fileURLToPath(new URL('../../lessons/12-container/probe.sh', import.meta.url));
  const spec = () => specFromFlags(parseRunFlags(['--memory', '32m', '--rootfs', '/', '-v', `${probe}:/probe:ro`, '--', '/bin/true']), undefined, profile);

  it('steps in order, each with its lesson and config.json field', () => {
    const plan = planRun(spec(), host());
    expect(plan.steps.map((s) => s.id)).toEqual(['workdir', 'work', 'cgroup', 'namespaces', 'rootfs', 'mounts', 'masked', 'identity', 'pivot']);
    expect(plan.steps.every((s) => s.lessons.length > 0 && s.oci.length > 0)).toBe(true);
  });

  it('seccomp: with setpriv 2.41 a step writes the program and the payload applies it; without, one warning and no claim', () => {
    const withIt = planRun(spec(), host({ setprivSeccomp: true, seccompBpf: 'AAAA' }));
    expect(withIt.steps.map((s) => s.id)).toContain('seccomp');
    expect(withIt.payload.args.join(' ')).toContain('--seccomp-filter=${WORK}/seccomp.bpf');
    const without = planRun(spec(), host());
    expect(without.payload.args.join(' ')).not.toContain('seccomp');
    expect(without.warnings).toEqual([expect.stringMatching(/^seccomp: this host's setpriv .* cannot apply a filter/)]);
  });

  it("the payload: host hops with no environment, its own session, a real gid not root's until chroot, numeric ids, the box's env set in the box", () => {
    const p = planRun(spec(), host()).payload;
    const args = p.args.join(' ');
    // A real gid not root's until chroot: the kernel marks chroot non-dumpable.
    expect(args).toMatch(/ env -i --default-signal=INT,QUIT --chdir=\/proc\/\$\{BOX\}\/root setsid --wait setpriv --rgid=65534 --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all,\+chown/);
    expect(args).toMatch(/ \/usr\/sbin\/chroot --userspec=\+0:\+0 --groups=\+0 \. \/\.boxlab\/busybox env -i -- PATH=\S+ \/bin\/true$/);
    // The same with a seccomp filter (under its no_new_privs the gid is reset at exec, not root's uid).
    const filtered = planRun(spec(), host({ setprivSeccomp: true, seccompBpf: 'AAAA' })).payload.args.join(' ');
    expect(filtered).toMatch(/ setsid --wait setpriv --rgid=65534 --clear-groups --no-new-privs --inh-caps=-all --bounding-set=\S+ --seccomp-filter=\S+ \/usr\/sbin\/chroot .* \/\.boxlab\/busybox env -i -- /);
    expect(args).not.toContain('+mknod');
    // Nothing from outside before the chroot: the image's env and command are data after it.
    expect(p.args.indexOf('/usr/sbin/chroot') + 3).toBeLessThan(p.dataFrom!);
  });

  it('a value from outside is data in the script: no placeholder, no expansion, whatever it holds', () => {
    const s = spec();
    s.env = ['X=${WORK}', "Y=$(id)'\"`\n"];
    s.args = ['/bin/echo', '${PATH}', '$HOME'];
    const script = runScript(planRun(s, host()), { invocation: 'boxlab run', commented: false });
    expect(script).toContain(`'X=\${WORK}' 'Y=$(id)'\\''"\`\n' /bin/echo '\${PATH}' '$HOME'`);
    execFileSync('bash', ['-n'], { input: script });
  });

  it('the script is valid bash and runs the in-box steps as one nsenter', () => {
    const script = runScript(planRun(spec(), host()), { invocation: 'boxlab run ...', commented: true });
    execFileSync('bash', ['-n'], { input: script });
    expect(script.match(/^nsenter --target "\$\{BOX\}"/gm)).toHaveLength(1);
    expect(script).toMatch(/mount --all --fstab .*fstab\.mounts/);
    expect(script).toMatch(/exit "\$status"\n$/);
    expect(capMask(DEFAULT_CAPS)).toBe('00000000a00425fb');
  });

  it("the in-box batch forks no subshell of its own, and the cgroups (one per v1 controller) go in one undo", () => {
    const s = spec();
    s.limits.pids = 50;
    const script = runScript(planRun(s, host()), { invocation: 'boxlab run ...', commented: false });
    const from = script.indexOf('\nnsenter --target "${BOX}"');
    const batch = script.slice(from, script.indexOf('" >/dev/null\n', from));
    // Each ( ) is a fork, about 3 ms here: the symlink check, cp of /dev and pivot_root run in the batch's shell.
    expect(batch).not.toContain('(set --');
    expect(batch).toContain('set -- \\"${ROOTFS}\\"; cd \\"\\$1\\"; pivot_root . .');
    const undo = script.split('\n').filter((l) => l.startsWith('boxlab_on_exit') && l.includes('cgroup'));
    expect(undo).toHaveLength(1);
    expect(undo[0]).toContain('"/sys/fs/cgroup/memory/boxlab-${RUN_ID}" "/sys/fs/cgroup/pids/boxlab-${RUN_ID}"; rmdir "$@" 2>/dev/null && exit 0;');
  });

  it('fstab escapes spaces in paths', () => {
    expect(fstab([{ source: '/a b', target: '/c', type: 'none', options: 'bind' }])).toBe('/a\\040b /c none bind 0 0');
  });
});

describe('the box guard', () => {
  it('refuses a PID in our own mount namespace (a host process taken for the box would be pivoted)', async () => {
    const { notInOurMountNamespace } = await import('../../src/box/box.js');
    const guard = notInOurMountNamespace(String(process.pid));
    expect(() => execFileSync(guard.file, guard.args, { stdio: 'pipe' })).toThrow(/not a box/);
  });
});

describe('--userns', () => {
  const cached = '/var/cache/boxlab/layers/abc';
  const spec = (...flags: string[]) => specFromFlags(parseRunFlags(['--userns', ...flags, '--rootfs', '/', '--', '/bin/true']), undefined, profile);

  it('maps the range first, chowns a copy of the root, then makes the namespaces inside the user namespace', () => {
    const s = { ...spec(), lowerdirs: [cached, '/srv/rootfs'] };
    const plan = planRun(s, host());
    expect(plan.steps.map((x) => x.id)).toEqual(['workdir', 'work', 'userns', 'userns-layers', 'namespaces', 'rootfs', 'mounts', 'masked', 'identity', 'pivot']);
    const run = (id: string) => plan.steps.find((x) => x.id === id)!.actions.map((a) => ('run' in a ? a.run : 'start' in a ? a.start : undefined)).filter(Boolean);
    expect(run('userns').map((c) => [c!.args[0], c!.stdin])).toEqual([['--pdeathsig', undefined], ['/proc/${USERNS_HOLDER}/uid_map', '0 100000 65536'], ['/proc/${USERNS_HOLDER}/gid_map', '0 100000 65536']]);
    // Layers in the cache get a kept copy beside them; any other root a copy for this run.
    expect(run('userns-layers').map((c) => c!.args.slice(-4, -2))).toEqual([[cached, '/var/cache/boxlab/userns-100000-65536/layers/abc'], ['/srv/rootfs', '${WORK}/lower-1']]);
    expect([run('namespaces')[0]!.file, ...run('namespaces')[0]!.args].join(' ')).toMatch(/^env -i nsenter --target \$\{USERNS_HOLDER\} --user setpriv --pdeathsig KILL unshare --mount .* --bounding-set=\S+ sh -c .* init \$\{HOST_PID\} sleep infinity$/);
    // The user namespace last, by a second nsenter, once the payload file is read as host root.
    expect(plan.payload.args.join(' ')).toMatch(/^--target \$\{BOX\} --mount .* env -i --default-signal=INT,QUIT --chdir=\S+ nsenter --user=\/proc\/\$\{BOX\}\/ns\/user setsid --wait setpriv/);
    expect(run('work').find((c) => c!.stdin?.includes('boxlab-dev'))!.stdin).toMatch(/tmpfs nosuid,mode=755,size=64k,uid=100000,gid=100000/);
    execFileSync('bash', ['-n'], { input: runScript(plan, { invocation: 'boxlab run --userns', commented: true }) });
  });

  it('a uid outside the range is refused', () => {
    expect(() => planRun(spec('--user', '65536'), host())).toThrow(/must be below 65536/);
  });

  it('config.json: a user namespace with its mappings, read back as the same range; other mappings refused', () => {
    const d = tempDir();
    dirs.push(d);
    mkdirSync(join(d, 'rootfs'));
    const config = configFor({ ...spec(), lowerdirs: [d] }) as { linux: Record<string, unknown> };
    expect(config.linux.uidMappings).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }]);
    writeFileSync(join(d, 'config.json'), JSON.stringify(config));
    expect(specFromBundle(d, parseRunFlags(['--bundle', d])).spec.userns).toEqual({ hostId: 100000, size: 65536 });
    config.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    writeFileSync(join(d, 'config.json'), JSON.stringify(config));
    expect(() => specFromBundle(d, parseRunFlags(['--bundle', d]))).toThrow(/same H and N/);
  });

  it.skipIf(process.getuid?.() !== 0)('the copy: owners moved up, set-user-ID bits, whiteouts and xattrs kept, ids past the range left alone', async () => {
    const { shiftOwners } = await import('../../src/container/userns.js');
    const d = tempDir();
    dirs.push(d);
    const src = join(d, 'src');
    const sh = (s: string) => execFileSync('bash', ['-euc', s], { encoding: 'utf8' });
    sh(`mkdir -p ${src}/etc; echo x > ${src}/etc/f; chown 5:7 ${src}/etc/f; install -m 4755 /dev/null ${src}/su; ln -s /etc/f ${src}/link; mknod ${src}/.wh.gone c 0 0; setfattr -n trusted.overlay.opaque -v y ${src}/etc; touch ${src}/far; chown 70000:70000 ${src}/far`);
    const c = shiftOwners({ hostId: 100000, size: 65536 }, src, join(d, 'dst'));
    execFileSync(c.file, c.args);
    expect(sh(`cd ${d}/dst && stat -c '%n %u:%g %A' etc etc/f su link .wh.gone far`).trim().split('\n')).toEqual([
      'etc 100000:100000 drwxr-xr-x',
      'etc/f 100005:100007 -rw-r--r--',
      'su 100000:100000 -rwsr-xr-x',
      'link 100000:100000 lrwxrwxrwx',
      '.wh.gone 100000:100000 crw-r--r--',
      'far 70000:70000 -rw-r--r--',
    ]);
    expect(sh(`getfattr --only-values -n trusted.overlay.opaque ${d}/dst/etc`)).toBe('y');
  });
});

describe('--network bridge', () => {
  it('a veth to the shared bridge, an address leased, eth0 and the default route set in the box', () => {
    const plan = planRun(specFromFlags(parseRunFlags(['--network', 'bridge', '--rootfs', '/', '--', '/bin/true']), undefined, profile), host());
    expect(plan.steps.map((s) => s.id)).toEqual(['workdir', 'work', 'namespaces', 'network', 'rootfs', 'mounts', 'masked', 'identity', 'pivot']);
    expect(plan.steps.find((s) => s.id === 'network')!.creates).toEqual([{ dir: '/run/boxlab/leases/${BOX_IP}.lease' }, { link: 'boxlab0', ifUnused: true }, { link: 'boxlab${RUN_ID}' }]);
    const script = runScript(plan, { invocation: 'boxlab run --network bridge', commented: false });
    execFileSync('bash', ['-n'], { input: script });
    expect(script).toMatch(/^BOX_IP=\$\(sh -euc /m);
    expect(script).toContain('ip link add "boxlab${RUN_ID}" type veth peer name eth0 netns "${BOX}"');
    expect(script).toContain('ip route add default via 198.18.0.1');
    // The shared bridge goes only with its last port.
    expect(script).toMatch(/^boxlab_on_exit 'sh -c .*brif.*ip link del.* boxlab0'$/m);
  });
});

describe('-t', () => {
  it("script(1) runs in a mount namespace with the box's devpts, made before pivot_root", () => {
    const plan = planRun(specFromFlags(parseRunFlags(['-t', '--rootfs', '/', '--', '/bin/sh']), undefined, profile), host());
    const ids = plan.steps.map((s) => s.id);
    expect(ids.indexOf('console')).toBe(ids.indexOf('pivot') - 1);
    const script = runScript(plan, { invocation: 'boxlab run -t', commented: false, tty: true });
    execFileSync('bash', ['-n'], { input: script });
    expect(script).toMatch(/mount --bind "\$1\/dev\/pts" \/dev\/pts; mount --bind "\$1\/dev\/pts\/ptmx" \/dev\/ptmx; exec sleep infinity/);
    expect(script).toMatch(/^export BOX; SHELL=\/bin\/sh nsenter "--mount=\/proc\/\$\{CONSOLE_NS\}\/ns\/mnt" script -qefc '/m);
  });
});

describe('the launcher', () => {
  it('stops, after its parent-death signal is set, when its parent is already gone (the window between fork and prctl)', async () => {
    const { withParentDeathSignalChecked } = await import('../../src/shell/setpriv.js');
    const ok = withParentDeathSignalChecked('KILL', String(process.pid), cmd('echo', 'started'));
    expect(execFileSync(ok.file, ok.args, { encoding: 'utf8' })).toBe('started\n');
    // A parent PID that is not ours: what sh sees when the orchestrator died before the prctl.
    const orphan = withParentDeathSignalChecked('KILL', '1', cmd('echo', 'started'));
    expect(() => execFileSync(orphan.file, orphan.args, { stdio: 'pipe' })).toThrow(/the run that started this is gone/);
  });

  it("the box's init stops, its parent-death signals set, unless its parent's parent is still the run (either parent may have died before its prctl)", async () => {
    const { INIT_GUARD } = await import('../../src/box/box.js');
    // node -> sh (as unshare: it forks, and stays) -> sh INIT_GUARD (as the init) -> the command.
    const chain = (run: string, ...command: string[]) => spawnSync('sh', ['-c', 'sh -c "$0" init "$@"; exit $?', INIT_GUARD, run, ...command], { encoding: 'utf8', cwd: '/tmp', env: {} });
    // It says its own PID, then the command runs in /, with an empty environment (sh's own
    // PWD unset), its stdout on /dev/null.
    const ok = chain(String(process.pid), 'sh', '-c', 'echo "pid=$$"; echo "pid=$$ cwd=$(readlink /proc/$$/cwd) env=$(tr "\\0" " " < /proc/$$/environ)" >&2');
    const pid = /^(\d+)\n$/.exec(ok.stdout)?.[1];
    expect(pid).toBeDefined();
    expect(ok.stderr).toBe(`pid=${pid} cwd=/ env=\n`);
    expect(ok.status).toBe(0);
    const orphan = chain('1', 'echo', 'started');
    expect([orphan.status, orphan.stdout]).toEqual([1, '']);
    expect(orphan.stderr).toMatch(/the run that started this is gone/);
    // One generation off (the guard's own parent given as the run) is refused too.
    expect(() => execFileSync('sh', ['-c', 'sh -c "$0" init "$$" echo started; exit $?', INIT_GUARD], { stdio: 'pipe' })).toThrow(/the run that started this is gone/);
  });
});

describe("an image config's values in a refusal are escaped and cut short", () => {
  it.each([
    ['an Env entry', () => checkEnv([`\u009b2J\u001b[2J${'A'.repeat(10_000)}`], 'image config Env')],
    ['a WorkingDir', () => checkCwd(`\u009b2J\u001b[2J${'A'.repeat(10_000)}`, 'image config WorkingDir')],
  ])('%s', (_, f) => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const m = (err as Error).message;
    expect(m).toContain('"\\x9b2J\\u001b[2J');
    expect(m).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(m.length).toBeLessThan(300);
  });
});

describe('found in review', () => {
  const profile2 = () => ({ profile: { defaultAction: 'SCMP_ACT_ALLOW' }, from: 'test' });
  const specOf = (...flags: string[]) => specFromFlags(parseRunFlags([...flags, '--rootfs', '/', '--', '/bin/true']), undefined, profile2);

  it("the payload file names none of the script's variables: it runs after env -i, where they are unset (they come as $1, $2 ...)", () => {
    const plan = planRun(specOf('--memory', '32m'), host({ setprivSeccomp: true, seccompBpf: 'AAAA' }), { fdsClosed: true, payloadViaFile: true });
    const text = plan.payloadFile!.text;
    expect(text).not.toMatch(/\$\{[A-Z_]/);
    expect(text).toContain('"--seccomp-filter=${1}/seccomp.bpf"');
    expect(text).toMatch(/^cd "\/proc\/\$\{2\}\/root" \|\| exit 125\nexec /);
    expect(plan.payload.args.slice(-3)).toEqual(['${WORK}/payload.sh', '${WORK}', '${BOX}']);
    // In the script, the launcher's own exec -c empties nsenter's environment (no env process);
    // the command form, for Node's spawns, keeps env -i and puts INT and QUIT back.
    const script = runScript(plan, { invocation: 'boxlab run', commented: false });
    const launch = script.split('\n').find((l) => l.includes('payload.sh" '))!;
    expect(launch).toMatch(/^\{ echo \$BASHPID > .* && exec -c nsenter --target "\$\{BOX\}" [^;]* --wd=\/ sh "\$\{WORK\}\/payload.sh" "\$\{WORK\}" "\$\{BOX\}"; \} <\/dev\/null &$/);
    expect(launch).not.toContain('env ');
    expect(plan.payload.inner!.args.join(' ')).toContain(' env -i --default-signal=INT,QUIT sh ${WORK}/payload.sh');
  });

  it('a newline in the command line ends no comment of the script: it stays a comment', () => {
    const plan = planRun(specOf(), host());
    const script = runScript(plan, { invocation: "boxlab run -- sh -c 'echo in-box\ntouch /tmp/HOST-PWNED'", commented: true });
    expect(script.split('\n').filter((l) => l.includes('HOST-PWNED'))).toEqual([expect.stringMatching(/^# boxlab run .*\\x0atouch \/tmp\/HOST-PWNED/)]);
  });

  it('CAP_MKNOD is never given: --cap-add MKNOD is refused, ALL leaves it out, a bundle is told', () => {
    expect(() => specOf('--cap-add', 'MKNOD')).toThrow(/never gives it/);
    expect(specOf('--cap-add', 'ALL').caps).not.toContain('cap_mknod');
    const d = tempDir();
    dirs.push(d);
    mkdirSync(join(d, 'rootfs'));
    writeFileSync(join(d, 'config.json'), JSON.stringify({ process: { args: ['/x'], capabilities: { bounding: ['CAP_MKNOD', 'CAP_SYS_CHROOT', 'CAP_SETUID', 'CAP_SETGID'] } } }));
    const { spec, notes } = specFromBundle(d, parseRunFlags(['--bundle', d]));
    expect(spec.caps).not.toContain('cap_mknod');
    expect(notes).toContain("config.json: CAP_MKNOD is not given: with no device cgroup, a node made in /dev would open the host's disk");
    expect(notes).toContain('config.json: no linux.seccomp: the box runs with no seccomp filter');
  });

  it('a bounding set without what chroot(1) needs is refused in one line, not a box that cannot start', () => {
    expect(() => planRun(specOf('--cap-drop', 'ALL'), host())).toThrow(/lacks SYS_CHROOT, SETGID, SETUID: boxlab enters a box with chroot\(1\)/);
    expect(() => planRun(specOf('--cap-drop', 'SETUID'), host())).toThrow(/lacks SETUID/);
  });

  it('uid (uid_t)-1 is refused (chroot would skip the change and leave the command root)', () => {
    expect(() => parseRunFlags(['--user', '4294967295', 'img'])).toThrow(/numbers below 4294967295/);
  });

  it("volume mount points are checked for symlinks in the box's root before anything is made", () => {
    const s = specOf();
    s.volumes = [{ host: '/etc', box: '/app/conf', readOnly: true }];
    const mounts = planRun(s, host()).steps.find((x) => x.id === 'mounts')!.actions[0]!;
    const batch = ('run' in mounts ? mounts.run.batch : undefined)!;
    expect(batch[0]!.args.slice(-4)).toEqual(['/proc', '/sys', '/dev', '/app/conf']);
    expect(batch.findIndex((c) => c.args.includes('/app/conf'))).toBe(0);
  });
});

describe("Docker's habits", () => {
  it.each([
    [['-it', 'web', 'sh'], { name: 'web', args: ['sh'], interactive: true, tty: true }],
    [['-ti', 'web', 'sh'], { name: 'web', args: ['sh'], interactive: true, tty: true }],
    [['-i', '-t', 'web', 'sh'], { name: 'web', args: ['sh'], interactive: true, tty: true }],
    [['--interactive', '--tty', 'web', 'sh'], { name: 'web', args: ['sh'], interactive: true, tty: true }],
    [['-i', 'web', 'sh', '-it'], { name: 'web', args: ['sh', '-it'], interactive: true, tty: false }],
    [['web', '/bin/sh', '-c', 'id'], { name: 'web', args: ['/bin/sh', '-c', 'id'], interactive: false, tty: false }],
    [['--', 'web', 'ls'], { name: 'web', args: ['ls'], interactive: false, tty: false }],
  ])('exec %j', (argv, want) => {
    expect(parseExecArgs(argv)).toEqual(want);
  });

  it("exec names the flag it does not take, never 'no running box named -X'", () => {
    expect(() => parseExecArgs(['-e', 'A=1', 'web', 'sh'])).toThrow(/boxlab exec takes -i and -t before the box's name, not -e/);
    expect(() => parseExecArgs(['-itd', 'web', 'sh'])).toThrow(UsageError);
    expect(() => parseExecArgs(['-it'])).toThrow(/usage: boxlab exec \[-i\] \[-t\] NAME CMD/);
    expect(() => parseExecArgs(['-it', 'web'])).toThrow(UsageError);
  });

  const cache = (...names: string[]) => (n: string) => names.includes(n);
  it("run busybox: Docker's busybox when it is cached", () => {
    expect(busyboxStandIn('busybox', cache('docker.io/library/busybox:latest', 'boxlab.local/busybox:layers'))).toEqual({ name: 'busybox' });
  });

  it.each(['busybox', 'busybox:latest', 'docker.io/library/busybox'])("run %s offline: boxlab's own busybox image, said so", (name) => {
    const r = busyboxStandIn(name, cache('boxlab.local/busybox:layers'));
    expect(r.name).toBe('boxlab.local/busybox:layers');
    expect(r.note).toContain('the busybox image boxlab fetch --busybox made on this machine');
  });

  it('run busybox with neither cached: the error names boxlab fetch --busybox', () => {
    expect(() => busyboxStandIn('busybox', cache())).toThrow(EnvError);
    expect(() => busyboxStandIn('busybox', cache())).toThrow(/With no network, boxlab makes one from this machine's busybox: boxlab fetch --busybox/);
  });

  it('other images are left alone', () => {
    expect(busyboxStandIn('alpine:3.20', cache('boxlab.local/busybox:layers'))).toEqual({ name: 'alpine:3.20' });
    expect(busyboxStandIn('busybox:1.36', cache('boxlab.local/busybox:layers'))).toEqual({ name: 'busybox:1.36' });
  });
});
