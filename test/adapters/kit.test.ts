/**
 * The adapter kit (src/adapters/kit): what every adapter shares, tested on its own, without
 * a framework. How each adapter uses it is tested through real servers in the other files.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { commitHeaders, settle } from '../../src/adapters/kit/commit.js';
import { requirePeer } from '../../src/adapters/kit/peer.js';
import {
  exposeAttributes,
  handleOf,
  reservedNames,
  setAttribute,
} from '../../src/adapters/kit/property-session.js';
import { setUpAdapter } from '../../src/adapters/kit/setup.js';
import { trustRule } from '../../src/adapters/kit/trust.js';
import { SessionManager } from '../../src/core/manager.js';
import { internalsOf } from '../../src/core/session.js';
import { is } from '../../src/core/validate.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { requestInfo } from '../helpers/direct-client.js';

const managers: SessionManager[] = [];
after(() => Promise.all(managers.map((manager) => manager.close())));
const keep = <T extends { manager: SessionManager }>(setup: T): T => {
  managers.push(setup.manager);
  return setup;
};
const OWN = { spec: { onError: is.function } };

describe('kit: options or a manager', () => {
  it('uses a SessionManager as it is, and checks the adapter options given beside it', () => {
    const manager = createSessionManager({ app: 'kit', store: memoryStore(), sweeper: false });
    managers.push(manager);
    const onError = () => {};
    const setup = setUpAdapter('adapterX', manager, OWN, { onError });
    assert.equal(setup.manager, manager);
    assert.deepEqual(setup.own, { onError });
    assert.equal(setup.options, undefined, 'no options of ours: the manager has its own');
    assert.throws(() => setUpAdapter('adapterX', manager, OWN, { onErorr: onError } as never), {
      code: 'UNISESSION_INVALID_OPTION',
      message: /^An option is invalid: adapterX: unknown option "onErorr"; did you mean "onError"/,
    });
  });

  it("splits an options object into the adapter's own, checked, and the core's, which make a manager", () => {
    const onError = () => {};
    const setup = keep(setUpAdapter('adapterX', { app: 'kit', sweeper: false, onError }, OWN));
    assert.ok(setup.manager instanceof SessionManager);
    assert.equal(setup.manager.options.app, 'kit');
    assert.deepEqual(setup.own, { onError });
    assert.deepEqual(setup.options, { app: 'kit', sweeper: false }, 'the core options, without onError');
    assert.throws(() => setUpAdapter('adapterX', { app: 'kit', onError: 'log' }, OWN), {
      message: /adapterX: option "onError" must be a function, got "log"/,
    });
    assert.throws(() => setUpAdapter('adapterX', { app: 'kit', maxInactve: 5 }, OWN), {
      message: /unknown option "maxInactve"; did you mean "maxInactive"/,
    });
  });

  it('lets an adapter pick its own options and map them onto the core (as Express does)', () => {
    const setup = keep(
      setUpAdapter<{ name?: string }>(
        'adapterX',
        { name: 'sid', sweeper: false },
        {
          spec: { name: is.nonEmptyString },
          pick: ({ name }) => ({ name: name as string }),
          toCore: ({ name: _, ...rest }, own) => ({ ...rest, app: 'kit', cookie: { name: own.name } }),
        },
      ),
    );
    assert.equal(setup.manager.options.cookie.name, 'sid');
  });

  it('refuses anything else, naming both accepted forms', () => {
    for (const bad of [undefined, null, 'app', 5]) {
      assert.throws(() => setUpAdapter('adapterX', bad), {
        code: 'UNISESSION_INVALID_OPTION',
        message: /adapterX: option "options" must be an object or a SessionManager/,
      });
    }
  });
});

describe('kit: the trust-proxy rule', () => {
  const request = requestInfo({ remoteAddress: '10.0.0.1' });
  const framework = { encrypted: true, remoteAddress: '203.0.113.9' };

  it("follows the framework's view when the options have no trustProxy of their own", () => {
    const follow = trustRule({ app: 'kit' });
    assert.deepEqual(
      { ...follow(request, () => framework), header: undefined },
      { ...request, ...framework, header: undefined },
    );
  });

  it('reads the request as it is with a trustProxy of our own (even false), or with a manager', () => {
    const asked: string[] = [];
    const view = () => {
      asked.push('asked');
      return framework;
    };
    for (const rule of [trustRule({ app: 'kit', trustProxy: false }), trustRule(undefined)]) {
      assert.equal(rule(request, view), request);
    }
    assert.deepEqual(asked, [], "the framework's view is not even computed");
  });
});

describe('kit: settle', () => {
  const failed = new Error('failed');
  const unexpected = (error: unknown) => assert.fail(`fail() was called with ${String(error)}`);

  it('without a callback, is the work itself', async () => {
    await settle(Promise.resolve(), undefined, unexpected);
    await assert.rejects(settle(Promise.reject(failed), undefined, unexpected), failed);
  });

  it('with a callback, calls it once with the outcome, and never rejects', async () => {
    const calls: unknown[][] = [];
    const callback = (...args: unknown[]) => calls.push(args);
    await settle(Promise.resolve(), callback, unexpected);
    await settle(Promise.reject(failed), callback, unexpected);
    assert.deepEqual(calls, [[], [failed]]);
  });

  it('hands a callback that throws to fail', async () => {
    const failures: unknown[] = [];
    const thrown = new Error('callback threw');
    await settle(
      Promise.resolve(),
      () => {
        throw thrown;
      },
      (error) => failures.push(error),
    );
    assert.deepEqual(failures, [thrown]);
  });
});

describe('kit: commit and headers', () => {
  it('commits, and gives the headers the response has not had yet', async () => {
    const manager = createSessionManager({ app: 'kit', store: memoryStore(), sweeper: false });
    managers.push(manager);
    const session = manager.open(requestInfo());
    await session.set('n', 1);
    const [cookie] = await commitHeaders(session);
    assert.match(cookie?.[1] ?? '', /^unisession=/);
    assert.equal((await manager.store.load(session.id!, 'all', Date.now()))?.attributes.get('kit:n'), '1');
    assert.deepEqual(await commitHeaders(session), []);
  });
});

describe('kit: property-style sessions', () => {
  class Bag {
    save(): void {}
  }
  const RESERVED = reservedNames(Bag);

  it('keeps the handle off the object, and refuses a reserved name set explicitly', async () => {
    const manager = createSessionManager({ app: 'kit', store: memoryStore(), sweeper: false });
    managers.push(manager);
    const session = manager.open(requestInfo());
    await internalsOf(session).load();
    const bag = new Bag();
    exposeAttributes(bag, session, RESERVED);
    assert.equal(handleOf(bag), session);
    assert.deepEqual(Object.keys(bag), []);
    setAttribute(bag, 'views', 1, RESERVED);
    assert.deepEqual({ ...bag }, { views: 1 });
    assert.throws(() => setAttribute(bag, 'save', 1, RESERVED), {
      code: 'UNISESSION_INVALID_NAME',
      message: /"save" is reserved/,
    });
    assert.throws(() => handleOf({}), { code: 'UNISESSION_INVALID_ARGUMENT' });
  });
});

describe('kit: optional peers', () => {
  it('loads an installed package, and names a missing one with its install command', () => {
    assert.equal(typeof requirePeer('fastify-plugin', 'the fastify adapter'), 'function');
    assert.throws(() => requirePeer('unisession-no-such-package', 'the test adapter'), {
      code: 'UNISESSION_DRIVER_MISSING',
      message:
        /the test adapter needs the "unisession-no-such-package" package: npm install unisession-no-such-package$/,
    });
  });
});
