import type { Collection, Document } from 'mongodb';

/**
 * FerretDB v1 refuses findAndModify with a projection ("fields"): NotImplemented, code 238,
 * answered before it changes anything (checked against v1.24.2). A collection that refused
 * once is asked without one from then on, and gets the whole document back: more bytes, the
 * same atomic command. On MongoDB the projection is always sent and this never triggers.
 */
const refusesProjection = new WeakSet<Collection<Document>>();

function isProjectionRefused(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 238 && typeof message === 'string' && message.includes('"fields"');
}

/** Runs a findOneAnd* command with `projection`, or without it where the server cannot. */
export async function withProjection<T, C extends Document>(
  collection: Collection<C>,
  projection: Document,
  run: (options: { projection?: Document }) => Promise<T>,
): Promise<T> {
  const key = collection as unknown as Collection<Document>;
  if (refusesProjection.has(key)) return run({});
  try {
    return await run({ projection });
  } catch (error) {
    if (!isProjectionRefused(error)) throw error;
    refusesProjection.add(key);
    return run({});
  }
}
