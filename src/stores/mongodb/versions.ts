import type { AttributeKey } from '../../core/store.js';
import { escapeKey, type Fields } from './layout.js';

/**
 * The MongoDB store's session versions (the port's "Versions"): a `v` field of the session
 * document, `$inc`'d in the same update as the change it counts. A document from before
 * versions has none and reads as 0.
 */
export const VERSION_FIELD = 'v';

/**
 * The conditional load as one aggregate command: the metadata and the version always, the
 * attributes (all, or the named ones) only when the version is not `knownVersion`.
 */
export function conditionalLoadPipeline(
  id: string,
  keys: AttributeKey[] | 'all',
  knownVersion: number,
): Fields[] {
  const version = { $ifNull: [`$${VERSION_FIELD}`, 0] };
  const wanted: unknown =
    keys === 'all'
      ? '$attrs'
      : Object.fromEntries(keys.map((key) => [escapeKey(key), `$attrs.${escapeKey(key)}`]));
  return [
    { $match: { _id: id } },
    {
      $project: {
        meta: 1,
        [VERSION_FIELD]: version,
        attrs: { $cond: [{ $eq: [version, knownVersion] }, {}, wanted] },
        unchanged: { $eq: [version, knownVersion] },
      },
    },
  ];
}
