# shellcheck shell=bash disable=SC2034 # NEED is read by provision.sh, which sources this file after packages.sh
# Lesson 14's engine and the tools boxlab is measured against: podman (with conmon) drives
# boxlab as its OCI runtime; crun, like runc, is a yardstick for it, and buildah for boxlab
# build (npm run bench). A host needs them for lesson 14, its tests and the bench only. Kept out of packages.sh, which keys the test VM's image:
# the VM does not run lesson 14, and a new key would rebuild its image in CI.
NEED+=(
  [podman]=podman
  [conmon]=conmon
  [crun]=crun
  [buildah]=buildah
)
