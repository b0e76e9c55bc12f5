import type { SessionQuery, SessionStatistics } from '../core/admin-types.js';
import type { SessionManager } from '../core/manager.js';
import type { AuditEntry } from '../core/store.js';
import {
  type AttributeKey,
  attributeKey,
  type SessionMeta,
  type Store,
  splitAttributeKey,
} from '../core/store.js';
import type { MonitorRole } from './credentials.js';
import { isRedacted, MASKED, type Readable, toReadable } from './readable.js';

/*
 * What the monitor can do, for one authenticated actor, with its scope applied. The HTTP
 * API and the UI are two faces of this one class, so a scope rule written here holds for
 * both: an app-scoped actor's filters always carry its app, another app's session reads as
 * absent, and another app's private attributes never leave this file.
 */

export interface Actor {
  /** The credential's name: the audit log's "who". */
  name: string;
  scope: string;
  role: MonitorRole;
}

/** The session metadata as the monitor shows it (the issue-10 fields default to ''). */
export type MonitorMeta = SessionMeta & { createdUrl: string; lastUrl: string; lastHost: string };

export interface SessionRow {
  meta: MonitorMeta;
  /** The `displayAttributes` this actor may see, readable, keyed by their configured name. */
  display: Record<string, Readable>;
}

export interface AttributeDetail {
  namespace: string;
  name: string;
  /** True when a redaction pattern matched the name: `value` is then MASKED. */
  redacted: boolean;
  value: Readable;
  /** The decode failure, in generic words, when the stored value could not be read. */
  error?: string;
}

export interface SessionDetail {
  meta: MonitorMeta;
  state: 'live' | 'expired';
  shared: AttributeDetail[];
  /** Private attributes by app namespace: only the actor's own app unless its scope is `all`. */
  private: Record<string, AttributeDetail[]>;
}

export interface Capabilities {
  listing: boolean;
  stats: boolean;
  audit: boolean;
  /** Why listing and statistics are missing, when they are. */
  reason?: string;
}

export class Forbidden extends Error {
  override readonly name = 'Forbidden';
}

/** The store has no listing (memcached): the message says what still works. */
export class UnsupportedListing extends Error {
  override readonly name = 'UnsupportedListing';
}

export interface ServiceOptions {
  redact: readonly RegExp[];
  displayAttributes: readonly string[];
  onlineWindowMs: number;
  apps: readonly string[];
  onAudit?: (entry: AuditEntry) => void;
  onError: (error: unknown, during: string) => void;
}

export class MonitorService {
  private readonly byApp: Map<string, SessionManager>;
  private readonly primary: SessionManager;

  constructor(
    managers: readonly SessionManager[],
    private readonly options: ServiceOptions,
  ) {
    this.primary = managers[0] as SessionManager;
    this.byApp = new Map(managers.map((manager) => [manager.options.app, manager]));
  }

  get store(): Store {
    return this.primary.store as Store;
  }

  get group(): string {
    return this.primary.options.group;
  }

  capabilities(): Capabilities {
    const store = this.store;
    const listing = store.listing !== undefined;
    const result: Capabilities = {
      listing,
      stats: listing && store.stats !== undefined,
      audit: !!store.audit,
    };
    if (!listing) {
      result.reason =
        `the ${store.name} store cannot list its sessions (it keeps no index of them), so search, ` +
        'statistics and the actions on many sessions are unavailable: look a session up, or delete it, by its id';
    }
    return result;
  }

  /** The apps an actor's statistics break down by. */
  appsOf(actor: Actor): string[] {
    return actor.scope === 'all' ? [...this.options.apps] : [actor.scope];
  }

  async stats(actor: Actor): Promise<{ overall: SessionStatistics; apps: SessionStatistics[] }> {
    const window = { onlineWindowMs: this.options.onlineWindowMs };
    if (actor.scope !== 'all') {
      const own = await this.primary.stats({ ...window, app: actor.scope });
      return { overall: own, apps: [own] };
    }
    const [overall, ...apps] = await Promise.all([
      this.primary.stats(window),
      ...this.options.apps.map((app) => this.primary.stats({ ...window, app })),
    ]);
    return { overall: overall as SessionStatistics, apps };
  }

  /** The query with the actor's scope applied: an app-scoped actor never lists another app. */
  scoped(actor: Actor, query: SessionQuery): SessionQuery {
    if (actor.scope === 'all') return query;
    if (query.app !== undefined && query.app !== actor.scope)
      throw new Forbidden("outside this credential's app");
    return { ...query, app: actor.scope };
  }

  async search(actor: Actor, query: SessionQuery): Promise<{ rows: SessionRow[]; next?: string }> {
    const page = await this.primary.list(this.scoped(actor, query));
    const rows = await Promise.all(page.sessions.map((meta) => this.row(actor, meta as MonitorMeta)));
    return page.next === undefined ? { rows } : { rows, next: page.next };
  }

  async count(actor: Actor, query: SessionQuery): Promise<number> {
    const {
      limit: _limit,
      cursor: _cursor,
      sort: _sort,
      order: _order,
      ...filter
    } = this.scoped(actor, query);
    return this.primary.count(filter);
  }

  /** The display-attribute keys this actor may read: shared ones, and private ones of its app. */
  private displayKeys(actor: Actor): Array<{ label: string; key: AttributeKey }> {
    return this.options.displayAttributes.flatMap((label) => {
      const key = label.includes(':') ? label : attributeKey('', label);
      const { namespace } = splitAttributeKey(key);
      return namespace === '' || actor.scope === 'all' || namespace === actor.scope ? [{ label, key }] : [];
    });
  }

  private async row(actor: Actor, meta: MonitorMeta): Promise<SessionRow> {
    const keys = this.displayKeys(actor);
    const display: Record<string, Readable> = {};
    if (keys.length === 0) return { meta: withNewFields(meta), display };
    const codec = this.managerFor(meta.app).codec;
    const values = await this.store.loadAttributes(
      meta.id,
      keys.map(({ key }) => key),
    );
    for (const { label, key } of keys) {
      const encoded = values.get(key);
      if (encoded === undefined) continue;
      const { name } = splitAttributeKey(key);
      if (isRedacted(name, this.options.redact)) {
        display[label] = MASKED;
        continue;
      }
      try {
        display[label] = toReadable(codec.decode(encoded), encoded, this.options);
      } catch {
        display[label] = { $type: 'unreadable' };
      }
    }
    return { meta: withNewFields(meta), display };
  }

  /** The session as this actor may see it, or null when absent, or outside its scope. */
  async detail(actor: Actor, id: string): Promise<SessionDetail | null> {
    const view = await this.primary.inspect(id);
    if (!view || !this.visible(actor, view.meta)) return null;
    const shared: AttributeDetail[] = [];
    const byNamespace: Record<string, AttributeDetail[]> = Object.create(null);
    for (const attribute of view.attributes) {
      const { namespace, name } = attribute;
      if (namespace !== '' && actor.scope !== 'all' && namespace !== actor.scope) continue;
      const redacted = isRedacted(name, this.options.redact);
      const detail: AttributeDetail = {
        namespace,
        name,
        redacted,
        value:
          redacted || attribute.error ? MASKED : toReadable(attribute.value, attribute.encoded, this.options),
      };
      if (attribute.error) {
        // Unreadable by this codec (a plugin class the monitor does not know, say): show the
        // stored text itself, which the JSON codec keeps readable, unless the name is redacted.
        detail.error = 'the stored value cannot be decoded by this codec; the stored text is shown';
        detail.value = redacted
          ? MASKED
          : {
              $type: 'stored text',
              text:
                attribute.encoded.length > 4000 ? `${attribute.encoded.slice(0, 4000)}…` : attribute.encoded,
            };
      }
      if (namespace === '') shared.push(detail);
      else {
        const list = byNamespace[namespace] ?? [];
        list.push(detail);
        byNamespace[namespace] = list;
      }
    }
    const byName = (a: AttributeDetail, b: AttributeDetail) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    shared.sort(byName);
    for (const list of Object.values(byNamespace)) list.sort(byName);
    const meta = withNewFields(view.meta as MonitorMeta);
    const state = meta.expiresAt === null || meta.expiresAt > Date.now() ? 'live' : 'expired';
    return { meta, state, shared, private: byNamespace };
  }

  private visible(actor: Actor, meta: SessionMeta): boolean {
    return actor.scope === 'all' || meta.app === actor.scope;
  }

  private managerFor(app: string): SessionManager {
    return this.byApp.get(app) ?? this.primary;
  }

  private requireOperator(actor: Actor): void {
    if (actor.role !== 'operator')
      throw new Forbidden('this credential is a viewer: it cannot act on sessions');
  }

  /** Loads the metadata of an id, or null when absent or outside the actor's scope. */
  private async visibleMeta(actor: Actor, id: string): Promise<SessionMeta | null> {
    const loaded = await this.store.load(id, [], Date.now());
    return loaded && this.visible(actor, loaded.meta) ? loaded.meta : null;
  }

  async deleteOne(actor: Actor, id: string): Promise<boolean> {
    this.requireOperator(actor);
    const meta = await this.visibleMeta(actor, id);
    if (!meta) return false;
    const done = await this.managerFor(meta.app).destroy(id, 'revoked');
    await this.audit(actor, 'delete', id, done ? 1 : 0);
    return done;
  }

  async deleteMany(actor: Actor, ids: readonly string[]): Promise<number> {
    this.requireOperator(actor);
    const metas = await Promise.all(ids.map((id) => this.visibleMeta(actor, id)));
    const visible = metas.flatMap((meta) => (meta ? [meta.id] : []));
    const removed = visible.length === 0 ? 0 : await this.primary.destroyMany(visible, 'revoked');
    await this.audit(actor, 'delete-selected', `${ids.length} ids`, removed);
    return removed;
  }

  /** With `dryRun`, only counts; viewers may dry-run (it changes nothing). */
  async deleteWhere(actor: Actor, query: SessionQuery, dryRun: boolean): Promise<number> {
    if (!dryRun) this.requireOperator(actor);
    const {
      limit: _limit,
      cursor: _cursor,
      sort: _sort,
      order: _order,
      ...filter
    } = this.scoped(actor, query);
    const count = await this.primary.destroyWhere(filter, { dryRun, reason: 'revoked' });
    if (!dryRun) await this.audit(actor, 'delete-where', describeFilter(filter), count, filterDetail(filter));
    return count;
  }

  /** Signs a user out everywhere (an app-scoped operator: out of its app's sessions). */
  async revokePrincipal(actor: Actor, principal: string): Promise<number> {
    this.requireOperator(actor);
    const count =
      actor.scope === 'all'
        ? await (this.primary.revokePrincipal as (p: string, options: { reason: string }) => Promise<number>)(
            principal,
            { reason: 'revoked' },
          )
        : await this.primary.destroyWhere({ principal, app: actor.scope }, { reason: 'revoked' });
    await this.audit(actor, 'revoke-principal', principal, count);
    return count;
  }

  async expireIdle(actor: Actor, idleMs: number): Promise<number> {
    this.requireOperator(actor);
    const count =
      actor.scope === 'all'
        ? await this.primary.expireIdle(idleMs)
        : await this.primary.destroyWhere(
            { idleLongerThan: idleMs, app: actor.scope },
            { reason: 'expired' },
          );
    await this.audit(actor, 'expire-idle', `idle > ${idleMs} ms`, count, { idleMs });
    return count;
  }

  async removeAttribute(actor: Actor, id: string, namespace: string, name: string): Promise<boolean> {
    this.requireOperator(actor);
    if (namespace !== '' && actor.scope !== 'all' && namespace !== actor.scope) return false;
    const meta = await this.visibleMeta(actor, id);
    if (!meta) return false;
    const done = await this.managerFor(meta.app).removeAttribute(id, namespace, name);
    await this.audit(actor, 'remove-attribute', id, done ? 1 : 0, { namespace, name });
    return done;
  }

  async auditLog(
    actor: Actor,
    limit: number,
    cursor?: string,
  ): Promise<{ entries: AuditEntry[]; next?: string }> {
    if (!this.store.audit) return { entries: [] };
    const page = await this.primary.auditLog(cursor === undefined ? { limit } : { limit, cursor });
    // An app-scoped actor sees what was done in its app's scope only.
    const entries =
      actor.scope === 'all' ? page.entries : page.entries.filter((e) => e.scope === actor.scope);
    return page.next === undefined ? { entries } : { entries, next: page.next };
  }

  /**
   * Records the action through the manager (the store's audit log, and the manager's `audit`
   * event), then tells `onAudit`. A failing log never undoes the action.
   */
  async audit(
    actor: Actor,
    action: string,
    target: string,
    count: number,
    detail?: AuditEntry['detail'],
  ): Promise<void> {
    const entry: AuditEntry = {
      at: Date.now(),
      actor: actor.name,
      scope: actor.scope,
      action,
      target,
      count,
    };
    if (detail) entry.detail = detail;
    try {
      await this.primary.audit(entry);
    } catch (error) {
      this.options.onError(error, 'audit append');
    }
    try {
      this.options.onAudit?.(entry);
    } catch (error) {
      this.options.onError(error, 'onAudit listener');
    }
  }
}

/** Rows written before issue 10 lack the new fields; show them as ''. */
function withNewFields(meta: MonitorMeta): MonitorMeta {
  return {
    ...meta,
    createdUrl: meta.createdUrl ?? '',
    lastUrl: meta.lastUrl ?? '',
    lastHost: meta.lastHost ?? '',
  };
}

function filterDetail(filter: SessionQuery): Record<string, string | number | boolean> {
  const detail: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      detail[key] = value;
  }
  return detail;
}

function describeFilter(filter: SessionQuery): string {
  const parts = Object.entries(filterDetail(filter)).map(([key, value]) => `${key}=${value}`);
  return parts.length === 0 ? 'every session' : parts.join(' ');
}
