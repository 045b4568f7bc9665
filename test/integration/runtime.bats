#!/usr/bin/env bats
# boxlab-runtime: the OCI runtime command line (runtime-spec runtime.md), driven by hand here
# and by podman in podman.bats. Each test has a root directory of its own.
load helpers

setup() {
  requires_root
  run_fixtures
  RT="$ROOT/bin/boxlab-runtime"
  STATE="$BATS_TEST_TMPDIR/rt"
  B="$BATS_TEST_TMPDIR/bundle"
  OUT="$BATS_TEST_TMPDIR/out"
  mkdir -p "$B"
}
teardown() {
  [ "$(id -u)" != 0 ] || {
    for d in "$STATE"/*/; do [ -d "$d" ] && "$RT" --root "$STATE" delete --force "$(basename "$d")" >/dev/null 2>&1; done
    boxlab reset >/dev/null
  } || true
}

rt() { "$RT" --root "$STATE" "$@"; }

# A bundle whose process runs "$@" in the busybox rootfs (no seccomp filter where setpriv
# cannot apply one: the runtime refuses to start a box without the filter it was given).
bundle() {
  boxlab spec "${SECCOMP[@]}" --rootfs "$R" -- "$@" >"$B/config.json"
  ln -sfn "$R" "$B/rootfs"
}

# The state's status, as the runtime reports it.
status_of() { rt state "$1" | grep -o '"status": "[a-z]*"' | cut -d'"' -f4; }

# Waits up to 5 s for container $1 to reach status $2.
await_status() {
  local i
  for ((i = 0; i < 500; i++)); do [ "$(status_of "$1")" = "$2" ] && return 0; sleep 0.01; done
  fail "container $1 is $(status_of "$1"), not $2, after 5 s"
}

@test "runtime: create, start, state, kill, delete, as runtime.md orders them; its process is what the kernel shows" {
  bundle /bin/sh -c 'echo "pid $$ in the box"; exec sleep 100'
  rt create --bundle "$B" --pid-file "$BATS_TEST_TMPDIR/pid" c1 >"$OUT" 2>&1 </dev/null
  assert_equal "$(status_of c1)" created
  # The process exists, and the state's pid is the one in --pid-file; nothing of the command ran.
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  run rt state c1
  assert_output --partial "\"pid\": $pid"
  assert_output --partial "\"bundle\": \"$B\""
  assert_output --partial '"ociVersion"'
  kill -0 "$pid"
  [ ! -s "$OUT" ] || fail "the command ran before start: $(cat "$OUT")"

  rt start c1
  await_status c1 running
  # create's stdout was the command's: it has a small PID, in a PID namespace of its own
  # (PID 1 is the box's placeholder init) ...
  for ((i = 0; i < 200; i++)); do [ -s "$OUT" ] && break; sleep 0.01; done
  run cat "$OUT"
  assert_output --regexp '^pid [0-9]+ in the box$'
  # ... and the kernel agrees: the sleep's PID namespace is not ours.
  sleeper=$(pgrep -f '^sleep 100$' | head -1)
  [ -n "$sleeper" ]
  [ "$(readlink "/proc/$sleeper/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]

  # Not stopped: delete refuses, and the box lives on.
  run rt delete c1
  assert_failure
  assert_output --partial 'is running, not stopped'
  kill -0 "$sleeper"

  rt kill c1 TERM
  await_status c1 stopped
  run rt state c1
  assert_output --partial '"pid": 0'
  pid_gone "$pid"
  rt delete c1
  [ ! -e "$STATE/c1" ]
  assert_host_clean
}

@test "runtime: the spec's error cases, one line and a non-zero exit each" {
  bundle /bin/sleep 100
  rt create --bundle "$B" c2 </dev/null >/dev/null
  # A second create of the same ID: refused, and the first is untouched.
  run rt create --bundle "$B" c2
  assert_failure
  assert_output 'boxlab-runtime: container c2 already exists'
  assert_equal "$(status_of c2)" created
  # An unknown ID, for each operation.
  for op in start state delete; do
    run rt "$op" nope
    assert_failure
    assert_output 'boxlab-runtime: container nope does not exist'
  done
  run rt kill nope KILL
  assert_failure
  # An ID that is not a directory name; a signal that does not exist.
  run rt create --bundle "$B" ../x
  assert_failure
  assert_output --partial 'is not valid'
  run rt kill c2 SIGNOPE
  assert_failure
  assert_output --partial 'unknown signal'
  # start twice: the second finds it running.
  rt start c2
  await_status c2 running
  run rt start c2
  assert_failure
  assert_output --partial 'is running, not created'
  # Engines ask for the log in JSON: the error is there too, as a JSON line.
  run "$RT" --root "$STATE" --log "$BATS_TEST_TMPDIR/log.json" --log-format json start c2
  assert_failure
  run cat "$BATS_TEST_TMPDIR/log.json"
  assert_output --regexp '^\{"level":"error","msg":"container c2 is running, not created: .*","time":"'
  # Signals by number; then a stopped container takes none.
  rt kill c2 9
  await_status c2 stopped
  run rt kill c2 TERM
  assert_failure
  assert_output --partial 'is stopped'
  rt delete c2
  # Terminal mode is refused at once, never hangs.
  run timeout 10 "$RT" --root "$STATE" create --bundle "$B" --console-socket /nonexistent c3
  assert_failure
  assert_output --partial 'terminal mode is not supported'
  assert_host_clean
}

@test "runtime: delete --force of a created and of a running container undoes the box" {
  bundle /bin/sleep 100
  rt create --bundle "$B" c4 </dev/null >/dev/null
  rt create --bundle "$B" c5 </dev/null >/dev/null
  rt start c5
  await_status c5 running
  rt delete --force c4
  rt delete --force c5
  [ ! -e "$STATE/c4" ] && [ ! -e "$STATE/c5" ]
  assert_host_clean
}

# Sets config.json's hooks: each kind named writes its stdin and $HOOK_ENV to $H/KIND.*;
# a kind given as KIND=false gets /bin/false instead.
set_hooks() {
  node - "$B/config.json" "$H" "$@" <<'JS'
const fs = require('node:fs');
const [file, dir, ...kinds] = process.argv.slice(2);
const c = JSON.parse(fs.readFileSync(file, 'utf8'));
const hook = (n) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/${n}.json; echo "$HOOK_ENV" > ${dir}/${n}.env`], env: ['HOOK_ENV=set by config.json'] });
c.hooks = {};
for (const k of kinds) {
  const [name, how] = k.split('=');
  (c.hooks[name] ??= []).push(how === 'false' ? { path: '/bin/false' } : hook(name));
}
fs.writeFileSync(file, JSON.stringify(c));
JS
}

@test "runtime: hooks run on the host, the state on stdin; a failing createRuntime hook stops and deletes the container" {
  bundle /bin/sleep 100
  H="$BATS_TEST_TMPDIR/hooks"
  mkdir -p "$H"
  set_hooks createRuntime poststart poststop
  rt create --bundle "$B" h1 </dev/null >/dev/null
  run cat "$H/createRuntime.json"
  assert_output --partial '"id":"h1"'
  assert_output --partial '"status":"creating"'
  assert_equal "$(cat "$H/createRuntime.env")" 'set by config.json'
  [ ! -e "$H/poststart.json" ]
  rt start h1
  run cat "$H/poststart.json"
  assert_output --partial '"status":"running"'
  [ ! -e "$H/poststop.json" ]
  rt kill h1 KILL
  await_status h1 stopped
  rt delete h1
  run cat "$H/poststop.json"
  assert_output --partial '"status":"stopped"'

  # A createRuntime hook fails: create fails, the container is stopped and deleted, poststop runs.
  rm -f "$H"/*
  set_hooks createRuntime=false poststop
  run rt create --bundle "$B" h2 </dev/null
  assert_failure
  assert_output --partial 'hook /bin/false exited with 1'
  [ ! -e "$STATE/h2" ]
  [ -e "$H/poststop.json" ]
  assert_host_clean
}

@test "runtime: an engine's rlimits, oomScoreAdj, read-only root, /dev/mqueue, sysctls and rootfsPropagation are applied, as the box's /proc shows" {
  host_port_start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
  # shellcheck disable=SC2016 # expanded in the box
  bundle /bin/sh -c 'grep "Max open files" /proc/self/limits; cat /proc/self/oom_score_adj; touch /new 2>/dev/null || echo "root read-only"; touch /dev/shm/x && echo "shm writable"; grep " /dev/mqueue " /proc/self/mountinfo | grep -o " - mqueue "; echo "port start $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)"; awk "\$5 == \"/\"" /proc/self/mountinfo | grep -o unbindable'
  node - "$B/config.json" <<'JS'
const fs = require('node:fs');
const file = process.argv[2];
const c = JSON.parse(fs.readFileSync(file, 'utf8'));
c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1000, hard: 2000 }];
c.process.oomScoreAdj = 300;
c.root.readonly = true;
c.mounts.push({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] });
c.linux.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '80' };
c.linux.rootfsPropagation = 'unbindable';
fs.writeFileSync(file, JSON.stringify(c));
JS
  rt create --bundle "$B" cfg </dev/null >"$OUT" 2>&1 || fail "create: $(cat "$OUT")"
  rt start cfg
  await_status cfg stopped
  run cat "$OUT"
  assert_line --regexp '^Max open files +1000 +2000 +files'
  assert_line 300
  assert_line 'root read-only'
  assert_line 'shm writable'
  assert_line ' - mqueue '
  # The box's network namespace has the sysctl; the host's keeps its own value.
  assert_line 'port start 80'
  [ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" = "$host_port_start" ]
  assert_line unbindable
  # Applied, so not among what the runtime says it left out.
  run cat "$STATE/cfg/notes.log"
  refute_output --regexp 'rlimits|oomScoreAdj|readonly|mqueue|sysctl|rootfsPropagation'
  rt delete cfg
  # No process of the host got the box's score (choom run inside the box's PID namespace
  # would write its in-box PID's /proc entry: another process of the host's). (A process that
  # exits between the glob and grep's read is no finding: grep's complaint about it is dropped.)
  run bash -c 'grep -lx 300 /proc/[0-9]*/oom_score_adj 2>/dev/null'
  refute_output
  assert_host_clean
}
