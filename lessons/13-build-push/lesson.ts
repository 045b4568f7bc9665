import { defineLesson, type Requirement } from '../../src/model/lesson.js';
import { BOX, BOX_NAMESPACES, createBox, hostToolInBox, taughtShellIn } from '../../src/box/box.js';
import { cmd, type Cmd, shProgram } from '../../src/shell/cmd.js';
import { mkdirP, writeFile } from '../../src/shell/coreutils.js';
import { mountOverlay } from '../../src/shell/mount.js';
import { withParentDeathSignal } from '../../src/shell/setpriv.js';
import { boxlab } from '../../src/shell/boxlab.js';
import type { HostFacts } from '../../src/model/host-facts.js';
import { chainIds } from '../common.js';
import * as diagrams from './diagrams.js';

/** The lesson's own image cache, in its work dir: it goes with the run, and the pull lands in an empty one. */
const CACHE = '${WORK}/cache';
const IMAGES = `${CACHE}/images`;
/** boxlab with that cache. */
export const bl = (...args: string[]): Cmd => cmd('env', `BOXLAB_CACHE_DIR=${CACHE}`, boxlab().file, ...args);
const blob = (hex: string) => `${IMAGES}/blobs/sha256/${hex}`;
const kind = (path: string) => cmd('stat', '-c', '%F %t:%T', path);
/** boxlab run and build fail closed without a seccomp filter; a host's setpriv may not apply one. */
export const seccompFlags = (host: HostFacts): string[] => (host.setprivSeccomp() ? [] : ['--seccomp', 'unconfined']);

export const BASE = 'boxlab.local/busybox:layers';
export const NAME = 'boxlab.local/lesson13:1';
const CTX = '${WORK}/ctx';
export const BOXFILE = [
  `FROM ${BASE}`,
  'COPY hello.txt /app/',
  'RUN echo added by RUN > /app/added.txt',
  'RUN rm /etc/motd',
  'ENV GREETING="built by boxlab"',
  'CMD ["/bin/sh", "-c", "echo \\"$GREETING: $(cat /app/hello.txt), $(cat /app/added.txt), $(test -e /etc/motd || echo no motd)\\""]',
].join('\n');
/** What the image's CMD prints, built here or pulled back. */
export const OUTPUT = 'built by boxlab: from the context, added by RUN, no motd';

/** The RUN of the Boxfile, by hand: a box, an overlay of the base's layers and an upper. */
const UPPER = '${WORK}/upper';
const box = createBox(BOX_NAMESPACES);

/** The loopback registry: Debian's docker-registry, its storage and log in the work dir. */
const REG = '${WORK}/registry';
const REG_LOG = `${REG}/registry.log`;
const DEST = '127.0.0.1:${PORT}/lesson13/hello:1';
const REG_CONFIG = [
  'version: 0.1',
  // info: the registry logs the port it got and every request it serves.
  'log: { level: info, formatter: text }',
  `storage: { filesystem: { rootdirectory: ${REG}/data }, delete: { enabled: true } }`,
  // Port 0: the kernel picks a free one, and the registry's log says which.
  'http: { addr: "127.0.0.1:0" }',
].join('\n');
// Through sh, so that a host without docker-registry can still run the other steps.
const needsRegistry: Requirement[] = [
  { command: shProgram('sh', '-c', 'command -v docker-registry', 'has-registry'), reason: 'docker-registry is not installed (bash scripts/provision.sh): no registry to push to' },
];
/** The registry's own access log: how many requests of that method, path and status it served. */
const served = (method: string, path: string, status: number) => cmd('grep', '-cE', `"${method} /v2/lesson13/hello/${path} HTTP/1.1" ${status} `, REG_LOG);

/** The requests of a method (an ERE) in the access log, one a line, the status first so that a
 *  projector's width never cuts it off: a session's long state token cut, digests shortened. */
const REQUESTS = `grep -oE "\\"$2 /v2/[^\\"]*\\" [0-9]+" "$1" | sed -E -e 's/_state=[^&]*&//' -e 's/^"([A-Z]+) ([^ ]*) HTTP\\/[0-9.]+" ([0-9]+)$/\\3 \\1 \\2/' -e 's/(sha256:[0-9a-f]{12})[0-9a-f]{52}/\\1…/g'`;
const requests = (method: string) => shProgram('sh', '-c', REQUESTS, 'requests', REG_LOG, method);

export default defineLesson((host) => {
const SECCOMP = seccompFlags(host);
return {
  number: 13,
  slug: 'build-push',
  title: 'Build an image from a Boxfile, push it to a registry, pull it back',
  steps: [
    {
      id: 'run-box',
      title: "A RUN is a box: its upper directory is the new layer, a deletion is a whiteout",
      diagram: diagrams.runBox,
      feature: { name: 'overlayfs upper directory as a layer diff, in a box of mount, UTS, IPC, network, PID and cgroup namespaces', syscalls: ['unshare(2)', 'mount(2) of overlay', 'unlink(2) → whiteout'], man: ['overlayfs', 'OCI image-spec (layer.md)'] },
      creates: [{ dir: '${WORK}' }, ...box.creates],
      actions: [
        { run: mkdirP(CTX, '${ROOTFS}', UPPER, '${WORK}/ovl-work') },
        { run: writeFile(`${CTX}/Boxfile`, BOXFILE) },
        { run: writeFile(`${CTX}/hello.txt`, 'from the context') },
        { run: bl('fetch', '--busybox', '--quiet') },
        { run: bl('inspect', BASE, '--lowerdir'), capture: 'LOWER', match: '(.+)' },
        ...box.actions,
        { run: hostToolInBox(['mount'], mountOverlay('boxlab-layer', '${ROOTFS}', { lower: '${LOWER}', upper: UPPER, work: '${WORK}/ovl-work' })) },
        // The Boxfile's last RUN, as build runs it: /bin/sh -c in the box, over the layers.
        { run: hostToolInBox(['mount', 'pid'], cmd('chroot', '${ROOTFS}', '/bin/sh', '-c', 'rm /etc/motd')) },
      ],
      probes: [
        { title: 'the Boxfile', show: { file: `${CTX}/Boxfile` } },
        { title: "the box's overlay: the base image's layers under an empty upper", show: { file: `/proc/${BOX}/mountinfo`, grep: 'boxlab-layer' } },
        { title: 'the upper directory after `rm /etc/motd`: all the RUN changed', show: { out: cmd('find', UPPER, '-exec', 'stat', '-c', '%A %u/%g %t:%T %n', '{}', '+') } },
      ],
      checks: [
        { title: "the box's root is an overlay of the base's layers", fact: { file: `/proc/${BOX}/mountinfo`, grep: 'boxlab-layer' }, contains: 'lowerdir=${LOWER},upperdir=' },
        { title: 'rm left a whiteout in the upper: a 0/0 character device at etc/motd', fact: { out: kind(`${UPPER}/etc/motd`) }, equals: 'character special file 0:0' },
        { title: 'the lower layers still hold motd (they are read-only)', fact: { out: shProgram('sh', '-c', 'cat "${1%%:*}/etc/motd"', 'sh', '${LOWER}') }, contains: 'Hello from layer 3' },
      ],
    },
    {
      id: 'build',
      title: 'boxlab build: each RUN in such a box, each upper tarred into a layer',
      feature: { name: 'layer tarballs: whiteouts as .wh. files, diff_id and digest', syscalls: ['(user space: tar, gzip, sha256)'], man: ['OCI image-spec (layer.md, config.md "Layer ChainID")'] },
      actions: [
        { run: bl('build', ...SECCOMP, '-t', NAME, CTX), capture: 'MANIFEST', match: 'sha256:([0-9a-f]{64})' },
        { run: bl('inspect', NAME), capture: 'CONFIG', match: 'config +sha256:([0-9a-f]{64})', also: { LAYER: 'layer 6 +sha256:([0-9a-f]{64})' } },
        { run: shProgram('sh', '-c', 'gzip -dc "$1" | sha256sum', 'sh', blob('${LAYER}')), capture: 'DIFF_ID', match: '^([0-9a-f]{64})' },
        { run: chainIds(blob('${CONFIG}')), capture: 'TOP_CHAIN' },
        // Reproducible: the same Boxfile, context and base, built again without the cache.
        { run: bl('build', ...SECCOMP, '--no-cache', '-t', 'boxlab.local/lesson13:again', CTX) },
      ],
      probes: [
        { title: "the RUN rm layer's tar: one whiteout file", show: { out: cmd('tar', '--numeric-owner', '-tvzf', blob('${LAYER}')) } },
        { title: 'its digest: the sha256 of the gzip blob (its name in the cache and in the manifest)', show: { out: cmd('sha256sum', blob('${LAYER}')) } },
        { title: 'its diff_id: the sha256 of the tar inside (what the config lists)', show: { out: shProgram('sh', '-c', 'gzip -dc "$1" | sha256sum', 'sh', blob('${LAYER}')) } },
        { title: "each layer's ChainID, bottom first, from the config's diff_ids with sha256sum", show: { out: chainIds(blob('${CONFIG}')) } },
      ],
      checks: [
        { title: 'the tar holds etc/.wh.motd: the whiteout, as the image spec writes it', fact: { out: cmd('tar', '-tzf', blob('${LAYER}')) }, equals: 'etc/\netc/.wh.motd' },
        { title: "the layer's blob is named by its own sha256 (its digest)", fact: { out: cmd('sha256sum', blob('${LAYER}')) }, contains: '${LAYER} ' },
        { title: "the config's last diff_id is the sha256 of the uncompressed tar", fact: { file: blob('${CONFIG}') }, contains: 'sha256:${DIFF_ID}"]' },
        { title: "boxlab's ChainID of the top layer is the one sha256sum computes", fact: { out: bl('inspect', NAME) }, contains: 'chain_id ${TOP_CHAIN}' },
        { title: 'a second build without the cache gives the same manifest digest (both names point at it)', fact: { out: cmd('grep', '-c', '"digest": "sha256:${MANIFEST}"', `${IMAGES}/index.json`) }, equals: '2' },
        { title: "the image runs: the CMD prints the COPY's file, the RUN's file, and no motd", fact: { out: bl('run', ...SECCOMP, NAME) }, equals: OUTPUT },
      ],
    },
    {
      id: 'config',
      title: 'The config and the manifest, read from the cache',
      feature: { name: 'image config and manifest', syscalls: ['(user space: JSON)'], man: ['OCI image-spec (config.md, manifest.md)'] },
      actions: [],
      probes: [
        { title: 'boxlab inspect: manifest, config, each layer with digest, diff_id, ChainID', show: { out: bl('inspect', NAME) } },
        { title: 'the config blob, pretty-printed (boxlab inspect --config): Env, Cmd, then the history', show: { out: bl('inspect', NAME, '--config') } },
        { title: 'the manifest blob, as stored', show: { file: blob('${MANIFEST}') } },
      ],
      checks: [
        { title: 'the manifest blob is named by its own sha256', fact: { out: cmd('sha256sum', blob('${MANIFEST}')) }, contains: '${MANIFEST} ' },
        { title: 'the manifest names the config', fact: { file: blob('${MANIFEST}') }, contains: '"digest":"sha256:${CONFIG}"' },
        { title: 'and six layers: three of the base, COPY and two RUNs', fact: { out: shProgram('sh', '-c', "grep -o 'layer.v1.tar+gzip' \"$1\" | wc -l", 'sh', blob('${MANIFEST}')) }, equals: '6' },
        { title: "the config holds the ENV and the CMD (they make no layer)", fact: { file: blob('${CONFIG}') }, contains: '"GREETING=built by boxlab"' },
        { title: 'its history records the RUN that deleted motd', fact: { file: blob('${CONFIG}') }, contains: '"created_by":"RUN rm /etc/motd"' },
        { title: 'the clock is clamped: created is the epoch (SOURCE_DATE_EPOCH)', fact: { file: blob('${CONFIG}') }, contains: '"created":"1970-01-01T00:00:00Z"' },
      ],
    },
    {
      id: 'push',
      title: 'Push to a registry on loopback: the HTTP requests it receives',
      diagram: diagrams.push,
      feature: { name: 'OCI distribution: HEAD, POST, PUT per blob, then PUT of the manifest', syscalls: ['connect(2) to 127.0.0.1'], man: ['OCI distribution-spec (spec.md, "Push")'] },
      requires: needsRegistry,
      creates: [{ process: 'REGISTRY_PID' }],
      actions: [
        { run: mkdirP(REG) },
        { run: writeFile(`${REG}/config.yml`, REG_CONFIG) },
        { start: withParentDeathSignal('KILL', shProgram('sh', '-c', 'exec docker-registry serve "$1" >"$2" 2>&1', 'sh', `${REG}/config.yml`, REG_LOG)), pid: 'REGISTRY_PID', until: 'docker-registry' },
        { await: { file: REG_LOG }, contains: 'listening on 127.0.0.1:' },
        { run: cmd('grep', '-o', 'listening on 127.0.0.1:[0-9]*', REG_LOG), capture: 'PORT', match: '127.0.0.1:([0-9]+)' },
        { run: bl('push', NAME, DEST, '--plain-http', '--verbose') },
      ],
      probes: [
        { title: "what the registry received, from its own access log (the upload session's state cut)", show: { out: requests('[A-Z]*') } },
        { title: "the tag in the registry's storage: a link to the manifest digest", show: { file: `${REG}/data/docker/registry/v2/repositories/lesson13/hello/_manifests/tags/1/current/link` } },
      ],
      checks: [
        { title: 'the registry is a process of this lesson: docker-registry (/proc/PID/comm)', fact: { file: '/proc/${REGISTRY_PID}/comm' }, equals: 'docker-registry' },
        { title: 'HEAD of each of the 7 blobs: 404, not there yet', fact: { out: served('HEAD', 'blobs/sha256:[0-9a-f]{64}', 404) }, equals: '7' },
        { title: 'POST of 7 upload sessions: 202', fact: { out: served('POST', 'blobs/uploads/', 202) }, equals: '7' },
        { title: 'PUT of 7 blobs, each with its digest: 201', fact: { out: served('PUT', 'blobs/uploads/[^ ]*digest=sha256%3A[0-9a-f]{64}', 201) }, equals: '7' },
        { title: 'the manifest PUT by tag: 201', fact: { out: served('PUT', 'manifests/1', 201) }, equals: '1' },
        { title: "the registry's tag points at the manifest digest built here", fact: { file: `${REG}/data/docker/registry/v2/repositories/lesson13/hello/_manifests/tags/1/current/link` }, equals: 'sha256:${MANIFEST}' },
      ],
    },
    {
      id: 'rmi',
      title: 'boxlab rmi: the cache emptied',
      feature: { name: 'removing images and their unreferenced blobs', syscalls: ['unlink(2)'], man: ['OCI image-spec (image-layout.md)'] },
      requires: needsRegistry,
      actions: [{ run: bl('rmi', NAME) }, { run: bl('rmi', 'boxlab.local/lesson13:again') }, { run: bl('rmi', BASE) }],
      probes: [{ title: 'the image layout: index.json and the blobs', show: { out: cmd('find', IMAGES, '-maxdepth', '3') } }],
      checks: [
        { title: 'no blob is left in the cache', fact: { out: shProgram('sh', '-c', 'ls -A "$1" | wc -l', 'sh', `${IMAGES}/blobs/sha256`) }, equals: '0' },
        { title: 'index.json names no image', fact: { file: `${IMAGES}/index.json` }, lacks: 'ref.name' },
      ],
    },
    {
      id: 'pull',
      title: 'Pull it back into the empty cache and run it: the same output',
      feature: { name: 'OCI distribution: GET the manifest, then each blob by digest', syscalls: ['connect(2) to 127.0.0.1'], man: ['OCI distribution-spec (spec.md, "Pull")'] },
      requires: needsRegistry,
      actions: [{ run: bl('fetch', DEST, '--plain-http', '--quiet') }],
      probes: [
        { title: 'the pulled image', show: { out: bl('inspect', DEST) } },
        { title: "the registry's log: the pull's GETs", show: { out: requests('GET') } },
      ],
      checks: [
        { title: 'the pulled manifest is the pushed one: its blob hashes to the same digest', fact: { out: cmd('sha256sum', blob('${MANIFEST}')) }, contains: '${MANIFEST} ' },
        { title: 'index.json names it under the registry name', fact: { file: `${IMAGES}/index.json` }, contains: '"org.opencontainers.image.ref.name": "127.0.0.1:${PORT}/lesson13/hello:1"' },
        { title: "its only entry's digest is the pushed manifest's", fact: { out: cmd('grep', '-o', '"digest": "sha256:[0-9a-f]*"', `${IMAGES}/index.json`) }, equals: '"digest": "sha256:${MANIFEST}"' },
        { title: 'the registry served the manifest by tag (GET 200)', fact: { out: served('GET', 'manifests/1', 200) }, equals: '1' },
        { title: 'the pulled image prints what the built one did', fact: { out: bl('run', ...SECCOMP, DEST) }, equals: OUTPUT },
      ],
    },
  ],
  // The RUN's box, over the base's layers and the upper with the whiteout; the defences taught stay on.
  shell: taughtShellIn('${ROOTFS}', '/bin/sh'),
};
});
