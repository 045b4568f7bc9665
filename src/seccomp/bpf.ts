// A seccomp profile (the OCI / Docker JSON format, a subset) compiled to a classic BPF
// program: the raw array of struct sock_filter that setpriv --seccomp-filter and
// bwrap --seccomp read. Layout: check the architecture, then one test per syscall.
import { SYSCALLS } from './syscalls.generated.js';

export type Action = 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO' | 'SCMP_ACT_KILL_PROCESS' | 'SCMP_ACT_KILL_THREAD' | 'SCMP_ACT_KILL' | 'SCMP_ACT_LOG';
export type Arch = keyof typeof SYSCALLS;

export interface Profile {
  defaultAction: Action;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls?: { names: string[]; action: Action; errnoRet?: number }[];
}

// linux/seccomp.h, linux/audit.h, linux/filter.h
export const RET = { KILL_PROCESS: 0x80000000, KILL_THREAD: 0x00000000, ERRNO: 0x00050000, LOG: 0x7ffc0000, ALLOW: 0x7fff0000 };
export const AUDIT_ARCH: Record<Arch, number> = { x86_64: 0xc000003e, aarch64: 0xc00000b7 };
const ARCH_NAMES: Record<string, Arch> = { SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_AARCH64: 'aarch64' };
export const BPF = { LD_W_ABS: 0x20, JEQ_K: 0x15, JGE_K: 0x35, JA: 0x05, RET_K: 0x06 };
/** offsetof(struct seccomp_data, nr) and (.., arch). */
const NR = 0;
const ARCH = 4;
/** x32 syscalls on x86_64 carry this bit: refused, as Docker does. */
const X32_BIT = 0x40000000;
const EPERM = 1;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export class ProfileError extends Error {}

export function actionValue(action: Action, errno?: number): number {
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return RET.ALLOW;
    case 'SCMP_ACT_ERRNO':
      return (RET.ERRNO | ((errno ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_KILL_PROCESS':
      return RET.KILL_PROCESS;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return RET.KILL_THREAD;
    case 'SCMP_ACT_LOG':
      return RET.LOG;
    default:
      throw new ProfileError(`unsupported action ${String(action)} (supported: ALLOW, ERRNO, KILL_PROCESS, KILL_THREAD, LOG)`);
  }
}

/** Checks the JSON is a profile boxlab can compile; one clear message when it is not. */
export function parseProfile(json: unknown): Profile {
  const p = json as Profile;
  if (typeof p !== 'object' || p === null || typeof p.defaultAction !== 'string') throw new ProfileError('a profile needs a "defaultAction"');
  actionValue(p.defaultAction, p.defaultErrnoRet);
  for (const [i, rule] of (p.syscalls ?? []).entries()) {
    if (!Array.isArray(rule.names) || rule.names.some((n) => typeof n !== 'string')) throw new ProfileError(`syscalls[${i}] needs "names", a list of syscall names`);
    actionValue(rule.action, rule.errnoRet);
    if ('args' in rule || 'includes' in rule || 'excludes' in rule) throw new ProfileError(`syscalls[${i}]: "args", "includes" and "excludes" are not supported`);
  }
  for (const a of p.architectures ?? []) if (!ARCH_NAMES[a]) throw new ProfileError(`architecture ${a} is not supported (SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64)`);
  return p;
}

const stmt = (code: number, k: number): Insn => ({ code, jt: 0, jf: 0, k: k >>> 0 });
const jump = (code: number, k: number, jt: number, jf: number): Insn => ({ code, jt, jf, k: k >>> 0 });

/**
 * Compile. Names unknown on an architecture are skipped there (a profile lists syscalls of
 * every architecture), as libseccomp does. Each rule is `jeq nr, 0, 1; ret action`, so no
 * jump ever needs more than one instruction of reach, whatever the profile's length.
 */
export function compile(profile: Profile): { program: Insn[]; skipped: Record<Arch, string[]> } {
  const archs: Arch[] = profile.architectures?.length ? profile.architectures.map((a) => ARCH_NAMES[a]!) : ['x86_64', 'aarch64'];
  const def = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  const skipped = { x86_64: [] as string[], aarch64: [] as string[] };
  for (const rule of profile.syscalls ?? []) {
    for (const name of rule.names) {
      if (archs.every((a) => SYSCALLS[a][name] === undefined)) throw new ProfileError(`unknown syscall "${name}" (not on ${archs.join(' or ')})`);
    }
  }
  const blocks = archs.map((arch) => {
    const table = SYSCALLS[arch];
    const body: Insn[] = [stmt(BPF.LD_W_ABS, NR)];
    if (arch === 'x86_64') body.push(jump(BPF.JGE_K, X32_BIT, 0, 1), stmt(BPF.RET_K, RET.KILL_PROCESS));
    const seen = new Set<number>();
    for (const rule of profile.syscalls ?? []) {
      const ret = actionValue(rule.action, rule.errnoRet);
      for (const name of rule.names) {
        const nr = table[name];
        if (nr === undefined) {
          skipped[arch].push(name);
          continue;
        }
        if (seen.has(nr)) continue; // the first rule that names a syscall wins
        seen.add(nr);
        body.push(jump(BPF.JEQ_K, nr, 0, 1), stmt(BPF.RET_K, ret));
      }
    }
    body.push(stmt(BPF.RET_K, def));
    return { arch, body };
  });
  // Dispatch on the architecture first: a syscall number means nothing without it.
  const program: Insn[] = [stmt(BPF.LD_W_ABS, ARCH)];
  const dispatchLen = archs.length * 2 + 1;
  let offset = 0;
  blocks.forEach((b, i) => {
    const here = 1 + i * 2; // index of this jeq
    const target = 1 + dispatchLen + offset; // first instruction of the block
    program.push(jump(BPF.JEQ_K, AUDIT_ARCH[b.arch], 0, 1), { code: BPF.JA, jt: 0, jf: 0, k: target - (here + 2) });
    offset += b.body.length;
  });
  program.push(stmt(BPF.RET_K, RET.KILL_PROCESS)); // an architecture the profile does not know
  for (const b of blocks) program.push(...b.body);
  return { program, skipped };
}

/** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k, little-endian (both our arches). */
export function encode(program: Insn[]): Buffer {
  const buf = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    buf.writeUInt16LE(ins.code, i * 8);
    buf.writeUInt8(ins.jt, i * 8 + 2);
    buf.writeUInt8(ins.jf, i * 8 + 3);
    buf.writeUInt32LE(ins.k, i * 8 + 4);
  });
  return buf;
}

/** Every classic BPF opcode the kernel's checker knows (linux/filter.h: ld, ldx, st, stx, alu,
 *  jmp, ret, misc); a file of 8-byte records is not a program unless each is one of them. */
const OPCODES = new Set([
  0x00, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x60, 0x80, 0x01, 0x61, 0x81, 0xb1, 0x02, 0x03,
  0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac,
  0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x06, 0x0e, 0x16, 0x07, 0x87,
]);
/** BPF_MAXINSNS */
const MAX_INSNS = 4096;

export function decode(buf: Buffer): Insn[] {
  if (buf.length % 8 !== 0 || buf.length === 0) throw new ProfileError(`not a BPF program: ${buf.length} bytes is not a whole number of 8-byte instructions`);
  if (buf.length / 8 > MAX_INSNS) throw new ProfileError(`not a BPF program: ${buf.length / 8} instructions, the kernel takes ${MAX_INSNS} at most`);
  const out: Insn[] = [];
  for (let i = 0; i < buf.length; i += 8) out.push({ code: buf.readUInt16LE(i), jt: buf.readUInt8(i + 2), jf: buf.readUInt8(i + 3), k: buf.readUInt32LE(i + 4) });
  out.forEach((ins, i) => {
    if (!OPCODES.has(ins.code)) throw new ProfileError(`not a BPF program: instruction ${i} has no opcode the kernel knows (0x${ins.code.toString(16)})`);
    const jump = (ins.code & 0x07) === 0x05;
    const targets = !jump ? [] : ins.code === BPF.JA ? [ins.k] : [ins.jt, ins.jf];
    if (targets.some((t) => i + 1 + t >= out.length)) throw new ProfileError(`not a BPF program: instruction ${i} jumps past the end`);
  });
  if ((out[out.length - 1]!.code & 0x07) !== 0x06) throw new ProfileError('not a BPF program: it does not end with a return');
  return out;
}
