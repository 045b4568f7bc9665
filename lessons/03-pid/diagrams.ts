// Lesson 3's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** Two levels of PID namespace: every box process has a host PID and a box PID. */
export const levels = String.raw`
  the host's PID namespace: the host's ps sees every process below
  ┌──────────────────────────────────────────────────────────────────────────────────┐
  │  PID 1 (the host's init) … boxlab … unshare --fork ($BOX_LAUNCHER)               │
  │                                            │ fork                                │
  │  the box's PID namespace                   ▼                                     │
  │  ┌────────────────────────────────────────────────────────────────────────────┐  │
  │  │ sleep infinity   host PID $BOX      box PID 1   (the box's init)           │  │
  │  │ sleep 1000       host PID $WORKER   box PID n   (the worker, via nsenter)  │  │
  │  └────────────────────────────────────────────────────────────────────────────┘  │
  └──────────────────────────────────────────────────────────────────────────────────┘
  /proc/$WORKER/status  NSpid: $WORKER n   (one PID per level, the host's first)
`.slice(1, -1);

/** An orphan is reparented to the namespace's init, which never reaps it. */
export const orphans = String.raw`
  before: a shell started from outside (nsenter)     after the shell exits, and SIGTERM
  PID 1  sleep infinity                              PID 1  sleep infinity   (never calls wait())
                                                      └─ sleep 1000   $ORPHAN, PPid: $BOX
  nsenter ─ sh -c 'sleep 1000 & echo $!'  exits          SIGTERM ─▶ it dies ─▶ State: Z (zombie)
             └─ sleep 1000   orphaned ─▶ adopted                      nobody reaps it
`.slice(1, -1);
