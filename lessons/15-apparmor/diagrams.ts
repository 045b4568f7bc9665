// Lesson 15's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** Where an LSM is asked: after the checks root passes with its capabilities. */
export const hooks = String.raw`
  root in the box, CAP_SYS_ADMIN          the kernel, for one system call (mount, open ...)
  ┌───────────────────────┐  mount(2)  ┌──────────────────────────────────────────────────┐
  │ mount -t tmpfs x /mnt │ ─────────▶ │ seccomp filter (lesson 8)         allowed        │
  └───────────────────────┘            │ capabilities (lesson 7)           CAP_SYS_ADMIN  │
                                       │ LSM hook security_sb_mount():                    │
                                       │   AppArmor: the task's profile    DENIED, EACCES │
                                       └──────────────────────────────────────────────────┘
  Every check must say yes, and an LSM can only refuse. Its policy is loaded from outside the box.
`.slice(1, -1);

/** How a process comes under a profile: asked for before exec, applied at exec. */
export const transition = String.raw`
  apparmor_parser --replace FILE    the kernel's policy: boxlab-lesson15 (enforce)
          │                                   ▲
          ▼                                   │ checks every access of …
  setpriv --apparmor-profile=P  ── writes "exec P" to /proc/self/attr/apparmor/exec
          │ execve(capsh)       ── the kernel attaches P: /proc/PID/attr/current = "P (enforce)"
          ▼
  capsh --chroot=… ──▶ /bin/sleep   (every later exec keeps P: the profile is inherited)
`.slice(1, -1);
