// Each command is bundled apart from the command line (scripts/build.mjs), with its own copy of
// these classes: src/cli.ts knows them by a symbol in the global registry, not by instanceof.
const ONE_LINE = Symbol.for('boxlab.one-line-error');

/** Bad input: one line on stderr, exit 2. */
export class UsageError extends Error {
  readonly code = 2;
  readonly [ONE_LINE] = true;
}
/** The host cannot do it (not root, a tool missing): one line on stderr, exit 1. */
export class EnvError extends Error {
  readonly code = 1;
  readonly [ONE_LINE] = true;
}

/** A UsageError or EnvError (or a subclass), from whichever bundle threw it. */
export function isOneLineError(e: unknown): e is UsageError | EnvError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[ONE_LINE] === true;
}
