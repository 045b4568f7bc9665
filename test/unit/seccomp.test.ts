import { describe, expect, it } from 'vitest';
import { compile, decode, encode, parseProfile, ProfileError, type Profile } from '../../src/seccomp/bpf.js';
import { disassemble } from '../../src/seccomp/disasm.js';
import { SYSCALLS } from '../../src/seccomp/syscalls.generated.js';

const small: Profile = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64'],
  syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
};

describe('syscall tables (generated from the kernel headers)', () => {
  it.each([
    ['x86_64', 'read', 0],
    ['x86_64', 'mkdirat', 258],
    ['x86_64', 'unshare', 272],
    ['aarch64', 'openat', 56],
    ['aarch64', 'mkdirat', 34],
    ['aarch64', 'fcntl', 25],
  ] as const)('%s %s = %i', (arch, name, nr) => {
    expect(SYSCALLS[arch][name]).toBe(nr);
  });

  it('has no legacy calls arm64 never had', () => {
    expect(SYSCALLS.aarch64.open).toBeUndefined();
    expect(SYSCALLS.aarch64.mkdir).toBeUndefined();
  });
});

describe('the compiler', () => {
  it('emits the expected instructions for a one-rule profile', () => {
    const { program } = compile(small);
    expect(program.map((i) => [i.code, i.jt, i.jf, i.k])).toEqual([
      [0x20, 0, 0, 4], // ld arch
      [0x15, 0, 1, 0xc000003e], // jeq x86_64
      [0x05, 0, 0, 1], // ja to the x86_64 block
      [0x06, 0, 0, 0x80000000], // ret KILL_PROCESS: another architecture
      [0x20, 0, 0, 0], // ld nr
      [0x35, 0, 1, 0x40000000], // jge x32 bit
      [0x06, 0, 0, 0x80000000], // ret KILL_PROCESS
      [0x15, 0, 1, 258], // jeq mkdirat
      [0x06, 0, 0, 0x0005000d], // ret ERRNO(13)
      [0x06, 0, 0, 0x7fff0000], // ret ALLOW
    ]);
    expect(encode(program).subarray(56, 64).toString('hex')).toBe('1500000102010000');
  });

  it('dispatches to one block per architecture, with jumps that reach', () => {
    const { program, skipped } = compile({ ...small, architectures: undefined, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] });
    expect(skipped).toEqual({ x86_64: [], aarch64: ['mkdir'] });
    const lines = disassemble(program);
    expect(lines.some((l) => /jeq #83 .*; mkdir:/.test(l))).toBe(true);
    expect(lines.some((l) => /jeq #34 .*; mkdirat:/.test(l))).toBe(true);
    // Each ja lands on a `ld [0]` that starts its block.
    program.forEach((ins, i) => {
      if (ins.code === 0x05) expect(program[i + 1 + ins.k]).toMatchObject({ code: 0x20, k: 0 });
    });
  });

  it('round-trips through the bytes and disassembles with names', () => {
    const { program } = compile(small);
    expect(decode(encode(program))).toEqual(program);
    const text = disassemble(decode(encode(program))).join('\n');
    expect(text).toContain('mkdirat');
    expect(text).toContain('ret ERRNO(13)');
    expect(text).toContain('x86_64');
  });

  it.each([
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['nosuchcall'], action: 'SCMP_ACT_ERRNO' }] }, /unknown syscall "nosuchcall"/],
    [{ defaultAction: 'SCMP_ACT_TRACE' }, /unsupported action SCMP_ACT_TRACE/],
    [{ syscalls: [] }, /needs a "defaultAction"/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_MIPS'] }, /SCMP_ARCH_MIPS is not supported/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [] }] }, /"args".* not supported/],
  ])('refuses a bad profile with one clear message: %j', (json, message) => {
    expect(() => compile(parseProfile(json))).toThrow(ProfileError);
    expect(() => compile(parseProfile(json))).toThrow(message);
  });

  it('refuses bytes that are not a program', () => {
    expect(() => decode(Buffer.alloc(7))).toThrow(/not a BPF program/);
  });
});
