# Shared by every bats file: the boxlab command, root checks, and the host-is-clean assertion.
ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
load "$ROOT/node_modules/bats-support/load"
load "$ROOT/node_modules/bats-assert/load"

# Progress and the host confirmation go to a throwaway place, never the learner's.
export BOXLAB_STATE_HOME="${BATS_FILE_TMPDIR:-/tmp}/state"

boxlab() { node "$ROOT/bin/boxlab.js" "$@"; }

# The test file's own image cache (its setup_file and setup both call it; the first call, as
# root, puts the offline busybox image in it).
own_image_cache() {
  export BOXLAB_CACHE_DIR="$BATS_FILE_TMPDIR/cache"
  [ "$(id -u)" = 0 ] && [ ! -d "$BOXLAB_CACHE_DIR/images" ] && boxlab fetch --busybox >/dev/null
  return 0
}

# What a test needs of the host, as runc's bats says it: `requires root seccomp_filter runc`.
# Each missing need skips the test with its reason; a need no host has is a mistake in the test.
#   root            the lessons change the kernel's state
#   seccomp_filter  setpriv --seccomp-filter (util-linux 2.41; the VM stage has it)
#   no_seccomp_filter  the opposite: what a host without it does
#   cgroup_v2       a pure cgroup v2 hierarchy at /sys/fs/cgroup (the VM stage)
#   apparmor        a kernel that enforces AppArmor, securityfs mounted (the VM stage)
#   no_apparmor     the opposite
#   any other word  a command of that name on PATH (runc, podman, docker-registry, skopeo ...)
requires() {
  local need
  for need in "$@"; do
    case "$need" in
      root) [ "$(id -u)" = 0 ] || skip "needs root: the lessons change the kernel's state (run npm test as root)" ;;
      seccomp_filter) has_seccomp_filter || skip "needs setpriv --seccomp-filter (util-linux 2.41): the VM stage runs this" ;;
      no_seccomp_filter) has_seccomp_filter && skip "this host's setpriv applies seccomp filters" ;;
      cgroup_v2) [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || skip "needs cgroup v2 at /sys/fs/cgroup: the VM stage runs this" ;;
      apparmor) has_apparmor || skip "this kernel runs no AppArmor: the VM stage runs this" ;;
      no_apparmor) has_apparmor && skip "this kernel runs AppArmor" ;;
      *[!a-z0-9_-]*) fail "requires: no such need: $need" ;;
      *) command -v "$need" >/dev/null || skip "$need is not installed (bash scripts/provision.sh installs what the tests use)" ;;
    esac
  done
  return 0
}
requires_root() { requires root; }

# The one test of setpriv's filter support, as boxlab's own (src/kernel/setpriv.ts) reads it.
has_seccomp_filter() { setpriv --help 2>/dev/null | grep -q -- --seccomp-filter; }
has_apparmor() { [ -d /sys/kernel/security/apparmor ]; }

# Runs its arguments as nobody (uid 65534). A checkout under /root (mode 0700 on Debian) is out
# of nobody's reach: the test is skipped then, with the reason, rather than failing on EACCES.
as_nobody() {
  setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$ROOT/bin/boxlab.js" ||
    skip "uid 65534 cannot read $ROOT (a checkout under /root?): clone elsewhere to run this test"
  run setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# Nothing boxlab-owned is left: mounts, work directories, state files, boxes, and (for the
# lessons that make them) cgroups, network links and named network namespaces.
assert_host_clean() {
  local mounts dirs states procs cgroups links netns shm
  mounts=$(grep -c ' /var/lib/boxlab/work/' /proc/self/mountinfo || true)
  dirs=$(find /var/lib/boxlab/work -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  # Run state files, box records, address leases, a practice session's files.
  states=$(find /run/boxlab \( -name '*.json' -o -name '*.box' -o -name '*.lease' -o -name '*.sh' -o -name 'practice-*' \) 2>/dev/null | wc -l)
  procs=$(boxlab_processes | wc -l)
  cgroups=$(find /sys/fs/cgroup -maxdepth 3 -type d -name 'boxlab*' 2>/dev/null | wc -l)
  links=$(ip -o link show 2>/dev/null | grep -c ': boxlab' || true)
  netns=$(ip netns list 2>/dev/null | grep -c '^boxlab' || true)
  # Lesson 4's host segment is 31337 bytes (its box segment dies with the box).
  shm=$(awk '$4 == 31337' /proc/sysvipc/shm | wc -l)
  if [ "$mounts$dirs$states$procs$cgroups$links$netns$shm" != 00000000 ]; then
    grep ' /var/lib/boxlab/work/' /proc/self/mountinfo >&2 || true
    find /var/lib/boxlab/work -mindepth 1 -maxdepth 1 >&2 2>/dev/null
    find /run/boxlab \( -name '*.json' -o -name '*.box' -o -name '*.lease' \) >&2 2>/dev/null || true
    describe_leftover_processes >&2
    fail "left behind: $mounts mounts, $dirs work dirs, $states state files, $procs processes, $cgroups cgroups, $links links, $netns netns, $shm shm segments"
  fi
  # The host files a break-it or a weak box may change hold what they held before the test.
  if [ -f "$BATS_TEST_TMPDIR/escape-files" ] && ! diff "$BATS_TEST_TMPDIR/escape-files" <(escape_files) >&2; then
    fail "a host file a box can change was not written back (< before the test, > now)"
  fi
}

# kernel.core_pattern and the release_agent of each cgroup v1 hierarchy, one "path: text" line
# each: the host files a box with too much privilege can change, that the kernel runs as root.
escape_files() {
  local f
  for f in /proc/sys/kernel/core_pattern $(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup") print $5 "/release_agent" }' /proc/self/mountinfo); do
    if [ -e "$f" ]; then printf '%s: %s\n' "$f" "$(cat "$f")"; fi
  done
}

# Kept before a test, so that assert_host_clean can compare.
keep_escape_files() { escape_files >"$BATS_TEST_TMPDIR/escape-files"; }

# Each leftover process, with what tells where it came from (its parent, real uid, age, run
# mark, user namespace); then it is killed, by its PID, so that one test's leak fails that
# test alone and not every test after it.
describe_leftover_processes() {
  local pid rest
  boxlab_processes | while read -r pid rest; do
    echo "$pid $rest"
    echo "  $(ps -o ppid=,ruid=,euid=,etimes=,stat= -p "$pid" 2>/dev/null | xargs | sed 's/^/ppid ruid euid age(s) state: /')"
    echo "  mark: $(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep '^BOXLAB_RUN=' || echo none); userns: $(readlink "/proc/$pid/ns/user" 2>/dev/null)"
    echo "  cgroup: $(grep -m1 -E ':(memory|pids):|^0::' "/proc/$pid/cgroup" 2>/dev/null)"
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# Live processes that boxlab starts: boxes (unshare ... sleep infinity), chroot sleepers, and
# anything a lesson started (marked BOXLAB_RUN=RUN_ID in its environment).
boxlab_processes() {
  # Two processes in all, not three per process on the host: grep -z reads each environ's
  # entries as lines; ps lists the rest (a zombie has exited: its parent has yet to reap it).
  local marked pid stat cmd
  marked=" $(grep -lzs '^BOXLAB_RUN=' /proc/[0-9]*/environ | cut -d/ -f3 | tr '\n' ' ')"
  while read -r pid stat cmd; do
    [[ $stat == Z* ]] && continue
    if [[ $marked == *" $pid "* ]]; then
      echo "$pid $cmd (marked)"
      continue
    fi
    case "$cmd " in
      *'--kill-child=KILL'* | 'sleep infinity ' | 'sleep 1000 ' | *'/var/lib/boxlab/work/'*) echo "$pid $cmd" ;;
    esac
  done < <(ps -eo pid=,stat=,args=)
}

# assert_output_flat TEXT: TEXT appears in the output once a shown command's line breaks and
# indentation are undone (the terminal wraps a command to its width, and the width a path
# takes depends on where the clone is).
assert_output_flat() {
  local flat
  # shellcheck disable=SC2154 # $output is set by bats' run
  flat=$(printf '%s' "$output" | tr -s ' \n' '  ')
  [[ $flat == *"$1"* ]] || fail "output (lines joined) does not contain: $1"
}

# A check in the --json output of the last `run` passed: its title (a regex), then "ok":true.
assert_check_passed() { assert_line --regexp "\"title\":\"$1\".*\"ok\":true"; }

# PIDs that a --json run reported for the processes it started.
started_pids() { grep -o '"value":"[0-9]*"' "$1" | grep -o '[0-9]*'; }

# Every process the run in $out reported starting is gone within a second.
assert_started_pids_die_within_1s() {
  local pids i gone p
  pids=$(started_pids "$out")
  [ -n "$pids" ] || fail "the run reported no PIDs"
  for ((i = 0; i < 100; i++)); do
    gone=1
    for p in $pids; do pid_gone "$p" || gone=0; done
    [ "$gone" = 1 ] && return 0
    sleep 0.01
  done
  fail "still alive 1 s after SIGKILL: $pids"
}

# Is PID gone (or a zombie waiting for its reaper)?
pid_gone() { [ ! -e "/proc/$1" ] || grep -qs '^State:.*Z' "/proc/$1/status"; }

# Run lesson $1 with --json (and flags from $4 on), send signal $3 once its own step $2 has
# begun; sets $status and $out.
interrupt_at_step() {
  local lesson=$1 step=$2 sig=$3 i
  shift 3
  out="$BATS_TEST_TMPDIR/run-$lesson-$step-$sig.json"
  node "$ROOT/bin/boxlab.js" lesson "$lesson" --yes --json --pace 150 "$@" >"$out" 2>&1 &
  local pid=$!
  for ((i = 0; i < 1000; i++)); do
    [ "$(grep '"type":"step"' "$out" | grep -vc '"quiet":true')" -ge "$step" ] && break
    sleep 0.01
  done
  # On a last, quick step the run may have finished already: then it exited 0 by itself.
  kill "-$sig" "$pid" 2>/dev/null || true
  status=0
  # shellcheck disable=SC2034 # status and out are this helper's results, read by the test
  wait "$pid" || status=$?
}

# For the tests of boxlab run: R, the busybox rootfs; SECCOMP, the flags a run needs here (a
# run fails closed where setpriv cannot apply a filter, util-linux < 2.41).
# For a file whose tests run boxes: the busybox rootfs and three-layer image built once
# (call from setup_file), and a reset after each test (call from teardown).
fetch_busybox_once() {
  [ "$(id -u)" = 0 ] || return 0
  node "$ROOT/bin/boxlab.js" fetch --busybox --quiet >/dev/null
}
reset_after_test() { [ "$(id -u)" != 0 ] || boxlab reset >/dev/null || true; }

run_fixtures() {
  # shellcheck disable=SC2012,SC2034 # R and SECCOMP are read by the tests; the cache's names are boxlab's own
  R=$(ls -d /var/cache/boxlab/rootfs/busybox-* | head -1)
  # shellcheck disable=SC2034 # read by the tests
  SECCOMP=()
  # shellcheck disable=SC2034 # read by the tests
  has_seccomp_filter || SECCOMP=(--seccomp unconfined)
}
