#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm ci` / `npm run build`).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/boxlab.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('boxlab: not built yet: run `npm ci` (or `npm run build`) in the boxlab folder');
  process.exit(1);
}
await import(cli.href);
