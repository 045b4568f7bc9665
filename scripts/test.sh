#!/usr/bin/env bash
# The one test command (npm test): the linters first (biome, shellcheck: seconds, and a
# failure stops here), build, unit tests (vitest, no root), then the integration tests on the
# real kernel (bats; they skip, saying why, when not run as root). Ends with one summary line
# over all of them, each linter counting as one test.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
lint_failed=0 lint_skipped=0
npm run --silent lint:ts || lint_failed=$((lint_failed + 1))
if command -v shellcheck >/dev/null; then
  bash scripts/lint-shell.sh || lint_failed=$((lint_failed + 1))
else
  echo "shellcheck: skipped (not installed: apt-get install shellcheck; CI installs it)"
  lint_skipped=1
fi
if [ "$lint_failed" != 0 ]; then
  echo "lint failed: nothing else was run"
  echo "tests: $((2 - lint_failed - lint_skipped)) passed, $lint_failed failed, $lint_skipped skipped"
  exit 1
fi
npm run --silent build || exit 1

npx vitest run --reporter=default --reporter=json --outputFile.json="$out/unit.json"
unit=$?
node_modules/bats/bin/bats --print-output-on-failure test/integration | tee "$out/integration.tap"
integration=$?

node - "$out/unit.json" "$out/integration.tap" "$lint_skipped" <<'JS'
const fs = require('node:fs');
const [unitFile, tapFile, lintSkipped] = process.argv.slice(2);
// The two linters passed (a failure ended the run above), or shellcheck was skipped.
let passed = 2 - Number(lintSkipped), failed = 0, skipped = Number(lintSkipped);
try {
  const u = JSON.parse(fs.readFileSync(unitFile, 'utf8'));
  passed += u.numPassedTests; failed += u.numFailedTests; skipped += u.numPendingTests + u.numTodoTests;
} catch { failed += 1; }
for (const line of fs.readFileSync(tapFile, 'utf8').split('\n')) {
  if (/^not ok /.test(line)) failed++;
  else if (/^ok .*# skip/.test(line)) skipped++;
  else if (/^ok /.test(line)) passed++;
}
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
JS
[ "$unit" = 0 ] && [ "$integration" = 0 ]
