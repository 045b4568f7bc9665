// Lesson 12's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** boxlab run as a pipeline: each step a lesson, each a field of config.json. */
export const run = String.raw`
  boxlab run --hostname lesson12 --memory 64m --pids 64 --cpus 0.5 -v PROBE:/probe:ro IMAGE
  ┌──────────────┐   ┌──────────────┐   ┌──────────────────┐   ┌───────────────────────┐
  │ image (11)   │──▶│ work dir,    │──▶│ cgroup (9)       │──▶│ namespaces (2-5)      │
  │ layers       │   │ upper (1,10) │   │ linux.resources  │   │ linux.namespaces      │
  └──────────────┘   └──────────────┘   └──────────────────┘   └───────────┬───────────┘
  ┌──────────────┐   ┌──────────────┐   ┌──────────────────┐   ┌───────────┴───────────┐
  │ pivot_root   │◀──│ hostname, lo │◀──│ masked paths (7) │◀──│ overlay root (10, 11),│
  │ (2) root.path│   │ (4, 5)       │   │ maskedPaths      │   │ /proc /sys /dev (2,3) │
  └──────┬───────┘   └──────────────┘   └──────────────────┘   └───────────────────────┘
  ┌──────┴───────┐   ┌─────────────────────────────────────────────────────────────────┐
  │ seccomp (8)  │──▶│ the payload: bounding set, no_new_privs, execve (6, 7): process │
  └──────────────┘   └─────────────────────────────────────────────────────────────────┘
`.slice(1, -1);

/** The same bundle, two runtimes, one probe. */
export const bundle = String.raw`
  boxlab spec … > $WORK/bundle/config.json      $WORK/bundle/rootfs (the busybox rootfs) + probe
                       │                                    │
                       └─────────────────┬──────────────────┘
                                         ▼
                 ┌──────────────────────────┬──────────────────────────────┐
                 │ runc run boxlab-$RUN_ID  │ boxlab run --bundle …        │
                 └────────────┬─────────────┴──────────────┬───────────────┘
                              └──── the probe's lines ─────┘
                         compared: the same, namespace inodes aside
`.slice(1, -1);
