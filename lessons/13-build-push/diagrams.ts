// Lesson 13's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** One RUN of a build: a box over the layers so far; its upper directory becomes the next layer. */
export const runBox = String.raw`
  RUN rm /etc/motd            a box (lesson 12), its / an overlay (lessons 10, 11):
  ┌──────────────────────────────────────────────────────────────────────────────┐
  │ upperdir  $WORK/upper       etc/motd  c 0:0   the whiteout rm left           │──┐
  ├──────────────────────────────────────────────────────────────────────────────┤  │
  │ lowerdir  $LOWER = the layers so far, read-only, top first                   │  │
  └──────────────────────────────────────────────────────────────────────────────┘  │
     boxlab build tars the upper:  etc/.wh.motd  (image-spec layer.md)   ◀───────────┘
     gzip -dc BLOB | sha256sum = diff_id (in the config)    sha256sum BLOB = digest (its name)
`.slice(1, -1);

/** The push, as the registry sees it (distribution-spec): blobs first, the manifest last. */
export const push = String.raw`
  boxlab push --verbose                                     docker-registry on 127.0.0.1:$PORT
  for each blob (6 layers, the config):
    HEAD  /v2/lesson13/hello/blobs/sha256:D              ──▶  404  not there: upload it
    POST  /v2/lesson13/hello/blobs/uploads/              ──▶  202  Location: an upload session
    PUT   <session>?digest=sha256:D   (the bytes)        ──▶  201  the registry checks D itself
  then, once every blob is there:
    PUT   /v2/lesson13/hello/manifests/1                 ──▶  201  the tag exists from now on
  a push cut off before the last PUT leaves no tag; a second push HEADs 200 and sends 0 bytes
`.slice(1, -1);
