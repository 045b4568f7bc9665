// Lesson 4's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** Each IPC namespace has its own table of System V objects. */
export const ipc = String.raw`
  the host's IPC namespace                      the box's IPC namespace
  ┌──────────────────────────────────┐          ┌──────────────────────────────────┐
  │ /proc/sysvipc/shm                │          │ /proc/sysvipc/shm                │
  │   a segment of 31337 bytes       │  ✗  ✗    │   a segment of 31338 bytes       │
  │   (ipcmk, on the host)           │ no path  │   (the host's ipcmk, nsenter     │
  │                                  │          │    --ipc into the box)           │
  └──────────────────────────────────┘          └──────────────────────────────────┘
  shmget(2) keys and ids name objects in the caller's IPC namespace: each side sees its own
`.slice(1, -1);

/** A time namespace offsets two clocks; the wall clock is one for the whole machine. */
export const clocks = String.raw`
                      the host                   $TIMED (unshare --time --boottime 86400
                                                          --monotonic 86400)
  CLOCK_BOOTTIME      uptime U s         ──▶     U + 86400 s   (/proc/$TIMED/timens_offsets)
  CLOCK_MONOTONIC     M s                ──▶     M + 86400 s
  CLOCK_REALTIME      one clock for every namespace: a process with CAP_SYS_TIME sets the
                      host's (dropping the capability, lesson 7, is what prevents it)
`.slice(1, -1);
