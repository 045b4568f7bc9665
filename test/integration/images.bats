#!/usr/bin/env bats
# Images from a real registry on loopback (Debian's docker-registry, seeded by skopeo), checked
# against umoci's unpack of the same image; the cache after failures.
load helpers

setup_file() {
  [ "$(id -u)" = 0 ] || return 0
  command -v docker-registry >/dev/null && command -v skopeo >/dev/null && command -v umoci >/dev/null || return 0
  export BOXLAB_CACHE_DIR="$BATS_FILE_TMPDIR/cache"
  PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  export PORT REF="127.0.0.1:$PORT/boxlab/busybox:layers"
  bash "$ROOT/scripts/registry.sh" start "$PORT" "$BATS_FILE_TMPDIR/registry" >/dev/null
}

teardown_file() {
  [ -z "${PORT:-}" ] || bash "$ROOT/scripts/registry.sh" stop "$PORT" || true
}

setup() {
  requires_root
  [ -n "${PORT:-}" ] || skip "needs docker-registry, skopeo and umoci (bash scripts/provision.sh)"
  # Each test pulls into a cache of its own.
  export BOXLAB_CACHE_DIR="$BATS_TEST_TMPDIR/cache"
}

# path, type, mode, owner, link target, size; then each file's sha256.
tree_of() {
  (cd "$1" && find . -printf '%p %y %m %U:%G %l %s\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

@test "fetch --out gives the same tree as umoci unpack of the same image, less its device nodes, in a 0700 directory" {
  run boxlab fetch "$REF" --plain-http --out "$BATS_TEST_TMPDIR/ours"
  assert_success
  assert_output --partial '3 layers'
  # The tree is on the host, not in a box: busybox's /dev/null, zero and urandom are not made.
  assert_output --partial '--out: layer 1/3: 3 device nodes not made'
  [ "$(stat -c '%a %u:%g' "$BATS_TEST_TMPDIR/ours")" = "700 0:0" ]
  [ -z "$(find "$BATS_TEST_TMPDIR/ours" \( -type c -o -type b \) -print)" ]
  skopeo copy --quiet --src-tls-verify=false "docker://$REF" "oci:$BATS_TEST_TMPDIR/layout:x"
  umoci unpack --image "$BATS_TEST_TMPDIR/layout:x" "$BATS_TEST_TMPDIR/umoci" >/dev/null
  # Beside those: the same tree, but for '.' (umoci gives it the image's mode, boxlab keeps 0700).
  tree_of "$BATS_TEST_TMPDIR/ours" | grep -v '^\. ' >"$BATS_TEST_TMPDIR/ours.txt"
  tree_of "$BATS_TEST_TMPDIR/umoci/rootfs" | grep -v -e '^\. ' -e '^[^ ]* [cb] ' >"$BATS_TEST_TMPDIR/umoci.txt"
  # The image has a whiteout (bin/wget) and an opaque directory (srv/www): both applied.
  run grep -c . "$BATS_TEST_TMPDIR/ours.txt"
  [ "$output" -gt 500 ]
  refute grep -q '^./bin/wget ' "$BATS_TEST_TMPDIR/ours.txt"
  grep -q '^./srv/www/index.html ' "$BATS_TEST_TMPDIR/ours.txt"
  refute grep -q 'old.html' "$BATS_TEST_TMPDIR/ours.txt"
  run diff "$BATS_TEST_TMPDIR/ours.txt" "$BATS_TEST_TMPDIR/umoci.txt"
  assert_success
}

@test "a second pull transfers no layer bytes; images lists it; rmi removes every blob and layer" {
  boxlab fetch "$REF" --plain-http
  run boxlab fetch "$REF" --plain-http
  assert_success
  assert_output --partial '0 B downloaded, 3 already cached'
  run boxlab images
  assert_line --regexp "^$REF +sha256:[0-9a-f]{12} +3 +"
  # The unpacked layers are overlayfs lowerdirs: layer 3 whites out wget with a 0/0 device.
  top=$(boxlab inspect "$REF" --lowerdir | cut -d: -f1)
  [ "$(stat -c '%F %t:%T' "$top/bin/wget")" = "character special file 0:0" ]
  [ "$(getfattr --only-values -n trusted.overlay.opaque "$top/srv/www")" = y ]
  run boxlab rmi "$REF"
  assert_success
  [ -z "$(ls "$BOXLAB_CACHE_DIR/images/blobs/sha256")" ]
  [ -z "$(ls "$BOXLAB_CACHE_DIR/layers")" ]
  run boxlab rmi "$REF"
  assert_failure 1
  assert_output --partial "no image $REF in the cache"
}

@test "a blob corrupted in the registry is caught by its digest; nothing is cached" {
  # Flip one byte of the biggest layer inside the registry's own storage.
  blob=$(find "$BATS_FILE_TMPDIR/registry/data" -name data -path '*blobs*' -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2)
  cp "$blob" "$BATS_TEST_TMPDIR/good"
  printf '\xff' | dd of="$blob" bs=1 seek=5000 conv=notrunc status=none
  run boxlab fetch "$REF" --plain-http
  cp "$BATS_TEST_TMPDIR/good" "$blob"
  assert_failure 1
  assert_output --regexp 'boxlab: blob sha256:[0-9a-f]{64} does not match its digest'
  [ -z "$(ls "$BOXLAB_CACHE_DIR/images/tmp")" ]
  run boxlab images
  assert_output --partial 'no images cached'
}

@test "an unknown image, no registry, a bad reference: one line each, nothing cached" {
  run boxlab fetch "127.0.0.1:$PORT/boxlab/nothing:here" --plain-http
  assert_failure 1
  assert_output "boxlab: no such image: 127.0.0.1:$PORT/boxlab/nothing:here (HTTP 404 from 127.0.0.1:$PORT)"
  run boxlab fetch "$REF"
  assert_failure 1
  assert_output --partial '(a plain-HTTP registry on loopback needs --plain-http)'
  run boxlab fetch 'Not/A:ref!'
  assert_failure 2
  assert_output --partial 'is not an image reference'
  [ "${#lines[@]}" = 1 ]
}

@test "disk full: one clear line, no partial blob" {
  mkdir -p "$BATS_TEST_TMPDIR/small"
  mount -t tmpfs -o size=600k,mode=0700 boxlab-test-full "$BATS_TEST_TMPDIR/small"
  BOXLAB_CACHE_DIR="$BATS_TEST_TMPDIR/small" run boxlab fetch "$REF" --plain-http
  leftovers=$(find "$BATS_TEST_TMPDIR/small/images/tmp" "$BATS_TEST_TMPDIR/small/images/blobs" -type f -size +100k | wc -l)
  umount "$BATS_TEST_TMPDIR/small"
  assert_failure 1
  assert_output --partial 'disk full writing to'
  [ "$leftovers" = 0 ]
}

@test "a tarball with --sha256: a one-layer image; a wrong sha256 keeps nothing" {
  tar -C "$ROOT/test" -czf "$BATS_TEST_TMPDIR/t.tar.gz" unit
  sum=$(sha256sum "$BATS_TEST_TMPDIR/t.tar.gz" | cut -d' ' -f1)
  run boxlab fetch --tarball "file://$BATS_TEST_TMPDIR/t.tar.gz" --sha256 "$(printf %s "$sum" | tr 0-9a-f 1-9a-f0)" --name test/tar:1
  assert_failure 1
  assert_output --partial 'does not match its digest'
  run boxlab fetch --tarball "file://$BATS_TEST_TMPDIR/t.tar.gz" --sha256 "$sum" --name test/tar:1 --out "$BATS_TEST_TMPDIR/out"
  assert_success
  [ -f "$BATS_TEST_TMPDIR/out/unit/unpack.test.ts" ]
  run boxlab fetch --tarball "file://$BATS_TEST_TMPDIR/t.tar.gz"
  assert_failure 2
}
