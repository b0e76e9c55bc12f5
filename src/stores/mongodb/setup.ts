/**
 * What the MongoDB store does once per process before its first operation: load the driver,
 * make (or adopt) the client, create the indexes, and find out whether the server can run
 * multi-document transactions (a replica set or sharded cluster can; a standalone server,
 * mongo-java-server and FerretDB cannot).
 */
import type { ClientSession, Collection, Db, Document, MongoClient } from 'mongodb';
import { loadDriver } from '../kit/driver.js';
import type { SessionDoc } from './layout.js';
import type { MongodbSettings } from './options.js';

export interface LeaseDoc {
  _id: string;
  holder: string;
  expiresAt: number;
}

/** One audit-log entry; `_id` is its sequence number, from the `auditSeq` counter. */
export interface AuditDoc {
  _id: number;
  at: number;
  actor: string;
  scope: string;
  action: string;
  target: string;
  count: number;
  detail?: Record<string, string | number | boolean>;
}

/** Small named values of the group: the last sweep, the audit sequence. */
export interface StateDoc {
  _id: string;
  value?: unknown;
  seq?: number;
}

/** What the store's operations work with, once set up. */
export interface MongoHandles {
  client: MongoClient;
  sessions: Collection<SessionDoc>;
  leases: Collection<LeaseDoc>;
  audit: Collection<AuditDoc>;
  state: Collection<StateDoc>;
  /** Whether the server runs multi-document transactions (see `supportsTransactions`). */
  transactions: boolean;
}

/**
 * The client (the app's, or one made from `url`), connected, with the indexes in place. A
 * client made here is closed again when this fails, so the next attempt starts afresh.
 */
export async function openHandles(settings: MongodbSettings): Promise<MongoHandles> {
  const client = settings.client ?? (await makeClient(settings));
  try {
    // An explicit connect: after a failed first connection the driver's auto-connect keeps
    // reusing the closed topology ("Topology is closed"), while connect() starts a new one.
    // On a connected client it returns at once.
    await client.connect();
    const db: Db = client.db(settings.database);
    const collection = { writeConcern: settings.writeConcern, readPreference: settings.readPreference };
    const sessions = db.collection<SessionDoc>(`${settings.group}_sessions`, collection);
    await ensureIndexes(sessions as unknown as Collection<Document>, db, settings);
    const leases = db.collection<LeaseDoc>(`${settings.group}_leases`, collection);
    const audit = db.collection<AuditDoc>(`${settings.group}_audit`, collection);
    const state = db.collection<StateDoc>(`${settings.group}_state`, collection);
    return { client, sessions, leases, audit, state, transactions: await supportsTransactions(db) };
  } catch (error) {
    if (!settings.client) await client.close().catch(() => undefined);
    throw error;
  }
}

async function makeClient(settings: MongodbSettings): Promise<MongoClient> {
  const { MongoClient } = await loadDriver<typeof import('mongodb')>('mongodb', 'mongodb');
  return new MongoClient(settings.url, settings.clientOptions);
}

/** Runs `work` in a transaction with the store's write concern, and ends the session. */
export async function inTransaction<T>(
  handles: MongoHandles,
  writeConcern: MongodbSettings['writeConcern'],
  work: (session: ClientSession) => Promise<T>,
): Promise<T> {
  const session = handles.client.startSession();
  try {
    let result: T | undefined;
    await session.withTransaction(
      async () => {
        result = await work(session);
      },
      { writeConcern, readPreference: 'primary' },
    );
    return result as T;
  } finally {
    await session.endSession();
  }
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
    // The monitor's orders (ties by _id), and a user's sessions newest first.
    { key: { 'meta.lastAccessedAt': 1, _id: 1 }, name: 'lastAccessedAt_id' },
    { key: { 'meta.createdAt': 1, _id: 1 }, name: 'createdAt_id' },
    { key: { 'meta.principal': 1, 'meta.lastAccessedAt': 1 }, name: 'principal_lastAccessedAt' },
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
