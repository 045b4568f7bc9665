import { defineLesson, type Step } from '../../src/model/lesson.js';
import { BOX, BOX_NAMESPACES, boxRun, createBox, hostToolInBox, hostToolInBoxMounts, taughtShell } from '../../src/box/box.js';
import { cmd } from '../../src/shell/cmd.js';
import { mkdirP } from '../../src/shell/coreutils.js';
import { mountFs, mountOverlay, umount } from '../../src/shell/mount.js';
import { pivotRoot } from '../../src/shell/pivot_root.js';
import { boxlab } from '../../src/shell/boxlab.js';
import { chainIds as chainIdsOf } from '../common.js';
import * as diagrams from './diagrams.js';

const BOX_MOUNTS = { file: `/proc/${BOX}/mountinfo` };
const HOST_MOUNTS = { file: '/proc/self/mountinfo' };
const UPPER = '${WORK}/upper';
const blob = (hex: string) => `\${IMAGES}/blobs/sha256/${hex}`;
const kind = (path: string) => cmd('stat', '-c', '%F %t:%T', path);
const box = createBox(BOX_NAMESPACES, { cleanEnv: true });
const chainIds = chainIdsOf(blob('${CONFIG}'));

/** The one step that differs: where the image comes from. */
const fetchStep = (source: 'local' | 'registry'): Step => ({
  id: 'fetch',
  title: source === 'local' ? 'Make an image: busybox in three layers, in an OCI image layout' : 'Pull an image from a registry (OCI distribution API)',
  diagram: diagrams.image,
  feature: {
    name: source === 'local' ? 'OCI image layout: content-addressed blobs' : 'OCI distribution: GET /v2/NAME/manifests/TAG, then each blob by digest',
    syscalls: ['(user space: tar, sha256)'],
    man: ['OCI image-spec (image-layout.md, manifest.md)', ...(source === 'registry' ? ['OCI distribution-spec'] : [])],
  },
  actions: [
    source === 'local'
      ? { run: boxlab('fetch', '--busybox'), capture: 'IMAGE' }
      : { run: boxlab('fetch', '${REGISTRY}/boxlab/busybox:layers', '--plain-http'), capture: 'IMAGE' },
    { run: boxlab('inspect', '${IMAGE}'), capture: 'MANIFEST', match: 'manifest sha256:([0-9a-f]{64})', also: { CONFIG: 'config +sha256:([0-9a-f]{64})' } },
  ],
  probes: [
    { title: 'the cache is an OCI image layout', show: { out: cmd('ls', '${IMAGES}') } },
    { title: 'the image: manifest, config, and each layer with its diff_id, ChainID and lowerdir', show: { out: boxlab('inspect', '${IMAGE}') } },
  ],
  checks: [
    { title: 'the manifest blob is named by its own sha256', fact: { out: cmd('sha256sum', blob('${MANIFEST}')) }, contains: '${MANIFEST} ' },
    { title: 'so is the config blob', fact: { out: cmd('sha256sum', blob('${CONFIG}')) }, contains: '${CONFIG} ' },
    { title: 'index.json names the image', fact: { file: '${IMAGES}/index.json' }, contains: '"org.opencontainers.image.ref.name": "${IMAGE}"' },
  ],
});

const steps = (source: 'local' | 'registry'): Step[] => [
  fetchStep(source),
  {
    id: 'manifest',
    title: 'Read the manifest and the config',
    feature: { name: 'image manifest and config', syscalls: ['(user space: JSON)'], man: ['OCI image-spec (manifest.md, config.md)'] },
    actions: [
      { run: boxlab('inspect', '${IMAGE}', '--lowerdir'), capture: 'LOWER', match: '(.+)', also: { TOP: '^([^:]+)' } },
      { run: chainIds, capture: 'TOP_CHAIN' },
    ],
    probes: [
      { title: 'the manifest: a config and three layers, each by digest and size', show: { out: boxlab('inspect', '${IMAGE}', '--manifest') } },
      { title: 'the config: what to run (Env, Cmd, WorkingDir) and the diff_ids of the layers', show: { out: boxlab('inspect', '${IMAGE}', '--config') } },
      { title: 'the unpacked top layer', show: { out: cmd('find', '${TOP}') } },
      { title: "each layer's ChainID, bottom first, computed from the diff_ids with sha256sum", show: { out: chainIds } },
    ],
    checks: [
      { title: "the config lists the layers' diff_ids", fact: { file: blob('${CONFIG}') }, contains: '"diff_ids":["sha256:' },
      { title: "boxlab's ChainID of the top layer is the one sha256sum computes", fact: { out: boxlab('inspect', '${IMAGE}') }, contains: 'chain_id ${TOP_CHAIN}' },
      { title: "the top layer's .wh.wget was unpacked as an overlay whiteout (0/0 device)", fact: { out: kind('${TOP}/bin/wget') }, equals: 'character special file 0:0' },
      { title: "its .wh..wh..opq made srv/www opaque", fact: { out: cmd('getfattr', '--only-values', '-n', 'trusted.overlay.opaque', '${TOP}/srv/www') }, equals: 'y' },
    ],
  },
  {
    id: 'box',
    title: 'Create the box',
    feature: { name: 'mount, UTS, IPC, network, PID and cgroup namespaces', syscalls: ['unshare(2)'], man: ['namespaces(7)'] },
    creates: [{ dir: '${WORK}' }, ...box.creates],
    actions: [{ run: mkdirP('${ROOTFS}', UPPER, '${WORK}/work') }, ...box.actions],
    probes: [{ title: "the box init's environment (/proc/PID/environ; cat -v shows each NUL as ^@)", show: { out: cmd('cat', '-v', `/proc/${BOX}/environ`) } }],
    checks: [
      { title: 'the box has its own mount namespace', fact: { link: `/proc/${BOX}/ns/mnt` }, differs: { link: '/proc/self/ns/mnt' } },
      { title: "the box's init holds none of boxlab's environment (no PATH, no HOME)", fact: { out: cmd('cat', '-v', `/proc/${BOX}/environ`) }, lacks: 'PATH=' },
    ],
  },
  {
    id: 'layers-as-root',
    title: "Stack the image's layers as the box's root filesystem",
    diagram: diagrams.layersAsRoot,
    feature: { name: 'overlay filesystem over image layers', syscalls: ['mount(2) of overlay'], man: ['overlayfs', 'mount(8)'] },
    actions: [
      { run: hostToolInBox(['mount'], mountOverlay('boxlab-image', '${ROOTFS}', { lower: '${LOWER}', upper: UPPER, work: '${WORK}/work' })) },
      { run: hostToolInBox(['mount', 'pid'], mountFs('proc', 'proc', '${ROOTFS}/proc')) },
      { run: hostToolInBox(['mount'], mkdirP('${ROOTFS}/.oldroot')) },
    ],
    probes: [{ title: "the overlay in the box's mount table", show: { ...BOX_MOUNTS, grep: 'boxlab-image' } }],
    checks: [
      { title: 'the box mounted an overlay of the image layers (top first)', fact: { ...BOX_MOUNTS, grep: 'boxlab-image' }, contains: 'lowerdir=${LOWER},upperdir=' },
      { title: 'the host does not see it', fact: HOST_MOUNTS, lacks: 'boxlab-image' },
    ],
  },
  {
    id: 'pivot',
    title: 'pivot_root into the image',
    feature: { name: 'pivot_root', syscalls: ['pivot_root(2)', 'umount2(2) MNT_DETACH'], man: ['pivot_root(2)'] },
    actions: [
      { run: hostToolInBox(['mount'], pivotRoot('${ROOTFS}', '${ROOTFS}/.oldroot')) },
      { run: hostToolInBoxMounts(umount(`/proc/${BOX}/root/.oldroot`, { lazy: true, noCanonicalize: true })) },
      { run: hostToolInBoxMounts(cmd('rmdir', `/proc/${BOX}/root/.oldroot`)) },
    ],
    checks: [
      { title: "the overlay is the box's /", fact: { ...BOX_MOUNTS, grep: 'boxlab-image' }, contains: ' / ' },
      { title: 'no mount of the host root is left', fact: BOX_MOUNTS, lacks: ' /.oldroot ' },
      { title: "the layers' whiteout hides wget", fact: { status: boxRun('/bin/ls', '/bin/wget') }, differs: '0' },
    ],
  },
  {
    id: 'run',
    title: "Run the image's command with its Env and WorkingDir",
    feature: { name: 'the image config applied: execve(2) with its argv, envp and cwd', syscalls: ['chdir(2)', 'execve(2)'], man: ['OCI image-spec (config.md)', 'env(1)'] },
    actions: [
      { run: boxlab('inspect', '${IMAGE}', '--process'), capture: 'PROCESS', match: '(.+)' },
      { run: boxRun('/bin/sh', '-c', '${PROCESS}') },
      { run: boxRun('/bin/sh', '-c', 'echo written in the box > /tmp/proof') },
    ],
    probes: [{ title: "the image's command, run in the box", show: { out: boxRun('/bin/sh', '-c', '${PROCESS}') } }],
    checks: [
      { title: 'it read the top layer: motd of layer 3', fact: { out: boxRun('/bin/sh', '-c', '${PROCESS}') }, contains: 'Hello from layer 3' },
      { title: 'with the Env and WorkingDir of the config', fact: { out: boxRun('/bin/sh', '-c', '${PROCESS}') }, contains: 'hello from the image config, in /srv/www' },
      { title: "the opaque web root holds layer 3's page only", fact: { out: boxRun('/bin/ls', '/srv/www') }, equals: 'index.html' },
      { title: "the box's write landed in its upper directory, not in a layer", fact: { file: `${UPPER}/tmp/proof` }, equals: 'written in the box' },
    ],
  },
];

export default defineLesson({
  number: 11,
  slug: 'images',
  title: 'Images: manifests, configs and layers',
  steps: steps('local'),
  shell: taughtShell('/bin/sh'),
  variants: {
    registry: { title: 'Images, pulled from a registry on this machine (--registry HOST:PORT)', steps: steps('registry'), shell: taughtShell('/bin/sh') },
  },
});
