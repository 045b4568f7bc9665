// Lesson 9's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** The groups this lesson makes, and the limit each one holds. */
export const tree = String.raw`
  /sys/fs/cgroup        (v2: one tree; v1: the same tree once per controller: memory, pids, cpu)
  └─ boxlab-$RUN_ID
     ├─ box             the box's init: memory 256 MiB, pids.max 100
     ├─ memory-hog      memory 32 MiB: a writer of 100 MB is OOM-killed
     ├─ fork-bomb       pids.max 16: fork(2) fails with EAGAIN at the limit
     └─ busy-loop       cpu 20000 µs every 100000 µs (cpu.max, or cfs_quota_us/cfs_period_us)
  a process is in one group per hierarchy: writing its PID to cgroup.procs moves it
`.slice(1, -1);
