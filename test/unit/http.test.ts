// Redirects, over real HTTP and HTTPS on loopback: where a registry may send boxlab, and with
// what. The HTTPS server's certificate is made for the test by openssl and trusted through
// https.globalAgent, the agent http.ts uses.
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import https from 'node:https';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { get, redirectTarget } from '../../rootfs-fetch/http.js';
import { parseReference } from '../../rootfs-fetch/reference.js';
import { Registry } from '../../rootfs-fetch/registry.js';
import { MEDIA } from '../../rootfs-fetch/manifest.js';
import { EnvError } from '../../src/errors.js';
import { tempDir } from './helpers.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: {}, layers: [] });

/** Where the plain server's /to-* paths redirect, and the headers each request came with. */
let plain: Server;
let plainPort: number;
let other: Server;
let otherPort: number;
let seen: { path: string; headers: IncomingHttpHeaders }[] = [];
let location = '';

const listen = async (s: Server): Promise<number> => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
};
const close = (s: Server | undefined): Promise<void> => new Promise((r) => (s ? (s.closeAllConnections(), s.close(() => r())) : r()));

beforeAll(async () => {
  plain = createServer((req, res) => {
    seen.push({ path: req.url!, headers: req.headers });
    if (req.url === '/redirect') return void res.writeHead(302, { location }).end();
    if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
    // What a man in the middle would serve once the download is off TLS.
    if (req.url === '/v2/lib/tiny/manifests/1') return void res.writeHead(200, { 'content-type': MEDIA.ociManifest }).end(MANIFEST);
    res.writeHead(200).end('plain');
  });
  plainPort = await listen(plain);
  other = createServer((req, res) => {
    seen.push({ path: `other${req.url}`, headers: req.headers });
    res.writeHead(200).end('other');
  });
  otherPort = await listen(other);
});
afterAll(async () => {
  await close(plain);
  await close(other);
});
beforeEach(() => {
  seen = [];
  location = '';
});

/** The promise rejects with an EnvError (one line for the CLI) whose message matches. */
async function refusedInOneLine(p: Promise<unknown>, re: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EnvError);
  expect((err as Error).message).toMatch(re);
  expect((err as Error).message).not.toContain('\n');
}

describe('where a redirect may go', () => {
  const from = (u: string) => new URL(u);

  it.each([
    ['https://registry.example.com/v2/x', 'https://cdn.example.net/blob'],
    ['https://registry.example.com/v2/x', '/v2/y'],
    ['http://127.0.0.1:5000/v2/x', 'http://127.0.0.1:5001/v2/x'],
    ['https://registry.example.com/v2/x', 'http://127.0.0.1:5000/v2/x'],
    ['https://registry.example.com/v2/x', 'http://127.9.8.7/v2/x'],
    ['https://registry.example.com/v2/x', 'http://localhost:5000/v2/x'],
    ['https://registry.example.com/v2/x', 'http://[::1]:5000/v2/x'],
  ])('from %s to %s is followed', (f, to) => {
    expect(redirectTarget(from(f), to).href).toBe(new URL(to, f).href);
  });

  it.each([
    'http://registry.example.com/v2/x',
    'http://cdn.example.net/blob',
    'http://0.0.0.0:5000/v2/x',
    'http://127.0.0.1.example.com/v2/x',
  ])('from https to %s is refused in one line', (to) => {
    expect(() => redirectTarget(from('https://registry.example.com/v2/x'), to)).toThrow(/^registry\.example\.com redirects from https to plain http \(.*\): refused, plain http is followed only to this machine$/);
  });

  it.each(['file:///etc/passwd', 'ftp://127.0.0.1/x', 'data:text/plain,hi', 'javascript:alert(1)'])('to %s is refused in one line, from http or https', (to) => {
    for (const f of ['https://registry.example.com/v2/x', 'http://127.0.0.1:5000/v2/x']) {
      expect(() => redirectTarget(from(f), to)).toThrow(/ redirects to .*: only http and https are followed, refused$/);
    }
  });

  it('a Location that is no URL is refused in one line, control characters escaped', () => {
    expect(() => redirectTarget(from('https://registry.example.com/v2/x'), 'http://[\u001b[2J')).toThrow(/^registry\.example\.com redirects to "http:\/\/\[\\u001b\[2J", which is not a URL: refused$/);
  });
});

describe('following redirects over HTTP', () => {
  it('to a file: URL is refused as a redirect (not reported as a host it cannot reach)', async () => {
    location = 'file:///etc/passwd';
    await refusedInOneLine(get(`http://127.0.0.1:${plainPort}/redirect`, {}), /redirects to file:\/\/\/etc\/passwd: only http and https are followed, refused/);
  });

  it('to a Location that is not a URL is refused in one line, not an internal error', async () => {
    location = 'http://[::1';
    await refusedInOneLine(get(`http://127.0.0.1:${plainPort}/redirect`, {}), /redirects to "http:\/\/\[::1", which is not a URL: refused/);
  });

  it('stops after 5 redirects, in one line', async () => {
    await refusedInOneLine(get(`http://127.0.0.1:${plainPort}/loop`, {}), /more than 5 redirects, gave up/);
    expect(seen).toHaveLength(6);
  });

  it('keeps Authorization on its origin and drops it for another (another port is another origin)', async () => {
    location = `http://127.0.0.1:${otherPort}/blob`;
    const res = await get(`http://127.0.0.1:${plainPort}/redirect`, { Authorization: 'Bearer T0KEN' });
    expect((await res.bytes()).toString()).toBe('other');
    expect(seen.map((s) => [s.path, s.headers.authorization])).toEqual([['/redirect', 'Bearer T0KEN'], ['other/blob', undefined]]);
  });
});

describe.skipIf(!hasOpenssl)('following redirects from HTTPS', () => {
  let secure: Server;
  let securePort: number;
  let ca: unknown;
  beforeAll(async () => {
    const d = tempDir();
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(d, 'key.pem'), '-out', join(d, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      const cert = readFileSync(join(d, 'cert.pem'));
      secure = https.createServer({ key: readFileSync(join(d, 'key.pem')), cert }, (req, res) => {
        seen.push({ path: `secure${req.url}`, headers: req.headers });
        res.writeHead(302, { location }).end();
      });
      ca = https.globalAgent.options.ca;
      https.globalAgent.options.ca = cert;
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
    securePort = await listen(secure);
  });
  afterAll(async () => {
    https.globalAgent.options.ca = ca as typeof https.globalAgent.options.ca;
    await close(secure);
  });
  const registry = () => new Registry(parseReference(`127.0.0.1:${securePort}/lib/tiny:1`));

  it('a manifest by tag, sent from https to plain http off this machine, is refused: no silent downgrade', async () => {
    // 0.0.0.0 reaches this machine's listeners, but is not one of its names: it stands for a host elsewhere.
    location = `http://0.0.0.0:${plainPort}/v2/lib/tiny/manifests/1`;
    await refusedInOneLine(registry().manifest('1'), new RegExp(`^127\\.0\\.0\\.1:${securePort} redirects from https to plain http \\(http://0\\.0\\.0\\.0:${plainPort}/v2/lib/tiny/manifests/1\\): refused, plain http is followed only to this machine$`));
    expect(seen.map((s) => s.path)).toEqual(['secure/v2/lib/tiny/manifests/1']);
  });

  it('from https to plain http on this machine is followed (a registry beside its loopback mirror)', async () => {
    location = `http://127.0.0.1:${plainPort}/v2/lib/tiny/manifests/1`;
    const m = await registry().manifest('1');
    expect(m.bytes.toString()).toBe(MANIFEST);
    expect(seen.map((s) => s.path)).toEqual(['secure/v2/lib/tiny/manifests/1', '/v2/lib/tiny/manifests/1']);
  });

});
