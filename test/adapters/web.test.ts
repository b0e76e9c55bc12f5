/**
 * The Web-standard adapter's own behaviour (src/adapters/web.ts): `withSession` passes extra
 * arguments through, and reads the client address and https. What every adapter does is in
 * contract.test.ts.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { withSession } from '../../src/adapters/web.js';
import { sqliteFixture } from './shared.js';

const { manager, store, cleanup } = sqliteFixture();
after(cleanup);

describe('web: withSession', () => {
  test('extra arguments reach the handler; remoteAddress and https are seen', async () => {
    const m = manager(store);
    const handler = withSession(
      m,
      async (_request, session, context: { params: { id: string } }) => {
        await session.set('param', context.params.id);
        return Response.json({ id: session.id, param: await session.get('param') });
      },
      { remoteAddress: (request) => request.headers.get('x-test-peer') ?? undefined },
    );
    const response = await handler(
      new Request('https://shop.example/items/7', { headers: { 'x-test-peer': '192.0.2.7' } }),
      { params: { id: '7' } },
    );
    const body = (await response.json()) as { id: string; param: string };
    assert.equal(body.param, '7');
    const cookie = response.headers.getSetCookie()[0] ?? '';
    assert.match(cookie, /; Secure/, 'an https URL makes the cookie Secure');
    const stored = await store.load(body.id, [], Date.now());
    assert.equal(stored?.meta.clientAddress, '192.0.2.7');
  });
});
