// scripts/vagrant-check.sh --status, what .ci/run prints: when `vagrant up` last passed, and a
// warning once a file the check covers has changed since. Tried on a copy of the files it
// covers in a directory of the test's own; the full check (libvirt, a VM) is not run here.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { tempDir } from './helpers.js';

const root = packageRoot();
const covered = ['Vagrantfile', 'scripts/provision.sh', 'scripts/packages.sh', 'scripts/packages-engines.sh',
  'scripts/link-command.sh', 'scripts/vm-image.sh', 'scripts/vagrant-box.sh', 'scripts/vagrant-check.sh'];

describe('vagrant-check.sh --status', () => {
  let dir: string;
  const status = () => spawnSync('bash', [join(dir, 'scripts/vagrant-check.sh'), '--status'], { encoding: 'utf8' });
  // The hash a pass records, as the script computes it (the covered files, in its order).
  const hash = () => spawnSync('bash', ['-c', `cd ${dir} && cat ${covered.join(' ')} | sha256sum | cut -c1-16`], { encoding: 'utf8' }).stdout.trim();
  const record = (h: string) =>
    writeFileSync(join(dir, 'scripts/vagrant-check.passed'), `# test\nhash=${h}\npassed=2026-11-28T06:00Z\ntimings=vagrant up 300 s\n`);

  beforeEach(() => {
    dir = tempDir();
    mkdirSync(join(dir, 'scripts'));
    for (const f of covered) cpSync(join(root, f), join(dir, f));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('says when it last passed while the covered files are as they were', () => {
    record(hash());
    const r = status();
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('vagrant-check: passed on 2026-11-28T06:00Z with these files (vagrant up 300 s)\n');
  });

  it('warns, without failing, once the Vagrantfile or provision.sh changed since', () => {
    record(hash());
    appendFileSync(join(dir, 'scripts/provision.sh'), 'echo changed\n');
    const r = status();
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^vagrant-check: WARNING: .* changed since its last pass on 2026-11-28T06:00Z: run sudo bash scripts\/vagrant-check.sh\n$/);
  });

  it('warns when no pass was ever recorded', () => {
    const r = status();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('WARNING: no recorded pass');
  });

  it('covers the files this test copies (the script and the test agree)', () => {
    // A file added to the script's list but not here would make the copies above incomplete.
    const r = spawnSync('bash', ['-c', `sed -n '/^covered=(/,/)/p' ${join(root, 'scripts/vagrant-check.sh')}`], { encoding: 'utf8' });
    const listed = r.stdout.replace(/^covered=\(|\)\s*$/g, '').split(/\s+/).filter(Boolean);
    expect(listed).toEqual(covered);
  });
});
