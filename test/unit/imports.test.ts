// The import graph of src/, lessons/ and rootfs-fetch/: no cycle (type-only and dynamic
// imports count: they are dependencies all the same), and only src/shell/ reaches the modules
// that start processes. Read with TypeScript's own parser, so a multi-line import or an
// `import('./x.js')` is found as the compiler finds it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';

const root = packageRoot();
const DIRS = ['src', 'lessons', 'rootfs-fetch'];
const SPAWNING = new Set(['node:child_process', 'child_process', 'execa']);

// The layers, bottom first (docs/ARCHITECTURE.md draws them). A module imports from its own
// directory or from a layer below its own, never from one beside or above it.
const LAYERS: string[][] = [
  ['src/kernel/', 'src/seccomp/', 'src/errors.ts', 'src/paths.ts'],
  ['src/shell/'],
  ['src/model/', 'rootfs-fetch/'],
  ['src/box/'],
  ['src/engine/'],
  ['src/report/'],
  ['src/container/', 'src/practice/'],
  ['src/build/'],
  ['lessons/'],
  ['src/commands/'],
  ['src/cli.ts'],
];
const layerOf = (f: string): number => LAYERS.findIndex((l) => l.some((p) => f.startsWith(p)));
const dirOf = (f: string): string => (f.startsWith('src/') ? f.split('/').slice(0, 2).join('/') : f.split('/')[0]!);

/** The imports that go sideways or up, as "from -> to". */
const upward = (edges: Iterable<[string, string[]]>): string[] =>
  [...edges].flatMap(([f, to]) => to.filter((t) => dirOf(t) !== dirOf(f) && !(layerOf(t) < layerOf(f))).map((t) => `${f} -> ${t}`));

/** Every module specifier a file names: import, export ... from, import(). */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) out.push(n.moduleSpecifier.text);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) out.push(n.arguments[0].text);
    ts.forEachChild(n, visit);
  };
  visit(ts.createSourceFile('x.ts', source, ts.ScriptTarget.ES2022, true));
  return out;
}

/** File (relative to the project) -> the project files it imports and the packages it names. */
function graph(): Map<string, { files: string[]; packages: string[] }> {
  const g = new Map<string, { files: string[]; packages: string[] }>();
  const files = DIRS.flatMap((d) => (readdirSync(join(root, d), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(d, f)));
  for (const f of files) {
    const specs = specifiers(readFileSync(join(root, f), 'utf8'));
    g.set(f, {
      // NodeNext: './x.js' in the source is './x.ts' on disk.
      files: specs.filter((s) => s.startsWith('.')).map((s) => relative(root, resolve(root, dirname(f), s.replace(/\.js$/, '.ts')))),
      packages: specs.filter((s) => !s.startsWith('.')),
    });
  }
  return g;
}

/** Each cycle once, as the path that closes it (a -> b -> a). Depth-first, three colours. */
function cycles(edges: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    state.set(v, 'open');
    stack.push(v);
    for (const w of edges.get(v) ?? []) {
      if (state.get(w) === 'open') found.push([...stack.slice(stack.indexOf(w)), w]);
      else if (!state.has(w)) visit(w);
    }
    stack.pop();
    state.set(v, 'done');
  };
  for (const v of [...edges.keys()].sort()) if (!state.has(v)) visit(v);
  return found;
}

describe('the import graph', () => {
  const g = graph();

  it('is read whole: every file, static, type-only, re-exported and dynamic imports', () => {
    expect(g.size).toBeGreaterThan(100);
    expect(specifiers("import type { A } from './a.js';\nimport {\n  b,\n} from './b.js';\nexport { c } from './c.js';\nconst d = await import('./d.js');\nconst s = \"import './not-code.js'\";")).toEqual(['./a.js', './b.js', './c.js', './d.js']);
    // cli.ts loads each command lazily: those edges are in the graph too.
    expect(g.get('src/cli.ts')?.files).toContain('src/commands/run.ts');
    for (const [f, { files }] of g) for (const to of files) expect(g.has(to), `${f} imports ${to}, which is not a .ts file of the project`).toBe(true);
  });

  it('finds a cycle where there is one, and none in a tree', () => {
    expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c', 'a']]);
    expect(cycles(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]]))).toEqual([]);
  });

  it('has no cycle', () => {
    const edges = new Map([...g].map(([f, { files }]) => [f, files]));
    expect(cycles(edges).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('points down: every import goes to a lower layer, or stays in its directory', () => {
    for (const f of g.keys()) expect(layerOf(f), `${f} is in no layer`).toBeGreaterThanOrEqual(0);
    expect(upward([['src/box/box.ts', ['src/box/state.ts', 'src/shell/cmd.ts', 'src/engine/facts.ts', 'src/practice/shell.ts']]])).toEqual(['src/box/box.ts -> src/engine/facts.ts', 'src/box/box.ts -> src/practice/shell.ts']);
    expect(upward([...g].map(([f, { files }]) => [f, files]))).toEqual([]);
  });

  it('only src/shell/ imports what starts processes', () => {
    const spawners = [...g].filter(([, { packages }]) => packages.some((p) => SPAWNING.has(p))).map(([f]) => f);
    expect(spawners.length).toBeGreaterThan(0);
    expect(spawners.filter((f) => !f.startsWith('src/shell/'))).toEqual([]);
  });
});
