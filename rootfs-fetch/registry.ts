// A client of the OCI distribution spec: manifests and blobs over HTTP(S), with the anonymous
// bearer-token dance Docker Hub and GHCR use (a 401 names a token realm; we ask it for a token
// for this repository, scope pull or push,pull, and retry once). push.ts drives the upload
// flow through request(); pulling uses manifest() and blob().
import { createHash } from 'node:crypto';
import { EnvError } from '../src/errors.js';
import { ACCEPT } from './manifest.js';
import { canonical, isLoopback, isLoopbackHost, registryHost, type Reference } from './reference.js';
import { request, NetworkError, type HttpResponse, type Method } from './http.js';
import type { Readable } from 'node:stream';
import { checkDigest, DigestError } from './digest.js';
import { jsonObject, printable, shown } from './untrusted.js';
import { LIMITS, type Limits } from './limits.js';

export interface Fetched {
  bytes: Buffer;
  mediaType: string;
  digest: string;
  /** The bytes as JSON: always an object. */
  json: Record<string, unknown>;
}

export interface RegistryOptions {
  plainHttp?: boolean;
  signal?: AbortSignal;
  limits?: Limits;
  /** 'push,pull' asks the token realm for the right to push to the repository too. */
  actions?: 'pull' | 'push,pull';
  /** Other repositories of the same registry to ask pull rights on (a cross-repository mount's source). */
  alsoPull?: string[];
  /** Each request, as `METHOD /path?query STATUS` (push --verbose). */
  trace?: (line: string) => void;
}

/** A request's body, made anew for each attempt: a retry after a 401 sends it again. */
export type Body = () => Readable | Buffer;

export class Registry {
  private token: string | undefined;
  /** https://host/v2/REPO: every path of this repository starts here. */
  readonly base: string;
  readonly name: string;

  private readonly signal: AbortSignal | undefined;
  private readonly limits: Limits;
  private readonly actions: 'pull' | 'push,pull';
  private readonly alsoPull: string[];
  private readonly trace: ((line: string) => void) | undefined;

  constructor(readonly ref: Reference, o: RegistryOptions = {}) {
    this.base = `${o.plainHttp ? 'http' : 'https'}://${registryHost(ref)}/v2/${ref.repo}`;
    this.name = canonical(ref);
    this.signal = o.signal;
    this.limits = o.limits ?? LIMITS;
    this.actions = o.actions ?? 'pull';
    this.alsoPull = o.alsoPull ?? [];
    this.trace = o.trace;
  }

  get host(): string {
    return registryHost(this.ref);
  }

  /** A manifest or index by tag or digest; a digest asked for is checked against the bytes. */
  async manifest(reference: string): Promise<Fetched> {
    if (reference.includes(':')) checkDigest(reference, `${this.name}: manifest digest`); // a tag has no ':'
    const res = await this.get(`/manifests/${reference}`, { Accept: ACCEPT });
    const bytes = await res.bytes();
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (reference.startsWith('sha256:') && digest !== reference) throw new DigestError(`${this.name}: manifest ${reference} does not match its digest (got ${digest}): nothing was cached`);
    const json = jsonObject<{ mediaType?: unknown }>(bytes, `${this.name}: the registry's manifest`, 'a JSON object (an image manifest or index)');
    const mediaType = typeof json.mediaType === 'string' ? json.mediaType : (res.headers['content-type'] ?? '').split(';')[0]!.trim();
    return { bytes, mediaType, digest, json };
  }

  /** A blob's body as a stream; its Content-Length, when given, must match the descriptor's size. */
  async blob(digest: string, size: number): Promise<AsyncIterable<Uint8Array>> {
    checkDigest(digest, `${this.name}: blob digest`);
    const res = await this.get(`/blobs/${digest}`, {});
    const length = res.headers['content-length'];
    if (length !== undefined && Number(length) !== size) {
      res.body.destroy();
      throw new DigestError(`blob ${digest}: the registry sends ${length} bytes, the manifest says ${size}: nothing was cached`);
    }
    return res.body;
  }

  /**
   * One request to this registry (a path under base, or a URL of its own origin), with a token
   * asked for on the first 401 and the request sent once more. Any status comes back: the
   * caller judges it.
   */
  async request(method: Method, url: string, headers: Record<string, string> = {}, body?: Body): Promise<HttpResponse> {
    const full = url.startsWith('/') ? this.base + url : url;
    // The token goes with every request: never to another origin (push.ts checks Locations first).
    if (new URL(full).origin !== new URL(this.base).origin) throw new EnvError(`${this.host}: a request to ${printable(full)}, another origin: refused`);
    let res = await this.send(method, full, headers, body);
    if (res.status === 401 && !this.token) {
      res.body.resume();
      this.token = await this.login(res.headers['www-authenticate']);
      res = await this.send(method, full, headers, body);
    }
    return res;
  }

  private async get(path: string, headers: Record<string, string>): Promise<HttpResponse> {
    const res = await this.request('GET', path, headers);
    if (res.status >= 200 && res.status < 300) return res;
    res.body.resume();
    const what = path.startsWith('/manifests/') ? `${this.name}` : `${this.name} blob ${path.slice(7)}`;
    if (res.status === 401 || res.status === 403) throw new EnvError(`${registryHost(this.ref)} refused access to ${what} (HTTP ${res.status}): it is private, or does not exist`);
    if (res.status === 404) throw new EnvError(`no such image: ${what} (HTTP 404 from ${registryHost(this.ref)})`);
    throw new EnvError(`${registryHost(this.ref)} answered HTTP ${res.status} for ${what}`);
  }

  /** Anonymous bearer token (distribution's token auth); Basic realms need credentials we do not have. */
  private async login(challenge: string | undefined): Promise<string> {
    const params = parseChallenge(challenge ?? '');
    if (!params?.realm) throw new EnvError(`${registryHost(this.ref)} asks for credentials (${challenge === undefined ? 'no challenge' : printable(challenge)}): boxlab ${this.actions === 'pull' ? 'pulls' : 'pushes'} anonymously only`);
    const url = checkRealm(params.realm, registryHost(this.ref));
    if (params.service) url.searchParams.set('service', params.service);
    // A pull takes the scope the challenge names; a push names its own (a HEAD's challenge says pull).
    url.searchParams.set('scope', this.actions === 'pull' ? (params.scope ?? `repository:${this.ref.repo}:pull`) : `repository:${this.ref.repo}:push,pull`);
    for (const repo of this.alsoPull) url.searchParams.append('scope', `repository:${repo}:pull`);
    const res = await this.send('GET', url.toString(), {});
    if (res.status !== 200) {
      res.body.resume();
      throw new EnvError(`${url.host} refused an anonymous ${this.actions === 'pull' ? '' : 'push '}token for ${this.name} (HTTP ${res.status})${this.actions === 'pull' ? '' : ': boxlab pushes only where anonymous pushes are allowed'}`);
    }
    const bytes = await res.bytes();
    const body = jsonObject<{ token?: unknown; access_token?: unknown }>(bytes, `${url.host}'s answer to the token request`, 'a JSON object with a token ({"token": "..."})');
    const token = body.token ?? body.access_token;
    // It goes into a header: printable ASCII only.
    if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)) throw new EnvError(`${url.host} answered without a token for ${this.name}`);
    return token;
  }

  private async send(method: Method, url: string, headers: Record<string, string>, body?: Body): Promise<HttpResponse> {
    const h: Record<string, string> = { ...headers, 'User-Agent': 'boxlab' };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    try {
      const res = await request(method, url, h, { signal: this.signal, limits: this.limits, body: body?.() });
      this.trace?.(`${method} ${traced(url)} ${res.status}`);
      return res;
    } catch (e) {
      if (e instanceof NetworkError && url.startsWith('https:') && isLoopback(this.ref)) throw new EnvError(`${e.message} (a plain-HTTP registry on loopback needs --plain-http)`);
      throw e;
    }
  }
}

/**
 * Where a 401 says to get a token: https, or plain http only to this machine. A registry must
 * not send us elsewhere in clear text (or to file: and the like).
 */
export function checkRealm(realm: string, host: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(realm);
  } catch {
    url = undefined;
  }
  if (url?.protocol === 'https:' || (url?.protocol === 'http:' && isLoopbackHost(url.hostname))) return url;
  throw new EnvError(`${host}: the token realm ${shown(realm)} is neither https nor on this machine: refused`);
}

/** `Bearer realm="...",service="...",scope="..."` as a record; undefined for another scheme. */
export function parseChallenge(header: string): Record<string, string> | undefined {
  const m = /^\s*Bearer\s+(.*)$/i.exec(header);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const p of m[1]!.matchAll(/(\w+)="([^"]*)"/g)) out[p[1]!.toLowerCase()] = p[2]!;
  return out;
}

/** A URL as --verbose shows it: the path whole, each query value over 48 characters cut short. */
function traced(url: string): string {
  const u = new URL(url);
  const query = [...u.searchParams].map(([k, v]) => `${k}=${v.length > 48 ? `${v.slice(0, 40)}...` : v}`).join('&');
  return printable(`${u.pathname}${query ? `?${query}` : ''}`, 300);
}
