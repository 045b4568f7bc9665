// Lesson 10's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** An overlay: read-only lowers, one writable upper, one merged view. */
export const stack = String.raw`
                  $WORK/merged-a: what the box sees, each name from the highest layer holding it
                  ┌────────────────────────────────────────────────────────────────────────┐
  upperdir  ───▶  │ $WORK/upper-a     read-write: copy-ups, whiteouts, opaque directories  │
                  ├────────────────────────────────────────────────────────────────────────┤
  lowerdir  ───▶  │ $WORK/layer-app   read-only: etc/motd, srv/www                         │
  (top first)     │ $ROOTFS_CACHE     read-only: the busybox rootfs every run shares       │
                  └────────────────────────────────────────────────────────────────────────┘
  workdir: $WORK/work-a, overlayfs' scratch space, on the same filesystem as the upper
`.slice(1, -1);

/** Two boxes share the lowers; each writes to its own upper only. */
export const twoBoxes = String.raw`
          $WORK/merged-a                              $WORK/merged-b
  ┌──────────────────────────────┐            ┌──────────────────────────────┐
  │ $WORK/upper-a  (box a only)  │            │ $WORK/upper-b  (box b only)  │
  └───────────────┬──────────────┘            └──────────────┬───────────────┘
                  └──────────────────────┬───────────────────┘
                          ┌──────────────┴───────────────┐
                          │ $WORK/layer-app              │   shared, read-only:
                          │ $ROOTFS_CACHE                │   stored once on disk
                          └──────────────────────────────┘
`.slice(1, -1);
