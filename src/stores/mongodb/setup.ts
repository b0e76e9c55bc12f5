/**
 * What the MongoDB store does once per process before its first operation: load the driver,
 * make (or adopt) the client, create the indexes, and find out whether the server can run
 * multi-document transactions (a replica set or sharded cluster can; a standalone server,
 * mongo-java-server and FerretDB cannot).
 */
import type { Collection, Db, Document, MongoClient, MongoClientOptions } from 'mongodb';
import { driverMissing } from '../../core/errors.js';

type Driver = typeof import('mongodb');

let driver: Promise<Driver> | undefined;

/** The `mongodb` package, imported once per process; a missing package is one clear error. */
export function loadDriver(): Promise<Driver> {
  driver ??= import('mongodb').catch((cause: unknown) => {
    driver = undefined;
    throw driverMissing('mongodb', 'mongodb', cause);
  });
  return driver;
}

export async function makeClient(url: string, options: MongoClientOptions): Promise<MongoClient> {
  const { MongoClient } = await loadDriver();
  return new MongoClient(url, options);
}

export interface IndexPlan {
  /** Seconds the TTL index waits past expiresAt before the server deletes; null = no TTL index. */
  ttlGraceSeconds: number | null;
}

/** Creates the indexes of `<group>_sessions`; idempotent, so every process may run it. */
export async function ensureIndexes(sessions: Collection<Document>, db: Db, plan: IndexPlan): Promise<void> {
  await sessions.createIndexes([
    // Sweeping and "alive at" filters.
    { key: { 'meta.expiresAt': 1 }, name: 'expiresAt' },
    { key: { 'meta.principal': 1 }, name: 'principal' },
    // Per-app listing pages by _id.
    { key: { 'meta.app': 1, _id: 1 }, name: 'app_id' },
    { key: { 'meta.lastAccessedAt': 1 }, name: 'lastAccessedAt' },
  ]);
  if (plan.ttlGraceSeconds === null) return;
  const ttl = { key: { expireAt: 1 }, name: 'expireAt_ttl', expireAfterSeconds: plan.ttlGraceSeconds };
  try {
    await sessions.createIndexes([ttl]);
  } catch (error) {
    if (!isServerError(error)) throw error;
    // The index exists with another grace period (code 85, IndexOptionsConflict): move it.
    // Any other refusal means the server has no TTL indexes; the sweeper covers expiry alone.
    if ((error as { code?: unknown }).code !== 85) return;
    await db
      .command({
        collMod: sessions.collectionName,
        index: { name: ttl.name, expireAfterSeconds: ttl.expireAfterSeconds },
      })
      .catch((collModError: unknown) => {
        if (!isServerError(collModError)) throw collModError;
      });
  }
}

/**
 * True when the server can run a transaction: a replica set member or mongos that supports
 * sessions. `hello` falls back to the legacy `isMaster` (mongo-java-server knows only that).
 */
export async function supportsTransactions(db: Db): Promise<boolean> {
  let hello: Document;
  try {
    hello = await db.command({ hello: 1 });
  } catch (error) {
    if (!isServerError(error)) throw error;
    hello = await db.command({ isMaster: 1 });
  }
  const clustered = typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
  const wire = Number(hello.maxWireVersion ?? 0);
  // Replica-set transactions arrived with wire version 7 (MongoDB 4.0), sharded ones with 8.
  const minWire = hello.msg === 'isdbgrid' ? 8 : 7;
  return clustered && hello.logicalSessionTimeoutMinutes != null && wire >= minWire;
}

/** A command the server answered with an error (as opposed to a network or selection failure). */
export function isServerError(error: unknown): boolean {
  return error instanceof Error && error.name === 'MongoServerError';
}

/** E11000: the insert or upsert hit an existing _id. */
export function isDuplicateKey(error: unknown): boolean {
  return isServerError(error) && (error as { code?: unknown }).code === 11000;
}
