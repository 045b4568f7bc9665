// A 130-byte static program that only waits: pause(2) in a loop (ppoll(2) on arm64, which
// has no pause). The busybox rootfs has no setuid-capable program (busybox drops setuid
// privileges for its applets), so lesson 7 installs this one, setuid root, to show what
// no_new_privs does to a setuid exec. Built here, byte by byte: an ELF header, one PT_LOAD
// program header, the code.
const BASE = 0x400000n;
const EHDR = 64;
const PHDR = 56;

/** Machine code and e_machine per architecture (node's process.arch names). */
const CODE: Record<string, { machine: number; code: number[] }> = {
  // 0: mov eax, 34 (pause); 5: syscall; 7: jmp 0
  x64: { machine: 0x3e, code: [0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7] },
  // mov x0..x3, #0; mov x8, #73 (ppoll); svc #0; b start   (little-endian words)
  arm64: { machine: 0xb7, code: [0xd2800000, 0xd2800001, 0xd2800002, 0xd2800003, 0xd2800928, 0xd4000001, 0x17fffffa].flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24]) },
};

export function pauseElf(arch: string = process.arch): Buffer {
  const target = CODE[arch];
  if (!target) throw new Error(`no pause program for ${arch}`);
  const size = EHDR + PHDR + target.code.length;
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // ELF, 64-bit, little-endian, version 1, SysV
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(target.machine, 18);
  b.writeUInt32LE(1, 20); // EV_CURRENT
  b.writeBigUInt64LE(BASE + BigInt(EHDR + PHDR), 24); // entry: the code
  b.writeBigUInt64LE(BigInt(EHDR), 32); // program headers right after this header
  b.writeUInt16LE(EHDR, 52);
  b.writeUInt16LE(PHDR, 54);
  b.writeUInt16LE(1, 56); // one program header
  const p = EHDR;
  b.writeUInt32LE(1, p); // PT_LOAD
  b.writeUInt32LE(5, p + 4); // PF_R | PF_X
  b.writeBigUInt64LE(0n, p + 8); // the whole file ...
  b.writeBigUInt64LE(BASE, p + 16); // ... mapped at BASE
  b.writeBigUInt64LE(BASE, p + 24);
  b.writeBigUInt64LE(BigInt(size), p + 32);
  b.writeBigUInt64LE(BigInt(size), p + 40);
  b.writeBigUInt64LE(0x1000n, p + 48);
  b.set(target.code, EHDR + PHDR);
  return b;
}
