#!/usr/bin/env bats
# shellcheck disable=SC2016 # a single-quoted $ here is the box's shell's to expand, or expected text
# Practice mode on the real kernel: every exercise proven both ways, grading a learner's file,
# a learner's session in a terminal, and interrupts at each phase leaving nothing behind.
load helpers

setup() {
  requires_root
  export BOXLAB_STATE_HOME="$BATS_TEST_TMPDIR/state" BOXLAB_HOST_OK=1
  HOST_NAME=$(cat /proc/sys/kernel/hostname)
}
teardown() {
  [ "$(id -u)" = 0 ] || return 0
  [ -z "${SCRIPT_PID:-}" ] || kill -KILL "$SCRIPT_PID" 2>/dev/null || true
  exec 7>&- || true
  boxlab reset >/dev/null || true
  # A failed test must not leave the host renamed (the hostname exercise's wrong attempt).
  [ "$(cat /proc/sys/kernel/hostname)" = "$HOST_NAME" ] || hostname "$HOST_NAME"
}

@test "practice --self-test: every exercise fails as prepared and when empty, passes with its solution; a capture-the-flag's defended box refuses it" {
  run boxlab practice --self-test
  echo "$output"
  assert_success
  assert_line --regexp '^self-test: [0-9]+ exercises proven, 0 defective'
  refute_line --partial '✗'
  assert_host_clean
}

@test "--attempt grades a file: a wrong one exits 1 saying what still differs, and the host's hostname it changed is restored; the right one exits 0" {
  echo 'hostname learner-box' >"$BATS_TEST_TMPDIR/wrong.sh"
  run boxlab practice 4 --exercise hostname --attempt "$BATS_TEST_TMPDIR/wrong.sh"
  assert_failure 1
  assert_line --partial "✗ the host's hostname is unchanged: cat /proc/sys/kernel/hostname: it is learner-box, but $HOST_NAME was expected"
  assert_equal "$(cat /proc/sys/kernel/hostname)" "$HOST_NAME"
  assert_host_clean
  echo 'nsenter --target "$BOX" --uts hostname learner-box' >"$BATS_TEST_TMPDIR/right.sh"
  run boxlab practice 4 --exercise hostname --attempt "$BATS_TEST_TMPDIR/right.sh"
  assert_success
  assert_line --partial 'the checks hold'
  assert_host_clean
  run boxlab progress --json
  assert_output --partial '"solved":["hostname"]'
}

@test "bad input to practice: one line, exit 2" {
  for args in "" "99" "4 --exercise nope" "4 --attempt /etc/hostname" "4 --exercise hostname --attempt /nonexistent" "4 --bogus" "4"; do
    # shellcheck disable=SC2086
    run boxlab practice $args </dev/null
    assert_failure 2
    assert_equal "${#lines[@]}" 1
    assert_output --regexp '^boxlab: '
  done
}

# A learner's terminal: boxlab practice under script(1), typed into through a fifo.
start_practice() {
  OUT="$BATS_TEST_TMPDIR/screen"
  mkfifo "$BATS_TEST_TMPDIR/keys"
  script -qfec "node '$ROOT/bin/boxlab.js' practice $*" /dev/null <"$BATS_TEST_TMPDIR/keys" >"$OUT" 2>&1 &
  SCRIPT_PID=$!
  exec 7>"$BATS_TEST_TMPDIR/keys"
}
type_line() { printf '%s\r' "$1" >&7; }
wait_screen() { # TEXT [TENTHS]
  local i
  for ((i = 0; i < ${2:-300}; i++)); do grep -qF -- "$1" "$OUT" && return 0; sleep 0.1; done
  cat "$OUT" >&2
  fail "never on screen: $1"
}
# boxlab's node process under script(1): a node whose parent or grandparent is script.
boxlab_pid() {
  local d pp ppp
  for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = node ] || continue
    pp=$(awk '{ print $4 }' "$d/stat" 2>/dev/null) || continue
    ppp=$(awk '{ print $4 }' "/proc/$pp/stat" 2>/dev/null) || ppp=
    if [ "$pp" = "$SCRIPT_PID" ] || [ "$ppp" = "$SCRIPT_PID" ]; then echo "${d#/proc/}"; return 0; fi
  done
  return 1
}

@test "a learner in a terminal: a wrong command says what still differs, the right one ticks at the prompt, next moves on, exit leaves and nothing stays" {
  start_practice 4 --exercise hostname
  wait_screen '[4.1 hostname]'
  type_line 'hostname learner-box'
  wait_screen '0 of 2 checks hold'
  type_line 'check'
  wait_screen "it is learner-box, but $HOST_NAME was expected"
  type_line "hostname $HOST_NAME"
  type_line 'hint'
  wait_screen 'Hint 1/3'
  type_line 'nsenter --target "$BOX" --uts hostname learner-box'
  wait_screen '✓ solved: a hostname of its own'
  type_line 'next'
  wait_screen '[4.2 boottime]'
  type_line 'exit'
  wait_screen 'resumes at the first exercise not solved'
  wait "$SCRIPT_PID"
  # shellcheck disable=SC2030 # each test's own: cleared so teardown kills no finished PID
  SCRIPT_PID=
  assert_host_clean
  run boxlab progress
  assert_output --partial '1/2 exercises'
}

@test "interrupts while practising: SIGINT while preparing; Ctrl-C in the shell goes to the shell; SIGTERM and SIGHUP end the shell and clean up; SIGINT during an attempt; SIGKILL, then reset" {
  # SIGINT while the box is being prepared (slowed down to be sure of the moment).
  start_practice 4 --exercise hostname --pace 3000
  wait_screen 'preparing the box'
  kill -INT "$(boxlab_pid)"
  # shellcheck disable=SC2031 # set by start_practice in this same test
  wait "$SCRIPT_PID" || true
  SCRIPT_PID=
  exec 7>&-
  rm "$BATS_TEST_TMPDIR/keys"
  assert_host_clean

  # Ctrl-C at the prompt reaches bash, not boxlab; SIGTERM then ends the session cleanly.
  for sig in TERM HUP; do
    start_practice 4 --exercise boottime
    wait_screen '[4.2 boottime]'
    type_line 'unshare --time --fork --boottime 99 sleep 1000 &'
    printf '\003' >&7
    sleep 1
    boxlab_pid >/dev/null
    kill "-$sig" "$(boxlab_pid)"
    wait "$SCRIPT_PID" || true
    SCRIPT_PID=
    exec 7>&-
    rm "$BATS_TEST_TMPDIR/keys"
    assert_host_clean
  done

  # SIGINT while an attempt runs: the attempt is ended, the state undone, exit 130.
  printf 'unshare --time --fork --boottime 99 sleep 1000 &\nsleep 30\n' >"$BATS_TEST_TMPDIR/slow.sh"
  node "$ROOT/bin/boxlab.js" practice 4 --exercise boottime --attempt "$BATS_TEST_TMPDIR/slow.sh" >/dev/null 2>&1 &
  local pid=$! i
  for ((i = 0; i < 100; i++)); do compgen -G "/run/boxlab/practice-*/attempt.sh" >/dev/null && break; sleep 0.1; done
  sleep 0.5
  kill -INT "$pid"
  status=0
  wait "$pid" || status=$?
  assert_equal "$status" 130
  assert_host_clean

  # SIGKILL: the learner's shell and its sleep outlive boxlab; reset ends them and removes the rest.
  start_practice 4 --exercise boottime
  wait_screen '[4.2 boottime]'
  type_line 'unshare --time --fork --boottime 99 sleep 1000 &'
  sleep 1
  kill -KILL "$(boxlab_pid)"
  sleep 0.5
  run boxlab reset
  assert_success
  assert_host_clean
}
