/**
 * The monitor's security: default deny, the local-only token, 401s that take about the same
 * time whatever failed, and the UI's CSRF token and Origin check (403), over real HTTP.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { isUnisessionError } from '../../src/core/errors.js';
import {
  createMonitor,
  hashSecret,
  type Monitor,
  toNodeHandler,
  verifySecret,
} from '../../src/monitor/index.js';
import { Client } from '../helpers/client.js';
import { type Running, serve } from '../helpers/server.js';
import { type Apps, bearer, credentials, SECRETS, signIn, twoApps } from './fixture.js';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

describe('monitor security', () => {
  let apps: Apps;
  let monitor: Monitor;
  let running: Running;

  before(async () => {
    apps = await twoApps();
    // No throttle here: the timing test fails on purpose more often than the default allows.
    monitor = createMonitor({
      managers: [apps.portal, apps.shop],
      credentials: await credentials(),
      failureLimit: false,
    });
    running = await serve(createServer(toNodeHandler(monitor)));
  });
  after(async () => {
    await running.close();
    await monitor.close();
    await apps.portal.close();
  });

  it('refuses to start without a credential, naming the option', () => {
    for (const options of [{}, { credentials: [] }, { credentials: [], localOnlyToken: false }]) {
      assert.throws(
        () => createMonitor({ managers: apps.portal, ...options }),
        (error: unknown) =>
          isUnisessionError(error, 'UNISESSION_INVALID_OPTION') && /credentials/.test(String(error)),
      );
    }
  });

  it('refuses bad credentials and options when created', async () => {
    const good = {
      name: 'ops',
      secretHash: await hashSecret('long enough secret'),
      scope: 'all',
      role: 'operator',
    } as const;
    const bad: unknown[] = [
      [{ ...good, secretHash: 'plain-text-secret' }],
      [{ ...good, role: 'admin' }],
      [{ ...good, scope: 'not an app!' }],
      [{ ...good, name: '' }],
      [{ ...good, extra: 1 }],
      [good, good],
    ];
    for (const list of bad) {
      assert.throws(
        () => createMonitor({ managers: apps.portal, credentials: list as never }),
        (error: unknown) => isUnisessionError(error, 'UNISESSION_INVALID_OPTION'),
      );
    }
    assert.throws(
      () => createMonitor({ managers: apps.portal, credentials: [good], basePaht: '/x' } as never),
      /unknown option "basePaht"/,
    );
    assert.throws(
      () => createMonitor({ managers: apps.portal, credentials: [good], basePath: 'admin' }),
      /basePath/,
    );
    assert.throws(() => createMonitor({ credentials: [good] }), /managers/);
  });

  it('hashes secrets with a salt and verifies them in constant time', async () => {
    const a = await hashSecret('the same secret');
    const b = await hashSecret('the same secret');
    assert.notEqual(a, b);
    assert.match(a, /^scrypt\$16384\$8\$1\$/);
    assert.equal(await verifySecret('the same secret', a), true);
    assert.equal(await verifySecret('the same secreT', a), false);
    assert.equal(await verifySecret('the same secret', 'garbage'), false);
    await assert.rejects(hashSecret('short'), (error: unknown) =>
      isUnisessionError(error, 'UNISESSION_INVALID_ARGUMENT'),
    );
  });

  it('answers 401 in about the same time for no token, a wrong secret and an unknown name', async () => {
    const cases = {
      none: {},
      wrongSecret: { authorization: 'Bearer ops:not-the-secret' },
      unknownName: { authorization: `Bearer nobody:${SECRETS.ops}` },
    };
    const times: Record<string, number[]> = { none: [], wrongSecret: [], unknownName: [] };
    for (let round = 0; round < 7; round++) {
      for (const [name, headers] of Object.entries(cases)) {
        const started = performance.now();
        const response = await fetch(`${running.url}/api/stats`, { headers });
        await response.arrayBuffer();
        assert.equal(response.status, 401);
        times[name]?.push(performance.now() - started);
      }
    }
    const medians = Object.values(times).map(median);
    // Each failure costs one scrypt derivation; only a gross difference (a skipped hash) fails this.
    assert.ok(
      Math.max(...medians) < Math.min(...medians) * 4 + 20,
      `medians ${medians.map((m) => m.toFixed(1))} ms`,
    );
  });

  it('the UI login cookie is HttpOnly, SameSite=Strict, scoped to the mount path, and a new id', async () => {
    const client = new Client(running.url);
    const form = await client.request('/login');
    assert.equal(form.status, 200);
    assert.match(await form.text(), /<form class="login"/);
    const login = await client.request('/login', {
      method: 'POST',
      headers: { origin: running.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'ops', secret: SECRETS.ops }).toString(),
    });
    assert.equal(login.status, 303);
    const cookie = login.headers.getSetCookie().join('\n');
    assert.match(cookie, /unisession_monitor=/);
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    assert.match(cookie, /Path=\//);
    assert.equal((await client.request('/')).status, 200);
  });

  it('a wrong secret on the login form is a 401 page, and no session', async () => {
    const client = new Client(running.url);
    const login = await client.request('/login', {
      method: 'POST',
      headers: { origin: running.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'ops', secret: 'wrong' }).toString(),
    });
    assert.equal(login.status, 401);
    assert.match(await login.text(), /Wrong credential name or secret/);
    const home = await client.request('/');
    assert.equal(home.status, 303);
    assert.match(home.headers.get('location') ?? '', /\/login$/);
  });

  it('a state-changing request without the CSRF token, or from a foreign Origin, gets 403 and changes nothing', async () => {
    const client = new Client(running.url);
    const csrf = await signIn(client, running.url, 'ops', SECRETS.ops);
    const form = 'application/x-www-form-urlencoded';
    const target = `/sessions/${apps.ids.anonymous}/delete`;
    const attempts: Array<[string, Record<string, string>, string]> = [
      ['no token', { origin: running.url, 'content-type': form }, ''],
      ['wrong token', { origin: running.url, 'content-type': form }, `_csrf=${csrf.slice(1)}x`],
      ['foreign origin', { origin: 'http://evil.example', 'content-type': form }, `_csrf=${csrf}`],
      ['no origin', { 'content-type': form }, `_csrf=${csrf}`],
    ];
    for (const [label, headers, body] of attempts) {
      const response = await client.request(target, { method: 'POST', headers, body });
      assert.equal(response.status, 403, label);
    }
    const foreignLogin = await new Client(running.url).request('/login', {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': form },
      body: new URLSearchParams({ name: 'ops', secret: SECRETS.ops }).toString(),
    });
    assert.equal(foreignLogin.status, 403);
    const still = await fetch(`${running.url}/api/sessions/${apps.ids.anonymous}`, {
      headers: { authorization: bearer('ops') },
    });
    assert.equal(still.status, 200);
    const ok = await client.request(target, {
      method: 'POST',
      headers: { origin: running.url, 'content-type': form },
      body: `_csrf=${encodeURIComponent(csrf)}`,
    });
    assert.equal(ok.status, 303);
    const gone = await fetch(`${running.url}/api/sessions/${apps.ids.anonymous}`, {
      headers: { authorization: bearer('ops') },
    });
    assert.equal(gone.status, 404);
  });

  it('after sign-out the old UI cookie is worth nothing', async () => {
    const client = new Client(running.url);
    const csrf = await signIn(client, running.url, 'viewer', SECRETS.viewer);
    const old = client.cookie;
    const out = await client.request('/logout', {
      method: 'POST',
      headers: { origin: running.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${encodeURIComponent(csrf)}`,
    });
    assert.equal(out.status, 303);
    const replay = await fetch(`${running.url}/`, { headers: { cookie: old }, redirect: 'manual' });
    assert.equal(replay.status, 303);
  });

  it('sends security headers: no caching, no framing, a strict CSP', async () => {
    const response = await fetch(`${running.url}/login`);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.doesNotMatch(response.headers.get('content-security-policy') ?? '', /unsafe-inline/);
  });
});

describe('monitor failed sign-in throttle', () => {
  it('answers 429 to an address past its failures, API and login form alike, and not to others', async () => {
    const apps = await twoApps();
    const monitor = createMonitor({
      managers: apps.shop,
      credentials: await credentials(),
      failureLimit: { attempts: 3, windowMs: 60_000 },
    });
    const ask = (remoteAddress: string, authorization: string) =>
      monitor(new Request('http://m.test/api/whoami', { headers: { authorization } }), { remoteAddress });
    for (let i = 0; i < 3; i++) assert.equal((await ask('10.0.0.1', 'Bearer ops:wrong-secret')).status, 401);
    const blocked = await ask('10.0.0.1', bearer('ops'));
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    assert.equal((await ask('10.0.0.2', bearer('ops'))).status, 200);
    const form = await monitor(
      new Request('http://m.test/login', {
        method: 'POST',
        headers: { origin: 'http://m.test', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'ops', secret: SECRETS.ops }).toString(),
      }),
      { remoteAddress: '10.0.0.1' },
    );
    assert.equal(form.status, 429);
    assert.match(await form.text(), /Too many failed attempts/);
    assert.throws(
      () => createMonitor({ managers: apps.shop, credentials: [], failureLimit: { attempts: 0 } } as never),
      /failureLimit/,
    );
    await monitor.close();
    await apps.shop.close();
  });
});

describe('monitor local-only token', () => {
  it('prints a token, accepts it from loopback peers only', async () => {
    const apps = await twoApps();
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    let monitor: Monitor;
    try {
      monitor = createMonitor({ managers: apps.shop, localOnlyToken: true });
    } finally {
      process.stderr.write = write;
    }
    const token = monitor.localToken;
    assert.ok(token);
    assert.ok(written.join('').includes(token), 'the token is printed');
    const ask = (remoteAddress: string | undefined, authorization?: string) =>
      monitor(
        new Request('http://127.0.0.1/api/whoami', authorization ? { headers: { authorization } } : {}),
        remoteAddress === undefined ? {} : { remoteAddress },
      );
    assert.equal((await ask('127.0.0.1', `Bearer ${token}`)).status, 200);
    assert.equal((await ask('::1', `Bearer ${token}`)).status, 200);
    assert.equal((await ask('10.0.0.5', `Bearer ${token}`)).status, 403);
    assert.equal((await ask(undefined, `Bearer ${token}`)).status, 403);
    assert.equal((await ask('127.0.0.1', 'Bearer local:wrong')).status, 401);
    assert.equal((await ask('127.0.0.1')).status, 401);
    await monitor.close();
    await apps.shop.close();
  });
});
