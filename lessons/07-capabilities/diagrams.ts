// Lesson 7's pictures: printed before a step's commands and on its slide (at most 100 columns).

/** The five capability sets in /proc/PID/status, and how an exec computes the new ones. */
export const sets = String.raw`
  /proc/$BOX/status: five 64-bit masks, one bit per capability (capsh --decode names them)
  ┌────────┬────────────────────────────────────────────────────────────────────────────┐
  │ CapInh │ inheritable: kept across an exec of a program whose file has them too      │
  │ CapPrm │ permitted: the most the process may make effective                         │
  │ CapEff │ effective: what the kernel checks at each privileged call                  │
  │ CapBnd │ bounding: the most an exec can add to the permitted set                    │
  │ CapAmb │ ambient: kept across an exec of an ordinary program                        │
  └────────┴────────────────────────────────────────────────────────────────────────────┘
  at execve(2), capabilities(7):
    P'(permitted) = (P(inheritable) & F(inheritable)) | (F(permitted) & P(bounding)) | P'(ambient)
  the bounding set limits F(permitted), not the inheritable term: lesson 12 clears CapInh
`.slice(1, -1);
