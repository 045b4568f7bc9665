#!/usr/bin/env bats
# boxlab build: a four-instruction Boxfile on the offline busybox image, run with boxlab run,
# rebuilt from the cache and without it (the same digests); hostile input refused in one line
# with nothing left behind. Run under the kernel lock, with a cache of its own.
load helpers

setup_file() { own_image_cache; }

setup() {
  requires_root
  own_image_cache
  # This host's setpriv may not apply seccomp filters (util-linux < 2.41): run.bats does the same.
  SECCOMP=()
  has_seccomp_filter || SECCOMP=(--seccomp unconfined)
  CTX="$BATS_TEST_TMPDIR/ctx"
  mkdir -p "$CTX"
}

teardown() {
  [ "$(id -u)" = 0 ] || return 0
  assert_host_clean
}

@test "build: COPY, a RUN adding a file, a RUN deleting a base file, ENV, CMD; run it; all CACHED again; --no-cache gives the same digests" {
  printf 'from the context\n' >"$CTX/hello.txt"
  cat >"$CTX/Boxfile" <<'B'
FROM boxlab.local/busybox:layers
COPY hello.txt /app/
RUN echo added > /app/added.txt
RUN rm /etc/motd
ENV GREETING="built by boxlab"
CMD ["/bin/sh", "-c", "cat /app/hello.txt /app/added.txt; test -e /etc/motd || echo motd gone; echo $GREETING"]
B
  run boxlab build "${SECCOMP[@]}" -t built:1 "$CTX"
  assert_success
  first=$(echo "$output" | grep '^docker.io/library/built:1 sha256:')
  run boxlab run "${SECCOMP[@]}" built:1
  assert_success
  assert_output $'from the context\nadded\nmotd gone\nbuilt by boxlab'
  # The deleting RUN's layer is one whiteout, as tar lists it.
  layer=$(boxlab inspect built:1 | awk '$1 == "layer" && $2 == 6 {print $3}')
  run tar --numeric-owner -tvzf "$BOXLAB_CACHE_DIR/images/blobs/sha256/${layer#sha256:}"
  assert_line --regexp '^-rw------- 0/0 +0 1970-01-01 00:00 etc/\.wh\.motd$'
  run boxlab build "${SECCOMP[@]}" -t built:1 "$CTX"
  assert_success
  [ "$(echo "$output" | grep -cE '^\[[0-9]/6\] (COPY|RUN) .*CACHED')" = 3 ]
  assert_line "$first"
  run boxlab build "${SECCOMP[@]}" --no-cache -t built:1 "$CTX"
  assert_success
  refute_output --partial CACHED
  assert_line "$first"
}

@test "hostile build input: one line each, non-zero, nothing left behind" {
  ln -s /etc "$CTX/out"
  printf 'x\n' >"$CTX/ok"
  for case in 'COPY ../x /x|Boxfile:2: COPY ../x is outside the build context' \
    'COPY /etc/passwd /x|Boxfile:2: COPY /etc/passwd: no such file in the build context' \
    'COPY out/passwd /x|Boxfile:2: COPY out/passwd resolves outside the build context' \
    'HEALTHCHECK CMD true|Boxfile:2: HEALTHCHECK is not supported by boxlab build' \
    'FROBNICATE now|Boxfile:2: FROBNICATE is not a Boxfile instruction'; do
    printf 'FROM boxlab.local/busybox:layers\n%s\n' "${case%%|*}" >"$CTX/Boxfile"
    run boxlab build "${SECCOMP[@]}" -t hostile:1 "$CTX"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" = 1 ]
    assert_output --partial "${case#*|}"
  done
  head -c 10485760 /dev/zero | tr '\0' '#' >"$CTX/Boxfile"
  run boxlab build -t hostile:1 "$CTX"
  assert_failure
  [ "${#lines[@]}" = 1 ]
  assert_output 'boxlab: Boxfile: 10485760 bytes, more than the 1 MiB a Boxfile may be'
  run boxlab images
  refute_output --partial hostile
  [ -z "$(ls "$BOXLAB_CACHE_DIR/images/tmp")" ]
}
