#!/usr/bin/env node
// Build: dist/boxlab.js, the command line alone, and one self-contained bundle per command
// module in dist/commands/, which the command line imports when that command is asked for.
// One file per command: Node's ESM loader costs about a millisecond per module, and esbuild's
// code splitting made `boxlab run` load 44 chunks (run: 380 -> 340 ms here). Code the bundles
// share is repeated in each; a process loads only one of them.
// Type checking is tsc's job (npm run build runs both).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Some dependencies (cross-spawn) are CommonJS and call require().
  banner: { js: "import { createRequire as __boxlabRequire } from 'node:module'; const require = __boxlabRequire(import.meta.url);" },
  logLevel: 'warning',
};

// The command modules are the ones src/cli.ts imports: one list, the CLI's own.
const commands = [...new Set([...readFileSync('src/cli.ts', 'utf8').matchAll(/import\('\.\/commands\/([a-z-]+)\.js'\)/g)].map((m) => m[1]))];
if (!commands.length) throw new Error('scripts/build.mjs: src/cli.ts imports no ./commands/*.js');

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: { boxlab: 'src/cli.ts' }, outdir: 'dist', external: ['./commands/*'] }),
  build({ ...common, entryPoints: Object.fromEntries(commands.map((c) => [c, `src/commands/${c}.ts`])), outdir: 'dist/commands' }),
]);
