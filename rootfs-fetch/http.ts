// GET, HEAD and the push flow's POST, PATCH and PUT over node:http(s). Node's global fetch
// loads undici and compiles its WebAssembly parser on first use, about 50 ms here: more than a
// whole cached pull. Redirects are followed (Docker Hub sends blobs to a CDN), at most 5,
// dropping Authorization when the origin changes, as browsers do; never from https down to
// plain http off this machine (a manifest by tag has no digest to catch what a man in the
// middle sends instead), never to another scheme. A request that sends a body (an upload) is
// never redirected: its answer is the caller's to judge.
import http from 'node:http';
import https from 'node:https';
import { pipeline, Transform, type Readable } from 'node:stream';
import { EnvError } from '../src/errors.js';
import { LIMITS, type Limits } from './limits.js';
import { isLoopbackHost } from './reference.js';
import { printable, shown } from './untrusted.js';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Readable;
  /** The whole body as bytes: refused, before more is read, once it is over limits.jsonBytes. */
  bytes(): Promise<Buffer>;
}

export class NetworkError extends EnvError {
  constructor(readonly host: string, readonly reason: string) {
    super(`cannot reach ${host} (${reason}): no network, or nothing listening there`);
  }
}

const MAX_REDIRECTS = 5;

export type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RequestOptions {
  signal?: AbortSignal;
  limits?: Limits;
  /** What an upload sends: a stream (a blob from the cache) or bytes (a manifest). */
  body?: Readable | Buffer;
}

export async function get(url: string, headers: Record<string, string>, o: RequestOptions = {}): Promise<HttpResponse> {
  return request('GET', url, headers, o);
}

export async function request(method: Method, url: string, headers: Record<string, string>, o: RequestOptions = {}): Promise<HttpResponse> {
  const lim = o.limits ?? LIMITS;
  let u = new URL(url);
  const origin = u.origin;
  for (let hop = 0; ; hop++) {
    const h = { ...headers };
    if (u.origin !== origin) delete h.Authorization;
    const res = await once(method, u, h, o.signal, lim, o.body);
    const location = res.headers.location;
    if ((method === 'GET' || method === 'HEAD') && res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode) && location) {
      res.resume();
      if (hop === MAX_REDIRECTS) throw new EnvError(`${printable(u.host)}: more than ${MAX_REDIRECTS} redirects, gave up`);
      u = redirectTarget(u, location);
      continue;
    }
    const host = printable(u.host); // a redirect's: from outside
    const body = metered(res, host, lim);
    // A body only drained (resume()) may still break off, e.g. when the registry answers an
    // upload before reading it and hangs up: that must not be an unhandled 'error' event.
    // Readers (for await, pipeline) get the error all the same.
    body.on('error', () => undefined);
    return {
      status: res.statusCode ?? 0,
      headers: res.headers,
      body,
      async bytes() {
        const tooBig = new EnvError(`${host}: the response is over ${lim.jsonBytes} bytes, more than any manifest, index, config or token: refused`);
        if (Number(res.headers['content-length']) > lim.jsonBytes) {
          body.destroy();
          throw tooBig;
        }
        const chunks: Buffer[] = [];
        let n = 0;
        for await (const c of body) {
          if ((n += (c as Buffer).length) > lim.jsonBytes) throw tooBig; // leaving the loop destroys the body
          chunks.push(c as Buffer);
        }
        return Buffer.concat(chunks);
      },
    };
  }
}

/**
 * Where a redirect from `from` may go: http(s) only, and from https to plain http only on
 * this machine (127.0.0.0/8, ::1, localhost). Anything else is refused in one line.
 */
export function redirectTarget(from: URL, location: string): URL {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw new EnvError(`${printable(from.host)} redirects to ${shown(location)}, which is not a URL: refused`);
  }
  const shownTo = printable(to.href);
  if (to.protocol !== 'https:' && to.protocol !== 'http:') throw new EnvError(`${printable(from.host)} redirects to ${shownTo}: only http and https are followed, refused`);
  if (from.protocol === 'https:' && to.protocol === 'http:' && !isLoopbackHost(to.hostname)) {
    throw new EnvError(`${printable(from.host)} redirects from https to plain http (${shownTo}): refused, plain http is followed only to this machine`);
  }
  return to;
}

/** The body, cut off with a clear line when a whole window brings fewer than minBytes: a
 *  registry that trickles a byte a second never trips an idle timeout. */
function metered(res: http.IncomingMessage, host: string, lim: Limits): Readable {
  let got = 0;
  let before = 0;
  const out = new Transform({
    transform(chunk: Buffer, _e, done) {
      got += chunk.length;
      done(null, chunk);
    },
  });
  const timer = setInterval(() => {
    if (got - before < lim.minBytes) out.destroy(new EnvError(`${host} sent fewer than ${lim.minBytes} bytes in ${lim.windowMs / 1000} s: too slow, gave up`));
    before = got;
  }, lim.windowMs);
  pipeline(res, out, () => clearInterval(timer));
  return out;
}

function once(method: Method, u: URL, headers: Record<string, string>, signal: AbortSignal | undefined, lim: Limits, body?: Readable | Buffer): Promise<http.IncomingMessage> {
  const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
  const host = printable(u.host);
  if (!mod) return Promise.reject(new NetworkError(host, `unsupported protocol ${printable(u.protocol)}`));
  return new Promise((resolve, reject) => {
    let deadline: NodeJS.Timeout | undefined;
    let stall: NodeJS.Timeout | undefined;
    const stop = (): void => {
      clearTimeout(deadline);
      clearInterval(stall);
    };
    const req = mod.request(u, { method, headers, signal }, (res) => {
      stop();
      resolve(res);
    });
    // Connecting, TLS and the headers, however slowly they trickle in, get one window in all;
    // for an upload, the window starts once the body is sent.
    const wait = (): void => {
      deadline = setTimeout(() => req.destroy(new EnvError(`${host} did not answer within ${lim.windowMs / 1000} s: gave up`)), lim.windowMs);
    };
    req.on('error', (e: NodeJS.ErrnoException) => {
      stop();
      reject(e instanceof EnvError || e.name === 'AbortError' ? e : new NetworkError(host, e.code ?? printable(e.message)));
    });
    if (body === undefined || Buffer.isBuffer(body)) {
      req.end(body);
      return wait();
    }
    // A registry that stops reading what we send would hold the upload open forever.
    let sent = 0;
    let before = 0;
    stall = setInterval(() => {
      if (sent - before < lim.minBytes) req.destroy(new EnvError(`${host} took fewer than ${lim.minBytes} bytes in ${lim.windowMs / 1000} s: too slow, gave up`));
      before = sent;
    }, lim.windowMs);
    const count = new Transform({
      transform(chunk: Buffer, _e, done) {
        sent += chunk.length;
        done(null, chunk);
      },
    });
    pipeline(body, count, req, (e) => {
      clearInterval(stall);
      if (e) req.destroy(e);
      else wait();
    });
  });
}
