// An image config's history, which build and commit extend: one entry per instruction, and of
// those that are not empty_layer, exactly one per layer, in order (image-spec config.md). Tools
// that show an image's history (docker history, skopeo inspect) pair the two lists by position.

export interface History {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The base's history, with an entry for each of its layers it does not account for: a base
 *  with no history (boxlab's own busybox:layers) would pair the build's first entry with the
 *  base's first layer. The entries added go first, as the layers they stand for do. */
export function baseHistory(config: unknown, layers: number): History[] {
  const raw = (config as { history?: unknown } | undefined)?.history;
  const own = (Array.isArray(raw) ? raw : []).filter((h): h is History => !!h && typeof h === 'object' && !Array.isArray(h));
  const missing = layers - own.filter((h) => h.empty_layer !== true).length;
  const filler: History[] = Array.from({ length: Math.max(0, missing) }, () => ({ created_by: 'a layer of the base image (its config has no history for it)', comment: 'boxlab build' }));
  return [...filler, ...own];
}
