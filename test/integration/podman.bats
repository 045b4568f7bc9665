#!/usr/bin/env bats
# A real engine drives boxlab: podman (with conmon) runs containers through bin/boxlab-runtime
# as it would through runc. podman's storage, run and temporary directories are the test's own.
load helpers

setup() {
  requires_root
  if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
    skip "needs podman and conmon (bash scripts/provision.sh installs them)"
  fi
  run_fixtures
  T="$BATS_TEST_TMPDIR/podman"
  RT="$ROOT/bin/boxlab-runtime"
  # What this host's runtimes need: no filter where setpriv cannot apply one (boxlab refuses
  # to start without it); runc also needs rlimits within this host's hard limits.
  # (--rootfs last: it is podman's flag that the next word is a directory, not an image.)
  # podman asks for 1048576 open files: a host whose hard limit is lower refuses to raise it,
  # to runc and to boxlab-runtime alike.
  OPTS=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
  [ "${#SECCOMP[@]}" = 0 ] || OPTS+=(--security-opt seccomp=unconfined)
  OPTS+=(--rootfs "$R")
}

teardown() {
  [ "$(id -u)" = 0 ] && [ -n "${T:-}" ] || return 0
  pm "$RT" rm --all --force >/dev/null 2>&1 || true
  # podman's own leftovers: the private mount of its storage, and its cgroupfs parents.
  umount "$T/storage/overlay" 2>/dev/null || true
  local d
  for d in /sys/fs/cgroup/*/libpod_parent; do
    [ -d "$d" ] || continue
    rmdir "$d/conmon" 2>/dev/null || true
    rmdir "$d" 2>/dev/null || true
  done
  boxlab reset >/dev/null || true
}

# podman with runtime $1, everything it keeps under $T.
pm() {
  local rt=$1
  shift
  podman --root "$T/storage" --runroot "$T/run" --tmpdir "$T/tmp" --cgroup-manager cgroupfs --events-backend file --runtime "$rt" "$@"
}

@test "podman run --rm through boxlab-runtime: the output, and exit codes, pass through" {
  run pm "$RT" run --rm "${OPTS[@]}" /bin/sh -c 'echo hi; test -x /.boxlab/busybox && echo "built by boxlab"'
  assert_success
  assert_line hi
  # boxlab's tools layer is in the root: boxlab built this box, not runc.
  assert_line 'built by boxlab'
  run pm "$RT" run --rm "${OPTS[@]}" /bin/sh -c 'exit 3'
  assert_failure 3
  assert_host_clean
}

@test "podman run -d, ps, logs, exec, kill, stop (TERM, then KILL after the timeout), rm through boxlab-runtime" {
  id=$(pm "$RT" run -d "${OPTS[@]}" /bin/sh -c 'echo started; trap "echo got TERM" TERM; while :; do sleep 0.1; done')
  run pm "$RT" ps --format '{{.ID}} {{.Status}}'
  assert_output --regexp "^${id:0:12} Up"
  for ((i = 0; i < 100; i++)); do pm "$RT" logs "$id" | grep -q started && break; sleep 0.05; done
  run pm "$RT" logs "$id"
  assert_line started
  # TERM is caught by the command: stop waits its timeout, then kills.
  start=$SECONDS
  pm "$RT" stop -t 2 "$id"
  [ $((SECONDS - start)) -ge 2 ] || fail "stop returned before its 2 s timeout"
  run pm "$RT" logs "$id"
  assert_line 'got TERM'
  run pm "$RT" inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$id"
  assert_output 'exited 137'
  pm "$RT" rm "$id"
  # exec: conmon calls the runtime's exec --process FILE --detach; output and status come back.
  id=$(pm "$RT" run -d "${OPTS[@]}" /bin/sleep 100)
  # shellcheck disable=SC2016 # expanded in the box
  run pm "$RT" exec "$id" /bin/sh -c 'echo "exec in $(hostname), PID 1 is $(cat /proc/1/comm)"; exit 4'
  assert_failure 4
  assert_output "exec in ${id:0:12}, PID 1 is sleep"
  pm "$RT" rm --force "$id"
  # kill, with a signal by name.
  id=$(pm "$RT" run -d "${OPTS[@]}" /bin/sleep 100)
  pm "$RT" kill --signal KILL "$id"
  pm "$RT" wait "$id" >/dev/null || true
  run pm "$RT" inspect --format '{{.State.Status}}' "$id"
  assert_output exited
  pm "$RT" rm "$id"
  assert_host_clean
}

@test "podman with runc and with boxlab-runtime, side by side: the same capability sets and no_new_privs" {
  probe='grep -E "^(CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status; cat /proc/sys/kernel/hostname >/dev/null && echo hostname-readable'
  run pm runc run --rm "${OPTS[@]}" /bin/sh -c "$probe"
  assert_success
  by_runc=$output
  run pm "$RT" run --rm "${OPTS[@]}" /bin/sh -c "$probe"
  assert_success
  echo "# runc:   $(echo "$by_runc" | tr '\n' ' ')" >&3
  echo "# boxlab: $(echo "$output" | tr '\n' ' ')" >&3
  assert_equal "$output" "$by_runc"
  assert_host_clean
}
