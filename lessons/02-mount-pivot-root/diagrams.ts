// Lesson 2's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** The namespaces the box's init holds: six new ones, user and time still the host's. */
export const namespaces = String.raw`
  /proc/self/ns: boxlab, on the host        /proc/$BOX/ns: the box's init (sleep infinity)
  ┌───────────────────────────────┐         ┌─────────────────────────────────────────────┐
  │ mnt     the host's            │ unshare │ mnt     new: every mount private            │
  │ uts     the host's            │ ──────▶ │ uts     new (lesson 4)                      │
  │ ipc     the host's            │         │ ipc     new (lesson 4)                      │
  │ net     the host's            │         │ net     new (lesson 5)                      │
  │ pid     the host's            │ --fork  │ pid     new: the init is PID 1 (lesson 3)   │
  │ cgroup  the host's            │         │ cgroup  new (lesson 9)                      │
  │ user    the host's ───────────┼─────────┼───────▶ shared with the host (lesson 6)     │
  │ time    the host's ───────────┼─────────┼───────▶ shared with the host (lesson 4)     │
  └───────────────────────────────┘         └─────────────────────────────────────────────┘
`.slice(1, -1);

/** The box's mount tree before and after pivot_root. */
export const pivot = String.raw`
  the box's mounts, before pivot_root            after pivot_root $ROOTFS $ROOTFS/.oldroot
  /                the host's root               /              the rootfs (busybox)
  └─ $ROOTFS       bind-mounted onto itself      ├─ proc        the box's own proc
     ├─ proc       the box's own proc            ├─ mnt         the volume ($WORK/volume)
     ├─ mnt        the volume ($WORK/volume)     └─ .oldroot    the host's root, still reachable:
     └─ .oldroot   an empty directory                           the next step detaches it
`.slice(1, -1);
