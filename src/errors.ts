/** Bad input: one line on stderr, exit 2. */
export class UsageError extends Error {
  readonly code = 2;
}
/** The host cannot do it (not root, a tool missing): one line on stderr, exit 1. */
export class EnvError extends Error {
  readonly code = 1;
}
