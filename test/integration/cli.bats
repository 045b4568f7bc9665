#!/usr/bin/env bats
# shellcheck disable=SC2016 # a single-quoted $ here is the box's shell's to expand, or expected text
# The command line: bad input gets one clear line and the right exit code.
load helpers

@test "an unknown lesson: one line, exit 2" {
  run boxlab lesson 99
  assert_failure 2
  assert_equal "${#lines[@]}" 1
  assert_output --partial "no lesson '99'"
}

@test "npm run lesson 99 prints one line of its own and fails" {
  run npm run --silent --prefix "$ROOT" lesson 99
  assert_failure
  assert_equal "${#lines[@]}" 1
  assert_output --partial "no lesson '99'"
}

@test "a bad flag: one line, exit 2" {
  run boxlab lesson 1 --bogus
  assert_failure 2
  assert_equal "${#lines[@]}" 1
  assert_output --partial "--bogus"
}

@test "a bad --pace: one line, exit 2" {
  run boxlab lesson 1 --pace soon
  assert_failure 2
  assert_equal "${#lines[@]}" 1
}

@test "an unknown command: one line, exit 2" {
  run boxlab frobnicate
  assert_failure 2
  assert_equal "${#lines[@]}" 1
}

@test "not root: one line, exit 1, nothing created" {
  requires_root
  as_nobody env HOME=/tmp BOXLAB_STATE_HOME=/tmp/boxlab-unused node "$ROOT/bin/boxlab.js" lesson 1 --yes
  assert_failure 1
  assert_equal "${#lines[@]}" 1
  assert_output --partial "needs root"
  assert_host_clean
}

@test "a dry run needs no root and runs nothing" {
  requires_root # to become someone else
  as_nobody env HOME=/tmp node "$ROOT/bin/boxlab.js" lesson 2 --dry-run
  assert_success
  assert_output --partial "dry run"
  assert_output --partial 'pivot_root ${ROOTFS}/.oldroot' || assert_output --partial 'pivot_root /var/lib/boxlab/work/'
  assert_host_clean
}

@test "a missing tool: one line, exit 1" {
  requires_root
  run env PATH=/nonexistent "$(command -v node)" "$ROOT/bin/boxlab.js" lesson 1 --yes
  assert_failure 1
  assert_equal "${#lines[@]}" 1
  assert_output --partial "missing tool: "
  assert_output --partial "chroot"
  assert_host_clean
}

@test "doctor: one line per fact, with ok / warn / fail" {
  run boxlab doctor
  for name in root kernel architecture namespaces cgroups overlayfs veth unshare setpriv 'setpriv seccomp' busybox machine; do
    assert_line --regexp "^(ok|warn|fail) +$name "
  done
  refute_line --regexp '^(ok|warn|fail) {0,1}[^ ]'
}

@test "doctor reads the cgroup layout and setpriv's features from the host" {
  run boxlab doctor --json
  node -e '
    const f = JSON.parse(process.argv[1]);
    const cg = f.find((x) => x.name === "cgroups");
    if (!/^(v1|v2|hybrid)/.test(cg.detail)) throw new Error("cgroups: " + cg.detail);
    const sp = f.find((x) => x.name === "setpriv seccomp");
    if (!sp) throw new Error("no setpriv seccomp line");
  ' "$output"
}

@test "lessons lists the curriculum with progress" {
  COLUMNS=100 run boxlab lessons
  assert_success
  assert_line --regexp '^ +1  [0-9]+ min .*(passed|not yet) +chroot'
  assert_line --regexp '^ +2  [0-9]+ min .* Mount namespace and pivot_root'
  # A projector's 100 columns hold every line: long titles wrap in their column.
  [ "$(printf '%s\n' "$output" | awk 'length > 100' | wc -l)" = 0 ]
}
