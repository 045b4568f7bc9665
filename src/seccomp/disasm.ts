// One instruction per line, with syscall and architecture names, so learners can read the
// filter the kernel will run.
import { AUDIT_ARCH, BPF, RET, type Arch, type Insn } from './bpf.js';
import { SYSCALLS } from './syscalls.generated.js';

const archName = (k: number): string => (Object.entries(AUDIT_ARCH).find(([, v]) => v === k)?.[0] ?? `0x${k.toString(16)}`);

function ret(k: number): string {
  const action = (k & 0xffff0000) >>> 0;
  if (action === RET.ALLOW) return 'ALLOW';
  if (action === RET.ERRNO) return `ERRNO(${k & 0xffff})`;
  if (action === RET.KILL_PROCESS) return 'KILL_PROCESS';
  if (action === RET.KILL_THREAD) return 'KILL_THREAD';
  if (action === RET.LOG) return 'LOG';
  return `0x${k.toString(16)}`;
}

export function disassemble(program: Insn[]): string[] {
  const names: Record<Arch, Record<number, string>> = {
    x86_64: Object.fromEntries(Object.entries(SYSCALLS.x86_64).map(([n, v]) => [v, n])),
    aarch64: Object.fromEntries(Object.entries(SYSCALLS.aarch64).map(([n, v]) => [v, n])),
  };
  // Which architecture's block an instruction is in: the arch dispatch says where each starts.
  const starts: { at: number; arch: Arch }[] = [];
  let loaded: 'arch' | 'nr' = 'nr';
  program.forEach((ins, i) => {
    if (ins.code === BPF.JEQ_K && program[i + 1]?.code === BPF.JA && loaded === 'arch') starts.push({ at: i + 2 + program[i + 1]!.k, arch: archName(ins.k) as Arch });
    if (ins.code === BPF.LD_W_ABS) loaded = ins.k === 4 ? 'arch' : 'nr';
  });
  loaded = 'nr';
  return program.map((ins, i) => {
    const arch = [...starts].reverse().find((s) => s.at <= i)?.arch;
    const at = String(i).padStart(4);
    const to = (n: number): string => String(i + 1 + n);
    switch (ins.code) {
      case BPF.LD_W_ABS:
        loaded = ins.k === 4 ? 'arch' : 'nr';
        return `${at}  ld  [${ins.k}]            ; seccomp_data.${ins.k === 4 ? 'arch' : ins.k === 0 ? 'nr' : `+${ins.k}`}`;
      case BPF.JEQ_K: {
        const what = loaded === 'arch' ? archName(ins.k) : arch ? (names[arch][ins.k] ?? `syscall ${ins.k}`) : String(ins.k);
        const k = loaded === 'arch' ? `0x${ins.k.toString(16)}` : String(ins.k);
        return `${at}  jeq #${k}`.padEnd(24) + ` ; ${what}: true -> ${to(ins.jt)}, false -> ${to(ins.jf)}`;
      }
      case BPF.JGE_K:
        return `${at}  jge #0x${ins.k.toString(16)}`.padEnd(24) + ` ; x32 ABI: true -> ${to(ins.jt)}, false -> ${to(ins.jf)}`;
      case BPF.JA:
        return `${at}  ja  ${to(ins.k)}`.padEnd(24) + ` ; ${starts.find((s) => s.at === i + 1 + ins.k)?.arch ?? ''} block`;
      case BPF.RET_K:
        return `${at}  ret ${ret(ins.k)}`;
      default:
        return `${at}  code 0x${ins.code.toString(16)} jt ${ins.jt} jf ${ins.jf} k 0x${ins.k.toString(16)}`;
    }
  });
}
