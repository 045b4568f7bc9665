#!/usr/bin/env bash
# The one test command (npm test): build, unit tests (vitest, no root), then the integration
# tests on the real kernel (bats; they skip, saying why, when not run as root). Ends with one
# summary line over both.
set -uo pipefail
cd "$(dirname "$0")/.."
npm run --silent build || exit 1

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx vitest run --reporter=default --reporter=json --outputFile.json="$out/unit.json"
unit=$?
node_modules/bats/bin/bats --print-output-on-failure test/integration | tee "$out/integration.tap"
integration=$?

node - "$out/unit.json" "$out/integration.tap" <<'JS'
const fs = require('node:fs');
const [unitFile, tapFile] = process.argv.slice(2);
let passed = 0, failed = 0, skipped = 0;
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
