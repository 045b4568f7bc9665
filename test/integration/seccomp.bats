#!/usr/bin/env bats
# shellcheck disable=SC2016 # a single-quoted $ here is the box's shell's to expand, or expected text
# Programs from `boxlab seccomp compile`, loaded by the real kernel (bwrap --seccomp): the
# denied calls fail with the configured errno, the others work.
load helpers

setup() {
  requires bwrap
  dir="$BATS_TEST_TMPDIR"
}

filtered() { # PROGRAM.bpf COMMAND...: run COMMAND under the filter, every capability kept
  local f=$1
  shift
  bwrap --die-with-parent --cap-add ALL --bind / / --dev /dev --seccomp 3 "$@" 3<"$f"
}

@test "an ERRNO rule returns exactly the configured errno" {
  requires_root
  echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}' >"$dir/eacces.json"
  echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}' >"$dir/eperm.json"
  run boxlab seccomp compile "$dir/eacces.json" -o "$dir/eacces.bpf"
  assert_success
  boxlab seccomp compile "$dir/eperm.json" -o "$dir/eperm.bpf"
  run filtered "$dir/eacces.bpf" mkdir "$dir/x"
  assert_failure
  assert_output --partial 'Permission denied'
  run filtered "$dir/eperm.bpf" mkdir "$dir/x"
  assert_failure
  assert_output --partial 'Operation not permitted'
  [ ! -e "$dir/x" ]
  run filtered "$dir/eperm.bpf" touch "$dir/allowed"
  assert_success
  [ -e "$dir/allowed" ]
}

@test "the lesson profiles deny exactly what they say" {
  requires_root
  boxlab seccomp compile "$ROOT/lessons/08-seccomp/teaching.json" -o "$dir/teaching.bpf"
  for denied in "unshare --mount true" "keyctl show @s" "mount -t tmpfs boxlab-t /mnt"; do
    # shellcheck disable=SC2086 # a command line of plain words, split on purpose
    run filtered "$dir/teaching.bpf" $denied
    assert_failure
  done
  run filtered "$dir/teaching.bpf" sh -c 'mkdir "$1" && rmdir "$1"' sh "$dir/ok"
  assert_success
  boxlab seccomp compile "$ROOT/lessons/08-seccomp/docker-like.json" -o "$dir/docker.bpf"
  run filtered "$dir/docker.bpf" sh -c 'ls / >/dev/null && echo fine'
  assert_success
  assert_output fine
  run filtered "$dir/docker.bpf" unshare --user true
  assert_failure
}

@test "a KILL_PROCESS rule kills: the kernel sends SIGSYS" {
  requires_root
  echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_KILL_PROCESS"}]}' >"$dir/kill.json"
  boxlab seccomp compile "$dir/kill.json" -o "$dir/kill.bpf"
  run filtered "$dir/kill.bpf" mkdir "$dir/y"
  # bwrap reports its child's death by signal 31 (SIGSYS) as exit status 128+31.
  assert_equal "$status" 159
}

@test "disasm reads a compiled program back with syscall names" {
  boxlab seccomp compile "$ROOT/lessons/08-seccomp/teaching.json" -o "$dir/t.bpf"
  run boxlab seccomp disasm "$dir/t.bpf"
  assert_success
  assert_line --regexp 'jeq #[0-9]+ +; unshare:'
  assert_line --regexp 'ret ERRNO\(1\)'
  assert_line --regexp 'ret KILL_PROCESS'
}

@test "bad input to seccomp: one line each, exit 2" {
  echo '{ not json' >"$dir/bad.json"
  run boxlab seccomp compile "$dir/bad.json" -o "$dir/out.bpf"
  assert_failure 2
  assert_equal "${#lines[@]}" 1
  echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["nosuchcall"],"action":"SCMP_ACT_ERRNO"}]}' >"$dir/unknown.json"
  run boxlab seccomp compile "$dir/unknown.json" -o "$dir/out.bpf"
  assert_failure 2
  assert_equal "${#lines[@]}" 1
  assert_output --partial 'unknown syscall "nosuchcall"'
  run boxlab seccomp disasm "$ROOT/package.json"
  assert_failure 2
  assert_equal "${#lines[@]}" 1
  run boxlab seccomp frobnicate
  assert_failure 2
}
