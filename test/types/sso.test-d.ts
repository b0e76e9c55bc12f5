/** Type tests for `unisession/sso`, `defineAppGroup` and `watchSessions`: checked by tsc, never run. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expectTypeOf } from 'expect-type';
import {
  type AppGroup,
  defineAppGroup,
  type SessionManager,
  type SessionOptions,
  type SessionWatcher,
  type StoreTickets,
  watchSessions,
} from 'unisession';
import {
  localPath,
  type MountedSsoHandler,
  type SsoClient,
  type SsoHub,
  ssoClient,
  ssoHub,
} from 'unisession/sso';

export function groupTypes(): void {
  const group = defineAppGroup({
    domain: 'example.com',
    shared: ['user'],
    apps: [
      { code: 'shop', host: 'shop.example.com', path: '/', namespace: 'shop' },
      { code: 'partner', host: 'partner.com', handoff: true },
    ],
  });
  expectTypeOf(group).toEqualTypeOf<AppGroup>();
  expectTypeOf(group.options('shop', { secret: 's' })).toEqualTypeOf<SessionOptions>();
  defineAppGroup({ domain: 'example.com', shared: '*', apps: [{ code: 'a' }] });
  // @ts-expect-error shared is a list of names or '*'
  defineAppGroup({ domain: 'example.com', shared: 'all', apps: [{ code: 'a' }] });
  // @ts-expect-error the app code comes from the group, not the overrides
  group.options('shop', { app: 'other' });
}

export function ssoTypes(manager: SessionManager, req: IncomingMessage, res: ServerResponse): void {
  const hub = ssoHub({
    manager,
    clients: [{ id: 'p', redirectUris: ['https://p.test/cb'] }],
    loginUrl: '/login',
  });
  expectTypeOf(hub).toEqualTypeOf<SsoHub>();
  expectTypeOf(hub.authorize).toEqualTypeOf<MountedSsoHandler>();
  expectTypeOf(hub.authorize).parameters.toEqualTypeOf<[Request]>();
  expectTypeOf(hub.authorize).returns.toEqualTypeOf<Promise<Response>>();
  hub.authorize.node(req, res);
  hub.authorize.node(req, res, (error?: unknown) => void error);
  const client = ssoClient({
    manager,
    clientId: 'p',
    hubUrl: 'https://h.test/sso/authorize',
    redirectUri: 'https://p.test/cb',
  });
  expectTypeOf(client).toEqualTypeOf<SsoClient>();
  expectTypeOf(client.callback).toEqualTypeOf<MountedSsoHandler>();
  expectTypeOf(localPath).returns.toEqualTypeOf<string>();
  // @ts-expect-error a client needs its redirect URI
  ssoClient({ manager, clientId: 'p', hubUrl: 'https://h.test/sso/authorize' });
}

export function watchTypes(manager: SessionManager): void {
  const watcher = watchSessions(manager, { onEnded: (id) => expectTypeOf(id).toEqualTypeOf<string>() });
  expectTypeOf(watcher).toEqualTypeOf<SessionWatcher>();
  expectTypeOf(watcher.watch('id')).toEqualTypeOf<() => void>();
  expectTypeOf(watcher.check()).toEqualTypeOf<Promise<string[]>>();
  expectTypeOf<StoreTickets['take']>().returns.toEqualTypeOf<Promise<string | null>>();
}
