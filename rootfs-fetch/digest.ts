// The one check for every digest and diff_id boxlab reads (from a registry, an image config, a
// manifest, an index or the cache's index.json) before it becomes a path, a URL or a lookup:
// a hostile value such as "sha256:../../etc" must never reach join() or a request.
import { createHash } from 'node:crypto';
import { EnvError } from '../src/errors.js';
import { shown } from './untrusted.js';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A digest or blob that is not what it must be: nothing of it is kept. */
export class DigestError extends EnvError {}

/** `value` if it is sha256: and 64 lowercase hex digits; a DigestError naming `what` otherwise. */
export function checkDigest(value: unknown, what: string): string {
  if (typeof value !== 'string' || !DIGEST.test(value)) throw new DigestError(`${what} ${shown(value)} is not a sha256 digest (sha256: and 64 lowercase hex digits; boxlab verifies sha256 only)`);
  return value;
}

/** The 64 hex digits of a checked digest: the only part of it ever used in a file name. */
export const digestHex = (value: unknown, what: string): string => checkDigest(value, what).slice('sha256:'.length);

/**
 * The ChainID of each layer, bottom first: what a layer is once applied on top of exactly the
 * layers below it. The OCI image spec (config.md, "Layer ChainID"): ChainID(L0) = DiffID(L0),
 * ChainID(L0|...|Ln) = sha256 of "ChainID(L0|...|Ln-1) DiffID(Ln)", one space between. Docker's
 * layer store and containerd's snapshotters key unpacked layers by it.
 */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const below = out[out.length - 1];
    out.push(below === undefined ? d : `sha256:${createHash('sha256').update(`${below} ${d}`).digest('hex')}`);
  }
  return out;
}
