/**
 * One group of apps on one SQLite file in a temp dir: the six adapters' servers (child
 * processes), plus a seventh app in the test process, `native`, that writes sessions
 * through the native API as another app of the group would. The test also reads the file
 * directly, to see what the store holds without asking the code under test.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { SessionManager } from '../../../src/core/manager.js';
import type { RequestInfo } from '../../../src/core/request.js';
import type { Session } from '../../../src/core/session.js';
import { createSessionManager } from '../../../src/index.js';
import { sqliteStore } from '../../../src/stores/sqlite.js';
import { ADAPTERS, type Adapter, COOKIE_NAME, GROUP, ID_HEADER, isShared, SECRET } from './protocol.js';
import { FuzzServer } from './servers.js';

/** The request the native app's sessions are opened for (it is not behind HTTP). */
const NATIVE_REQUEST: RequestInfo = {
  url: '/',
  method: 'GET',
  header: () => undefined,
  remoteAddress: '127.0.0.1',
  encrypted: false,
};

/** `id.signature`, as unisession's signer makes it (HMAC-SHA256, base64url). */
export function sign(id: string, secret: string): string {
  return `${id}.${createHmac('sha256', secret).update(id).digest('base64url')}`;
}

export class FuzzGroup {
  private constructor(
    readonly dir: string,
    readonly servers: Map<Adapter, FuzzServer>,
    /** The `native` app: another app of the group, in this process. */
    readonly manager: SessionManager,
    /** The SQLite file itself, for counting and inspecting rows, and for writes "by hand". */
    readonly db: Database.Database,
  ) {}

  static async start(): Promise<FuzzGroup> {
    const dir = mkdtempSync(join(tmpdir(), 'unisession-fuzz-'));
    const file = join(dir, 'sessions.sqlite');
    const manager = createSessionManager({
      app: 'native',
      group: GROUP,
      store: sqliteStore({ file, group: GROUP }),
      secret: SECRET,
      header: ID_HEADER,
      shared: isShared,
      sweeper: false,
    });
    // Creates the tables before anyone else opens the file.
    await manager.count();
    const db = new Database(file);
    db.pragma('busy_timeout = 5000');
    const group = new FuzzGroup(dir, new Map(), manager, db);
    try {
      // One after the other: six tsx start-ups at once would only fight over two cores.
      for (const adapter of ADAPTERS) group.servers.set(adapter, await FuzzServer.start(adapter, file));
    } catch (error) {
      await group.stop();
      throw error;
    }
    return group;
  }

  server(adapter: Adapter): FuzzServer {
    return this.servers.get(adapter)!;
  }

  /** Opens a session of the native app, as a handler of that app would get it. */
  open(): Session {
    return this.manager.open(NATIVE_REQUEST);
  }

  /** A stored session of the native app holding `attributes`; returns its id. */
  async createSession(attributes: Record<string, unknown>): Promise<string> {
    const session = this.open();
    for (const [name, value] of Object.entries(attributes)) await session.set(name, value);
    await session.commit();
    return session.id!;
  }

  countSessions(): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM ${GROUP}_sessions`).get() as { n: number }).n;
  }

  sessionExists(id: string): boolean {
    return this.db.prepare(`SELECT 1 FROM ${GROUP}_sessions WHERE id = ?`).get(id) !== undefined;
  }

  clientAddressOf(id: string): string | undefined {
    const row = this.db.prepare(`SELECT client_address FROM ${GROUP}_sessions WHERE id = ?`).get(id) as
      | { client_address: string }
      | undefined;
    return row?.client_address;
  }

  /** The stored text of one attribute (key `<namespace>:<name>`), undefined when absent. */
  storedText(id: string, key: string): string | undefined {
    const row = this.db
      .prepare(`SELECT value FROM ${GROUP}_attributes WHERE session_id = ? AND key = ?`)
      .get(id, key) as { value: string } | undefined;
    return row?.value;
  }

  /** Writes one attribute row by hand, as data written before a fix (or by an old version) would be. */
  writeByHand(id: string, key: string, text: string): void {
    this.db
      .prepare(
        `INSERT INTO ${GROUP}_attributes (session_id, key, value) VALUES (?, ?, ?) ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value`,
      )
      .run(id, key, text);
  }

  /**
   * Every server still runs, answers a request with a session of its own, and reported no
   * error that nobody handled during the whole file.
   */
  async expectHealthy(): Promise<void> {
    for (const [adapter, server] of this.servers) {
      const id = await this.createSession({ marker: 'health' });
      const reply = await server.send({
        path: '/read',
        headers: { cookie: `${COOKIE_NAME}=${sign(id, SECRET)}` },
      });
      assert.equal(reply.status, 200, `${adapter}: HTTP ${reply.status} ${reply.body.slice(0, 300)}`);
      assert.match(reply.body, /"marker":"health"/, `${adapter} does not find the session`);
      assert.deepEqual(server.crashes, [], `${adapter} saw errors that nobody handled`);
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.servers.values()].map((server) => server.stop()));
    await this.manager.close();
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
