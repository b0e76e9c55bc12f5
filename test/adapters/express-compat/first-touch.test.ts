/**
 * A request without a session cookie gets its new session at the first touch of
 * `req.session`, `req.sessionID` or `req.sessionHandle` (src/adapters/express.ts). Whichever
 * is touched first, and however, the request behaves as if the session had been there all
 * along; a request that touches none of them writes nothing and sends no cookie.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Request } from 'express';
import { Browser, type CompatApp, compatApp } from './app.js';

declare module '../../../src/adapters/express.js' {
  interface SessionData {
    n: number;
  }
}

describe('express drop-in: a new session made at its first touch', () => {
  let app: CompatApp;
  let writes = 0;
  let late: Promise<void> | undefined;
  before(async () => {
    app = await compatApp({}, (express) => {
      express.get('/plain', (_req, res) => res.send('plain'));
      express.get('/handle', async (req, res, next) => {
        try {
          await req.sessionHandle.set('n', 7);
          res.json({ id: req.sessionHandle.id });
        } catch (error) {
          next(error);
        }
      });
      express.get('/id-then-set', (req, res) => {
        const id = req.sessionID;
        req.session.n = 1;
        res.json({ id, same: id === req.session.id });
      });
      express.get('/assign-null', (req, res) => {
        req.session = null as unknown as Request['session'];
        res.json({ session: req.session === null, id: typeof req.sessionID });
      });
      express.get('/delete-first', (req, res) => {
        // A no-op as the first touch (the README's differences list): the read makes the session.
        delete (req as Partial<Request>).session;
        res.json({ session: typeof req.session, id: typeof req.sessionID });
      });
      express.get('/destroy-new', (req, res, next) => {
        req.session.destroy((error) => {
          if (error) return next(error);
          res.json({ session: typeof req.session, id: typeof req.sessionID });
        });
      });
      express.get('/after-response', (req, res) => {
        res.send('sent');
        late = new Promise((resolve) =>
          setImmediate(() => {
            req.session.n = 3;
            resolve();
          }),
        );
      });
    });
    const { store } = app;
    const create = store.create.bind(store);
    store.create = (...args) => {
      writes++;
      return create(...args);
    };
  });
  after(() => app.stop());

  it('writes nothing and sends no cookie when nothing is touched', async () => {
    const browser = new Browser(app.base);
    writes = 0;
    assert.equal(await (await browser.get('/plain')).text(), 'plain');
    assert.equal(browser.cookie(), undefined);
    assert.equal(writes, 0);
  });

  it('saves what the native handle sets, and sends its cookie', async () => {
    const browser = new Browser(app.base);
    const { id } = await browser.json<{ id: string }>('/handle');
    assert.equal(browser.id(), id);
    assert.deepEqual((await app.stored(id))?.attributes, { n: 7 });
  });

  it('keeps one id from req.sessionID to req.session', async () => {
    const browser = new Browser(app.base);
    const body = await browser.json<{ id: string; same: boolean }>('/id-then-set');
    assert.equal(body.same, true);
    assert.equal(browser.id(), body.id);
    assert.deepEqual((await app.stored(body.id))?.attributes, { n: 1 });
  });

  it('takes an assignment or a delete as the first touch', async () => {
    const browser = new Browser(app.base);
    assert.deepEqual(await browser.json('/assign-null'), { session: true, id: 'string' });
    assert.equal(browser.cookie(), undefined);
    assert.deepEqual(await browser.json('/delete-first'), { session: 'object', id: 'string' });
    assert.equal(browser.cookie(), undefined);
  });

  it('leaves req.session undefined after destroy(), as express-session', async () => {
    const browser = new Browser(app.base);
    assert.deepEqual(await browser.json('/destroy-new'), { session: 'undefined', id: 'string' });
  });

  it('saves nothing first touched after the response left, as express-session', async () => {
    const browser = new Browser(app.base);
    writes = 0;
    assert.equal(await (await browser.get('/after-response')).text(), 'sent');
    await late;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(writes, 0);
  });
});
