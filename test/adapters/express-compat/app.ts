/**
 * An Express app as an express-session user writes it, for the compatibility tests: the
 * options under test, the routes the test adds, an error handler answering JSON. Sessions go
 * to a real unisession store, read back by the tests to check what was stored.
 */
import { createServer } from 'node:http';
import express, {
  type Express,
  type Response as ExpressResponse,
  type NextFunction,
  type Request,
} from 'express';
import { type ExpressSessionOptions, session } from '../../../src/adapters/express.js';
import type { SessionManager } from '../../../src/core/manager.js';
import type { Store } from '../../../src/core/store.js';
import { memoryStore } from '../../../src/stores/memory.js';
import { close, listen } from '../../helpers/server.js';

export const SECRET = 'keyboard cat';

export interface CompatApp {
  base: string;
  store: Store;
  manager: SessionManager;
  /** The session as stored: its metadata and decoded attributes, or null. */
  stored(
    id: string,
  ): Promise<{ maxInactive: number; expiresAt: number | null; attributes: Record<string, unknown> } | null>;
  stop(): Promise<void>;
}

export async function compatApp(
  options: ExpressSessionOptions,
  routes: (app: Express) => void,
  before?: (app: Express) => void,
): Promise<CompatApp> {
  const store = options.store ?? memoryStore();
  const app = express();
  app.set('trust proxy', 'loopback');
  before?.(app);
  const middleware = session({ secret: SECRET, sweeper: false, ...options, store });
  app.use(middleware);
  routes(app);
  app.use(
    (
      error: Error & { status?: number; code?: string },
      _req: Request,
      res: ExpressResponse,
      _next: NextFunction,
    ) => {
      res.status(error.status ?? 500).json({ error: error.code ?? 'error', message: error.message });
    },
  );
  const server = createServer(app);
  const base = await listen(server);
  const { manager } = middleware;
  return {
    base,
    store,
    manager,
    async stored(id) {
      const loaded = await store.load(id, 'all', Date.now());
      if (!loaded) return null;
      const attributes: Record<string, unknown> = {};
      for (const [key, text] of loaded.attributes)
        attributes[key.slice(key.indexOf(':') + 1)] = manager.codec.decode(text);
      return { maxInactive: loaded.meta.maxInactive, expiresAt: loaded.meta.expiresAt, attributes };
    },
    async stop() {
      await close(server);
      await manager.close();
    },
  };
}

/** One Set-Cookie line, split into its value and attributes (names lower-cased). */
export interface ParsedCookie {
  name: string;
  value: string;
  attributes: Map<string, string | true>;
}

export function parseSetCookie(line: string): ParsedCookie {
  const [pair, ...rest] = line.split(';').map((part) => part.trim());
  const eq = pair!.indexOf('=');
  const attributes = new Map<string, string | true>();
  for (const part of rest) {
    const at = part.indexOf('=');
    if (at === -1) attributes.set(part.toLowerCase(), true);
    else attributes.set(part.slice(0, at).toLowerCase(), part.slice(at + 1));
  }
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes };
}

/** A browser for one site: keeps the cookies by name, sends them back, records each response's Set-Cookie lines. */
export class Browser {
  readonly jar = new Map<string, string>();
  setCookies: ParsedCookie[] = [];
  constructor(private readonly base: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(this.base + path, {
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...headers },
    });
    this.setCookies = response.headers.getSetCookie().map(parseSetCookie);
    for (const set of this.setCookies) {
      const expires = set.attributes.get('expires');
      const gone = set.value === '' || (typeof expires === 'string' && Date.parse(expires) <= Date.now());
      if (gone) this.jar.delete(set.name);
      else this.jar.set(set.name, set.value);
    }
    return response;
  }

  async json<T = Record<string, unknown>>(path: string, headers?: Record<string, string>): Promise<T> {
    const response = await this.get(path, headers);
    const body = await response.text();
    if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status} ${body}`);
    return JSON.parse(body) as T;
  }

  /** The session id in the named cookie (the part before the signature). */
  id(name = 'unisession'): string | undefined {
    const value = this.jar.get(name);
    return value === undefined ? undefined : decodeURIComponent(value).replace(/^s:/, '').split('.')[0];
  }

  /** The one Set-Cookie line of the last response for `name`, or undefined. */
  cookie(name = 'unisession'): ParsedCookie | undefined {
    const lines = this.setCookies.filter((set) => set.name === name);
    if (lines.length > 1) throw new Error(`${lines.length} Set-Cookie lines for ${name}`);
    return lines[0];
  }
}
