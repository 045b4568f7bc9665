// boxlab run's pieces without root: flags, the spec from flags, config.json both ways, the
// plan's shape and its bash script (checked with bash -n).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRunFlags, bytes } from '../../src/run/flags.js';
import { capabilities, specFromFlags } from '../../src/run/from-flags.js';
import { configFor, specFromBundle } from '../../src/run/oci.js';
import { planRun, type PlanHost } from '../../src/run/plan.js';
import { runScript } from '../../src/run/script.js';
import { DEFAULT_CAPS } from '../../src/run/spec.js';
import { fstab } from '../../src/shell/mount.js';
import { v1Driver } from '../../src/box/cgroup.js';
import { capMask } from '../../src/kernel/capabilities.js';
import { tempDir } from './helpers.js';

const profile = () => ({ profile: { defaultAction: 'SCMP_ACT_ALLOW' }, from: 'test' });
const host = (o: Partial<PlanHost> = {}): PlanHost => ({
  cgroups: v1Driver({ memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids', cpu: '/sys/fs/cgroup/cpu' }),
  setprivSeccomp: false,
  exists: () => true,
  isDir: (p) => !p.includes('kcore') && !p.includes('keys') && !p.endsWith('.sh'),
  ...o,
});

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
    writeFileSync(join(d, 'config.json'), JSON.stringify({ process: { args: ['/x'], rlimits: [] }, domainname: 'd', linux: { sysctl: {}, uidMappings: [] }, mounts: [{ destination: '/data', type: 'nfs' }] }));
    const { notes } = specFromBundle(d, parseRunFlags(['--bundle', d]));
    expect(notes.join('\n')).toMatch(/domainname is not supported/);
    expect(notes.join('\n')).toMatch(/process\.rlimits is not supported/);
    expect(notes.join('\n')).toMatch(/linux\.sysctl is not supported/);
    expect(notes.join('\n')).toMatch(/uidMappings/);
    expect(notes.join('\n')).toMatch(/mount \/data \(nfs\) is not supported/);
  });
});

describe('the plan and its script', () => {
  const spec = () => specFromFlags(parseRunFlags(['--memory', '32m', '--rootfs', '/', '-v', '/tmp/probe.sh:/probe:ro', '--', '/bin/true']), undefined, profile);

  it('steps in order, each with its lesson and config.json field', () => {
    const plan = planRun(spec(), host());
    expect(plan.steps.map((s) => s.id)).toEqual(['work', 'cgroup', 'namespaces', 'rootfs', 'mounts', 'masked', 'identity', 'pivot']);
    expect(plan.steps.every((s) => s.lessons.length > 0 && s.oci.length > 0)).toBe(true);
  });

  it('seccomp: with setpriv 2.41 a step writes the program and the payload applies it; without, one warning and no claim', () => {
    const withIt = planRun(spec(), host({ setprivSeccomp: true, seccompBpf: 'AAAA' }));
    expect(withIt.steps.map((s) => s.id)).toContain('seccomp');
    expect(withIt.payload.args.join(' ')).toContain('--seccomp-filter=${WORK}/seccomp.bpf');
    const without = planRun(spec(), host());
    expect(without.payload.args.join(' ')).not.toContain('seccomp');
    expect(without.warnings).toEqual([expect.stringMatching(/^seccomp is OFF/)]);
  });

  it("the payload: every fd but stdio closed, env -i, the bounding set, no_new_privs, then the box's root", () => {
    const args = planRun(spec(), host()).payload.args.join(' ');
    expect(args).toMatch(/close-fds env -i PATH=\S+ setpriv --no-new-privs --inh-caps=-all --bounding-set=-all,\+chown/);
    expect(args).toMatch(/chroot \/proc\/\$\{BOX\}\/root \/bin\/true/);
    expect(args).not.toContain('+mknod');
  });

  it('the script is valid bash and runs the in-box steps as one nsenter', () => {
    const script = runScript(planRun(spec(), host()), { invocation: 'boxlab run ...', commented: true });
    execFileSync('bash', ['-n'], { input: script });
    expect(script.match(/^nsenter --target "\$\{BOX\}"/gm)).toHaveLength(1);
    expect(script).toMatch(/mount --all --fstab .*fstab\.mounts/);
    expect(script).toMatch(/exit \$\?\n$/);
    expect(capMask(DEFAULT_CAPS)).toBe('00000000a00425fb');
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
