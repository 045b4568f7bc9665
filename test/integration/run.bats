#!/usr/bin/env bats
# shellcheck disable=SC2016,SC2154 # a single-quoted $ here is the box's shell's to expand, or expected text; stderr: set by run --separate-stderr
# boxlab run: exit codes, the image config, Docker's defaults as the kernel shows them from
# inside, -d/ps/exec/rm, signals, and the same OCI bundle under runc and under boxlab.
load helpers
bats_require_minimum_version 1.5.0

setup_file() { fetch_busybox_once; }

setup() {
  requires_root
  run_fixtures
  PROBE="$ROOT/lessons/12-container/probe.sh"
}
teardown() { reset_after_test; }

# A probe's output with namespaces as "own" or "host's" (inode numbers differ per run) and
# without the root's filesystem type (boxlab puts an overlay over the rootfs, runc uses it as is).
normalize() {
  local line t
  while IFS= read -r line; do
    case "$line" in
      ns.*=*)
        t=${line%%=*}
        t=${t#ns.}
        [ "${line#*=}" = "$(readlink /proc/self/ns/"$t")" ] && echo "ns.$t=host's" || echo "ns.$t=own"
        ;;
      'mount=/ '*) ;;
      # runc's /dev and masks differ by version (1.1 on Debian 13 adds /dev/core): not compared.
      devices=* | mount=/proc/*) if [ -n "${STRICT_MOUNTS:-}" ]; then echo "$line"; fi ;;
      *) echo "$line" ;;
    esac
  done
}

@test "the exit code is the command's; nothing is left behind" {
  run boxlab run --seccomp unconfined --rootfs "$R" -- /bin/sh -c 'exit 7'
  assert_equal "$status" 7
  assert_output ''
  # A command that dies of a signal: 128+N, said in one line of boxlab's, not bash's job report.
  run --separate-stderr boxlab run --seccomp unconfined --rootfs "$R" -- /bin/sh -c 'kill -KILL $$'
  assert_equal "$status" 137
  assert_equal "$stderr" 'boxlab: the command was ended by SIGKILL'
  assert_host_clean
  [ -z "$(ls /run/boxlab/boxes 2>/dev/null)" ]
}

@test "an image runs its config's command, with its Env and WorkingDir; -e and -w override them" {
  run boxlab run --seccomp unconfined boxlab.local/busybox:layers
  assert_success
  assert_output --partial 'hello from the image config, in /srv/www'
  HOST_ONLY=leak run boxlab run --seccomp unconfined -e GREETING=hi -w /etc boxlab.local/busybox:layers /bin/sh -c 'echo "$GREETING in $(pwd)"; env | sort'
  assert_success
  assert_line 'hi in /etc'
  # Exactly the image's environment (and the PWD sh sets): nothing of the host's leaks in.
  assert_line 'PATH=/bin'
  assert_line 'GREETING=hi'
  refute_line --regexp '^(HOST_ONLY|HOME|USER|BATS_[A-Z_]*)='
  assert_host_clean
}

@test "Docker's defaults, seen from inside a default box" {
  run boxlab run "${SECCOMP[@]}" --rootfs "$R" -v "$PROBE:/probe:ro" -- /bin/sh -c '/bin/sh /probe; echo "procs=$(ls /proc | grep -c "^[0-9]")"; echo "roots=$(for p in /proc/[0-9]*; do readlink $p/root; readlink $p/cwd; done 2>/dev/null | sort -u | tr "\n" " ")"; echo "pid1root=$(head -1 /proc/1/root/etc/passwd)"; echo "fds=$(ls /proc/self/fd | tr "\n" " ")"'
  assert_success
  # CapBnd within Docker's 14 (CAP_MKNOD dropped too), no_new_privs.
  assert_line 'CapBnd=00000000a00425fb'
  assert_line 'NoNewPrivs=1'
  assert_line 'mount-tmpfs=refused'
  assert_line 'mknod=refused'
  assert_line 'proc-sys=read-only'
  assert_line 'masked=0'
  assert_line 'devices=fd full null ptmx pts random shm stderr stdin stdout tty urandom zero '
  assert_line 'mount=/sys sysfs'
  # Few processes (the init, the shell and its pipeline), every root and cwd inside the box,
  # /proc/1/root is the box's own root, only stdio (and ls's own directory) open.
  procs=$(echo "$output" | sed -n 's/^procs=//p')
  [ "$procs" -le 6 ]
  assert_line 'roots=/ '
  assert_line 'pid1root=root:x:0:0:root:/root:/bin/sh'
  # 0, 1, 2, and the directory ls itself opened to list them.
  assert_line 'fds=0 1 2 3 '
  run boxlab run "${SECCOMP[@]}" --rootfs "$R" -- /bin/sh -c 'touch /sys/kernel/x'
  assert_failure
  assert_host_clean
}

@test "seccomp fails closed: where setpriv cannot apply a filter the run refuses in one line; where it can, Seccomp is 2" {
  run boxlab run --rootfs "$R" -- /bin/sh -c 'grep ^Seccomp: /proc/self/status'
  if has_seccomp_filter; then
    assert_success
    assert_line --regexp '^Seccomp:\s+2$'
  else
    assert_failure 1
    assert_equal "${#lines[@]}" 1
    assert_output --partial 'cannot apply a filter'
    assert_host_clean
    run boxlab run --seccomp unconfined --rootfs "$R" -- /bin/sh -c 'grep ^Seccomp: /proc/self/status'
    assert_success
    assert_line --regexp '^Seccomp:\s+0$'
  fi
  assert_host_clean
}

@test "a read-only volume is readable and not writable; the rootfs itself is never changed" {
  mkdir -p "$BATS_TEST_TMPDIR/vol"
  echo from-host >"$BATS_TEST_TMPDIR/vol/f"
  run boxlab run --seccomp unconfined -v "$BATS_TEST_TMPDIR/vol:/data:ro" --rootfs "$R" -- /bin/sh -c 'cat /data/f; echo x > /data/g || echo refused; echo changed > /etc/passwd'
  assert_success
  assert_line from-host
  assert_line refused
  [ ! -e "$BATS_TEST_TMPDIR/vol/g" ]
  grep -q '^root:' "$R/etc/passwd"
  assert_host_clean
}

@test "-d, ps, exec and rm; the limits are in the box's cgroup, read on the host" {
  run boxlab run -d --name probe-box --seccomp unconfined --memory 32m --pids 40 --rootfs "$R" -- /bin/sleep 600
  assert_success
  assert_output probe-box
  for _ in $(seq 100); do boxlab ps | grep -q '^probe-box  [0-9]' && break; sleep 0.05; done
  run boxlab ps
  assert_line --regexp '^probe-box +[0-9]+ +/var/cache/boxlab/rootfs/busybox-[0-9a-f]+ +/bin/sleep 600'
  box=$(boxlab ps | awk '$1 == "probe-box" { print $2 }')
  run boxlab exec probe-box /bin/sh -c 'hostname; grep CapBnd /proc/self/status'
  assert_success
  assert_line probe-box
  assert_line --regexp 'CapBnd:\s+00000000a00425fb'
  if [ -d /sys/fs/cgroup/memory ]; then
    group=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$box/cgroup")
    assert_equal "$(cat "/sys/fs/cgroup/memory$group/memory.limit_in_bytes")" 33554432
    group=$(awk -F: '$2 == "pids" { print $3 }' "/proc/$box/cgroup")
    assert_equal "$(cat "/sys/fs/cgroup/pids$group/pids.max")" 40
  else
    group=$(awk -F: '$1 == "0" { print $3 }' "/proc/$box/cgroup")
    assert_equal "$(cat "/sys/fs/cgroup$group/memory.max")" 33554432
    assert_equal "$(cat "/sys/fs/cgroup$group/pids.max")" 40
  fi
  run boxlab rm probe-box
  assert_success
  run boxlab ps
  refute_output --partial probe-box
  assert_host_clean
}

@test "-d then logs (as written to a pipe, escaped on a terminal) and stop -t: a command deaf to SIGTERM is killed after the grace period" {
  run boxlab run -d --name log-box --seccomp unconfined --rootfs "$R" -- /bin/sh -c 'trap "" TERM; echo hello from the box; printf "\033[31mred\n"; while :; do sleep 1; done'
  assert_success
  for _ in $(seq 100); do boxlab logs log-box 2>/dev/null | grep -q red && break; sleep 0.05; done
  run boxlab logs log-box
  assert_success
  assert_line 'hello from the box'
  [[ "$output" == *$'\e[31mred'* ]]
  # On a terminal (script(1) gives it one), the image's escape sequence arrives as text.
  run script -qec "node $ROOT/bin/boxlab.js logs log-box" /dev/null
  assert_success
  [[ "$output" != *$'\e'* ]]
  assert_output --partial 'red'
  run boxlab stop -t x log-box
  assert_failure 2
  assert_output --partial '-t takes whole seconds'
  box=$(boxlab ps | awk '$1 == "log-box" { print $2 }')
  [ -n "$box" ]
  start=$SECONDS
  run boxlab stop -t 1 log-box
  assert_success
  assert_output log-box
  (( SECONDS - start >= 1 ))
  [ ! -e "/proc/$box" ]
  run boxlab logs log-box
  assert_failure
  assert_output --partial 'no running box named log-box'
  assert_host_clean
}

@test "boxlab exec lands in the box's cgroups, as the host reads them in /proc/PID/cgroup" {
  run boxlab run -d --name cg-box --seccomp unconfined --memory 32m --pids 40 --rootfs "$R" -- /bin/sleep 600
  assert_success
  for _ in $(seq 100); do boxlab ps | grep -q '^cg-box  [0-9]' && break; sleep 0.05; done
  box=$(boxlab ps | awk '$1 == "cg-box" { print $2 }')
  boxlab exec cg-box /bin/sleep 7 &
  exec_job=$!
  # The exec'd command, found from the host: the sleep below boxlab exec's process tree.
  # shellcheck disable=SC2013 # children holds PIDs separated by spaces: words, not lines
  sleeper() { local c; for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    if [ "$(cat "/proc/$c/comm" 2>/dev/null)" = sleep ]; then echo "$c"; return 0; fi
    sleeper "$c" && return 0
  done; return 1; }
  pid=
  for _ in $(seq 200); do pid=$(sleeper "$exec_job") && break; sleep 0.05; done
  [ -n "$pid" ]
  # Every controller the limits use: the same group as the box's init, and it is boxlab's.
  # (On a hybrid host the limits are v1's, and the empty cgroup2 line is nobody's group.)
  if [ -d /sys/fs/cgroup/memory ]; then lines() { grep -E '^[0-9]+:(memory|pids):' "/proc/$1/cgroup" | sort; }
  else lines() { grep '^0::' "/proc/$1/cgroup"; }; fi
  assert_equal "$(lines "$pid")" "$(lines "$box")"
  run lines "$pid"
  assert_output --partial /boxlab-
  kill "$pid"
  wait "$exec_job" || true
  run boxlab rm cg-box
  assert_success
  assert_host_clean
}

@test "SIGTERM to boxlab goes to the command, whose exit code is the run's" {
  # node itself, not the boxlab shell function, so $! is boxlab's PID.
  node "$ROOT/bin/boxlab.js" run --seccomp unconfined --rootfs "$R" -- /bin/sh -c 'trap "echo got TERM; exit 42" TERM; echo ready; while :; do sleep 0.05; done' >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
  local pid=$!
  for _ in $(seq 200); do grep -q ready "$BATS_TEST_TMPDIR/out" && break; sleep 0.02; done
  kill -TERM "$pid"
  wait "$pid" || status=$?
  assert_equal "${status:-0}" 42
  grep -q 'got TERM' "$BATS_TEST_TMPDIR/out"
  assert_host_clean
}

@test "-t: a terminal of the box's own devpts, named inside; the exit code still the command's" {
  # script(1) gives boxlab itself a terminal here; the box's output comes back with CRLFs.
  run script -qec "node $ROOT/bin/boxlab.js run -t --seccomp unconfined --rootfs $R -- /bin/sh -c 'tty; test -t 0 && echo isatty; ls /dev/pts; exit 4'" /dev/null
  assert_equal "$status" 4
  output=$(printf '%s' "$output" | tr -d '\r')
  mapfile -t lines <<<"$output"
  assert_line /dev/pts/0
  assert_line isatty
  # Only the box's own terminal in its devpts, not the host's.
  assert_line --regexp '^0 +ptmx$|^0$'
  assert_host_clean
}

@test "Docker's habits: run -it busybox sh with no network; exec -it NAME sh enters the box" {
  # The short name stands for boxlab's own busybox image (fetch --busybox, made in setup_file)
  # when Docker's busybox is not in the cache, and says so.
  if node "$ROOT/bin/boxlab.js" images | grep -q '^docker.io/library/busybox:latest '; then skip "Docker's busybox is cached here"; fi
  run script -qec "node $ROOT/bin/boxlab.js run -it ${SECCOMP[*]} busybox sh -c 'cat /etc/motd; tty; exit 3'" /dev/null
  assert_equal "$status" 3
  output=$(printf '%s' "$output" | tr -d '\r')
  mapfile -t lines <<<"$output"
  # (the box's first output may follow a NUL from the terminal's setup)
  assert_output --partial 'Hello from layer 3 of boxlab.local/busybox:layers'
  assert_line /dev/pts/0
  assert_output --partial 'the busybox image boxlab fetch --busybox made on this machine'
  run boxlab run -d --name habit-box "${SECCOMP[@]}" --rootfs "$R" -- /bin/sleep 600
  assert_success
  for _ in $(seq 100); do boxlab ps | grep -q '^habit-box  [0-9]' && break; sleep 0.05; done
  # -it before the name, as docker exec takes it; the shell reads its commands from stdin.
  run bash -c "printf 'hostname\nexit 5\n' | node $ROOT/bin/boxlab.js exec -it habit-box sh"
  assert_equal "$status" 5
  assert_line habit-box
  refute_output --partial 'no running box named'
  run boxlab exec -e A=1 habit-box sh
  assert_failure 2
  assert_output --partial "boxlab exec takes -i and -t before the box's name, not -e"
  run boxlab rm habit-box
  assert_success
  assert_host_clean
}

@test "--explain runs nothing; --script is a bash script that does the same run" {
  run boxlab run --explain --memory 32m --rootfs "$R" -- /bin/true
  assert_success
  assert_output --partial 'config.json: linux.namespaces'
  assert_output --partial 'lesson 9 · config.json: linux.resources'
  # A cache built once per host is shown as such; a shell program of ours line by line.
  assert_output --partial '# once per host, unless /var/cache/boxlab/dev-'
  run boxlab run --explain --network bridge --rootfs "$R" -- /bin/true
  assert_line --regexp '^  \$ sh -euc SCRIPT sh boxlab0 198\.18\.0\.1  where SCRIPT is:$'
  assert_line '      ip link set "$br" up'
  [ -z "$(find /var/lib/boxlab/work -mindepth 1 -maxdepth 1 2>/dev/null)" ]
  boxlab run --script --seccomp unconfined --rootfs "$R" -- /bin/sh -c 'echo scripted; exit 5' >"$BATS_TEST_TMPDIR/run.sh"
  run bash "$BATS_TEST_TMPDIR/run.sh"
  assert_equal "$status" 5
  assert_line scripted
  assert_host_clean
}

@test "bad input: one line and exit 2" {
  run boxlab run --memory lots --rootfs / -- true
  assert_failure 2
  assert_output --partial '--memory lots: e.g. 64m'
  run boxlab run --cap-add CAP_FLY --rootfs / -- true
  assert_failure 2
  run boxlab run --rootfs /
  assert_failure 2
  run boxlab run no/such:image
  assert_failure 1
  assert_output --partial 'no image docker.io/no/such:image in the cache'
  [ "${#lines[@]}" = 1 ]
}

@test "one OCI bundle under runc and under boxlab: the probe sees the same container" {
  requires runc
  local b="$BATS_TEST_TMPDIR/bundle"
  mkdir -p "$b"
  cp -a "$R" "$b/rootfs"
  cp "$PROBE" "$b/rootfs/probe"
  boxlab spec --hostname probe --memory 64m --pids 50 --seccomp unconfined -- /bin/sh /probe >"$b/config.json"
  # On this project's Debian 12 machines the mounts and devices match too: compare them there.
  if setpriv --version | grep -q 'util-linux 2\.38'; then export STRICT_MOUNTS=1; fi
  (cd "$b" && runc run "boxlab-probe-$$") | normalize >"$BATS_TEST_TMPDIR/runc.txt"
  boxlab run --bundle "$b" | normalize >"$BATS_TEST_TMPDIR/boxlab.txt"
  grep -q '^ns.pid=own' "$BATS_TEST_TMPDIR/boxlab.txt"
  grep -q '^CapBnd=00000000a00425fb' "$BATS_TEST_TMPDIR/runc.txt"
  run diff "$BATS_TEST_TMPDIR/runc.txt" "$BATS_TEST_TMPDIR/boxlab.txt"
  assert_success
  # A field boxlab does not apply is named, never dropped silently.
  sed -i 's/"hostname"/"domainname": "example", "hostname"/' "$b/config.json"
  run boxlab run --bundle "$b"
  assert_output --partial 'config.json: domainname is not supported by boxlab; not applied'
  assert_host_clean
}

@test "--userns: root in the box is uid 100000 on the host, and owns the box's files" {
  local vol="$BATS_TEST_TMPDIR/uvol"
  mkdir -m 1777 "$vol"
  run boxlab run -d --name userns-box --userns --seccomp unconfined -v "$vol:/data" boxlab.local/busybox:layers -- /bin/sleep 600
  assert_success
  for _ in $(seq 100); do boxlab ps | grep -q '^userns-box  [0-9]' && break; sleep 0.05; done
  box=$(boxlab ps | awk '$1 == "userns-box" { print $2 }')
  # From the host, read from the kernel: the init runs as 100000, in a user namespace of its own.
  assert_equal "$(awk '/^Uid:/ { print $2 }' "/proc/$box/status")" 100000
  assert_equal "$(tr -s ' ' <"/proc/$box/uid_map")" ' 0 100000 65536'
  assert_equal "$(tr -s ' ' <"/proc/$box/gid_map")" ' 0 100000 65536'
  [ "$(readlink "/proc/$box/ns/user")" != "$(readlink /proc/self/ns/user)" ]
  # Inside: root, the image's files are root's (a chowned copy of the layers), /etc is writable.
  run boxlab exec userns-box /bin/sh -c 'id -u; stat -c "%u:%g" /etc/motd /bin/busybox /dev /dev/shm; touch /etc/made && echo wrote; touch /data/by-box-root; grep CapBnd /proc/self/status'
  assert_success
  assert_line 0
  refute_line '65534:65534'
  assert_line 'wrote'
  assert_line --regexp 'CapBnd:\s+00000000a00425fb'
  [ "$(echo "$output" | grep -c '^0:0$')" = 4 ]
  assert_equal "$(stat -c %u:%g "$vol/by-box-root")" 100000:100000
  run boxlab rm userns-box
  assert_success
  # A second run reuses the copy of the layers: it is not made again.
  local copy
  # shellcheck disable=SC2012 # the layer copies' names are boxlab's own (digests)
  copy=$(ls -d /var/cache/boxlab/userns-100000-65536/layers/* | head -1)
  before=$(stat -c %i "$copy")
  run boxlab run --userns --user 1000:1000 --seccomp unconfined boxlab.local/busybox:layers -- /bin/sh -c 'id -u; touch /etc/x'
  assert_failure
  assert_line 1000
  assert_output --partial 'Permission denied'
  assert_equal "$(stat -c %i "$copy")" "$before"
  run boxlab run --userns --user 70000 --rootfs "$R" -- /bin/true
  assert_failure 2
  assert_output --partial 'must be below 65536'
  assert_host_clean
}

@test "--network bridge: two boxes talk over the host's bridge; it goes with the last box" {
  ! ip -4 route show 198.18.0.0/24 | grep -q . || skip "198.18.0.0/24 is routed on this host"
  run boxlab run -d --name net-a --network bridge --seccomp unconfined --rootfs "$R" -- /bin/nc -l -p 47002 -e /bin/echo hello-over-the-bridge
  assert_success
  for _ in $(seq 100); do [ -n "$(ls /sys/class/net/boxlab0/brif 2>/dev/null)" ] && break; sleep 0.05; done
  # Read on the host: the bridge has the gateway address and one port.
  # shellcheck disable=SC2012 # counting the kernel's port names (interface names have no newline)
  assert_equal "$(ls /sys/class/net/boxlab0/brif | wc -l)" 1
  ip -4 addr show boxlab0 | grep -q 'inet 198.18.0.1/24'
  # Router advertisements from a box (which keeps CAP_NET_RAW) set no route of the host's.
  if [ -e /proc/sys/net/ipv6/conf/boxlab0/accept_ra ]; then
    assert_equal "$(cat /proc/sys/net/ipv6/conf/boxlab0/accept_ra)" 0
    assert_equal "$(cat /proc/sys/net/ipv6/conf/"$(ls /sys/class/net/boxlab0/brif)"/accept_ra)" 0
  fi
  run boxlab run --network bridge --seccomp unconfined --rootfs "$R" -- /bin/sh -c 'ip -4 -o addr show eth0; ip route show default; for i in 1 2 3 4 5; do nc 198.18.0.2 47002 && break; sleep 0.1; done'
  assert_success
  assert_output --regexp 'eth0 +inet 198\.18\.0\.3/24'
  assert_line --regexp '^default via 198\.18\.0\.1 dev eth0'
  assert_line hello-over-the-bridge
  boxlab rm net-a >/dev/null 2>&1 || true
  for _ in $(seq 100); do [ ! -e /sys/class/net/boxlab0 ] && break; sleep 0.05; done
  [ ! -e /sys/class/net/boxlab0 ]
  assert_host_clean
}

@test "SIGKILL to a detached run's script: reset removes its records, cgroup, bridge and lease" {
  run boxlab run -d --name killed-box --network bridge --userns --memory 32m --seccomp unconfined --rootfs "$R" -- /bin/sleep 600
  assert_success
  for _ in $(seq 100); do boxlab ps | grep -q '^killed-box  [0-9]' && break; sleep 0.05; done
  script=$(node -p 'require("/run/boxlab/boxes/killed-box.json").pid')
  kill -KILL "$script"
  # The box dies with its script (parent-death signal, then unshare's --kill-child).
  for _ in $(seq 100); do [ -z "$(boxlab_processes)" ] && break; sleep 0.01; done
  [ -z "$(boxlab_processes)" ]
  [ -e /run/boxlab/boxes/killed-box.json ]
  run boxlab reset
  assert_success
  assert_output --partial 'removed cgroup'
  assert_output --partial 'leases/198.18.0.2.lease'
  run boxlab ps
  refute_output --partial killed-box
  assert_host_clean
}

@test "--network bridge refused (the range is routed): one line, and the cleanup is whole: no box, cgroup, link or work dir left" {
  # In a network namespace of the test's own, where the range is routed to lo: the host's
  # routes and links stay untouched, and no packet leaves.
  run unshare --net bash -c 'ip link set lo up && ip route add 198.18.0.0/24 dev lo && node "$1/bin/boxlab.js" run --network bridge --memory 32m --seccomp unconfined --rootfs "$2" -- /bin/true; echo "exit $?"; ip -o link | grep -c boxlab || true' sh "$ROOT" "$R"
  assert_output --partial 'is already routed on this host'
  assert_line 'exit 1'
  assert_line 0
  assert_host_clean
}

@test "--network bridge refused after the veth is up (a symlink on the way to /dev): no link, lease, box or work dir left" {
  # The refusal comes at the mounts step, after the bridge, the lease and the veth pair are
  # made; in a network namespace of the test's own, so the host's links stay untouched.
  local tree="$BATS_TEST_TMPDIR/symlinked-dev"
  cp -a "$R" "$tree" && rm -rf "${tree:?}/dev" && ln -s /etc "$tree/dev"
  run unshare --net bash -c 'ip link set lo up && node "$1/bin/boxlab.js" run --network bridge --seccomp unconfined --rootfs "$2" -- /bin/true; echo "exit $?"; ip -o link | grep -c boxlab || true' sh "$ROOT" "$tree"
  assert_output --partial '/dev is a symlink in the box'
  assert_line 'exit 1'
  assert_line 0
  assert_host_clean
}
