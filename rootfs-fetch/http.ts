// GET over node:http(s). Node's global fetch loads undici and compiles its WebAssembly parser on
// first use, about 50 ms here: more than a whole cached pull. Redirects are followed (Docker
// Hub sends blobs to a CDN), dropping Authorization when the host changes, as browsers do.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { EnvError } from '../src/errors.js';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Readable;
  /** The whole body as bytes. */
  bytes(): Promise<Buffer>;
}

export class NetworkError extends EnvError {
  constructor(readonly host: string, readonly reason: string) {
    super(`cannot reach ${host} (${reason}): no network, or nothing listening there`);
  }
}

const MAX_REDIRECTS = 5;

export async function get(url: string, headers: Record<string, string>, signal?: AbortSignal, timeoutMs = 30_000): Promise<HttpResponse> {
  let u = new URL(url);
  const origin = u.host;
  for (let hop = 0; ; hop++) {
    const h = { ...headers };
    if (u.host !== origin) delete h.Authorization;
    const res = await once(u, h, signal, timeoutMs);
    const location = res.headers.location;
    if (res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode) && location && hop < MAX_REDIRECTS) {
      res.resume();
      u = new URL(location, u);
      continue;
    }
    return {
      status: res.statusCode ?? 0,
      headers: res.headers,
      body: res,
      async bytes() {
        const chunks: Buffer[] = [];
        for await (const c of res) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      },
    };
  }
}

function once(u: URL, headers: Record<string, string>, signal: AbortSignal | undefined, timeoutMs: number): Promise<http.IncomingMessage> {
  const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
  if (!mod) return Promise.reject(new NetworkError(u.host, `unsupported protocol ${u.protocol}`));
  return new Promise((resolve, reject) => {
    const req = mod.get(u, { headers, signal }, resolve);
    // An idle socket for that long (before or during the body) ends the request.
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => reject(e.name === 'AbortError' ? e : new NetworkError(u.host, e.code ?? e.message)));
  });
}
