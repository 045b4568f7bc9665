// Lesson 14's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** Who calls whom: engines above, one runtime command line below. */
export const stack = String.raw`
  docker CLI ─▶ dockerd ─▶ containerd ─┐       kubelet ─▶ CRI ─▶ containerd or CRI-O ─┐
                                       │                                               │
  podman (no daemon) ─▶ conmon ────────┼──────── the OCI runtime command line ─────────┘
                                       ▼        create / start / state / kill / delete
                 runc · crun · boxlab-runtime    given a bundle: config.json + rootfs/
`.slice(1, -1);

/** A container's life, as runtime.md names its states. */
export const lifecycle = String.raw`
  create ──▶ [created] ── start ──▶ [running] ── the command ends (or kill) ──▶ [stopped] ── delete
    the box is built;           the script reads a line     the script undoes the box;
    its process waits at        from the FIFO, runs the     its exit status is the
    a FIFO (exec.fifo)          command                     command's
`.slice(1, -1);

/** podman's part and boxlab's. */
export const podman = String.raw`
  podman run ─▶ conmon (a child subreaper: it adopts what its children leave behind)
                  ├─ boxlab-runtime create --bundle B --pid-file P ID   (returns once created)
                  │     └─ bash run script ──▶ box init, then the command   (adopted by conmon)
                  ├─ boxlab-runtime start ID
                  └─ waits for P's exit, writes its status for podman; then delete --force ID
`.slice(1, -1);
