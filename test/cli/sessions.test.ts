/**
 * `unisession sessions …` as a user runs it: a separate process (`node --import tsx
 * src/cli/index.ts sessions …`) against a real store (SQLite, Redis, PostgreSQL, MongoDB, and
 * memcached for what it can do), seeded by two
 * apps of one group through the manager. Each sub-command is checked by what it prints (the
 * JSON parsed) and by what the store holds afterwards; then bad flags, a store that is down
 * and a store that cannot list, each by its exit code.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runSessions } from '../../src/cli/sessions/index.js';
import { msgpackCodec } from '../../src/codec/msgpack.js';
import type { SessionManager } from '../../src/core/manager.js';
import type { Store } from '../../src/core/store.js';
import { createSessionManager } from '../../src/index.js';
import { memcachedStore } from '../../src/stores/memcached.js';
import { mongodbStore } from '../../src/stores/mongodb.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { requestInfo } from '../helpers/direct-client.js';
import { server } from '../helpers/servers.js';
import { uniqueGroup } from '../stores/conformance.js';

const redisUrl = await server('redis');
const pgUrl = await server('postgres');
const memcachedNodes = await server('memcached');
// The database comes from the URL's path, as the CLI reads it.
const mongoUrl = `${(await server('mongo')).replace(/\/+$/, '')}/unisession_cli`;

const dir = mkdtempSync(join(tmpdir(), 'unisession-cli-sessions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `unisession sessions <args>` in this process, printing into buffers: the same code as the
 * process below (`runSessions` is what the command runs) without a process start per call,
 * for the many variants of each sub-command. Each test also runs the real process.
 */
async function run(...args: string[]): Promise<Result> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runSessions(args, {
    out: (text) => stdout.push(`${text}\n`),
    err: (text) => stderr.push(`${text}\n`),
  });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

/** Runs the CLI as a user would; never rejects, so a test can look at any exit code. */
function cli(...args: string[]): Promise<Result> {
  const { UNISESSION_STORE: _s, UNISESSION_GROUP: _g, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/index.ts', 'sessions', ...args],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const jsonOf = <T>(result: Result): T => {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
};

/** A port nothing listens on: a store that is down. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

interface Backend {
  name: string;
  url: string;
  store(group: string): Store;
  /**
   * Run every sub-command test; otherwise stats, list, show and rm --where only. SQLite and
   * Redis run all; PostgreSQL and MongoDB check their URL forms and filters through the CLI
   * (the stores' own behaviour is the conformance suite's), keeping this file's process count
   * down on a shared machine.
   */
  full: boolean;
}

const sqliteFile = join(dir, 'sessions.sqlite');
const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    url: `sqlite:${sqliteFile}`,
    store: (group) => sqliteStore({ file: sqliteFile, group }),
    full: true,
  },
  { name: 'redis', url: redisUrl, store: (group) => redisStore({ url: redisUrl, group }), full: true },
  { name: 'postgres', url: pgUrl, store: (group) => postgresStore({ url: pgUrl, group }), full: false },
  {
    name: 'mongodb',
    url: mongoUrl,
    store: (group) => mongodbStore({ url: mongoUrl, database: 'unisession_cli', group }),
    full: false,
  },
];

interface Seeded {
  /** alice on shop, alice on admin, bob on shop, an anonymous visitor on shop. */
  aliceShop: string;
  aliceAdmin: string;
  bob: string;
  anonymous: string;
}

async function seedOne(
  manager: SessionManager,
  init: { principal?: string; address: string; values: Record<string, unknown> },
): Promise<string> {
  const session = manager.open(
    requestInfo({
      url: '/login?next=%2Fhome',
      remoteAddress: init.address,
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0' },
    }),
  );
  for (const [name, value] of Object.entries(init.values)) await session.set(name, value);
  if (init.principal) await session.setPrincipal(init.principal);
  await session.commit();
  return session.id!;
}

// The stores run side by side (each its own group); the steps on one store run in order.
describe('unisession sessions on each store', { concurrency: true }, () => {
  for (const backend of BACKENDS) {
    describe(`unisession sessions on ${backend.name}`, { concurrency: 1 }, () => {
      const group = uniqueGroup('cli');
      const base = ['--store', backend.url, '--group', group];
      let shop: SessionManager;
      let admin: SessionManager;
      let seeded: Seeded;

      before(async () => {
        const options = { secret: 'a'.repeat(32), sweeper: false as const, shared: ['user'] };
        shop = createSessionManager({ ...options, app: 'shop', store: backend.store(group) });
        admin = createSessionManager({ ...options, app: 'admin', store: backend.store(group) });
        seeded = {
          aliceShop: await seedOne(shop, {
            principal: 'alice',
            address: '10.1.2.3',
            values: {
              user: { name: 'Alice' },
              cart: new Map([['apple', 3]]),
              since: new Date(Date.UTC(2026, 0, 2)),
              password: 'hunter2',
            },
          }),
          aliceAdmin: await seedOne(admin, {
            principal: 'alice',
            address: '192.168.7.7',
            values: { role: 'root', apiToken: 'tok-secret' },
          }),
          bob: await seedOne(shop, {
            principal: 'bob',
            address: '10.9.9.9',
            values: { user: { name: 'Bob' } },
          }),
          anonymous: await seedOne(shop, { address: '2001:db8::5', values: { cart: new Map() } }),
        };
      });
      after(async () => {
        await shop.destroyWhere({}, { reason: 'invalidated' }).catch(() => {});
        await shop.close();
        await admin.close();
      });

      it('stats: the numbers equal what was written, for the group and for one app', async () => {
        const all = jsonOf<{
          live: number;
          authenticated: number;
          usersOnline: number;
          app: null;
          store: { healthy: boolean };
        }>(await run('stats', ...base, '--json'));
        assert.equal(all.live, 4);
        assert.equal(all.authenticated, 3);
        assert.equal(all.usersOnline, 2);
        assert.equal(all.app, null);
        assert.equal(all.store.healthy, true);
        const shopOnly = jsonOf<{ live: number; usersOnline: number; app: string }>(
          await run('stats', ...base, '--app', 'shop', '--json'),
        );
        assert.deepEqual([shopOnly.live, shopOnly.usersOnline, shopOnly.app], [3, 2, 'shop']);
        const table = await cli('stats', ...base);
        assert.equal(table.code, 0, table.stderr);
        assert.match(table.stdout, /Live sessions\s+4\n/);
        assert.match(table.stdout, /Users online \(5m\)\s+2\n/);
      });

      it('list: filters by principal, address (CIDR, IPv6) and app, as a table, JSON or CSV', async () => {
        const ids = async (...flags: string[]) =>
          jsonOf<{ sessions: Array<{ id: string }> }>(await run('list', ...base, '--json', ...flags))
            .sessions.map((meta) => meta.id)
            .sort();
        const [byPrincipal, byBlock, byV6, byApp, anonymous] = await Promise.all([
          ids('--principal', 'alice'),
          ids('--address', '10.0.0.0/8'),
          ids('--address', '2001:db8::/32'),
          ids('--app', 'admin'),
          ids('--anonymous'),
        ]);
        assert.deepEqual(byPrincipal, [seeded.aliceShop, seeded.aliceAdmin].sort());
        assert.deepEqual(byBlock, [seeded.aliceShop, seeded.bob].sort());
        assert.deepEqual(byV6, [seeded.anonymous]);
        assert.deepEqual(byApp, [seeded.aliceAdmin]);
        assert.deepEqual(anonymous, [seeded.anonymous]);

        const table = await cli('list', ...base, '--principal', 'bob');
        assert.equal(table.code, 0, table.stderr);
        const lines = table.stdout.trim().split('\n');
        assert.match(lines[0]!, /^ID\s+APP\s+PRINCIPAL\s+ADDRESS/);
        assert.equal(lines.length, 2);
        assert.deepEqual(lines[1]!.split(/\s{2,}/).slice(0, 4), [seeded.bob, 'shop', 'bob', '10.9.9.9']);

        const csv = await run('list', ...base, '--csv', '--principal', 'alice', '--app', 'shop');
        assert.equal(csv.code, 0, csv.stderr);
        const [header, row, ...rest] = csv.stdout.trim().split('\r\n');
        assert.ok(header!.startsWith('id,app,principal,clientAddress'));
        assert.ok(row!.startsWith(`${seeded.aliceShop},shop,alice,10.1.2.3`), row);
        assert.deepEqual(rest, []);

        const count = jsonOf<{ count: number }>(
          await run('list', ...base, '--count', '--json', '--authenticated'),
        );
        assert.equal(count.count, 3);
      });

      it('list: pages with --limit and --cursor, each session once, newest access first', {
        skip: backend.full ? false : "run on SQLite and Redis; this store itself is the conformance suite's",
      }, async () => {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = jsonOf<{ sessions: Array<{ id: string; lastAccessedAt: number }>; next?: string }>(
            await run('list', ...base, '--json', '--limit', '3', ...(cursor ? ['--cursor', cursor] : [])),
          );
          assert.ok(page.sessions.length <= 3);
          const times = page.sessions.map((meta) => meta.lastAccessedAt);
          assert.deepEqual(
            times,
            [...times].sort((a, b) => b - a),
            'newest access first',
          );
          seen.push(...page.sessions.map((meta) => meta.id));
          cursor = page.next;
        } while (cursor);
        assert.deepEqual([...seen].sort(), Object.values(seeded).sort());

        // --all exports every match as one document, whatever the page size.
        const exported = jsonOf<{ sessions: Array<{ id: string }> }>(
          await run('list', ...base, '--all', '--json', '--limit', '2'),
        );
        assert.deepEqual(exported.sessions.map((meta) => meta.id).sort(), Object.values(seeded).sort());
        const csv = await run('list', ...base, '--all', '--csv', '--limit', '1', '--authenticated');
        assert.equal(csv.code, 0, csv.stderr);
        assert.equal(
          csv.stdout.split('\r\n').filter(Boolean).length,
          1 + 3,
          'a header and the 3 signed-in sessions',
        );
        const forged = await run('list', ...base, '--cursor', 'not-a-cursor');
        assert.equal(forged.code, 2, forged.stderr);
      });

      it('show: metadata and decoded attributes, secrets masked unless --reveal, scoped by --app', async () => {
        const view = jsonOf<{
          meta: { id: string; principal: string; clientAddress: string; createdUrl: string };
          state: string;
          attributes: Array<{ namespace: string; name: string; value?: unknown; masked?: boolean }>;
        }>(await run('show', ...base, '--json', '--', seeded.aliceShop));
        assert.equal(view.meta.id, seeded.aliceShop);
        assert.equal(view.meta.principal, 'alice');
        assert.equal(view.meta.createdUrl, '/login', 'the path only, never the query string');
        assert.equal(view.state, 'live');
        const byName = new Map(
          view.attributes.map((attribute) => [`${attribute.namespace}:${attribute.name}`, attribute]),
        );
        assert.deepEqual(byName.get(':user')?.value, { name: 'Alice' });
        assert.deepEqual(byName.get('shop:cart')?.value, { apple: 3 });
        assert.equal(byName.get('shop:since')?.value, '2026-01-02T00:00:00.000Z');
        assert.equal(byName.get('shop:password')?.masked, true);
        assert.equal('value' in byName.get('shop:password')!, false);

        const table = await cli('show', ...base, '--', seeded.aliceShop);
        assert.equal(table.code, 0, table.stderr);
        assert.match(table.stdout, /Principal\s+alice/);
        assert.match(table.stdout, /shop\s+cart\s+Map\(1\) \{ 'apple' => 3 \}/);
        assert.match(table.stdout, /since\s+2026-01-02T00:00:00\.000Z/);
        assert.doesNotMatch(table.stdout, /hunter2/);
        const revealed = await run('show', ...base, '--reveal', '--', seeded.aliceShop);
        assert.match(revealed.stdout, /password\s+"hunter2"/);

        // The admin app sees its own session with the shared attributes, never shop's private ones...
        const scoped = jsonOf<{ attributes: Array<{ namespace: string }> }>(
          await run('show', ...base, '--app', 'admin', '--json', '--', seeded.aliceAdmin),
        );
        assert.ok(
          scoped.attributes.every(
            (attribute) => attribute.namespace === '' || attribute.namespace === 'admin',
          ),
        );
        // ...and shop's session answers as if it did not exist.
        const foreign = await run('show', ...base, '--app', 'admin', '--', seeded.aliceShop);
        assert.equal(foreign.code, 1);
        assert.equal(foreign.stdout, '');
        const missing = await run('show', ...base, '--', 'no-such-session-id');
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /No session no-such-session-id/);
      });

      it("rm <id>: deletes that session; an unknown id, or another app's with --app, exits 1", {
        skip: backend.full ? false : "run on SQLite and Redis; this store itself is the conformance suite's",
      }, async () => {
        const extra = await seedOne(shop, { address: '10.5.5.5', values: { n: 1 } });
        const other = await seedOne(admin, { address: '10.5.5.6', values: { n: 2 } });
        const scoped = await run('rm', ...base, '--app', 'shop', '--json', '--', other);
        assert.equal(scoped.code, 1);
        assert.deepEqual(JSON.parse(scoped.stdout), { deleted: [], notFound: [other] });
        assert.ok(await admin.inspect(other), "another app's session is left alone");

        const result = await cli('rm', ...base, '--json', '--', extra, other, 'no-such-id');
        assert.equal(result.code, 1, 'one id was not found');
        assert.deepEqual(JSON.parse(result.stdout), { deleted: [extra, other], notFound: ['no-such-id'] });
        assert.equal(await shop.inspect(extra), null);
        assert.equal(await shop.inspect(other), null);
      });

      it('rm --where: --dry-run counts and deletes nothing, no --yes refuses, --yes deletes exactly the matches', async () => {
        const doomed = await Promise.all(
          [1, 2, 3].map((n) =>
            seedOne(shop, { principal: 'mallory', address: `172.16.0.${n}`, values: { n } }),
          ),
        );
        const dry = jsonOf<{ matched: number; deleted: number; dryRun: boolean }>(
          await run('rm', '--where', '--address', '172.16.0.0/12', '--dry-run', ...base, '--json'),
        );
        assert.deepEqual(dry, { matched: 3, deleted: 0, dryRun: true });
        const refused = await run('rm', '--where', '--address', '172.16.0.0/12', ...base);
        assert.equal(refused.code, 2);
        assert.match(refused.stderr, /3 sessions match; nothing was deleted. Add --yes/);
        for (const id of doomed) assert.ok(await shop.inspect(id), 'still there');

        const done = jsonOf<{ matched: number; deleted: number }>(
          await cli('rm', '--where', '--address', '172.16.0.0/12', '--yes', ...base, '--json'),
        );
        assert.equal(done.deleted, 3);
        // The action is in the group's audit log, as the monitor's would be.
        const log = await shop.store.audit!.list({ limit: 5 });
        const entry = log.entries.find((candidate) => candidate.action === 'delete-where');
        assert.ok(entry, JSON.stringify(log.entries));
        assert.match(entry.actor, /^cli:.+@/);
        assert.deepEqual([entry.scope, entry.target, entry.count], ['all', 'clientAddress=172.16.0.0/12', 3]);
        for (const id of doomed) assert.equal(await shop.inspect(id), null);
        assert.ok(await shop.inspect(seeded.bob), 'a session outside the filter survives');

        const none = await run('rm', '--where', '--principal', 'nobody', '--yes', ...base);
        assert.equal(none.code, 1, 'nothing matched');
        const unfiltered = await run('rm', '--where', '--yes', ...base);
        assert.equal(unfiltered.code, 2);
        assert.match(unfiltered.stderr, /--where needs at least one filter/);
      });

      it('revoke <principal>: signs the user out of every app, --dry-run first, unknown user exits 1', {
        skip: backend.full ? false : "run on SQLite and Redis; this store itself is the conformance suite's",
      }, async () => {
        const carol = await Promise.all([
          seedOne(shop, { principal: 'carol', address: '10.7.0.1', values: { n: 1 } }),
          seedOne(admin, { principal: 'carol', address: '10.7.0.2', values: { n: 2 } }),
          seedOne(shop, { principal: 'carol', address: '10.7.0.3', values: { n: 3 } }),
        ]);
        const dry = jsonOf<{ matched: number; revoked: number }>(
          await run('revoke', '--dry-run', ...base, '--json', '--', 'carol'),
        );
        assert.deepEqual([dry.matched, dry.revoked], [3, 0]);
        const kept = carol[2]!;
        const revoked = jsonOf<{ revoked: number }>(
          await run('revoke', `--except=${kept}`, ...base, '--json', '--', 'carol'),
        );
        assert.equal(revoked.revoked, 2);
        assert.equal(await shop.inspect(carol[0]!), null);
        assert.equal(await admin.inspect(carol[1]!), null);
        assert.ok(await shop.inspect(kept), '--except keeps that session');
        const scoped = await run('revoke', '--app', 'admin', ...base, '--', 'carol');
        assert.equal(scoped.code, 1, 'carol has no admin session left');
        const last = await cli('revoke', ...base, '--', 'carol');
        assert.equal(last.code, 0, last.stderr);
        assert.match(last.stdout, /Signed carol out of 1 session\./);
        const [newest] = (await shop.store.audit!.list({ limit: 1 })).entries;
        assert.deepEqual([newest?.action, newest?.target, newest?.count], ['revoke-principal', 'carol', 1]);
        const nobody = await run('revoke', ...base, '--', 'nobody');
        assert.equal(nobody.code, 1);
      });
    });
  }
});

describe('unisession sessions on memcached: lookup and delete by id', () => {
  it('show and rm <id> work; list says why it cannot', async () => {
    const group = uniqueGroup('climc');
    const manager = createSessionManager({
      app: 'shop',
      store: memcachedStore({ nodes: memcachedNodes, group }),
      secret: 'f'.repeat(32),
      sweeper: false,
    });
    try {
      const id = await seedOne(manager, {
        principal: 'dora',
        address: '10.3.3.3',
        values: { cart: { pear: 1 } },
      });
      const base = ['--store', `memcached://${memcachedNodes.join(',')}`, '--group', group];
      const view = jsonOf<{ meta: { principal: string }; attributes: Array<{ value: unknown }> }>(
        await run('show', ...base, '--json', '--', id),
      );
      assert.equal(view.meta.principal, 'dora');
      assert.deepEqual(view.attributes[0]?.value, { pear: 1 });
      const removed = await cli('rm', ...base, '--', id);
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal(await manager.inspect(id), null);
      const list = await run('list', ...base);
      assert.equal(list.code, 4);
      assert.match(list.stderr, /cannot list sessions/);
    } finally {
      await manager.close();
    }
  });
});

describe('unisession sessions show with --codec', () => {
  it('decodes msgpack with --codec msgpack; with the wrong codec each value says so, and nothing is lost', async () => {
    const group = uniqueGroup('clicodec');
    const manager = createSessionManager({
      app: 'shop',
      store: sqliteStore({ file: sqliteFile, group }),
      codec: msgpackCodec(),
      secret: 'e'.repeat(32),
      sweeper: false,
    });
    try {
      const id = await seedOne(manager, {
        address: '10.0.0.1',
        values: { cart: { apple: 2 }, when: new Date(0) },
      });
      const base = ['--store', `sqlite:${sqliteFile}`, '--group', group, '--json', '--', id];
      type View = { attributes: Array<{ name: string; value?: unknown; error?: string }> };
      const right = jsonOf<View>(await run('show', '--codec', 'msgpack', ...base));
      assert.deepEqual(
        right.attributes.map(({ name, value }) => [name, value]),
        [
          ['cart', { apple: 2 }],
          ['when', '1970-01-01T00:00:00.000Z'],
        ],
      );
      const wrong = jsonOf<View>(await run('show', '--codec', 'json', ...base));
      assert.deepEqual(
        wrong.attributes.map(({ name, error }) => [name, error]),
        [
          ['cart', 'the value cannot be decoded'],
          ['when', 'the value cannot be decoded'],
        ],
      );
      assert.equal((await manager.inspect(id))?.attributes.length, 2, 'showing changed nothing');
    } finally {
      await manager.close();
    }
  });
});

describe('unisession sessions: usage, stores that are down or cannot list', () => {
  it('--help per sub-command, exit 0; no sub-command or an unknown one is a usage error', async () => {
    const [help, listHelp, none, unknown] = await Promise.all([
      cli('--help'),
      cli('list', '--help'),
      run(),
      run('purge'),
    ]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Sub-commands:[\s\S]*revoke/);
    assert.equal(listHelp.code, 0);
    assert.match(listHelp.stdout, /--idle-longer-than <dur>/);
    assert.match(listHelp.stdout, /Exit codes:/);
    assert.equal(none.code, 2);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown sub-command "purge"/);
  });

  it('bad flags and values exit 2 before any store is touched, naming the flag', async () => {
    const file = join(dir, 'never-created.sqlite');
    const cases: Array<[string[], RegExp]> = [
      [['list', '--store', `sqlite:${file}`, '--principle', 'x'], /Unknown option '--principle'/],
      [['list', '--store', `sqlite:${file}`, '--address', '10.0.0.0/99'], /--address must be/],
      [
        ['list', '--store', `sqlite:${file}`, '--idle-longer-than', 'forever'],
        /--idle-longer-than must be a duration/,
      ],
      [
        ['list', '--store', `sqlite:${file}`, '--limit', '0'],
        /--limit must be a whole number from 1 to 1000/,
      ],
      [['list'], /--store is required/],
      [['list', '--store', 'mysql://root:hunter2@db/app'], /is not a store URL/],
      [['list', '--store', `sqlite:${file}`], /no such file/],
      [['show', '--store', `sqlite:${file}`], /show takes exactly one session id/],
      [
        ['rm', 'id', '--principal', 'x', '--store', `sqlite:${file}`],
        /filters select sessions only with --where/,
      ],
    ];
    // Two as a process (the exit code as a shell sees it), the rest in-process: the same code path.
    const results = await Promise.all(
      cases.map(([args], index) => (index < 2 || index === 5 ? cli : run)(...args)),
    );
    results.forEach((result, index) => {
      assert.equal(result.code, 2, `${cases[index]![0].join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, cases[index]![1]);
      assert.doesNotMatch(result.stderr, /hunter2/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    });
    const { existsSync } = await import('node:fs');
    assert.equal(existsSync(file), false, 'a mistyped SQLite path is not created');
  });

  it('a store that is down exits 3, with a clear line and never the password', async () => {
    const port = await closedPort();
    const results = await Promise.all([
      cli('rm', '--store', `redis://:hunter2@127.0.0.1:${port}/0`, '--group', 'g', '--', 'some-id'),
      cli('list', '--store', `postgres://app:hunter2@127.0.0.1:${port}/db`, '--group', 'g'),
      cli('show', '--store', `redis://:hunter2@127.0.0.1:${port}`, '--group', 'g', '--', 'some-id'),
    ]);
    for (const result of results) {
      assert.equal(result.code, 3, result.stderr);
      assert.match(result.stderr, /The session store is unavailable/);
      assert.doesNotMatch(result.stderr + result.stdout, /hunter2/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('a store that cannot list (memcached) exits 4 for list and stats, saying why', async () => {
    const port = await closedPort();
    const [list, stats] = await Promise.all([
      cli('list', '--store', `memcached://127.0.0.1:${port}`),
      run('stats', '--store', `memcached://127.0.0.1:${port}`),
    ]);
    assert.equal(list.code, 4, list.stderr);
    assert.match(list.stderr, /cannot list sessions/);
    assert.equal(stats.code, 4, stats.stderr);
    assert.match(stats.stderr, /cannot compute statistics/);
  });
});
