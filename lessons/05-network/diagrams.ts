// Lesson 5's pictures: printed before a step's commands and on its slide (at most 100 columns).
// The link names and addresses are the lesson's own (the linter checks them).

/** One veth pair: a cable with one end in each network namespace. */
export const veth = String.raw`
  the host's network namespace                  the box's network namespace ($BOX)
  ┌──────────────────────────────────┐          ┌──────────────────────────────────┐
  │ boxlab-h0   198.51.100.1/24      │   veth   │ eth0   198.51.100.2/24           │
  │     ●━━━━━━━━━━━━━━━━━━━━━━━━━━━━┿━━━━━━━━━━┿━━━━━━━━━━●  made as boxlab-c0,   │
  │                                  │   pair   │            moved, renamed eth0   │
  │ eth0, lo …  the host's own       │          │ lo     127.0.0.1 (up since lo-up)│
  └──────────────────────────────────┘          └──────────────────────────────────┘
  a packet sent into one end comes out of the other: ping 198.51.100.1 ⇄ 198.51.100.2
`.slice(1, -1);

/** Two boxes, each on a veth whose host end is a port of one bridge. */
export const bridge = String.raw`
                  the host: boxlab-br0  203.0.113.1/24  (a switch in the kernel)
                  ┌──────────────────────────┴───────────────────────────┐
              boxlab-h1 (port)                                       boxlab-h2 (port)
                  │ veth (made as boxlab-h1p)                            │ veth (boxlab-h2p)
  ┌───────────────┴──────────────────┐                  ┌────────────────┴─────────────────┐
  │ box 1 ($BOX)                     │                  │ box 2 ($BOX2: a netns only)      │
  │ eth1   203.0.113.2/24            │ ◀── ping ──▶     │ eth0   203.0.113.3/24            │
  │ eth0   198.51.100.2/24 (to h0)   │                  │ lo                               │
  └──────────────────────────────────┘                  └──────────────────────────────────┘
`.slice(1, -1);
