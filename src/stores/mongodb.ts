import type { Store } from '../core/store.js';
import { defineStore } from './kit/define.js';
import { mongodbBackend } from './mongodb/backend.js';
import { type MongodbStoreOptions, resolveMongodbOptions } from './mongodb/options.js';
import { openHandles } from './mongodb/setup.js';

export type { MongodbStoreOptions } from './mongodb/options.js';

/**
 * Sessions in MongoDB (or a wire-compatible server), one document per session, written with
 * `$set`/`$unset` on single attribute fields so concurrent requests never overwrite each other.
 * Needs the `mongodb` package (v6 or v7). See docs/stores/mongodb.md.
 *
 * @example
 * const store = mongodbStore({ url: process.env.MONGO_URL, group: 'shop' });
 */
export function mongodbStore(options: MongodbStoreOptions = {}): Store {
  const settings = resolveMongodbOptions(options);
  return defineStore({
    name: 'mongodb',
    group: settings.group,
    open: () => openHandles(settings),
    // A client you pass in stays open.
    release: async ({ client }) => {
      if (!settings.client) await client.close();
    },
    backend: mongodbBackend(settings),
  });
}
