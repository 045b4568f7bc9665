// How long each lesson's commands take, in seconds: measured once per lesson on this project's
// machine (Debian 12, kernel 6.x, cgroup v1 hybrid, 2 cores) with
//   COLUMNS=100 flock /tmp/boxlab-kernel.lock node bin/boxlab.js lesson N --yes
// and read from its last line ("all checks passed in S s"). Measure again when a lesson changes much.
export const RUN_SECONDS: Record<string, number> = {
  '1': 0.54,
  '2': 1.02,
  '3': 0.8,
  '4': 0.8,
  '5': 4.94,
  '6': 3.56,
  '7': 3.42,
  '8': 2.93,
  '9': 4.38,
  '10': 1.23,
  '11': 4.94,
  '12': 7.85,
  '13': 11,
  '14': 6,
  // 15 cannot run here (no AppArmor: 0.2 s, every step skipped, nothing replayed). An estimate
  // for a host where it runs: its replay of lessons 1-7, measured here before it was skipped.
  // (The TCG VM's 3 min says nothing of a real machine.)
  '15': 4.46,
};
