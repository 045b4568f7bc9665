#!/usr/bin/env bats
# Interrupted runs leave the host as it was: SIGINT at any step cleans up at once; after
# SIGKILL the box dies with boxlab within a second and `reset` removes the rest.
load helpers

setup() {
  requires_root
  keep_escape_files
}
teardown() { [ "$(id -u)" != 0 ] || boxlab reset >/dev/null || true; }

sigint_at_every_step() {
  local lesson=$1 steps=$2 n
  shift 2
  for ((n = 1; n <= steps; n++)); do
    interrupt_at_step "$lesson" "$n" INT "$@"
    # shellcheck disable=SC2154 # out: set by interrupt_at_step (helpers.bash)
    [ "$status" = 130 ] || [ "$status" = 0 ] || fail "lesson $lesson, SIGINT at step $n: exit $status: $(grep -E '"type":"(end|cleanup)"' "$out" | grep -v '"code":0,"stdout"' | cut -c1-400)"
    assert_host_clean
  done
}

@test "SIGINT at each step of lesson 1 leaves nothing behind" { sigint_at_every_step 1 3; }
@test "SIGINT at each step of lesson 2 leaves nothing behind" { sigint_at_every_step 2 8; }
@test "SIGINT at each step of lesson 3 leaves nothing behind" { sigint_at_every_step 3 6; }
@test "SIGINT at each step of lesson 4 leaves nothing behind" { sigint_at_every_step 4 4; }

@test "SIGINT at each step of lesson 5 leaves nothing behind" { sigint_at_every_step 5 8; }

@test "SIGINT at each step of lesson 6 leaves nothing behind" { sigint_at_every_step 6 6; }
@test "SIGINT at each step of lesson 6 --rootless leaves nothing behind" { sigint_at_every_step 6 5 --rootless; }

@test "SIGKILL during lesson 6 --rootless: the unprivileged boxes die with boxlab" {
  interrupt_at_step 6 3 KILL --rootless
  assert_equal "$status" 137
  assert_started_pids_die_within_1s
  run boxlab reset
  assert_success
  assert_host_clean
}

@test "SIGINT at each step of lesson 7 leaves nothing behind" { sigint_at_every_step 7 15; }
@test "SIGINT at each step of lesson 8 leaves nothing behind" { sigint_at_every_step 8 5; }
@test "SIGINT at each step of lesson 9 leaves no cgroup behind" { sigint_at_every_step 9 12; }

@test "SIGINT at each step of lesson 10 leaves no overlay mount behind" { sigint_at_every_step 10 7; }
@test "SIGINT at each step of lesson 11 leaves nothing behind" { sigint_at_every_step 11 6; }

@test "SIGINT at each step of lesson 12 leaves no cgroup, box or work dir behind" { sigint_at_every_step 12 13; }
@test "SIGINT at each step of lesson 13 leaves no box, registry or work dir behind" { sigint_at_every_step 13 6; }
@test "SIGINT at each step of lesson 14 leaves no container, podman storage or cgroup behind" { sigint_at_every_step 14 7; }

@test "SIGKILL during lesson 14's podman container: reset removes the container, conmon and podman's storage" {
  requires podman
  interrupt_at_step 14 7 KILL
  assert_equal "$status" 137
  run boxlab reset
  assert_success
  assert_host_clean
}

@test "SIGKILL during lesson 10 with two overlays mounted: reset unmounts them and removes the uppers" {
  interrupt_at_step 10 7 KILL
  assert_equal "$status" 137
  run grep -c ' - overlay boxlab-' /proc/self/mountinfo
  assert_output 2
  run boxlab reset
  assert_success
  assert_host_clean
  run grep -c ' - overlay boxlab-' /proc/self/mountinfo
  assert_output 0
}

@test "SIGKILL during lesson 9's fork bomb: reset kills what is left and removes every cgroup" {
  interrupt_at_step 9 5 KILL
  assert_equal "$status" 137
  run boxlab reset
  assert_success
  assert_output --partial 'removed cgroup /sys/fs/cgroup/'
  assert_host_clean
}

# SIGKILL once the check titled $2 (a regex) has passed in lesson $1: the host file the
# break-it changed is still changed (assert_host_clean then proves reset wrote it back).
kill_after_check() {
  local lesson=$1 title=$2 i
  out="$BATS_TEST_TMPDIR/run-$lesson-kill.json"
  # --pace: the next step (which may restore the file itself) waits, and the kill lands first.
  node "$ROOT/bin/boxlab.js" lesson "$lesson" --yes --json --pace 500 >"$out" 2>&1 &
  local pid=$!
  for ((i = 0; i < 3000; i++)); do
    grep -qE "\"title\":\"$title\".*\"ok\":true" "$out" && break
    sleep 0.01
  done
  kill -KILL "$pid" 2>/dev/null || true
  status=0
  wait "$pid" || status=$?
}

@test "SIGKILL after lesson 7's core_pattern break-it: reset writes the host's value back" {
  local before
  before=$(cat /proc/sys/kernel/core_pattern)
  kill_after_check 7 'and the host reads that value'
  assert_equal "$status" 137
  run cat /proc/sys/kernel/core_pattern
  assert_output --regexp '^core-boxlab-[0-9a-f]+-no-caps$'
  run boxlab reset
  assert_success
  assert_output --partial 'the text of /proc/sys/kernel/core_pattern'
  run cat /proc/sys/kernel/core_pattern
  assert_output "$before"
  assert_host_clean
}

@test "SIGKILL after lesson 9's release_agent break-it: reset writes the host's value back" {
  grep -qE '^[0-9]+:freezer:/$' /proc/self/cgroup && [ -e /sys/fs/cgroup/freezer/release_agent ] ||
    skip "no cgroup v1 freezer hierarchy whose root is boxlab's group: lesson 9 skips the break-it"
  local before
  before=$(cat /sys/fs/cgroup/freezer/release_agent)
  kill_after_check 9 'on the host, /sys/fs/cgroup/freezer/release_agent holds the box.s program'
  assert_equal "$status" 137
  run cat /sys/fs/cgroup/freezer/release_agent
  assert_output --regexp '^/var/lib/boxlab/work/[0-9a-f]+/rootfs/escape.sh$'
  run boxlab reset
  assert_success
  assert_output --partial 'the text of /sys/fs/cgroup/freezer/release_agent'
  run cat /sys/fs/cgroup/freezer/release_agent
  assert_output "$before"
  assert_host_clean
}

@test "a learner's shell in a weak box changes core_pattern: the end writes it back, and so does reset after SIGKILL" {
  local before i
  before=$(cat /proc/sys/kernel/core_pattern)
  # Lesson 4's box keeps full root and a writable /proc/sys (lesson 7 takes them away).
  run bash -c "printf 'echo core-from-a-shell > /proc/sys/kernel/core_pattern\nexit\n' | node '$ROOT/bin/boxlab.js' lesson 4 --yes --shell"
  assert_success
  assert_output --partial "cleanup: tee /proc/sys/kernel/core_pattern <<< "
  run cat /proc/sys/kernel/core_pattern
  assert_output "$before"

  local log="$BATS_TEST_TMPDIR/shell.out"
  mkfifo "$BATS_TEST_TMPDIR/in"
  node "$ROOT/bin/boxlab.js" lesson 4 --yes --shell <"$BATS_TEST_TMPDIR/in" >"$log" 2>&1 &
  local pid=$!
  exec 4>"$BATS_TEST_TMPDIR/in"
  echo 'echo core-from-a-shell > /proc/sys/kernel/core_pattern' >&4
  for ((i = 0; i < 1000; i++)); do [ "$(cat /proc/sys/kernel/core_pattern)" = core-from-a-shell ] && break; sleep 0.01; done
  kill -KILL "$pid"
  wait "$pid" || true
  exec 4>&-
  run cat /proc/sys/kernel/core_pattern
  assert_output core-from-a-shell
  run boxlab reset
  assert_success
  assert_output --partial 'the text of /proc/sys/kernel/core_pattern'
  assert_host_clean
}

@test "SIGKILL during lesson 5's bridge step: the veths die with the boxes, reset removes the bridge" {
  interrupt_at_step 5 8 KILL
  assert_equal "$status" 137
  local i
  for ((i = 0; i < 100; i++)); do [ ! -e /sys/class/net/boxlab-h0 ] && break; sleep 0.01; done
  run boxlab reset
  assert_success
  assert_host_clean
  run ip route
  refute_output --partial '203.0.113.'
}

@test "SIGKILL during lesson 4 (a host IPC segment exists): reset removes it" {
  interrupt_at_step 4 3 KILL
  assert_equal "$status" 137
  run awk '$4 == 31337' /proc/sysvipc/shm
  assert_output --regexp '31337'
  run boxlab reset
  assert_success
  assert_output --partial 'removed shared memory segment'
  assert_host_clean
}

@test "SIGINT exits 130 and says it was interrupted" {
  interrupt_at_step 2 4 INT
  assert_equal "$status" 130
  run tail -n 1 "$out"
  assert_output --regexp '"type":"end".*"code":130'
}

@test "SIGKILL: the box dies with boxlab within a second, reset removes the rest" {
  interrupt_at_step 2 6 KILL
  assert_equal "$status" 137
  assert_started_pids_die_within_1s
  # Host-side mounts and the work dir outlive a SIGKILL: that is what reset is for.
  run boxlab reset
  assert_success
  assert_output --partial 'removed mount /var/lib/boxlab/work/'
  assert_host_clean
  run boxlab reset
  assert_success
  assert_output 'nothing to remove: the host is clean of boxlab'
}

@test "SIGTERM to a --script run: its trap cleans up" {
  # (A background job of a non-interactive shell ignores SIGINT, so the test sends TERM;
  # the script traps both.)
  boxlab lesson 2 --script >"$BATS_TEST_TMPDIR/l2.sh"
  # Pause the script once it has said its box's PID, and interrupt it there, in a plain
  # command. (Pausing before the line the test waits for left the signal to land anywhere;
  # landing while bash parses a $( ) made bash 5.2 fail to run the INT/TERM trap: exit 2, not
  # 130, though the EXIT trap still cleaned up.)
  sed -i 's/^boxlab_say "BOX=.*/&\nsleep 2/' "$BATS_TEST_TMPDIR/l2.sh"
  grep -q '^sleep 2$' "$BATS_TEST_TMPDIR/l2.sh" || fail "the script has no BOX= line to pause after"
  bash "$BATS_TEST_TMPDIR/l2.sh" >"$BATS_TEST_TMPDIR/l2.out" 2>&1 &
  local pid=$! i
  for ((i = 0; i < 500; i++)); do grep -q '^BOX=' "$BATS_TEST_TMPDIR/l2.out" && break; sleep 0.01; done
  grep -q '^BOX=' "$BATS_TEST_TMPDIR/l2.out" || fail "the script never made its box"
  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  [ "$status" = 130 ] || { tail -15 "$BATS_TEST_TMPDIR/l2.out"; fail "exit $status"; }
  assert_host_clean
}

@test "a started process whose PID never reached a state file: reset finds it by its run's mark" {
  # As if boxlab were SIGKILLed right after spawning a box, before recording its PID.
  BOXLAB_RUN=0badc0de setsid sleep 300 </dev/null >/dev/null 2>&1 &
  local pid=$!
  run boxlab reset
  assert_success
  assert_output --partial "removed process $pid"
  pid_gone "$pid" || fail "process $pid still alive after reset"
  assert_host_clean
}

@test "reset leaves a running lesson alone" {
  boxlab lesson 2 --yes --json --pace 400 >"$BATS_TEST_TMPDIR/live.json" 2>&1 &
  local pid=$! i
  for ((i = 0; i < 500; i++)); do [ -n "$(find /run/boxlab -name '*.json' 2>/dev/null)" ] && grep -q '"index":2' "$BATS_TEST_TMPDIR/live.json" && break; sleep 0.01; done
  local run_id box
  run_id=$(basename "$(find /run/boxlab -maxdepth 1 -name '*.json' | head -1)" .json)
  box=$(grep -l "BOXLAB_RUN=$run_id" /proc/[0-9]*/environ 2>/dev/null | head -1 | cut -d/ -f3)
  [ -n "$box" ] || fail "no process carries the live run's mark BOXLAB_RUN=$run_id"
  run boxlab reset
  assert_success
  assert_output --partial 'left alone'
  [ -e "/proc/$box" ] || fail "reset killed process $box of the live run $run_id"
  kill -INT "$pid"
  wait "$pid" || true
  assert_host_clean
}
