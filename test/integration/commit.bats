#!/usr/bin/env bats
# boxlab commit: a box run -d from the offline busybox image gets a file written and a base file
# deleted through boxlab exec, while its own command keeps appending to a file; its upper
# directory becomes a fourth layer (the files, and the deletion as a whiteout) that boxlab run
# then stacks. Bad input is one line and caches nothing.
# Run under the kernel lock, with a cache of its own.
load helpers

setup_file() { own_image_cache; }

setup() {
  requires_root
  own_image_cache
  run_fixtures
}

teardown() {
  [ "$(id -u)" = 0 ] || return 0
  boxlab rm commit-box >/dev/null 2>&1 || true
  boxlab rm rootfs-box >/dev/null 2>&1 || true
  assert_host_clean
}

@test "commit: a file written and a base file deleted in a running box become a layer; run the new image; images lists it" {
  # The box keeps appending to a file while it is committed: it is taken as it was when read.
  run boxlab run -d --name commit-box "${SECCOMP[@]}" boxlab.local/busybox:layers -- /bin/sh -c 'while :; do echo tick >> /srv/ticks; sleep 0.01; done'
  assert_success
  for _ in $(seq 100); do boxlab ps | grep -q '^commit-box  [0-9]' && break; sleep 0.05; done
  run boxlab exec commit-box /bin/sh -c 'echo committed > /srv/new.txt && rm /etc/motd && sleep 0.1'
  assert_success
  run boxlab commit commit-box committed:1
  assert_success
  assert_line --regexp '^docker.io/library/committed:1 sha256:[0-9a-f]{64}$'
  # The fourth layer, as GNU tar lists it: the new file and the deletion as a whiteout, nothing of boxlab's.
  layer=$(boxlab inspect committed:1 | awk '$1 == "layer" && $2 == 4 {print $3}')
  run tar --numeric-owner -tzf "$BOXLAB_CACHE_DIR/images/blobs/sha256/${layer#sha256:}"
  assert_output $'etc/\netc/.wh.motd\nsrv/\nsrv/new.txt\nsrv/ticks'
  run boxlab inspect committed:1 --config
  assert_output --partial '"created_by": "boxlab commit"'
  run boxlab images
  assert_line --regexp '^docker.io/library/committed:1 +sha256:[0-9a-f]{12} +4 '
  # The box still runs; the new image runs as a box of its own, with both changes.
  # shellcheck disable=SC2016 # expanded by the box's shell, not this one
  run boxlab run "${SECCOMP[@]}" committed:1 /bin/sh -c 'cat /srv/new.txt; test -e /etc/motd || echo motd gone; echo "$GREETING"; sort -u /srv/ticks'
  assert_success
  assert_output $'committed\nmotd gone\nhello from the image config\ntick'
  run boxlab rm commit-box
  assert_success
  run boxlab rmi committed:1
  assert_success
}

@test "commit refuses an unknown box, a bad name, a digest and a --rootfs box in one line each, and caches nothing" {
  run boxlab run -d --name rootfs-box "${SECCOMP[@]}" --rootfs "$R" -- /bin/sleep 60
  assert_success
  for case in 'no-such-box good:1|no running box named no-such-box' \
    'rootfs-box Bad:1|is not an image reference' \
    "rootfs-box good@sha256:$(printf '%064d' 0)|names a digest" \
    'rootfs-box good:1|box rootfs-box runs on '; do
    read -r box image <<<"${case%%|*}"
    run boxlab commit "$box" "$image"
    assert_failure
    [ "${#lines[@]}" = 1 ]
    assert_output --partial "${case#*|}"
  done
  run boxlab images
  refute_output --partial good
  [ -z "$(ls "$BOXLAB_CACHE_DIR/images/tmp")" ]
  run boxlab rm rootfs-box
  assert_success
}
