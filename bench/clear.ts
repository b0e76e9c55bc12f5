/**
 * Each contestant starts on an empty store of its own (its own key prefix or collection),
 * so earlier runs neither help nor hurt it, and two contestants running at once never touch
 * each other's data.
 */
export async function clearRedisPrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url);
  const keys = await redis.keys(`${prefix}*`);
  for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500));
  await redis.quit();
}

export async function clearMongoCollection(url: string, database: string, collection: string): Promise<void> {
  const { MongoClient } = await import('mongodb');
  const client = await new MongoClient(url).connect();
  await client
    .db(database)
    .collection(collection)
    .drop()
    .catch(() => undefined); // it did not exist
  await client.close();
}
