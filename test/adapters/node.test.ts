/**
 * The node:http adapter (src/adapters/node.ts), through a real server: what the adapter adds
 * to the core, holding the response until the commit, so a redirect or a streamed body never
 * overtakes the save, and what Node's own header handling lets through. The session's own
 * behaviour is tested without HTTP in test/core; onError and the held response's edge cases
 * in hardening.test.ts and faults.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeSessions } from '../../src/adapters/node.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { Client } from '../helpers/client.js';
import { countingStore } from '../helpers/counting-store.js';
import { close, listen } from '../helpers/server.js';

/** A node:http app written as a user would, on the native async API. */
async function startApp() {
  const store = countingStore(memoryStore());
  const manager = createSessionManager({ app: 'shop', store, sweeper: false });
  const sessions = nodeSessions(manager);
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const session = sessions.attach(req, res);
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    switch (url.pathname) {
      case '/inc': {
        const n = ((await session.get<number>('n')) ?? 0) + 1;
        await session.set('n', n);
        return json({ n });
      }
      case '/all':
        return json(await session.all());
      case '/login':
        await session.set('user', 'ann');
        return json({ user: 'ann' });
      case '/user':
        return json({ user: (await session.get('user')) ?? null });
      case '/redirect':
        await session.set('flag', url.searchParams.get('value'));
        res.writeHead(302, { location: '/all' });
        return res.end();
      case '/stream':
        await session.set('streamed', true);
        res.write('one,');
        await sleep(20);
        res.write('two,');
        return res.end('three');
    }
  });
  const base = await listen(server);
  return { store, base, stop: () => close(server) };
}

describe('node:http adapter', () => {
  let app: Awaited<ReturnType<typeof startApp>>;
  before(async () => {
    app = await startApp();
  });
  after(() => app.stop());

  it('commits before a redirect reaches the client', async () => {
    const client = new Client(app.base);
    await client.json('/inc');
    const response = await client.request('/redirect?value=v1');
    assert.equal(response.status, 302);
    // The response is here: the store must already hold the write.
    const stored = await app.store.load(client.sessionId!, 'all', Date.now());
    assert.equal(stored?.attributes.get('shop:flag'), '"v1"');
  });

  it('commits before a streamed body starts', async () => {
    const client = new Client(app.base);
    const response = await client.request('/stream');
    assert.equal(await response.text(), 'one,two,three');
    assert.ok(client.sessionId, 'the cookie came with the streamed response');
    assert.equal((await client.json('/all')).streamed, true);
  });

  it('reads a Cookie header longer than 8 KB (what Node lets through)', async () => {
    const login = await fetch(`${app.base}/login`);
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const padded = `tracking=${'x'.repeat(9000)}; ${cookie}`;
    const visit = await fetch(`${app.base}/user`, { headers: { cookie: padded } });
    assert.deepEqual(await visit.json(), { user: 'ann' });
  });
});
