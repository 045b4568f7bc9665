// Text from outside (a registry's headers and bodies, an image's manifest, config and tar
// names) goes into boxlab's one-line messages only through these: a hostile registry must not
// be able to paint the learner's terminal (ESC sequences, a CSI, carriage returns, bidi
// overrides) or flood it (a 4 MiB "platform name"); and JSON from outside must be what it
// is meant to be before any field of it is read.
import { EnvError } from '../src/errors.js';

/** Characters a terminal may act on rather than show: C0, DEL, C1, line and paragraph
 *  separators, and the bidirectional overrides and isolates that reorder what is shown. */
const ONE_UNSAFE = /^[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]$/u;

/** The longest piece of outside text one message shows (characters, escapes included). */
export const MAX_SHOWN = 200;

const escapeCodePoint = (c: string): string => {
  const n = c.codePointAt(0)!;
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
};

/** A string for any value, never throwing: JSON's spelling for what is not a string. */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v); // undefined, a function: String() is safe for those
  } catch {
    return `(a ${typeof v})`;
  }
}

/**
 * Outside text as it may be printed: every control character escaped (ESC as \x1b, so
 * "\x1b[2J" shows as those characters instead of clearing the screen), cut to `max`
 * characters with "..." after. Never throws, whatever the value.
 */
/** Text from outside for a terminal, line by line: newlines and tabs kept, every other
 *  control character (an escape sequence's ESC, say) escaped; no length limit. */
export function printableLines(v: string): string {
  let out = '';
  for (const c of v) out += c !== '\n' && c !== '\t' && ONE_UNSAFE.test(c) ? escapeCodePoint(c) : c;
  return out;
}

export function printable(v: unknown, max = MAX_SHOWN): string {
  let out = '';
  for (const c of text(v)) {
    // One code point at a time: a cut never splits an escape or a surrogate pair.
    const piece = ONE_UNSAFE.test(c) ? escapeCodePoint(c) : c;
    if (out.length + piece.length > max) return `${out}...`;
    out += piece;
  }
  return out;
}

/** A value from outside, quoted the JSON way (a blank or a missing one shows as such). */
export const shown = (v: unknown): string => printable(typeof v === 'string' ? JSON.stringify(v.slice(0, 100)) + (v.length > 100 ? '...' : '') : v, 120);

/** What a parsed JSON value is, in words. */
const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a JSON array' : typeof v === 'object' ? 'a JSON object' : `a JSON ${typeof v}`);

/**
 * Outside bytes that must hold one JSON object (a manifest, an index, a config, a token
 * answer): the object, or an EnvError saying what `what` is instead and what was `expected`.
 * `null`, `[]`, `"x"` and `42` are valid JSON, and none of them is a manifest.
 */
export function jsonObject<T = Record<string, unknown>>(bytes: Buffer | string, what: string, expected = 'a JSON object'): T {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new EnvError(`${what} is not JSON, where ${expected} was expected`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new EnvError(`${what} is ${kind(v)}, not ${expected}`);
  return v as T;
}
