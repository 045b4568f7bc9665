// --json: one event per line, for tools and tests.
import type { Event } from '../engine/events.js';

export function jsonFormatter(out: NodeJS.WritableStream) {
  return (e: Event): void => void out.write(JSON.stringify(e) + '\n');
}
