#!/usr/bin/env node
// Build: one bundled ESM entry plus lazily loaded chunks in dist/. Bundling matters for
// start-up: importing execa as ~40 separate modules costs ~65 ms, as one chunk ~18 ms.
// Type checking is tsc's job (npm run build runs both).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { boxlab: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true, // keeps `await import(...)` lazy: --help never loads execa or chalk
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // Some dependencies (cross-spawn) are CommonJS and call require().
  banner: { js: "import { createRequire as __boxlabRequire } from 'node:module'; const require = __boxlabRequire(import.meta.url);" },
  logLevel: 'warning',
});
