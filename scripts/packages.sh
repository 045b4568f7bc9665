# shellcheck shell=bash disable=SC2034 # NEED, STATIC_PACKAGES and LSM_NEED are read by the scripts that source this file
# The Debian packages a boxlab host needs, each with a command it provides (so apt runs only
# for what is missing). Sourced by provision.sh and by vm.sh, which puts the same set into
# the Debian 13 test VM.
declare -A NEED=(
  [util-linux]=unshare
  [mount]=mount
  [libcap2-bin]=capsh
  [iproute2]=ip
  [coreutils]=chroot
  [kmod]=modprobe
  [procps]=ps                       # kill(1), ps and pgrep: minbase Debian lacks them (bash's kill is a builtin)
  [bubblewrap]=bwrap
  [keyutils]=keyctl
  [nodejs]=node
  [npm]=npm
  [attr]=setfattr                   # overlayfs' opaque-directory marker on unpacked layers
  [docker-registry]=docker-registry # a real registry on loopback: lesson 11 --registry, tests
  [skopeo]=skopeo                   # copies images into it; with umoci, the yardstick for fetch
  [umoci]=umoci
  [curl]=curl
  [runc]=runc                       # lesson 12 and the tests compare boxlab run with it
)
# The static build: the dynamic `busybox` package cannot run inside a chroot.
STATIC_PACKAGES=(busybox-static)
# Lesson 15's tools, for a kernel that runs AppArmor (the Debian 13 VM always; a host only when
# /sys/module/apparmor/parameters/enabled says Y): apparmor_parser loads the profiles.
declare -A LSM_NEED=(
  [apparmor]=apparmor_parser
)
