// The offline default root filesystem: the host's static busybox and its applet links.
// Built once into a cache keyed by the binary's digest; each run copies the cache.
import { createHash } from 'node:crypto';
import { existsSync, openSync, readFileSync, readSync, closeSync } from 'node:fs';
import type { Cmd } from '../src/shell/cmd.js';
import { chroot } from '../src/shell/chroot.js';
import { cmd, render } from '../src/shell/cmd.js';
import { mkdirP, writeFile } from '../src/shell/coreutils.js';
import { CACHE_ROOT } from '../src/paths.js';

export const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox', '/usr/sbin/busybox', '/sbin/busybox'];

export const findBusybox = (): string | undefined => BUSYBOX_CANDIDATES.find((p) => existsSync(p));

/** True if the ELF file asks for a dynamic loader (has a PT_INTERP program header). */
export function isDynamicElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const h = Buffer.alloc(64);
    readSync(fd, h, 0, 64, 0);
    if (h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2) return false; // not ELF64: let it be
    const phoff = Number(h.readBigUInt64LE(0x20));
    const phentsize = h.readUInt16LE(0x36);
    const phnum = h.readUInt16LE(0x38);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3) return true;
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Keyed by the binary and by the recipe, so a change to either builds a fresh cache. */
export function busyboxCacheDir(busybox: string): string {
  const recipe = busyboxRecipe('DIR', 'BUSYBOX').map(render).join('\n');
  const digest = createHash('sha256').update(readFileSync(busybox)).update(recipe).digest('hex').slice(0, 16);
  return `${CACHE_ROOT}/rootfs/busybox-${digest}`;
}

/** The commands that turn an empty directory into a busybox root filesystem. */
export function busyboxRecipe(dir: string, busybox: string): Cmd[] {
  const dirs = ['bin', 'dev', 'etc', 'mnt', 'proc', 'root', 'sys', 'tmp'].map((d) => `${dir}/${d}`);
  return [
    mkdirP(...dirs),
    cmd('cp', busybox, `${dir}/bin/busybox`),
    // Hard links, made inside the new root: a copy of 270 hard links takes ~10 ms here,
    // of 270 symlinks 90-300 ms (symlinkat is slow on this ext4).
    chroot(dir, '/bin/busybox', '--install', '/bin'),
    // The few device nodes every shell expects (`cmd &` reads /dev/null); runtimes add more.
    cmd('mknod', '-m', '666', `${dir}/dev/null`, 'c', '1', '3'),
    cmd('mknod', '-m', '666', `${dir}/dev/zero`, 'c', '1', '5'),
    cmd('mknod', '-m', '666', `${dir}/dev/urandom`, 'c', '1', '9'),
    writeFile(`${dir}/etc/passwd`, 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false'),
    writeFile(`${dir}/etc/group`, 'root:x:0:\nnogroup:x:65534:'),
  ];
}
