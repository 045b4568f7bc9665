import { describe, expect, it } from 'vitest';
import { cmd, fill, fillKnown, literal, quote, render } from '../../src/shell/cmd.js';
import { unshare } from '../../src/shell/unshare.js';
import { nsenter } from '../../src/shell/nsenter.js';
import { bindMount, makePropagation, mountFs, remountReadOnly, umount } from '../../src/shell/mount.js';
import { capsh, withBoundingSet } from '../../src/shell/capsh.js';
import { withParentDeathSignal } from '../../src/shell/setpriv.js';
import { chroot } from '../../src/shell/chroot.js';
import { pivotRoot } from '../../src/shell/pivot_root.js';
import { killPid, mkdirP, removeTree, writeFile } from '../../src/shell/coreutils.js';

describe('builders produce the exact argv a learner would type', () => {
  it.each([
    [unshare({ ns: ['mount'] }, 'sh'), 'unshare --mount sh'],
    [unshare({ ns: ['mount', 'pid'], fork: true, propagation: 'private' }, 'sleep', 'infinity'), 'unshare --mount --pid --fork --propagation private sleep infinity'],
    [unshare({ ns: ['pid'], killChild: 'KILL' }), 'unshare --pid --fork --kill-child=KILL'],
    [unshare({ ns: ['user'], mapRootUser: true }, 'id'), 'unshare --user --map-root-user id'],
    [nsenter({ target: '42', ns: ['mount', 'pid'] }, 'ls'), 'nsenter --target 42 --mount --pid ls'],
    [nsenter({ target: '42', ns: ['mount'], root: true, wd: true }, '/bin/sh'), 'nsenter --target 42 --mount --root --wd /bin/sh'],
    [nsenter({ nsFiles: { mount: '/proc/42/ns/mnt' }, root: '/', wd: '/' }, 'umount', '-l', '/x'), 'nsenter --mount=/proc/42/ns/mnt --root=/ --wd=/ umount -l /x'],
    [mountFs('proc', 'proc', '/r/proc'), 'mount -t proc proc /r/proc'],
    [mountFs('tmpfs', 'boxlab-t', '/t', 'size=1m'), 'mount -t tmpfs -o size=1m boxlab-t /t'],
    [bindMount('/a', '/b'), 'mount --bind /a /b'],
    [bindMount('/a', '/b', { recursive: true }), 'mount --rbind /a /b'],
    [makePropagation('shared', '/t'), 'mount --make-shared /t'],
    [umount('/t', { lazy: true }), 'umount -l /t'],
    [umount('/proc/7/root/x', { lazy: true, noCanonicalize: true }), 'umount --no-canonicalize -l /proc/7/root/x'],
    [mountFs('sysfs', 'sysfs', '/proc/7/root/sys', 'ro', { noCanonicalize: true }), 'mount --no-canonicalize -t sysfs -o ro sysfs /proc/7/root/sys'],
    [withParentDeathSignal('KILL', cmd('sleep', '1')), 'setpriv --pdeathsig KILL sleep 1'],
    [chroot('/r', '/bin/ls', '/'), 'chroot /r /bin/ls /'],
    [pivotRoot('/r', '/r/.oldroot'), 'pivot_root /r /r/.oldroot'],
    [capsh({ chroot: '/proc/7/root', drop: ['cap_sys_admin', 'cap_chown'] }, '/bin/mount', '-t', 'tmpfs', 'x', '/mnt'), 'capsh --chroot=/proc/7/root --drop=cap_sys_admin,cap_chown --shell=/bin/mount -- -t tmpfs x /mnt'],
    [withBoundingSet(['cap_chown', 'cap_kill'], cmd('sleep', '1')), 'setpriv --bounding-set=-all,+chown,+kill sleep 1'],
    [bindMount('/proc/7/root/dev/null', '/proc/7/root/proc/keys', { noCanonicalize: true }), 'mount --no-canonicalize --bind /proc/7/root/dev/null /proc/7/root/proc/keys'],
    [remountReadOnly('/proc/7/root/proc/sys', { noCanonicalize: true }), 'mount --no-canonicalize -o remount,bind,ro /proc/7/root/proc/sys'],
    [mkdirP('/a', '/b'), 'mkdir -p /a /b'],
    [removeTree('/tmp/boxlab-x'), 'rm -rf --one-file-system /tmp/boxlab-x'],
    [killPid('KILL', '${BOX}'), 'kill -KILL "${BOX}"'],
    [writeFile('/f', 'two\nlines'), "tee /f <<< $'two\\nlines'"],
  ])('%j', (c, line) => {
    expect(render(c)).toBe(line);
  });
});

describe('quoting', () => {
  it.each([
    ['plain/path-1.2', 'plain/path-1.2'],
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['${WORK}/x y', '"${WORK}/x y"'],
    ['${WORK}/$HOME`', '"${WORK}/\\$HOME\\`"'],
    ['tab\there', "$'tab\\there'"],
  ])('%j -> %s', (word, quoted) => {
    expect(quote(word)).toBe(quoted);
  });

  it('keeps a placeholder unexpanded in a literal', () => {
    expect(literal('kill "${BOX}"')).toBe(`'kill "\${BOX}"'`);
  });

  it('fills placeholders and refuses unknown ones', () => {
    expect(fill('/proc/${BOX}/ns/mnt', { BOX: '7' })).toBe('/proc/7/ns/mnt');
    expect(() => fill('${NOPE}', {})).toThrow(/NOPE/);
    expect(fillKnown('${A} ${B}', { A: '1' })).toBe('1 ${B}');
  });
});

describe('capabilities', () => {
  it('names every capability the way the host libcap does', async () => {
    const { CAPABILITIES, capMask, DOCKER_DEFAULT_CAPS } = await import('../../src/kernel/capabilities.js');
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('capsh', [`--decode=0x${capMask(CAPABILITIES)}`], { encoding: 'utf8' });
    if (r.error) return; // no capsh on this machine: nothing to compare with
    expect(r.stdout.trim().split('=')[1]!.split(',')).toEqual(CAPABILITIES);
    expect(capMask(DOCKER_DEFAULT_CAPS)).toBe('00000000a80425fb');
  });
});
