// Lesson 8's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** From a JSON profile to a filter the kernel runs on every system call. */
export const pipeline = String.raw`
  teaching.json         boxlab seccomp compile      $WORK/teaching.bpf     setpriv --seccomp-filter
  an OCI profile  ────▶ classic BPF, 8 bytes  ────▶ the program      ────▶ (or bwrap --seccomp):
  (JSON)                an instruction              (a file)               seccomp(2) installs it
`.slice(1, -1);

/** Every system call of the filtered payload goes through the program first. */
export const filter = String.raw`
  the payload                 the kernel, at each system call
  ┌──────────────┐            ┌────────────────────────────────────┐
  │ unshare(2)   │ ─────────▶ │ seccomp filter (classic BPF)       │ ──▶ ERRNO (EPERM): refused
  │ mount(2)     │ ─────────▶ │ reads seccomp_data: arch, nr, args │ ──▶ ERRNO (EPERM): refused
  │ openat(2) …  │ ─────────▶ │                                    │ ──▶ ALLOW: the call runs
  │ reboot(2)    │ ─────────▶ │ /proc/PID/status shows Seccomp: 2  │ ──▶ KILL_PROCESS
  └──────────────┘            └────────────────────────────────────┘
  no_new_privs first (lesson 7): without it, only a process with CAP_SYS_ADMIN may install one
`.slice(1, -1);
