# shellcheck shell=bash disable=SC2154 # suite, mirror, cache, base, recipe, packages: set by vm.sh, which sources this file
# The Debian 13 test VM's recipe, sourced by vm.sh: its userland, kernel, initramfs and init.
# The VM image is cached under a hash of this file and packages.sh: change either and the
# next `npm run vm` builds a new one. (Uses $suite, $mirror, $cache, $base, $packages, step, die.)

# The init the VM runs after switch_root: mounts as systemd would (cgroup2 only), then the
# command from the kernel command line, then the marker the host reads its status from.
vm_init() {
  cat <<'INIT'
#!/bin/bash
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# What udev would add: bash's process substitution (bats uses it) needs /dev/fd.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# Where the LSMs show themselves (lesson 15): the stack, and AppArmor's loaded profiles.
mount -t securityfs securityfs /sys/kernel/security
mount -o remount,rw /
echo "+cpu +memory +pids" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
hostname boxlab-vm
ip link set lo up
for m in overlay veth bridge; do modprobe "$m" 2>/dev/null; done
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb
cmd=$(sed -n 's/.*boxlab.cmd=\([A-Za-z0-9+/=]*\).*/\1/p' /proc/cmdline | base64 -d)
echo "vm: $(uname -r), $(stat -fc %T /sys/fs/cgroup) at /sys/fs/cgroup, $(setpriv --version)"
cd /work
bash -c "$cmd" </dev/null
echo "BOXLAB-VM-EXIT $?"
sync
echo o >/proc/sysrq-trigger
sleep 10
INIT
}

build_base() {
  local tmp="$base.tmp"
  rm -rf "$tmp"
  step "building the Debian 13 userland (debootstrap, once per recipe; a few minutes)"
  # A stalled download fails after 30 s and is tried again, instead of wget's 15-minute default;
  # downloaded packages are kept, so a second build (a changed recipe) fetches little.
  printf 'read_timeout = 30\ntries = 5\n' >"$cache/wgetrc"
  mkdir -p "$cache/debs"
  WGETRC="$cache/wgetrc" debootstrap --variant=minbase --cache-dir="$cache/debs" "$suite" "$tmp" "$mirror" >"$cache/build.log" 2>&1 || {
    tail -20 "$cache/build.log" >&2
    unavailable "debootstrap failed (log: $cache/build.log)"
  }
  # apt, not debootstrap, resolves the packages' dependencies (debootstrap's resolver fails on npm's).
  step "installing the packages provision.sh installs"
  mount -t proc proc "$tmp/proc"
  chroot "$tmp" apt-get update -qq -o Acquire::http::Timeout=30 -o Acquire::Retries=5 >>"$cache/build.log" 2>&1
  # shellcheck disable=SC2086 # the comma list made by vm.sh (package names only), split into words on purpose
  DEBIAN_FRONTEND=noninteractive chroot "$tmp" apt-get install -y -qq --no-install-recommends -o Acquire::http::Timeout=30 -o Acquire::Retries=5 ${packages//,/ } >>"$cache/build.log" 2>&1 || {
    umount "$tmp/proc"
    tail -20 "$cache/build.log" >&2
    unavailable "apt-get install in the userland failed (log: $cache/build.log)"
  }
  umount "$tmp/proc"
  step "adding Debian 13's kernel (apt-get download, dpkg -x)"
  local image
  image=$(chroot "$tmp" apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
  [ -n "$image" ] || unavailable "no linux-image package for trixie found"
  chroot "$tmp" sh -c "cd /tmp && apt-get download -qq $image"
  dpkg -x "$tmp"/tmp/"$image"_*.deb "$tmp"
  rm -f "$tmp"/tmp/*.deb
  chroot "$tmp" apt-get clean
  local kver
  # shellcheck disable=SC2012 # one directory, named by its kernel version: no odd characters
  kver=$(ls "$tmp/usr/lib/modules" | head -1)
  depmod -b "$tmp" "$kver"
  vm_init >"$tmp/sbin/boxlab-vm-init"
  chmod 755 "$tmp/sbin/boxlab-vm-init"
  mkdir -p "$tmp/work" "$tmp/etc/boxlab"
  touch "$tmp/etc/boxlab/disposable"
  echo boxlab-vm >"$tmp/etc/hostname"

  step "making the initramfs (busybox, disk modules)"
  local ird="$cache/initramfs.tmp"
  rm -rf "$ird"
  mkdir -p "$ird"/{bin,dev,proc,sys,newroot,modules}
  cp /bin/busybox "$ird/bin/busybox"
  local order=()
  while read -r kind path _; do
    [ "$kind" = insmod ] || continue
    local name
    name=$(basename "$path" | sed 's/\.ko\(\.xz\|\.zst\)\?$//')
    case "$path" in
      *.xz) xz -dc "$path" >"$ird/modules/$name.ko" ;;
      *.zst) zstd -qdc "$path" >"$ird/modules/$name.ko" ;;
      *) cp "$path" "$ird/modules/$name.ko" ;;
    esac
    [[ " ${order[*]} " == *" $name "* ]] || order+=("$name")
  done < <(for m in virtio_pci virtio_blk ext4; do modprobe -d "$tmp" -S "$kver" --show-depends "$m"; done)
  printf '%s\n' "${order[@]}" >"$ird/modules/order"
  cat >"$ird/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules/order); do insmod "/modules/$m.ko" 2>/dev/null; done
for i in $(seq 100); do [ -b /dev/vda ] && [ -b /dev/vdb ] && break; sleep 0.05; done
mount -t ext4 /dev/vda /newroot || { echo "vm: no root disk"; echo o >/proc/sysrq-trigger; }
mount -t ext4 /dev/vdb /newroot/work
umount /proc /sys
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
exec switch_root /newroot /sbin/boxlab-vm-init
INIT
  chmod 755 "$ird/init"
  (cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/boot/boxlab-initramfs.gz"
  rm -rf "$ird"

  step "writing the root disk image"
  local mb
  mb=$(du -sm "$tmp" | cut -f1)
  mke2fs -q -t ext4 -L boxlab-root -d "$tmp" "$base.img.tmp" "$((mb + mb / 2 + 512))M" >/dev/null
  cp "$tmp/boot/vmlinuz-$kver" "$base.vmlinuz"
  cp "$tmp/boot/boxlab-initramfs.gz" "$base.initramfs.gz"
  mv "$base.img.tmp" "$base.img"
  rm -rf "$tmp"
  # Older recipes' machines are not used again.
  find "$cache" -maxdepth 1 -name "$suite-*" ! -name "$suite-$recipe*" -exec rm -rf {} +
}

