// How much a registry or an image can make boxlab read, wait for and write. A hostile or
// broken one must fail with a clear line, not fill memory or the disk, or hang a workshop.
// Internal: a pull takes overrides (the tests use small ones), the command line does not.
export interface Limits {
  /** A manifest, an index, a config or a token response: each is read into memory whole. */
  jsonBytes: number;
  /** A response's headers must come within windowMs, and its body bring minBytes in every windowMs. */
  windowMs: number;
  minBytes: number;
  /**
   * What a manifest may declare, checked before any blob is asked for: one blob (a layer), and
   * its config and layers together. A blob is cut off at its declared size as it streams in.
   */
  blobBytes: number;
  imageBytes: number;
  /** What one image's layers may expand to (bytes of tar, all layers together), and how many entries. */
  unpackBytes: number;
  imageEntries: number;
  layerEntries: number;
}

export const LIMITS: Limits = {
  jsonBytes: 4 * 1024 * 1024,
  windowMs: 30_000,
  minBytes: 16 * 1024,
  // Far above any image a workshop uses, far below a full disk or inode table.
  blobBytes: 4 * 1024 ** 3,
  imageBytes: 8 * 1024 ** 3,
  unpackBytes: 8 * 1024 ** 3,
  imageEntries: 1_000_000,
  layerEntries: 500_000,
};

export const limits = (overrides: Partial<Limits> = {}): Limits => ({ ...LIMITS, ...overrides });
