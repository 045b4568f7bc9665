// Lesson 6's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** The uid map the step writes: one line, three numbers, a range of 65536 uids. */
export const uidMap = String.raw`
  /proc/$UBOX/uid_map (and gid_map):   0  100000  65536     (inside, outside, how many)

  inside the box's user namespace           on the host (the initial user namespace)
  ┌─────────────────────────────┐           ┌─────────────────────────────┐
  │ uid 0      (root)           │ ────────▶ │ uid 100000                  │
  │ uid 1                       │ ────────▶ │ uid 100001                  │
  │ …                           │           │ …                           │
  │ uid 65535                   │ ────────▶ │ uid 165535                  │
  └─────────────────────────────┘           └─────────────────────────────┘
  an outside uid with no line in the map (the host's root: 0) shows inside as 65534, nobody
`.slice(1, -1);
