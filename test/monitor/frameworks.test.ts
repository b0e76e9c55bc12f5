/**
 * The monitor mounted under /admin/sessions in every supported framework, each with the one
 * line docs/monitor.md shows: the API, the login form (a POST body), and the app's own routes
 * beside it still answering.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { createMonitor, type Monitor, toNodeHandler } from '../../src/monitor/index.js';
import { type Running, serve } from '../helpers/server.js';
import { type Apps, bearer, credentials, SECRETS, twoApps } from './fixture.js';

describe('mounting the monitor', () => {
  let apps: Apps;
  let monitor: Monitor;

  before(async () => {
    apps = await twoApps();
    monitor = createMonitor({
      managers: [apps.portal, apps.shop],
      basePath: '/admin/sessions',
      credentials: await credentials(),
    });
  });
  after(async () => {
    await monitor.close();
    await apps.portal.close();
  });

  async function check(running: Running): Promise<void> {
    try {
      const base = `${running.url}/admin/sessions`;
      const me = await fetch(`${base}/api/whoami`, { headers: { authorization: bearer('ops') } });
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { name: string }).name, 'ops');
      const dry = await fetch(`${base}/api/sessions/delete-where`, {
        method: 'POST',
        headers: { authorization: bearer('ops'), 'content-type': 'application/json' },
        body: JSON.stringify({ filter: { app: 'shop' } }),
      });
      assert.deepEqual(await dry.json(), { dryRun: true, matching: 2 });
      const login = await fetch(`${base}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: running.url, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'viewer', secret: SECRETS.viewer }).toString(),
      });
      assert.equal(login.status, 303);
      const cookie = login.headers.getSetCookie()[0]?.split(';')[0] ?? '';
      assert.match(login.headers.getSetCookie()[0] ?? '', /Path=\/admin\/sessions/);
      const overview = await fetch(`${base}/`, { headers: { cookie } });
      assert.equal(overview.status, 200);
      assert.match(await overview.text(), /data-stat="live">3</);
      const own = await fetch(`${running.url}/hello`);
      assert.equal(await own.text(), 'app');
    } finally {
      await running.close();
    }
  }

  it('node:http', async () => {
    const handler = toNodeHandler(monitor);
    await check(
      await serve(
        createServer((req, res) =>
          req.url?.startsWith('/admin/sessions') ? handler(req, res) : res.end('app'),
        ),
      ),
    );
  });

  it('Express', async () => {
    const app = express();
    app.use('/admin/sessions', toNodeHandler(monitor));
    app.get('/hello', (_req, res) => {
      res.send('app');
    });
    await check(await serve(createServer(app)));
  });

  it('Express, mounted after body parsers that have read the body', async () => {
    const app = express();
    app.use(express.json(), express.urlencoded({ extended: false }));
    app.use('/admin/sessions', toNodeHandler(monitor));
    app.get('/hello', (_req, res) => {
      res.send('app');
    });
    await check(await serve(createServer(app)));
  });

  it('Koa', async () => {
    const app = new Koa();
    const handler = toNodeHandler(monitor);
    app.use((ctx, next) => {
      if (!ctx.path.startsWith('/admin/sessions')) return next();
      ctx.respond = false;
      return handler(ctx.req, ctx.res);
    });
    app.use((ctx) => {
      ctx.body = 'app';
    });
    await check(await serve(createServer(app.callback())));
  });

  it('Fastify', async () => {
    const app = Fastify();
    const handler = toNodeHandler(monitor);
    // onRequest runs before Fastify parses the body, so the monitor reads it itself.
    app.addHook('onRequest', (req, reply, done) => {
      if (!req.url.startsWith('/admin/sessions')) return done();
      reply.hijack();
      return handler(req.raw, reply.raw);
    });
    app.get('/hello', async () => 'app');
    await app.ready();
    await check(await serve(app.server));
  });

  it('Hono', async () => {
    const app = new Hono<{ Bindings: { incoming: { socket: { remoteAddress?: string } } } }>();
    app.all('/admin/sessions/*', (c) =>
      monitor(c.req.raw, { remoteAddress: c.env.incoming.socket.remoteAddress }),
    );
    app.get('/hello', (c) => c.text('app'));
    await check(await serve(createAdaptorServer({ fetch: app.fetch }) as Server));
  });

  it('a fetch handler (Deno, Bun, workers)', async () => {
    const fetchHandler = (request: Request) =>
      new URL(request.url).pathname.startsWith('/admin/sessions') ? monitor(request) : new Response('app');
    await check(await serve(createAdaptorServer({ fetch: fetchHandler }) as Server));
  });
});
