#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm ci` / `npm run build`). This file stays
// plain enough (no top-level await, no ?. or ??) to run on an older Node and say so in one line.
import { existsSync, readFileSync } from 'node:fs';

// The oldest Node boxlab runs on is package.json's engines (">=18.19"): one place says it.
const oldest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node.replace('>=', '');
const [major, minor] = process.versions.node.split('.').map(Number);
const [needMajor, needMinor] = oldest.split('.').map(Number);
if (major < needMajor || (major === needMajor && minor < needMinor)) {
  console.error(`boxlab: needs Node ${oldest} or newer, and this is Node ${process.versions.node}`);
  process.exit(1);
}

const cli = new URL('../dist/boxlab.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('boxlab: not built yet: run `npm ci` (or `npm run build`) in the boxlab folder');
  process.exit(1);
}
import(cli.href).catch((e) => {
  // biome-ignore lint/complexity/useOptionalChain: ?. does not parse on the old Node this file must answer
  console.error(`boxlab: cannot load dist/boxlab.js (${String((e && e.message) || e).split('\n')[0]}): run \`npm run build\` in the boxlab folder`);
  process.exit(1);
});
