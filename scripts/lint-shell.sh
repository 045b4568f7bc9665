#!/usr/bin/env bash
# Runs shellcheck over every shell file of the project (npm run lint:sh; npm test runs it early).
# .shellcheckrc lets it follow `source`; each disable in the files says why on its line.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v shellcheck >/dev/null || { echo "lint-shell: shellcheck is not installed: apt-get install shellcheck" >&2; exit 2; }
shopt -s nullglob
files=(scripts/*.sh .ci/run lessons/*/*.sh test/integration/*.bash test/integration/*.bats)
shellcheck "${files[@]}"
echo "shellcheck: ${#files[@]} files clean"
