#!/usr/bin/env bash
# The one test command (npm test): compile, unit tests (no root), then the integration tests
# on the real kernel (they skip, saying why, when not run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
npx vitest run
node_modules/bats/bin/bats --print-output-on-failure test/integration
