#!/usr/bin/env bats
# shellcheck disable=SC2016 # a single-quoted $ here is the box's shell's to expand, or expected text
# boxlab run against hostile images, bundles and local users (SECURITY.md). Each attack is shown
# working where the defence is taken away (the stock tool alone, or boxlab's own --script with
# one line edited out: a deliberately weakened build), then failing against boxlab as it is.
load helpers

setup_file() { fetch_busybox_once; }

setup() {
  requires_root
  run_fixtures
}
teardown() {
  [ "$(id -u)" = 0 ] || return 0
  [ -z "${LOOP:-}" ] || losetup -d "$LOOP" 2>/dev/null || true
  [ -z "${HOP:-}" ] || kill -KILL "$HOP" 2>/dev/null || true
  # A test that failed midway leaves its -d box running (reset leaves live runs alone).
  local b
  for b in $(boxlab ps | awk 'NR > 1 && $1 ~ /^sec-/ { print $1 }'); do boxlab rm "$b" >/dev/null || true; done
  rmdir /var/lib/boxlab/work/deadbeef 2>/dev/null || true
  boxlab reset >/dev/null || true
}

bundle_with() { # DIR JSON-of-process: a bundle over the busybox rootfs
  mkdir -p "$1"
  ln -s "$R" "$1/rootfs"
  printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":%s}\n' "$2" >"$1/config.json"
}

@test "an Env entry that is not NAME=value: env(1) runs it as a command (break-it); boxlab refuses the bundle" {
  flag="$BATS_TEST_TMPDIR/pwned"
  # The class: env -i takes its first word without '=' as the program to run, here as host root.
  env -i /bin/sh -c "touch $flag" /bin/true
  [ -e "$flag" ] && rm "$flag"
  bundle_with "$BATS_TEST_TMPDIR/b" "{\"args\":[\"/bin/true\"],\"env\":[\"/bin/sh\",\"-c\",\"touch $flag\"]}"
  run boxlab run --seccomp unconfined --bundle "$BATS_TEST_TMPDIR/b"
  assert_failure 2
  assert_equal "${#lines[@]}" 1
  assert_output --partial 'config.json process.env: "/bin/sh" is not NAME=value'
  [ ! -e "$flag" ]
  assert_host_clean
}

@test "LD_PRELOAD in the box's environment: host binaries would load it (break-it); boxlab gives it to the command alone" {
  # The class: a dynamic host binary started with it loads the named file as host root.
  run env -i LD_PRELOAD=/nonexistent-boxlab.so setpriv /bin/true
  assert_output --partial 'cannot be preloaded'
  run boxlab run "${SECCOMP[@]}" -e LD_PRELOAD=/nonexistent-boxlab.so --rootfs "$R" -- /bin/sh -c 'echo "in the box: $LD_PRELOAD"'
  assert_success
  assert_output 'in the box: /nonexistent-boxlab.so'
  assert_host_clean
}

@test "a device node shipped in the root filesystem: readable without nodev (weakened build), refused by default" {
  printf 'FLAG-%s-host-disk' "$RANDOM" >"$BATS_TEST_TMPDIR/disk"
  truncate -s 1M "$BATS_TEST_TMPDIR/disk"
  LOOP=$(losetup -f --show "$BATS_TEST_TMPDIR/disk" 2>/dev/null) || skip "no loop device here (a kernel without the loop module, as the test VM's): the host stage runs this"
  cp -a "$R" "$BATS_TEST_TMPDIR/rootfs"
  mknod -m 0666 "$BATS_TEST_TMPDIR/rootfs/disk" b "$((16#$(stat -c %t "$LOOP")))" "$((16#$(stat -c %T "$LOOP")))"
  # Weakened: the same run with the overlay's nodev taken out of its script.
  run bash -c "node '$ROOT/bin/boxlab.js' run --script --seccomp unconfined --rootfs '$BATS_TEST_TMPDIR/rootfs' -- /bin/head -c 18 /disk | sed 's/nodev,lowerdir=/lowerdir=/' | bash"
  assert_output --partial 'FLAG-'
  assert_host_clean
  run boxlab run --seccomp unconfined --rootfs "$BATS_TEST_TMPDIR/rootfs" -- /bin/sh -c 'head -c 18 /disk || echo refused'
  refute_output --partial 'FLAG-'
  assert_output --partial 'refused'
  assert_host_clean
}

@test "the command has a session of its own: the user's terminal is not its controlling tty (TIOCSTI), unless setsid is edited out" {
  stat_line() { script -qec "$1" /dev/null | tr -d '\r' | grep -E '^[0-9]+ \(cat\)'; }
  run stat_line "node '$ROOT/bin/boxlab.js' run --seccomp unconfined --rootfs '$R' -- /bin/cat /proc/self/stat"
  assert_success
  # Field 7 (tty_nr): 0, no controlling terminal; field 6 (session): its own PID.
  read -r pid _ _ _ _ sid tty _ <<<"$output"
  assert_equal "$tty" 0
  assert_equal "$sid" "$pid"
  run stat_line "node '$ROOT/bin/boxlab.js' run --script --seccomp unconfined --rootfs '$R' -- /bin/cat /proc/self/stat | sed 's/setsid --wait //' | bash"
  read -r pid _ _ _ _ sid tty _ <<<"$output"
  [ "$tty" != 0 ]
  assert_host_clean
}

@test "the way into a box: its processes cannot reach the host's root or binary through /proc/PID of the chain (unless the real gid trick is edited out)" {
  # With a seccomp filter where setpriv applies one (the VM): its no_new_privs changes how exec
  # treats the chain's ids (Linux 6.12 resets them), and that is where the trick must hold.
  boxlab run -d --name sec-exec "${SECCOMP[@]}" --rootfs "$R" -- /bin/sleep 600 >/dev/null
  for _ in $(seq 100); do box=$(boxlab ps | awk '$1 == "sec-exec" { print $2 }'); [ -n "$box" ] && [ "$box" != - ] && break; sleep 0.05; done
  # The chain's most exposed moment: setpriv has dropped to the box's capabilities and exec'd,
  # chroot(2) is not yet done. The same chain as boxlab's, with sleep where chroot would run.
  # Its setsid/setpriv line as boxlab writes it (the payload file), with sleep in chroot's place;
  # the filter's path ($1 there) is the test's own copy of the default profile.
  text=$(node "$ROOT/bin/boxlab.js" run --script "${SECCOMP[@]}" --rootfs "$R" -- /bin/true | sed -n "/^printf '%s' 'cd /,/^exec setsid/p" | sed -e "s/^printf '%s' '//" -e 's| /usr/sbin/chroot .*| /bin/sleep 30|')
  [[ "$text" == 'cd "/proc/${'?'}/root" || exit 125'$'\n''exec setsid --wait setpriv '*' /bin/sleep 30' ]]
  params="'$box'"
  if [ ${#SECCOMP[@]} = 0 ]; then
    boxlab seccomp compile "$ROOT/lessons/08-seccomp/docker-like.json" -o "$BATS_TEST_TMPDIR/seccomp.bpf" >/dev/null
    [[ "$text" == *'"--seccomp-filter=${1}/seccomp.bpf"'* ]]
    params="'$BATS_TEST_TMPDIR' '$box'"
  fi
  hop="nsenter --target $box --mount --uts --ipc --net --pid --cgroup --root=/ --wd=/ env -i --default-signal=INT,QUIT sh -c '$text' sh $params"
  probe() {
    bash -c "$1" </dev/null >/dev/null 2>&1 &
    HOP=$!
    local p=''
    for _ in $(seq 100); do read -r p _ <"/proc/$HOP/task/$HOP/children" 2>/dev/null || true; [ -n "$p" ] && grep -q sleep "/proc/$p/comm" && break; p=; sleep 0.02; done
    [ -n "$p" ]
    local inbox
    inbox=$(awk '/^NSpid:/ { print $NF }' "/proc/$p/status")
    run boxlab exec sec-exec /bin/sh -c "readlink /proc/$inbox/root || echo root:refused; cat /proc/$inbox/exe >/dev/null && echo exe:readable || echo exe:refused"
    kill -KILL "$HOP"
    HOP=
  }
  probe "${hop/--rgid=65534 --clear-groups /}"
  assert_line /
  assert_line exe:readable
  probe "$hop"
  assert_line root:refused
  assert_line exe:refused
  refute_line /
  boxlab rm sec-exec >/dev/null
  assert_host_clean
}

@test "exec joins the box's cgroups, and the box's pids limit binds it" {
  boxlab run -d --name sec-cg --seccomp unconfined --pids 20 --rootfs "$R" -- /bin/sleep 600 >/dev/null
  for _ in $(seq 100); do boxlab ps | grep -q '^sec-cg  [0-9]' && break; sleep 0.05; done
  # Read on the host: the exec'd process is in the box's pids cgroup (v1) or its group (v2).
  run boxlab exec sec-cg /bin/sh -c 'cat /proc/self/stat' 
  group=$(awk -F: '$2 == "pids" || $1 == "0" { print $3 }' "/proc/$(boxlab ps | awk '$1 == "sec-cg" { print $2 }')/cgroup" | head -1)
  [ -n "$group" ]
  # 20 processes at most in the box: the exec'd shell cannot fork 30 times.
  run boxlab exec sec-cg /bin/sh -c 'i=0; while [ $i -lt 30 ]; do /bin/sleep 3 </dev/null >/dev/null 2>&1 & i=$((i+1)); done; echo "started $i"'
  refute_output 'started 30'
  boxlab rm sec-cg >/dev/null
  sleep 0.5
  assert_host_clean
}

@test "local users: no way into /run/boxlab, the work parent or the cache; -e NAME values in no command line; a work dir made beforehand stops the run" {
  SECRET_TOKEN="s3cr3t-$RANDOM$RANDOM" boxlab run -d --name sec-users -e SECRET_TOKEN --seccomp unconfined --rootfs "$R" -- /bin/sleep 600 >/dev/null
  for _ in $(seq 100); do boxlab ps | grep -q '^sec-users  [0-9]' && break; sleep 0.05; done
  assert_equal "$(stat -c %a /run/boxlab /run/boxlab/boxes/sec-users.json /var/cache/boxlab)" "$(printf '700\n600\n700')"
  as_nobody ls /run/boxlab
  assert_failure
  as_nobody mkdir /var/lib/boxlab/work/mine
  assert_failure
  as_nobody ls /var/cache/boxlab
  assert_failure
  # The box has it; no process shows it in its command line (world-readable in /proc).
  run boxlab exec sec-users /bin/sh -c 'echo "$SECRET_TOKEN"'
  assert_output --regexp '^s3cr3t-'
  secret=$output
  # Read first, matched in bash: a grep given the secret would find its own command line.
  cmdlines=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ')
  [[ "$cmdlines" != *"$secret"* ]] || fail "the secret is in a process's command line"
  # Weakened: the same chain with the values in nsenter's own command line (enterBox, as lesson
  # 12 runs it) would show them for the run's life; here, the run's payload file holds them.
  # shellcheck disable=SC2012 # work directories are named by boxlab (the run's id)
  [ "$(stat -c %a "$(ls -d /var/lib/boxlab/work/*/ | head -1)")" = 700 ]
  boxlab rm sec-users >/dev/null
  # A work directory that exists before the run (as another user could have made it): refused.
  mkdir -p /var/lib/boxlab/work/deadbeef
  # (The script draws its id with printf -v RUN_ID; the line is replaced by a fixed one.)
  run bash -c "node '$ROOT/bin/boxlab.js' run --script --seccomp unconfined --rootfs '$R' -- /bin/true | sed 's/^printf -v RUN_ID .*/RUN_ID=deadbeef/' | bash"
  assert_failure
  assert_output --partial 'File exists'
  # Nothing was written into it (the run's cleanup may remove it: only root can make one there).
  [ ! -e /var/lib/boxlab/work/deadbeef ] || [ -z "$(ls -A /var/lib/boxlab/work/deadbeef)" ]
  rmdir /var/lib/boxlab/work/deadbeef 2>/dev/null || true
  assert_host_clean
}

@test "the box's init carries none of the host's environment" {
  HOST_SECRET=leak run boxlab run "${SECCOMP[@]}" --rootfs "$R" -- /bin/sh -c 'wc -c < /proc/1/environ'
  assert_success
  assert_output 0
}

@test "reset leaves a live --script | bash run alone (it writes its state file), and the run still cleans up after itself" {
  node "$ROOT/bin/boxlab.js" run --script --seccomp unconfined --rootfs "$R" -- /bin/sh -c 'echo started; sleep 5; echo finished' | bash >"$BATS_TEST_TMPDIR/out" 2>&1 &
  local pid=$!
  # (Up to a minute: under the test VM's emulation, Node alone takes seconds to start.)
  for _ in $(seq 3000); do grep -q started "$BATS_TEST_TMPDIR/out" && break; sleep 0.02; done
  grep -q started "$BATS_TEST_TMPDIR/out"
  run boxlab reset
  assert_output --partial 'left alone'
  wait "$pid"
  grep -q finished "$BATS_TEST_TMPDIR/out"
  assert_host_clean
}

@test "crafted images from a loopback registry: an Env entry that is not NAME=value, a diff_id that is a path: one line each, nothing run, nothing outside the cache" {
  requires docker-registry skopeo
  export BOXLAB_CACHE_DIR="$BATS_TEST_TMPDIR/cache"
  PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  bash "$ROOT/scripts/registry.sh" start "$PORT" "$BATS_TEST_TMPDIR/registry" >/dev/null
  skopeo copy --quiet --src-tls-verify=false "docker://127.0.0.1:$PORT/boxlab/busybox:layers" "oci:$BATS_TEST_TMPDIR/layout:env"
  skopeo copy --quiet --src-tls-verify=false "docker://127.0.0.1:$PORT/boxlab/busybox:layers" "oci:$BATS_TEST_TMPDIR/layout:diffid"
  flag="$BATS_TEST_TMPDIR/pwned"
  node "$ROOT/test/integration/fixtures/craft-image.mjs" "$BATS_TEST_TMPDIR/layout" env "{\"config\":{\"Env\":[\"/bin/sh\",\"-c\",\"touch $flag\"]}}"
  ids=$(skopeo inspect --config "oci:$BATS_TEST_TMPDIR/layout:diffid" | node -e 'const c=JSON.parse(require("fs").readFileSync(0));c.rootfs.diff_ids[0]="sha256:../../../../etc";console.log(JSON.stringify({rootfs:{diff_ids:c.rootfs.diff_ids}}))')
  node "$ROOT/test/integration/fixtures/craft-image.mjs" "$BATS_TEST_TMPDIR/layout" diffid "$ids"
  for t in env diffid; do skopeo copy --quiet --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/layout:$t" "docker://127.0.0.1:$PORT/evil/$t:1"; done

  run boxlab fetch "127.0.0.1:$PORT/evil/env:1" --plain-http --quiet
  assert_success
  run boxlab run --seccomp unconfined "127.0.0.1:$PORT/evil/env:1"
  assert_failure 2
  assert_equal "${#lines[@]}" 1
  assert_output --partial 'config Env: "/bin/sh" is not NAME=value'
  [ ! -e "$flag" ]

  run boxlab fetch "127.0.0.1:$PORT/evil/diffid:1" --plain-http --quiet
  assert_failure
  assert_equal "${#lines[@]}" 1
  assert_output --partial 'sha256:../../../../etc'
  refute_output --partial 'internal error'
  run boxlab images
  refute_output --partial 'evil/diffid'
  # Nothing was made beside the cache.
  [ -z "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -newer "$BATS_TEST_TMPDIR/layout" ! -name cache ! -name registry ! -name layout)" ]
  bash "$ROOT/scripts/registry.sh" stop "$PORT" >/dev/null
  assert_host_clean
}

@test "exec applies the box's seccomp filter, and refuses to enter once the filter is gone" {
  requires seccomp_filter
  boxlab run -d --name sec-filter --rootfs "$R" -- /bin/sleep 600 >/dev/null
  for _ in $(seq 100); do boxlab ps | grep -q '^sec-filter  [0-9]' && break; sleep 0.05; done
  run boxlab exec sec-filter /bin/grep ^Seccomp: /proc/self/status
  assert_line --regexp '^Seccomp:\s+2$'
  work=/var/lib/boxlab/work/$(node -p 'require("/run/boxlab/boxes/sec-filter.json").runId')
  rm "$work/seccomp.bpf"
  run boxlab exec sec-filter /bin/true
  assert_failure 1
  assert_equal "${#lines[@]}" 1
  assert_output --partial 'seccomp filter'
  boxlab rm sec-filter >/dev/null
  assert_host_clean
}

@test "the box's init stops when its launcher's parent is not the run (it died before the parent-death signal was set): nothing left" {
  # As if the run had died between the fork and setpriv's prctl: the launcher's parent is not
  # the PID the init is told to find (its own is taken for a stranger's, 1).
  run bash -c "node '$ROOT/bin/boxlab.js' run --script --seccomp unconfined --rootfs '$R' -- /bin/echo started | sed 's/^HOST_PID=\\\$\\\$\$/HOST_PID=1/' | bash"
  assert_failure
  assert_output --partial 'the run that started this is gone: not starting'
  refute_line started
  assert_host_clean
}

@test "the box's init keeps no working directory on the host: from a --script run started elsewhere, /proc/1/cwd is the box's / (unless cd / is edited out)" {
  gen() { node "$ROOT/bin/boxlab.js" run --script --seccomp unconfined --rootfs "$R" -- /bin/sh -c 'cd /proc/1/cwd && ls -d ./*/bats-run-* 2>/dev/null | head -1; echo "cwd=$(readlink /proc/1/cwd)"'; }
  mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
  # Weakened: neither the script nor the init's own check changes to /.
  run bash -c "cd '$BATS_TEST_TMPDIR/elsewhere' && bash <(node '$ROOT/bin/boxlab.js' run --script --seccomp unconfined --rootfs '$R' -- /bin/sh -c 'echo \"cwd=\$(readlink /proc/1/cwd)\"; ls /proc/1/cwd/../../.. | grep -c . ' | sed -e 's/^cd \/$/:/' -e \"s/ sh -c 'cd \/ \&\& / sh -c '/\")"
  refute_line 'cwd=/'
  run bash -c "cd '$BATS_TEST_TMPDIR/elsewhere' && bash <(node '$ROOT/bin/boxlab.js' run --script --seccomp unconfined --rootfs '$R' -- /bin/sh -c 'echo \"cwd=\$(readlink /proc/1/cwd)\"')"
  assert_line 'cwd=/'
  assert_host_clean
}

@test "a volume whose box path goes through a symlink in the image (/app -> /etc): refused, and nothing made on the host" {
  cp -a "$R" "$BATS_TEST_TMPDIR/rootfs"
  ln -s /etc "$BATS_TEST_TMPDIR/rootfs/app"
  mkdir -p "$BATS_TEST_TMPDIR/vol"
  run boxlab run --seccomp unconfined -v "$BATS_TEST_TMPDIR/vol:/app/boxlab-made-this" --rootfs "$BATS_TEST_TMPDIR/rootfs" -- /bin/true
  assert_failure
  assert_output --partial '/app is a symlink in the box'
  [ ! -e /etc/boxlab-made-this ]
  assert_host_clean
}
