/**
 * `migrateFrom` at the edges, on express-session's own MemoryStore (and a connect-redis store
 * whose server is not there): an expired old session, names unisession cannot hold, an old
 * store that fails, and a legacy cookie no store knows. The bulk switch-over on real
 * connect-redis and connect-mongo is test/e2e/migrate-express-session.test.ts.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import RedisStore from 'connect-redis';
import expressSession from 'express-session';
import { Redis } from 'ioredis';
import { legacySignature } from '../../../src/adapters/express/legacy-cookie.js';
import type { LegacyStore } from '../../../src/adapters/express/legacy-store.js';
import { Browser, type CompatApp, compatApp, SECRET } from './app.js';

const apps: CompatApp[] = [];
after(() => Promise.all(apps.map((app) => app.stop())));

/** A session put into the old store as express-session would have written it. */
function plant(
  store: LegacyStore & { set: (sid: string, session: unknown, cb: (error?: unknown) => void) => void },
  sid: string,
  session: Record<string, unknown>,
) {
  return new Promise<void>((resolve, reject) =>
    store.set(sid, session, (error) => (error ? reject(error) : resolve())),
  );
}
const legacyCookie = (sid: string) => encodeURIComponent(`s:${sid}.${legacySignature(sid, SECRET)}`);
const SID = () => `${crypto.randomUUID().replaceAll('-', '')}abcd`;

async function start(migrateFrom: LegacyStore) {
  const app = await compatApp({ name: 'connect.sid', migrateFrom }, (express) =>
    express.get('/me', (req, res) => res.json({ ...(req.session as unknown as Record<string, unknown>) })),
  );
  apps.push(app);
  return app;
}

describe('migrateFrom, at the edges', () => {
  it('an expired old session is not migrated: a new session, and the old copy is gone', async () => {
    const old = new expressSession.MemoryStore();
    const sid = SID();
    await plant(old as never, sid, {
      cookie: { originalMaxAge: 1000, expires: new Date(Date.now() - 1000) },
      user: 'ada',
    });
    const app = await start(old as never);
    const browser = new Browser(app.base);
    browser.jar.set('connect.sid', legacyCookie(sid));
    const body = await browser.json('/me');
    assert.equal(body.user, undefined);
    assert.equal(await app.stored(sid), null);
  });

  it('names unisession cannot hold are left behind; the rest carry over', async () => {
    const old = new expressSession.MemoryStore();
    const sid = SID();
    await plant(old as never, sid, {
      cookie: { originalMaxAge: null, expires: null },
      user: 'ada',
      'bad\u0000name': 1,
      nested: { roles: ['admin'] },
    });
    const app = await start(old as never);
    const browser = new Browser(app.base);
    browser.jar.set('connect.sid', legacyCookie(sid));
    const body = await browser.json('/me');
    assert.equal(body.user, 'ada');
    assert.deepEqual(body.nested, { roles: ['admin'] });
    assert.deepEqual(Object.keys((await app.stored(sid))!.attributes).sort(), ['nested', 'user']);
    assert.ok(browser.cookie('connect.sid')!.value.startsWith(sid), 're-issued in unisession’s format');
  });

  it('an old store that fails gives 503 and keeps the cookie: the user is not logged out', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    const app = await start(new RedisStore({ client: dead }) as never);
    const browser = new Browser(app.base);
    const sid = SID();
    browser.jar.set('connect.sid', legacyCookie(sid));
    const response = await browser.get('/me');
    assert.equal(response.status, 503);
    assert.equal(((await response.json()) as { error: string }).error, 'UNISESSION_STORE_UNAVAILABLE');
    assert.equal(browser.setCookies.length, 0, 'the legacy cookie is left as it is');
    dead.disconnect();
  });

  it('a legacy cookie no store knows is cleared, so the old store is not asked again', async () => {
    const app = await start(new expressSession.MemoryStore() as never);
    const browser = new Browser(app.base);
    browser.jar.set('connect.sid', legacyCookie(SID()));
    await browser.json('/me');
    assert.equal(browser.cookie('connect.sid')?.value, '');
    assert.equal(browser.jar.has('connect.sid'), false);
  });

  it('a legacy cookie signed with another secret is ignored and the old store keeps its session', async () => {
    const old = new expressSession.MemoryStore();
    const sid = SID();
    await plant(old as never, sid, { cookie: { originalMaxAge: null }, user: 'ada' });
    const app = await start(old as never);
    const browser = new Browser(app.base);
    browser.jar.set('connect.sid', encodeURIComponent(`s:${sid}.${legacySignature(sid, 'another secret')}`));
    assert.equal((await browser.json('/me')).user, undefined);
    const still = await new Promise((resolve) =>
      old.get(sid, (_error: unknown, session: unknown) => resolve(session)),
    );
    assert.equal((still as { user: string }).user, 'ada');
  });
});
