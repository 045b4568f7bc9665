import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { BOXLAB_DEFAULT, checkProfileName, loadProfile, profileText } from '../../src/container/apparmor.js';
import { apparmorStep, appliedProfile } from '../../src/container/apparmor-step.js';
import { apparmorState, confinedBy, confinement, loadedProfiles } from '../../src/kernel/apparmor.js';
import { parseRunFlags } from '../../src/container/flags.js';
import { apparmorChoice, specFromFlags } from '../../src/container/from-flags.js';
import { configFor, execSpec, specFromBundle } from '../../src/container/oci.js';
import { planRun } from '../../src/container/plan.js';
import type { AppArmorFacts } from '../../src/model/host-facts.js';
import { render } from '../../src/shell/cmd.js';
import { fakePlanHost } from './helpers.js';

const made: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'boxlab-unit-'));
  made.push(d);
  return d;
};
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

const on = (loaded: string[] = [], parser = true): AppArmorFacts => ({ state: 'on', parser, loaded: new Map(loaded.map((n) => [n, 'enforce'])) });
const off: AppArmorFacts = { state: 'off', parser: false, loaded: new Map() };
const profile = () => ({ profile: { defaultAction: 'SCMP_ACT_ALLOW' }, from: 'test' });
const specOf = (...flags: string[]) => specFromFlags(parseRunFlags([...flags, '--rootfs', '/', '--', '/bin/true']), undefined, profile);

describe('boxlab-default, generated', () => {
  const text = profileText(BOXLAB_DEFAULT);

  it('is one profile, with the flags a box needs, every rule inside its braces', () => {
    expect(text).toMatch(/^profile boxlab-default flags=\(attach_disconnected,mediate_deleted\) \{$/m);
    const body = text.slice(text.indexOf('{') + 1, text.lastIndexOf('}'));
    const rules = body.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(rules.every((r) => r.endsWith(','))).toBe(true);
    expect(text.trimEnd().endsWith('}')).toBe(true);
  });

  it('denies what a box with CAP_SYS_ADMIN would use against the host, and names its peers', () => {
    for (const r of ['deny mount,', 'deny /proc/sysrq-trigger rwklx,', 'deny /proc/kcore rwklx,', 'deny /sys/firmware/** rwklx,', 'deny /proc/[^0-9]*/** wklx,', 'deny /sys/** wklx,']) expect(text).toContain(r);
    expect(text).toContain('signal (send,receive) peer=boxlab-default,');
    expect(text).toContain('ptrace (trace,read,tracedby,readby) peer=boxlab-default,');
  });

  it('every group of rules starts with the reason it is there', () => {
    const body = text.slice(text.indexOf('{\n') + 2, text.lastIndexOf('}'));
    const groups = body.split('\n\n');
    expect(groups.length).toBeGreaterThan(3);
    for (const g of groups) expect(g.trimStart().startsWith('# ')).toBe(true);
  });

  it('a profile name is a word: never a path, a rule or a newline', () => {
    for (const bad of ['/etc/passwd', 'a b', 'x,\n  capability', '', '-r', 'a{b}']) expect(() => checkProfileName(bad, 'test')).toThrow(/not a profile name/);
    expect(checkProfileName('docker-default', 'test')).toBe('docker-default');
  });

  it('the load step compares a hash first, so an unchanged profile costs no apparmor_parser', () => {
    const c = loadProfile('/w/p', BOXLAB_DEFAULT, text);
    const line = render(c);
    expect(line).toContain('apparmor_parser --replace');
    expect(c.args).toContain('boxlab-default');
    expect(c.args.find((a) => /^[0-9a-f]{64}$/.test(a))).toBeDefined();
  });
});

describe('which profile a box gets', () => {
  it('by default: boxlab-default where AppArmor is on, none where the kernel has none', () => {
    const spec = specOf();
    expect(spec.apparmor).toEqual({ profile: BOXLAB_DEFAULT, from: 'default' });
    expect(appliedProfile(spec, on())).toBe(BOXLAB_DEFAULT);
    expect(appliedProfile(spec, off)).toBeUndefined();
    expect(apparmorStep(spec, { apparmor: off })).toEqual({});
  });

  it("--security-opt, as Docker spells it: a profile, unconfined, seccomp=, no-new-privileges; label= is refused", () => {
    expect(parseRunFlags(['--security-opt', 'apparmor=docker-default', 'img']).apparmor).toBe('docker-default');
    expect(specOf('--security-opt', 'apparmor=unconfined').apparmor).toBe('unconfined');
    expect(parseRunFlags(['--security-opt', 'seccomp=unconfined', 'img']).seccomp).toBe('unconfined');
    expect(parseRunFlags(['--security-opt', 'no-new-privileges', 'img']).image).toBe('img');
    expect(() => parseRunFlags(['--security-opt', 'label=type:container_t', 'img'])).toThrow(/SELinux labels/);
    expect(() => parseRunFlags(['--security-opt', 'apparmor', 'img'])).toThrow(/give apparmor=PROFILE/);
    expect(() => apparmorChoice('../../etc/x')).toThrow(/not a profile name/);
  });

  it('asked for by name where the kernel has no AppArmor, or not loaded: no box, one line saying why', () => {
    const spec = specOf('--security-opt', 'apparmor=mine');
    expect(apparmorStep(spec, { apparmor: off }).warning).toMatch(/does not run AppArmor.*apparmor=unconfined/);
    expect(apparmorStep(spec, { apparmor: on() }).warning).toMatch(/profile mine .* is not loaded/);
    expect(apparmorStep(spec, { apparmor: on(['mine']) })).toEqual({});
    const plan = planRun(spec, fakePlanHost({ apparmor: off }));
    expect(plan.warnings.join('\n')).toMatch(/apparmor: /);
  });

  it('on but without securityfs, or without apparmor_parser for the default: refused, not run unconfined', () => {
    expect(apparmorStep(specOf(), { apparmor: { state: 'unmounted', parser: true, loaded: new Map() } }).warning).toMatch(/securityfs is not mounted/);
    expect(apparmorStep(specOf(), { apparmor: on([], false) }).warning).toMatch(/apt-get install apparmor/);
  });

  it('where it applies: the profile is loaded before the box starts, and setpriv enters it at its exec of chroot', () => {
    const plan = planRun(specOf(), fakePlanHost({ apparmor: on() }));
    const ids = plan.steps.map((s) => s.id);
    expect(ids.indexOf('apparmor')).toBeGreaterThan(-1);
    // Not on the placeholder init: a profile change at exec clears its parent-death signal.
    const init = plan.steps.find((s) => s.id === 'namespaces')!.actions.find((a) => 'start' in a) as { start: { args: string[] } };
    expect(render(init.start as never)).not.toContain('--apparmor-profile');
    expect(profileText(BOXLAB_DEFAULT)).toContain('ptrace (read) peer=unconfined,');
    const words = plan.payload.args;
    const sp = words.indexOf('setpriv');
    const ch = words.findIndex((w, i) => i > sp && w.endsWith('chroot'));
    expect(words.slice(sp, ch)).toContain('--apparmor-profile=boxlab-default');
    const none = planRun(specOf('--security-opt', 'apparmor=unconfined'), fakePlanHost({ apparmor: on() }));
    expect(none.steps.map((s) => s.id)).not.toContain('apparmor');
    expect(none.payload.args.join(' ')).not.toContain('--apparmor-profile');
    expect(planRun(specOf(), fakePlanHost()).payload.args.join(' ')).not.toContain('--apparmor-profile');
  });
});

describe('config.json: process.apparmorProfile', () => {
  const bundle = (process: Record<string, unknown>) => {
    const d = tempDir();
    mkdirSync(join(d, 'rootfs'));
    writeFileSync(join(d, 'config.json'), JSON.stringify({ process: { args: ['/x'], ...process } }));
    return specFromBundle(d, parseRunFlags(['--bundle', d])).spec;
  };

  it('is honoured as runc does: a name applies, none or unconfined applies none', () => {
    expect(bundle({ apparmorProfile: 'docker-default' }).apparmor).toEqual({ profile: 'docker-default', from: 'config.json process.apparmorProfile' });
    expect(bundle({}).apparmor).toBe('unconfined');
    expect(bundle({ apparmorProfile: 'unconfined' }).apparmor).toBe('unconfined');
    expect(() => bundle({ apparmorProfile: 'x\n}' })).toThrow(/not a profile name/);
    expect(() => bundle({ apparmorProfile: 7 })).toThrow(/must be a string/);
  });

  it("boxlab spec writes the profile this host applies; an exec keeps its container's", () => {
    expect((configFor(specOf(), BOXLAB_DEFAULT) as { process: { apparmorProfile?: string } }).process.apparmorProfile).toBe(BOXLAB_DEFAULT);
    expect((configFor(specOf()) as { process: { apparmorProfile?: string } }).process.apparmorProfile).toBeUndefined();
    const base = bundle({ apparmorProfile: 'boxlab-default' });
    expect(execSpec(base, { args: ['/bin/sh'] }).apparmor).toEqual(base.apparmor);
    expect(execSpec(base, { args: ['/bin/sh'], apparmorProfile: 'boxlab-default' }).apparmor).toEqual(base.apparmor);
    expect(() => execSpec(base, { args: ['/bin/sh'], apparmorProfile: 'unconfined' })).toThrow(/runs under its container's profile/);
  });
});

describe('the kernel facts', () => {
  const files = (m: Record<string, string>) => (p: string) => {
    if (p in m) return m[p]!;
    throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  };

  it('on, enabled without securityfs, off', () => {
    expect(apparmorState(files({ '/sys/module/apparmor/parameters/enabled': 'Y\n', '/sys/kernel/security/apparmor/profiles': '' }))).toBe('on');
    expect(apparmorState(files({ '/sys/module/apparmor/parameters/enabled': 'Y\n' }))).toBe('unmounted');
    expect(apparmorState(files({ '/sys/module/apparmor/parameters/enabled': 'N\n' }))).toBe('off');
    expect(apparmorState(files({}))).toBe('off');
  });

  it('loaded profiles and what confines a process, from the kernel files', () => {
    const read = files({
      '/sys/kernel/security/apparmor/profiles': 'boxlab-default (enforce)\n/usr/bin/man (complain)\nnvidia_modprobe//kmod (enforce)\n',
      '/proc/7/attr/apparmor/current': 'boxlab-default (enforce)\n',
      '/proc/8/attr/current': 'unconfined\n',
    });
    expect([...loadedProfiles(read)]).toEqual([['boxlab-default', 'enforce'], ['/usr/bin/man', 'complain'], ['nvidia_modprobe//kmod', 'enforce']]);
    expect(confinement(7, read)).toBe('boxlab-default (enforce)');
    expect(confinement(8, read)).toBe('unconfined');
    expect(confinement(9, read)).toBeUndefined();
    expect(confinedBy('boxlab-', read, () => ['7', '8', '9'])).toEqual([7]);
  });
});

describe('apparmor_parser reads the generated text', () => {
  // Only where the parser is installed (the VM); it parses without loading (-Q: no kernel).
  const parser = ['/usr/sbin/apparmor_parser', '/sbin/apparmor_parser'].find((p) => {
    try {
      execFileSync(p, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  it.skipIf(!parser)('boxlab-default compiles', () => {
    const d = tempDir();
    writeFileSync(join(d, 'p'), profileText(BOXLAB_DEFAULT));
    execFileSync(parser!, ['-Q', '-K', join(d, 'p')], { stdio: 'pipe' });
  });
});
