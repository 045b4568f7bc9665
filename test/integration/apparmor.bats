#!/usr/bin/env bats
# boxlab run under AppArmor (lesson 15): a default box runs under boxlab-default, and what root
# with CAP_SYS_ADMIN reads unconfined (a host file behind a mask) is denied under it. Only where
# the kernel runs AppArmor (the VM stage); elsewhere, what a run does without it.
load helpers

setup_file() { fetch_busybox_once; }

setup() {
  requires_root
  run_fixtures
}
teardown() { reset_after_test; }

# The host's firmware tables, hidden by the box's mask (lesson 7): the mask lifted, a file read.
# shellcheck disable=SC2016 # the box's shell expands it
FIRMWARE='umount /sys/firmware 2>/dev/null; for f in /sys/firmware/dmi/tables/smbios_entry_point /sys/firmware/memmap/0/type; do [ -f "$f" ] && exec cat "$f" >/dev/null; done; exit 1'

@test "apparmor: a default box runs under boxlab-default, shown in its /proc/self/attr" {
  requires apparmor
  run boxlab run "${SECCOMP[@]}" --rootfs "$R" -- /bin/cat /proc/self/attr/current
  assert_success
  assert_output 'boxlab-default (enforce)'
  # Its placeholder init stays unconfined (so it dies with its run), and readable from the box.
  run boxlab run "${SECCOMP[@]}" --rootfs "$R" -- /bin/sh -c 'cat /proc/1/attr/current; head -n 1 /proc/1/root/etc/passwd'
  assert_success
  assert_line 'unconfined'
  assert_line --partial 'root:x:0:0:'
  run boxlab run "${SECCOMP[@]}" --security-opt apparmor=unconfined --rootfs "$R" -- /bin/cat /proc/self/attr/current
  assert_success
  assert_output 'unconfined'
  assert_host_clean
}

@test "apparmor: a hidden host file that root with CAP_SYS_ADMIN reads unconfined is denied by boxlab-default" {
  requires apparmor
  # seccomp unconfined in both: Docker's profile refuses umount2 without CAP_SYS_ADMIN rules of its own.
  run boxlab run --cap-add SYS_ADMIN --seccomp unconfined --security-opt apparmor=unconfined --rootfs "$R" -- /bin/sh -c "$FIRMWARE"
  assert_success
  run boxlab run --cap-add SYS_ADMIN --seccomp unconfined --rootfs "$R" -- /bin/sh -c "$FIRMWARE"
  assert_failure
  run boxlab run --cap-add SYS_ADMIN --seccomp unconfined --rootfs "$R" -- /bin/mount -t tmpfs boxlab-aa /mnt
  assert_failure
  assert_output --partial 'Permission denied'
  assert_host_clean
}

@test "apparmor: a profile that is not loaded, or asked for where the kernel has none: one line, nothing run" {
  run boxlab run "${SECCOMP[@]}" --security-opt apparmor=boxlab-no-such-profile --rootfs "$R" -- /bin/true
  assert_failure
  if has_apparmor; then assert_output --partial 'profile boxlab-no-such-profile (--security-opt) is not loaded'; else assert_output --partial 'this kernel does not run AppArmor'; fi
  assert_equal "${#lines[@]}" 1
  run boxlab run --security-opt 'apparmor=../../etc/x' --rootfs "$R" -- /bin/true
  assert_failure 2
  assert_output --partial 'is not a profile name'
  run boxlab run --security-opt label=type:container_t --rootfs "$R" -- /bin/true
  assert_failure 2
  assert_output --partial 'SELinux labels'
  assert_host_clean
}

@test "apparmor: without AppArmor in the kernel, a default box runs as before, with no profile asked for" {
  requires no_apparmor
  run boxlab run "${SECCOMP[@]}" --rootfs "$R" -- /bin/true
  assert_success
  run boxlab run "${SECCOMP[@]}" --script --rootfs "$R" -- /bin/true
  refute_output --partial 'apparmor'
}
