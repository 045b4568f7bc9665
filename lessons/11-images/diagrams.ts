// Lesson 11's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** An image: every blob named by its sha256, the manifest pointing at the rest. */
export const image = String.raw`
  $IMAGES/index.json ── names the image ──▶ manifest  sha256:$MANIFEST
                                            ├─ config  sha256:$CONFIG
                                            │    Env, Cmd, WorkingDir: what to run
                                            │    rootfs.diff_ids: D1 D2 D3 (of each layer's tar)
                                            └─ layers  (bottom first)
                                                 sha256:L1 ── decompress ──▶ tar with diff_id D1
                                                 sha256:L2 ── decompress ──▶ tar with diff_id D2
                                                 sha256:L3 ── decompress ──▶ tar with diff_id D3
  each blob: $IMAGES/blobs/sha256/HEX   (layers may be gzip, zstd or plain tar)
  ChainID: C1 = D1, then Cn = sha256("C(n-1) Dn"): what Docker and containerd key layers by
`.slice(1, -1);

/** The unpacked layers, top first, as the overlay's lowers. */
export const layersAsRoot = String.raw`
  $ROOTFS in the box's mount namespace: overlay boxlab-image
  ┌──────────────────────────────────────────────────────────────────────────────┐
  │ upperdir  $WORK/upper     the box's writes                                   │
  ├──────────────────────────────────────────────────────────────────────────────┤
  │ lowerdir  $LOWER = layers/D3:layers/D2:layers/D1   (read-only, top first)    │
  └──────────────────────────────────────────────────────────────────────────────┘
  each layer is unpacked once, into the cache, and shared by every box of the image
`.slice(1, -1);
