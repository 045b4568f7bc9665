// Image references in Docker's syntax: alpine:3.20, docker.io/library/busybox:latest,
// registry.example/org/name:tag, 127.0.0.1:5000/name:tag, name@sha256:... (distribution/reference).
import { UsageError } from '../src/errors.js';

export interface Reference {
  /** Where it lives, as named: docker.io (the default), registry.example, 127.0.0.1:5000. */
  domain: string;
  /** The repository: library/alpine, org/name. */
  repo: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|\[[0-9a-fA-F:]+\]|[a-zA-Z0-9-]+(?=:))(?::\d+)?$/;

export function parseReference(text: string): Reference {
  const bad = (why: string): never => {
    throw new UsageError(`'${text}' is not an image reference: ${why} (e.g. alpine:3.20, 127.0.0.1:5000/name:tag, name@sha256:...)`);
  };
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) bad('a digest is sha256: and 64 hex digits');
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) bad(`bad tag '${tag}'`);
  }
  const parts = rest.split('/');
  let domain = 'docker.io';
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost' || parts[0]!.startsWith('['))) {
    domain = parts.shift()!;
    if (!DOMAIN.test(domain)) bad(`bad registry '${domain}'`);
  }
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) bad('a name is lowercase letters, digits and separators');
  if (domain === 'docker.io' && parts.length === 1) parts.unshift('library');
  return { domain, repo: parts.join('/'), tag: tag ?? (digest ? undefined : 'latest'), digest };
}

/** The full name, as stored and listed: docker.io/library/alpine:3.20. */
export const canonical = (r: Reference): string => `${r.domain}/${r.repo}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;

/** The host to talk to: Docker Hub's registry is not at docker.io itself. */
export const registryHost = (r: Reference): string => (r.domain === 'docker.io' ? 'registry-1.docker.io' : r.domain);

/** True for a host name of this machine (as URL.hostname spells it): 127.0.0.0/8, ::1, localhost. */
export const isLoopbackHost = (host: string): boolean => /^(?:localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(host);

/** True for a registry on this machine, where plain HTTP is acceptable. */
export const isLoopback = (r: Reference): boolean => isLoopbackHost(r.domain.replace(/:\d+$/, ''));
