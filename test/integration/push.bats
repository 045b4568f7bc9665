#!/usr/bin/env bats
# boxlab push to a real registry on loopback (Debian's docker-registry), read back by skopeo (a
# client no one here wrote), then the round trip: rmi, fetch into the empty name, run.
load helpers

setup_file() {
  [ "$(id -u)" = 0 ] || return 0
  command -v docker-registry >/dev/null && command -v skopeo >/dev/null || return 0
  export BOXLAB_CACHE_DIR="$BATS_FILE_TMPDIR/cache"
  PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  export PORT
  # It also builds boxlab.local/busybox:layers into this cache, offline.
  bash "$ROOT/scripts/registry.sh" start "$PORT" "$BATS_FILE_TMPDIR/registry" >/dev/null
}

teardown_file() {
  if [ -n "${PORT:-}" ]; then bash "$ROOT/scripts/registry.sh" stop "$PORT" || true; fi
}

setup() {
  requires_root
  [ -n "${PORT:-}" ] || skip "needs docker-registry and skopeo (bash scripts/provision.sh)"
  run_fixtures
}

@test "push, skopeo reads the same digests, a second push sends 0 B; rmi, fetch back into the empty name, run: the same output" {
  local src=boxlab.local/busybox:layers dest="127.0.0.1:$PORT/learner/hello:1"
  # shellcheck disable=SC2016 # expanded by the box's shell, not this one
  local probe='echo "$GREETING"; cat /srv/www/index.html; ls /bin | wc -l; test -e /bin/wget || echo "no wget"'
  run boxlab run "${SECCOMP[@]}" "$src" /bin/sh -c "$probe"
  assert_success
  before=$output
  manifest=$(boxlab inspect "$src" | sed -n 's/^manifest //p')
  layers=$(boxlab inspect "$src" | awk '$1 == "layer" {print $3}')

  run boxlab push "$src" "$dest" --plain-http --verbose
  assert_success
  # What the registry received, in order: HEAD (404), POST, PUT for each blob; the manifest last.
  assert_line --regexp '^HEAD /v2/learner/hello/blobs/sha256:[0-9a-f]{64} 404$'
  assert_line --regexp '^POST /v2/learner/hello/blobs/uploads/ 202$'
  assert_line --regexp '^PUT /v2/learner/hello/blobs/uploads/[^ ]*digest=sha256:[^ ]* 201$'
  assert_equal "$(printf '%s\n' "${lines[@]}" | grep -E '^[A-Z]+ /v2/' | tail -1)" 'PUT /v2/learner/hello/manifests/1 201'
  assert_line "$dest@$manifest"
  assert_line --regexp "^$dest: 4 blobs, .* uploaded, 0 already there; manifest $manifest$"

  # skopeo: the manifest digest and the layers are those of the cache.
  info=$(skopeo inspect --tls-verify=false "docker://$dest")
  [ "$(node -e 'const i=JSON.parse(process.argv[1]);console.log(i.Digest);console.log(i.Layers.join("\n"))' "$info")" = "$manifest"$'\n'"$layers" ]
  [ "$(skopeo inspect --raw --tls-verify=false "docker://$dest" | sha256sum | cut -d' ' -f1)" = "${manifest#sha256:}" ]

  run boxlab push "$src" "$dest" --plain-http
  assert_success
  assert_line "$dest: 4 blobs, 0 B uploaded, 4 already there; manifest $manifest"

  run boxlab rmi "$src"
  assert_success
  run boxlab images
  assert_output --partial 'no images cached'
  [ -z "$(ls "$BOXLAB_CACHE_DIR/images/blobs/sha256")" ]

  run boxlab fetch "$dest" --plain-http
  assert_success
  assert_output --partial "$dest: 3 layers"
  [ "$(boxlab inspect "$dest" | sed -n 's/^manifest //p')" = "$manifest" ]
  run boxlab run "${SECCOMP[@]}" "$dest" /bin/sh -c "$probe"
  assert_success
  assert_equal "$output" "$before"
  assert_line 'no wget'
  # Pulled from this registry: to another repository of it, the blobs are mounted, not sent.
  run boxlab push "$dest" "127.0.0.1:$PORT/learner/copy:1" --plain-http
  assert_success
  assert_line "127.0.0.1:$PORT/learner/copy:1: 4 blobs, 0 B uploaded, 0 already there, 4 mounted from learner/hello; manifest $manifest"
  assert_host_clean
}

@test "push: no such image, a registry that is not there, a digest as destination: one line each" {
  run boxlab push boxlab.local/none:1 "127.0.0.1:$PORT/learner/x:1" --plain-http
  assert_failure 1
  assert_output 'boxlab: no image boxlab.local/none:1 in the cache (boxlab images lists them; boxlab fetch boxlab.local/none:1 pulls it)'
  boxlab fetch --busybox --quiet >/dev/null
  run boxlab push boxlab.local/busybox:layers 127.0.0.1:1/learner/x:1 --plain-http
  assert_failure 1
  assert_output --regexp '^boxlab: cannot reach 127\.0\.0\.1:1 '
  run boxlab push boxlab.local/busybox:layers "127.0.0.1:$PORT/learner/x@sha256:$(printf '%064d' 0)"
  assert_failure 2
  [ "${#lines[@]}" = 1 ]
  run boxlab push boxlab.local/busybox:layers "127.0.0.1:$PORT/learner/x:1"
  assert_failure 1
  assert_output --partial '(a plain-HTTP registry on loopback needs --plain-http)'
}

@test "push as a user whose cache is root's: one line saying why" {
  # A cache nobody can reach but does not own: its owner is the reason, not an exit code.
  c=$(mktemp -d /tmp/boxlab-push-nobody.XXXXXX)
  mkdir -m 755 "$c/cache"
  chmod 755 "$c"
  BOXLAB_CACHE_DIR="$c/cache" as_nobody node "$ROOT/bin/boxlab.js" push boxlab.local/busybox:layers "127.0.0.1:$PORT/learner/x:1" --plain-http
  rm -rf "$c"
  assert_failure 1
  assert_output "boxlab: cannot open the image cache $c/cache/images: $c/cache belongs to uid 0, not to uid 65534: the image cache must be its user's own (run as root)"
}

# Every entry under the directory $1 (its /proc, /sys, /dev and boxlab's /.boxlab left out):
# path, type, mode, owner, link target, content hash, sorted. Read by the same static busybox
# on both sides, in the box and on the host.
# shellcheck disable=SC2016 # a program for busybox sh, its own variables
TREE='cd "$1" && find . -xdev ! -path . ! -path ./proc ! -path "./proc/*" ! -path ./sys ! -path "./sys/*" ! -path ./dev ! -path "./dev/*" ! -path ./.boxlab ! -path "./.boxlab/*" | sort | while read -r p; do
  line=$(stat -c "%n %F %a %u:%g" "$p")
  if [ -L "$p" ]; then line="$line -> $(readlink "$p")"; elif [ -f "$p" ]; then line="$line $(md5sum < "$p" | cut -c1-32)"; fi
  echo "$line"
done'

@test "umoci unpack of a built and pushed image is the tree boxlab run sees: paths, types, modes, owners, links, contents, the whiteout applied" {
  requires umoci
  boxlab fetch --busybox --quiet >/dev/null
  ctx="$BATS_TEST_TMPDIR/ctx"
  mkdir -p "$ctx"
  echo 'from the context' >"$ctx/hello.txt"
  printf '%s\n' 'FROM boxlab.local/busybox:layers' 'COPY hello.txt /app/' \
    'RUN ln -s /app/hello.txt /app/link && chmod 640 /app/hello.txt && chown 7:8 /app/hello.txt && mkdir -m 1777 /app/tmp' \
    'RUN rm /etc/motd' >"$ctx/Boxfile"
  run boxlab build "${SECCOMP[@]}" -t boxlab.local/umoci:1 "$ctx"
  assert_success
  dest="127.0.0.1:$PORT/learner/umoci:1"
  boxlab push boxlab.local/umoci:1 "$dest" --plain-http >/dev/null
  # A client no one here wrote copies it out of the registry; another unpacks it.
  skopeo copy --quiet --src-tls-verify=false "docker://$dest" "oci:$BATS_TEST_TMPDIR/layout:img"
  umoci unpack --image "$BATS_TEST_TMPDIR/layout:img" "$BATS_TEST_TMPDIR/bundle" >/dev/null
  by_umoci=$(/bin/busybox sh -c "$TREE" tree "$BATS_TEST_TMPDIR/bundle/rootfs")
  run boxlab run "${SECCOMP[@]}" boxlab.local/umoci:1 /bin/sh -c "$TREE" tree /
  assert_success
  assert_equal "$output" "$by_umoci"
  # The tree holds what the build made, and not what it deleted.
  assert_line --regexp '^\./app/hello\.txt regular file 640 7:8 [0-9a-f]{32}$'
  assert_line './app/link symbolic link 777 0:0 -> /app/hello.txt'
  assert_line './app/tmp directory 1777 0:0'
  refute_line --regexp '^\./etc/motd '
  boxlab rmi boxlab.local/umoci:1 >/dev/null
  assert_host_clean
}
