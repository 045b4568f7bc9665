#!/usr/bin/env bats
# Each lesson passes for real on this kernel, its --script output passes under bash alone,
# and neither leaves anything behind.
load helpers

setup() {
  requires_root
  keep_escape_files
}
teardown() { [ "$(id -u)" != 0 ] || boxlab reset >/dev/null || true; }

lesson_passes() {
  run boxlab lesson "$@" --yes
  assert_success
  assert_output --partial '✔ all checks passed'
  refute_line --regexp '^ *✗ ' # a failed check's mark (a diagram may draw one)
  assert_output --partial '⚙ kernel feature:'
  assert_output --partial '      evidence'
  assert_host_clean
}

script_passes() {
  boxlab lesson "$@" --script >"$BATS_TEST_TMPDIR/lesson.sh"
  run bash "$BATS_TEST_TMPDIR/lesson.sh"
  assert_success
  assert_output --partial 'all checks passed'
  refute_line --regexp '^ *✗ '
  assert_host_clean
}

@test "lesson 1 (chroot) passes with --yes" { lesson_passes 1; }
@test "lesson 1 --script passes under bash" { script_passes 1; }
@test "lesson 2 (mount namespace + pivot_root) passes with --yes" { lesson_passes 2; }
@test "lesson 2 --script passes under bash" { script_passes 2; }

@test "lesson 3 (PID namespace) passes with --yes" { lesson_passes 3; }
@test "lesson 3 --script passes under bash" { script_passes 3; }
@test "lesson 4 (UTS, IPC, time) passes with --yes" { lesson_passes 4; }
@test "lesson 4 --script passes under bash" { script_passes 4; }

@test "lesson 5 (network namespace) passes with --yes" { lesson_passes 5; }
@test "lesson 5 --script passes under bash" { script_passes 5; }

@test "lesson 5: a box without a network namespace listens on the host, with one it does not; pings cross only our links" {
  run boxlab lesson 5 --yes --json
  assert_success
  assert_check_passed 'a port the box opened \(47001\) is listening on the host'
  assert_check_passed '... and not in the host.s'
  assert_check_passed 'box 1 reaches box 2'
  # The host's own routes are as they were.
  run ip route
  refute_output --partial '198.51.100.'
  refute_output --partial '203.0.113.'
}

@test "lesson 6 (user namespace) passes with --yes" { lesson_passes 6; }
@test "lesson 6 --script passes under bash" { script_passes 6; }
@test "lesson 6 --rootless passes with --yes" { lesson_passes 6 --rootless; }
@test "lesson 6 --rootless --script passes under bash" { script_passes 6 --rootless; }

@test "lesson 6: root without a user namespace writes root's files; with one, uid 100000's" {
  run boxlab lesson 6 --yes --json
  assert_success
  assert_check_passed 'the file it made in the volume belongs to root on the host'
  assert_check_passed 'its file belongs to 100000:100000 on the host'
  assert_check_passed 'it could not create a file in the root-owned volume'
}

@test "lesson 6 --rootless shows what needs help: a uid range, cgroups, a veth" {
  run boxlab lesson 6 --yes --rootless --json
  assert_success
  assert_check_passed 'the kernel refused the range: the map is still empty'
  assert_check_passed 'no link was created on the host'
  run boxlab lessons
  assert_line --regexp '^ +rootless: passed \(npm run lesson 6 -- --rootless\)$'
}

@test "--rootless belongs to lesson 6: elsewhere one line, exit 2" {
  run boxlab lesson 2 --rootless
  assert_failure 2
  assert_equal "${#lines[@]}" 1
}

@test "lesson 7 (capabilities) passes with --yes" { lesson_passes 7; }
@test "lesson 7 --script passes under bash" { script_passes 7; }

@test "lesson 7: each capability break-it works with the capability and fails without it" {
  run boxlab lesson 7 --yes --json
  assert_success
  for cap in cap_sys_admin cap_net_raw cap_sys_time cap_dac_override; do
    assert_check_passed "with $cap: the kernel allowed it"
    assert_check_passed "without $cap: the kernel refused it"
  done
  assert_check_passed "the host.s file in the read-only volume was changed from the box"
  assert_check_passed "the host.s file is as the host wrote it"
  assert_check_passed 'root in the box read a file only uid 1000 may read'
  assert_check_passed '/proc/sys is mounted read-only in the box'
  assert_check_passed 'started as uid 65534, it runs with effective uid 0'
  assert_check_passed 'it stays uid 65534, effective too'
  # /proc/sys writable: the host's core_pattern took the box's values, capabilities or none;
  # read-only, the write is refused and the host's value is back.
  assert_check_passed 'on the host, kernel.core_pattern holds the box.s value'
  assert_line --regexp '"title":"on the host, kernel.core_pattern holds the box.s value".*"actual":"core-boxlab-[0-9a-f]+"'
  assert_check_passed 'root in the box, with no capability at all, writes it too'
  assert_check_passed 'and the host reads that value'
  assert_check_passed 'root in the box, every capability kept: refused'
  assert_check_passed 'the host.s kernel.core_pattern is its own'
  assert_check_passed 'with Docker.s 14 \(no CAP_SYS_ADMIN\), root cannot remount it writable'
  assert_host_clean
}

@test "lesson 8 (seccomp) passes with --yes" { lesson_passes 8; }
@test "lesson 8 --script passes under bash" { script_passes 8; }

@test "lesson 8: unshare, mount and keyctl work unfiltered and fail under the compiled filter; never passes silently" {
  run boxlab lesson 8 --yes --json
  assert_success
  for call in unshare mount keyctl; do
    assert_check_passed "$call\\(2\\) works in the box"
  done
  if has_seccomp_filter; then
    assert_check_passed 'the kernel runs a filter on the payload \(Seccomp: 2\)'
  else
    # The in-box step is skipped with its reason and the command it would run ...
    assert_line --regexp '"type":"skip","id":"in-box".*would run: nsenter .*setpriv --no-new-privs .*--seccomp-filter'
    # ... and the same program is proven on a host process instead.
    for call in unshare mount keyctl; do
      assert_check_passed "$call\\(2\\) fails under the filter"
    done
  fi
}

@test "lesson 9 (cgroups) passes with --yes" { lesson_passes 9; }
@test "lesson 9 --script passes under bash" { script_passes 9; }

@test "lesson 9 reads the kernel's counters, and says which cgroup version it used" {
  run boxlab lesson 9 --yes --json
  assert_success
  assert_check_passed 'the kernel OOM-killed the writer once'
  assert_check_passed 'the kernel refused forks at the limit \(pids.events max > 0\)'
  assert_check_passed 'the kernel throttled the group \(nr_throttled > 0\)'
  # Which path ran is part of the record: v1 here (hybrid), v2 in the VM.
  if grep -q ' - cgroup cgroup .*memory' /proc/self/mountinfo; then
    echo "# exercised the cgroup v1 path" >&3
    assert_line --partial 'memory.limit_in_bytes'
  else
    echo "# exercised the cgroup v2 path" >&3
    assert_line --partial 'memory.max'
  fi
}

@test "lesson 10 (overlayfs) passes with --yes" { lesson_passes 10; }
@test "lesson 10 --script passes under bash" { script_passes 10; }
@test "lesson 11 (images) passes with --yes, offline" { lesson_passes 11; }
@test "lesson 11 --script passes under bash" { script_passes 11; }

@test "lesson 11 --registry pulls the same image from a real registry on loopback" {
  requires docker-registry
  local port
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  bash "$ROOT/scripts/registry.sh" start "$port" "$BATS_TEST_TMPDIR/registry" >/dev/null
  run boxlab lesson 11 --yes --registry "127.0.0.1:$port"
  bash "$ROOT/scripts/registry.sh" stop "$port"
  assert_success
  assert_output_flat "fetch 127.0.0.1:$port/boxlab/busybox:layers --plain-http"
  assert_output --partial '✔ all checks passed'
  assert_host_clean
  run boxlab rmi "127.0.0.1:$port/boxlab/busybox:layers"
  assert_success
}

@test "lesson 12 (the whole container, against runc) passes with --yes" { lesson_passes 12; }
@test "lesson 12 --script passes under bash" { script_passes 12; }

@test "lesson 13 (build, push, pull) passes with --yes, offline, and its registry is gone after" {
  lesson_passes 13
  if command -v docker-registry >/dev/null; then
    refute_output --partial '↷ skipped'
    assert_output --partial '✓ the manifest PUT by tag: 201'
    assert_output --partial '✓ the pulled image prints what the built one did'
  else
    assert_output --partial 'docker-registry is not installed'
  fi
  # Only the lesson's own registries serve a config in a work dir: none may be left.
  run pgrep -f '^docker-registry serve /var/lib/boxlab/work/'
  assert_failure 1
}
@test "lesson 13 --script passes under bash" { script_passes 13; }

@test "lesson 14 (engines: boxlab-runtime by hand, then under podman) passes with --yes" {
  lesson_passes 14
  requires podman
  run boxlab lesson 14 --yes --json
  assert_check_passed '\.\.\. and its parent is conmon, which adopted it when create exited'
  assert_host_clean
}
@test "lesson 14 --script passes under bash" { script_passes 14; }

@test "lesson 15 (AppArmor) passes with --yes where the kernel runs AppArmor, and skips each step with its reason elsewhere" {
  if [ ! -d /sys/kernel/security/apparmor ]; then
    run boxlab lesson 15 --yes
    assert_success
    assert_output_flat 'skipped: The Linux Security Modules this kernel runs — this kernel runs no AppArmor'
    refute_output --partial '✓'
    assert_host_clean
    skip "this kernel runs no AppArmor: the VM stage runs the lesson"
  fi
  lesson_passes 15
  # The kernel's evidence, not the lesson's word: each a check that could fail.
  assert_line --partial '✓ the kernel confines the payload: boxlab-lesson15 (enforce)'
  assert_line --partial '✓ mount(2) is denied'
  assert_line --partial '✓ the kernel logged the denial: apparmor="DENIED" operation="mount"'
  assert_line --partial '✓ and is logged: apparmor="ALLOWED" operation="mount"'
  assert_line --partial '✓ under boxlab-default, the same read is denied'
  # Its own profile is gone with it; boxlab-default stays for boxlab run, as docker-default does.
  run grep -c '^boxlab-lesson15 ' /sys/kernel/security/apparmor/profiles
  assert_output 0
  run grep -c '^boxlab-default (enforce)' /sys/kernel/security/apparmor/profiles
  assert_output 1
}
@test "lesson 15 --script passes under bash" { script_passes 15; }

@test "--registry belongs to lesson 11 and takes a loopback HOST:PORT" {
  run boxlab lesson 10 --registry 127.0.0.1:5000
  assert_failure 2
  assert_output 'boxlab: lesson 10 has no --registry variant (lesson 11 has one)'
  run boxlab lesson 11 --registry 192.0.2.7:5000
  assert_failure 2
  assert_output --partial 'takes a registry on this machine'
}

@test "lesson 3: the break-it kills a host sleeper without a PID namespace, and cannot with one" {
  run boxlab lesson 3 --yes --json
  assert_success
  assert_check_passed 'the host.s sleeper was killed from inside the box'
  assert_check_passed 'the host.s sleeper is alive'
  assert_check_passed 'PID 1 never calls wait\(\): the dead orphan stays a zombie'
}

@test "lesson 4: the host's IPC segment is visible without an IPC namespace, not with one" {
  run boxlab lesson 4 --yes --json
  assert_success
  assert_check_passed 'a process without the IPC namespace sees the host.s segment'
  assert_check_passed 'the box does not see the host.s segment'
}

@test "lesson 4: two runs at once both pass, each reading its own segment" {
  # Both hold a segment of 31337 bytes on the host at the same time (--pace stretches the
  # overlap); a check that took the first such line would read the other run's.
  local a="$BATS_TEST_TMPDIR/a.jsonl" b="$BATS_TEST_TMPDIR/b.jsonl"
  boxlab lesson 4 --yes --json --pace 300 > "$a" 2>&1 &
  local pa=$!
  boxlab lesson 4 --yes --json --pace 300 > "$b" 2>&1 &
  local pb=$!
  local ra=0 rb=0
  wait "$pa" || ra=$?
  wait "$pb" || rb=$?
  [ "$ra" -eq 0 ] || { cat "$a"; false; }
  [ "$rb" -eq 0 ] || { cat "$b"; false; }
  # Each run's evidence names its own segment id, and the two differ.
  local ida idb
  ida=$(grep -o '"actual":"shmid [0-9]*, 31337 bytes: seen"' "$a" | grep -o 'shmid [0-9]*')
  idb=$(grep -o '"actual":"shmid [0-9]*, 31337 bytes: seen"' "$b" | grep -o 'shmid [0-9]*')
  [ -n "$ida" ] && [ -n "$idb" ] && [ "$ida" != "$idb" ]
}

@test "lesson 9: a box with CAP_SYS_ADMIN sets the host's v1 release_agent; with Docker's 14 it cannot" {
  run boxlab lesson 9 --yes --json
  assert_success
  if grep -qE '^[0-9]+:freezer:/$' /proc/self/cgroup && [ -e /sys/fs/cgroup/freezer/release_agent ]; then
    echo "# exercised the cgroup v1 release_agent" >&3
    assert_check_passed 'on the host, /sys/fs/cgroup/freezer/release_agent holds the box.s program'
    assert_line --regexp '"title":"on the host, /sys/fs/cgroup/freezer/release_agent holds .*"actual":"/var/lib/boxlab/work/[0-9a-f]+/rootfs/escape.sh"'
    assert_check_passed "root in the box, with Docker.s 14 and no_new_privs: refused"
    assert_check_passed "the host.s release_agent is as before the lesson \\(grep -x exits 0\\)"
  else
    # cgroup v2 (the Debian 13 VM), or a box whose cgroup namespace is below the root: skipped, saying why.
    assert_line --regexp '"type":"skip","id":"release-agent".*"reason":"(no cgroup v1 hierarchy here|the box.s cgroup namespace is below)'
  fi
  assert_host_clean
}

@test "--shell opens the lesson's box (stdin not a terminal) and says what it isolates and what not" {
  # The shell reads its commands from the pipe; each answer comes from inside the box.
  for n in 4 12; do
    run bash -c "printf 'echo in-box-\$(hostname)\nexit\n' | node '$ROOT/bin/boxlab.js' lesson $n --yes --shell"
    assert_success
    assert_output --partial 'This box has of its own: mount, UTS, IPC, network, PID, cgroup namespaces'
    assert_output --partial 'It shares with the host: '
  done
  assert_output --partial 'in-box-lesson12'
}

@test "lesson 4 reads the time namespace offsets from the kernel" {
  [ -e /proc/self/ns/time ] || skip "this kernel has no time namespace (the engine's skip is unit-tested)"
  run boxlab lesson 4 --yes --json
  assert_check_passed 'the kernel holds a boot-time offset of one day for it'
}

@test "lesson 1 proves the chroot escape from kernel facts" {
  run boxlab lesson 1 --yes --json
  assert_success
  assert_check_passed 'the jailed process read a file outside its root'
  refute_line --partial '"ok":false'
}

@test "lesson 2 closes that escape, with every check read from the kernel" {
  run boxlab lesson 2 --yes --json
  assert_success
  assert_check_passed 'the host secret is out of reach through boxlab.s PID'
  assert_check_passed 'the host does not'
  refute_line --partial '"ok":false'
}

@test "a passed lesson shows up as passed" {
  boxlab lesson 1 --yes >/dev/null
  run boxlab lessons
  assert_line --regexp '^ +1  [0-9]+ min +[0-9]+/[0-9]+ +passed +chroot'
}
