import type { Collection } from 'mongodb';
import type { BackendTickets } from '../kit/backend.js';
import type { MongodbSettings } from './options.js';
import type { MongoHandles } from './setup.js';

interface TicketDoc {
  _id: string;
  value: string;
  expiresAt: number;
}

/**
 * The `tickets` group on MongoDB: one document per ticket in `<group>_tickets`, taken with
 * findOneAndDelete, which the server runs atomically on one document: of two takes, one gets
 * the document and the other null. Expired documents go on each put (one indexed-free
 * deleteMany, run beside the write), so the collection holds only the last TTL's tickets
 * without a TTL index (which mongo-java-server and FerretDB may lack).
 */
export function mongodbTickets(settings: MongodbSettings): BackendTickets<MongoHandles> {
  const collections = new WeakMap<MongoHandles, Collection<TicketDoc>>();
  const tickets = (handles: MongoHandles) => {
    let collection = collections.get(handles);
    if (!collection) {
      collection = handles.client.db(settings.database).collection<TicketDoc>(`${settings.group}_tickets`, {
        writeConcern: settings.writeConcern,
        readPreference: 'primary',
      });
      collections.set(handles, collection);
    }
    return collection;
  };
  return {
    async put(handles, key, value, ttlMs, now) {
      const collection = tickets(handles);
      await Promise.all([
        collection.replaceOne({ _id: key }, { value, expiresAt: now + ttlMs }, { upsert: true }),
        collection.deleteMany({ expiresAt: { $lte: now }, _id: { $ne: key } }),
      ]);
    },
    async take(handles, key, now) {
      const doc = await tickets(handles).findOneAndDelete({ _id: key });
      return doc && doc.expiresAt > now ? doc.value : null;
    },
  };
}
