/**
 * `unisession/metrics` on real requests: an Express app on SQLite, its scrape endpoint
 * parsed strictly as Prometheus text (prometheus-text.ts), the counters moving by exactly
 * what the requests did, the gauges equal to what the store holds and present only with
 * `gauges: true`, a failing store counted without breaking the scrape, and no label ever
 * carrying a session id or a user.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Registry } from 'prom-client';
import { session } from '../../src/adapters/express.js';
import { isUnisessionError } from '../../src/core/errors.js';
import { attributeKey } from '../../src/core/store.js';
import { createMetrics, type Metrics } from '../../src/metrics/index.js';
import { memcachedStore } from '../../src/stores/memcached.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { Client } from '../helpers/client.js';
import { close, listen } from '../helpers/server.js';
import { runWithoutPackage, sourcePath } from '../helpers/without-package.js';
import { uniqueGroup } from '../stores/conformance.js';
import { type Family, parsePrometheusText, sampleValue } from './prometheus-text.js';

const dir = mkdtempSync(join(tmpdir(), 'unisession-metrics-'));
after(() => rmSync(dir, { recursive: true, force: true }));

declare module '../../src/adapters/express.js' {
  interface SessionData {
    hits?: number;
    signedInAs?: string;
    broken?: unknown;
  }
}

function appWith(middleware: ReturnType<typeof session>, metrics: Metrics) {
  const app = express();
  // The Web-standard handler, mounted in Express: what docs/metrics.md shows.
  app.get('/metrics', async (req, res) => {
    const response = await metrics.handler(new Request(`http://localhost${req.originalUrl}`));
    res.status(response.status).set('content-type', response.headers.get('content-type') ?? 'text/plain');
    res.send(await response.text());
  });
  app.use(middleware);
  app.get('/count', (req, res) => {
    req.session.hits = (req.session.hits ?? 0) + 1;
    res.json({ views: req.session.hits });
  });
  app.get('/read', (req, res) => {
    res.json({ views: req.session.hits ?? null, bad: req.session.broken ?? null });
  });
  app.post('/login', async (req, res, next) => {
    try {
      await req.sessionHandle.regenerate({ keepAttributes: true });
      await req.sessionHandle.setPrincipal('alice');
      req.session.signedInAs = 'alice';
      res.json({ ok: true });
    } catch (error) {
      next(error);
    }
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error) => (error ? next(error) : res.json({ ok: true })));
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(isUnisessionError(error) ? error.status : 500).json({ error: 'failed' });
  });
  return app;
}

async function scrape(base: string): Promise<{ families: Map<string, Family>; body: string }> {
  const response = await fetch(`${base}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain;.*version=0\.0\.4/);
  const body = await response.text();
  return { families: parsePrometheusText(body), body };
}

describe('unisession/metrics through Express on SQLite', () => {
  const group = uniqueGroup('metrics');
  const store = sqliteStore({ file: join(dir, 'sessions.sqlite'), group });
  const middleware = session({
    app: 'shop',
    store,
    secret: 'b'.repeat(32),
    sweeper: false,
    maxInactive: 600_000,
  });
  const manager = middleware.manager;
  let metrics: Metrics;
  let server: Server;
  let base: string;

  before(async () => {
    metrics = createMetrics({ managers: manager, gauges: true });
    server = createServer(appWith(middleware, metrics));
    base = await listen(server);
  });
  after(async () => {
    metrics.close();
    await close(server);
    await manager.close().catch(() => {});
  });

  it('parses as Prometheus text, every series at 0 before any request', async () => {
    const { families } = await scrape(base);
    for (const name of [
      'unisession_sessions_created_total',
      'unisession_sessions_destroyed_total',
      'unisession_session_regenerations_total',
      'unisession_commits_total',
      'unisession_store_errors_total',
      'unisession_decode_errors_total',
    ]) {
      assert.equal(families.get(name)?.type, 'counter', name);
    }
    assert.equal(families.get('unisession_store_operation_duration_seconds')?.type, 'histogram');
    assert.equal(sampleValue(families, 'unisession_sessions_created_total'), 0);
    for (const reason of ['invalidated', 'expired', 'revoked', 'evicted']) {
      assert.equal(sampleValue(families, 'unisession_sessions_destroyed_total', { reason }), 0, reason);
    }
    for (const kind of ['delta', 'touch', 'none']) {
      assert.equal(sampleValue(families, 'unisession_commits_total', { kind }), 0, kind);
    }
    assert.equal(sampleValue(families, 'unisession_sessions_active', { app: 'shop' }), 0);
    assert.equal(sampleValue(families, 'unisession_users_online', { app: 'shop' }), 0);
  });

  it('the counters move with real requests, by exactly what they did', async () => {
    const before = (await scrape(base)).families;
    const counter = (families: Map<string, Family>, name: string, labels?: Record<string, string>) =>
      (sampleValue(families, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);

    const visitor = new Client(base);
    assert.deepEqual(await visitor.json('/count'), { views: 1 }); // creates
    assert.deepEqual(await visitor.json('/count'), { views: 2 }); // a delta
    assert.deepEqual(await visitor.json('/read'), { views: 2, bad: null }); // no write
    const user = new Client(base);
    await user.json('/count'); // creates
    await user.json('/login', { method: 'POST' }); // regenerates
    await visitor.json('/logout', { method: 'POST' }); // destroys

    const { families, body } = await scrape(base);
    assert.equal(counter(families, 'unisession_sessions_created_total'), 2);
    assert.equal(counter(families, 'unisession_session_regenerations_total'), 1);
    assert.equal(counter(families, 'unisession_sessions_destroyed_total', { reason: 'invalidated' }), 1);
    assert.ok(
      counter(families, 'unisession_commits_total', { kind: 'delta' }) >= 4,
      'two creates, a delta, the login',
    );
    assert.ok(counter(families, 'unisession_commits_total', { kind: 'none' }) >= 1, 'the read wrote nothing');
    assert.equal(counter(families, 'unisession_store_errors_total', { store: 'sqlite', op: 'load' }), 0);

    const loads = sampleValue(families, 'unisession_store_operation_duration_seconds_count', {
      store: 'sqlite',
      op: 'load',
    });
    assert.ok(loads !== undefined && loads >= 4, `load operations measured: ${loads}`);
    const creates = sampleValue(families, 'unisession_store_operation_duration_seconds_count', {
      store: 'sqlite',
      op: 'create',
    });
    assert.ok(creates !== undefined && creates >= 2);

    // The gauges equal what the store holds: the user's session is live and signed in.
    assert.equal(
      sampleValue(families, 'unisession_sessions_active', { app: 'shop' }),
      await manager.count({ app: 'shop' }),
    );
    assert.equal(sampleValue(families, 'unisession_sessions_active', { app: 'shop' }), 1);
    assert.equal(sampleValue(families, 'unisession_users_online', { app: 'shop' }), 1);

    // No label carries an id or a user.
    const ids = (await manager.list({})).sessions.map((meta) => meta.id);
    for (const family of families.values()) {
      for (const sample of family.samples) {
        for (const value of Object.values(sample.labels)) {
          assert.ok(!ids.includes(value) && value !== 'alice', `label value ${value}`);
        }
      }
    }
    assert.doesNotMatch(body, /alice/);
  });

  it('counts a value that cannot be decoded', async () => {
    const client = new Client(base);
    await client.json('/count');
    const id = client.sessionId!;
    // What a redeploy that dropped a class leaves behind: stored text the codec refuses.
    await store.update(id, {
      set: new Map([[attributeKey('shop', 'broken'), '{"$t":"NoSuchPlugin","v":1}']]),
    });
    const before = sampleValue((await scrape(base)).families, 'unisession_decode_errors_total') ?? 0;
    assert.deepEqual(await client.json('/read'), { views: 1, bad: null });
    const after = sampleValue((await scrape(base)).families, 'unisession_decode_errors_total') ?? 0;
    assert.equal(after - before, 1);
  });

  it('answers 405 to anything but GET and HEAD', async () => {
    const response = await metrics.handler(new Request('http://localhost/metrics', { method: 'POST' }));
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, HEAD');
    const head = await metrics.handler(new Request('http://localhost/metrics', { method: 'HEAD' }));
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  // Last: it closes the store.
  it('a failing store is counted, and the scrape still answers, without the gauges', async () => {
    const client = new Client(base);
    await client.json('/count');
    await store.close();
    const response = await client.request('/count');
    assert.equal(response.status, 503);
    const { families } = await scrape(base);
    assert.ok(
      (sampleValue(families, 'unisession_store_errors_total', { store: 'sqlite', op: 'load' }) ?? 0) >= 1,
    );
    assert.equal(sampleValue(families, 'unisession_sessions_active', { app: 'shop' }), undefined);
  });
});

describe('createMetrics options', () => {
  const store = sqliteStore({ file: join(dir, 'options.sqlite'), group: uniqueGroup('metrics') });
  const manager = session({ app: 'blog', store, secret: 'c'.repeat(32), sweeper: false }).manager;
  after(() => manager.close());

  it('exports no gauge without gauges: true, and uses the prefix and registry given', async () => {
    const registry = new Registry();
    const metrics = createMetrics({ managers: [manager], registry, prefix: 'app_sessions_' });
    try {
      assert.equal(metrics.registry, registry);
      const families = parsePrometheusText(await registry.metrics());
      assert.ok(families.has('app_sessions_sessions_created_total'));
      assert.ok(
        ![...families.keys()].some(
          (name) => name.includes('sessions_active') || name.includes('users_online'),
        ),
      );
    } finally {
      metrics.close();
    }
    assert.equal((await registry.metrics()).trim(), '', 'close() removes the metrics');
    // ...and stops counting: a second set on the same registry starts at 0.
    const again = createMetrics({ managers: manager, registry });
    again.close();
  });

  it('refuses bad options with UNISESSION_INVALID_OPTION naming them', () => {
    const refused = (pattern: RegExp) => (error: unknown) =>
      isUnisessionError(error, 'UNISESSION_INVALID_OPTION') && pattern.test(error.message);
    assert.throws(() => createMetrics({} as never), refused(/managers/));
    assert.throws(() => createMetrics({ managers: [] }), refused(/managers/));
    assert.throws(() => createMetrics({ managers: {} as never }), refused(/managers/));
    assert.throws(() => createMetrics({ managers: manager, prefix: 'bad-prefix' }), refused(/prefix/));
    assert.throws(
      () => createMetrics({ managers: manager, gauge: true } as never),
      refused(/unknown option "gauge"; did you mean "gauges"/),
    );
    assert.throws(() => createMetrics({ managers: manager, registry: {} as never }), refused(/registry/));
    // memcached cannot compute statistics: gauges there are refused up front, not at each scrape.
    const memcached = session({
      app: 'blog',
      store: memcachedStore({ nodes: '127.0.0.1:1' }),
      sweeper: false,
    }).manager;
    assert.throws(
      () => createMetrics({ managers: memcached, gauges: true }),
      refused(/gauges.*memcached store has no stats group/),
    );
    createMetrics({ managers: memcached }).close();
  });

  it('without prom-client installed, fails with UNISESSION_DRIVER_MISSING naming it', async () => {
    const output = await runWithoutPackage(
      'prom-client',
      `const { createMetrics } = await import(${JSON.stringify(sourcePath('metrics/index.ts'))});
       const { SessionManager } = await import(${JSON.stringify(sourcePath('core/manager.ts'))});
       try { createMetrics({ managers: Object.create(SessionManager.prototype) }); console.log('created'); }
       catch (error) { console.log(error.code, error.message); }`,
    );
    assert.match(output, /^UNISESSION_DRIVER_MISSING .*"prom-client" package: npm install prom-client/);
  });
});
