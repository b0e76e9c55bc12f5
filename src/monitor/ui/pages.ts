import type { SessionQuery, SessionStatistics } from '../../core/admin-types.js';
import type { AuditEntry, HistogramBucket } from '../../core/store.js';
import { formatQuery, QUERY_PARAMETERS } from '../query.js';
import type { Readable } from '../readable.js';
import { MASKED } from '../readable.js';
import type { Actor, AttributeDetail, Capabilities, SessionDetail, SessionRow } from '../service.js';
import { duration, type Html, html, time } from './html.js';

/*
 * The UI's pages, rendered on the server. Every form works without JavaScript; every
 * state-changing form posts a CSRF token; operators alone see action buttons (the server
 * refuses viewers anyway).
 */

export interface Page {
  prefix: string;
  actor: Actor;
  csrf: string;
  capabilities: Capabilities;
}

type Section = 'overview' | 'sessions' | 'audit';

function csrfField(page: Page): Html {
  return html`<input type="hidden" name="_csrf" value="${page.csrf}">`;
}

export function layout(page: Page, section: Section, title: string, body: Html, head: Html = html``): Html {
  const link = (to: Section, label: string, href: string) =>
    html`<a href="${page.prefix}/${href}"${section === to ? html` aria-current="page"` : ''}>${label}</a>`;
  return document(
    title,
    html`<header>
  <span class="brand">unisession monitor</span>
  <nav>${link('overview', 'Overview', '')}${link('sessions', 'Sessions', 'sessions')}${link('audit', 'Audit log', 'audit')}</nav>
  <span class="who"><span>${page.actor.name}</span><span class="pill">${page.actor.scope === 'all' ? 'all apps' : `app ${page.actor.scope}`}</span><span class="pill">${page.actor.role}</span>
    <form method="post" action="${page.prefix}/logout" class="inline">${csrfField(page)}<button class="secondary" type="submit">Sign out</button></form></span>
</header>
<main>${body}</main>`,
    page.prefix,
    head,
  );
}

export function document(title: string, body: Html, prefix: string, head: Html = html``): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · unisession monitor</title>
<link rel="stylesheet" href="${prefix}/assets/monitor.css">${head}
<script src="${prefix}/assets/monitor.js" defer></script></head>
<body>${body}</body></html>`;
}

export function loginPage(prefix: string, message?: string, status?: 'error'): Html {
  return document(
    'Sign in',
    html`<form class="login" method="post" action="${prefix}/login">
  <h1>unisession monitor</h1>
  ${message ? html`<p class="notice ${status ?? ''}" role="alert">${message}</p>` : ''}
  <label>Credential name <input name="name" autocomplete="username" maxlength="64"></label>
  <label>Secret <input name="secret" type="password" autocomplete="current-password" required maxlength="1024"></label>
  <button type="submit">Sign in</button>
  <p class="muted">Or leave the name empty and paste a whole token (<code>name:secret</code>) as the secret.</p>
</form>`,
    prefix,
  );
}

export function notice(text: string | undefined, kind?: 'error'): Html {
  return text ? html`<p class="notice ${kind ?? ''}" role="status">${text}</p>` : html``;
}

// ------------------------------------------------------------------------------- overview

function card(label: string, value: number | string, id: string): Html {
  return html`<div class="card"><div class="n" data-stat="${id}">${value}</div><div class="l">${label}</div></div>`;
}

function histogram(title: string, buckets: HistogramBucket[]): Html {
  const max = Math.max(1, ...buckets.map((bucket) => bucket.count));
  let previous = 0;
  const rows = buckets.map((bucket) => {
    const label =
      bucket.le === null
        ? `over ${duration(previous)}`
        : previous === 0
          ? `under ${duration(bucket.le)}`
          : `${duration(previous)} – ${duration(bucket.le)}`;
    if (bucket.le !== null) previous = bucket.le;
    return html`<tr><td>${label}</td><td class="num">${bucket.count}</td><td><meter min="0" max="${max}" value="${bucket.count}"></meter></td></tr>`;
  });
  return html`<table><caption class="muted">${title}</caption><tr><th>range</th><th class="num">sessions</th><th></th></tr>${rows}</table>`;
}

export function overviewPage(
  page: Page,
  stats: { overall: SessionStatistics; apps: SessionStatistics[] } | undefined,
  message?: Html,
): Html {
  if (!stats) {
    return layout(
      page,
      'overview',
      'Overview',
      html`<h1>Overview</h1>${message ?? ''}<p class="notice error">${page.capabilities.reason ?? 'Statistics are unavailable.'}</p>${lookupForm(page)}`,
    );
  }
  const { overall } = stats;
  const scopeLabel = page.actor.scope === 'all' ? 'all apps' : `app ${page.actor.scope}`;
  const perApp =
    page.actor.scope === 'all' && stats.apps.length > 0
      ? html`<h2>Per app</h2><table><tr><th>app</th><th class="num">live</th><th class="num">authenticated</th><th class="num">users online</th><th class="num">created last hour</th><th class="num">created last day</th></tr>
${stats.apps.map((app) => html`<tr data-app="${app.app ?? ''}"><td><a href="${page.prefix}/sessions?app=${encodeURIComponent(app.app ?? '')}">${app.app}</a></td><td class="num">${app.live}</td><td class="num">${app.authenticated}</td><td class="num">${app.usersOnline}</td><td class="num">${app.createdLastHour}</td><td class="num">${app.createdLastDay}</td></tr>`)}</table>`
      : html``;
  const store = overall.store;
  const sweep = overall.sweeper.lastRun;
  const body = html`<h1>Overview <span class="muted">(${scopeLabel})</span></h1>${message ?? ''}
<noscript><p class="muted">Reload the page for fresh numbers (with JavaScript it refreshes itself every 5 s).</p></noscript>
<div data-refresh="5000" id="overview">
<p class="muted">As of ${time(overall.at)}</p>
<div class="cards">
${card('live sessions', overall.live, 'live')}
${card('authenticated', overall.authenticated, 'authenticated')}
${card('users online (5 min)', overall.usersOnline, 'usersOnline')}
${card('created last hour', overall.createdLastHour, 'createdLastHour')}
${card('created last day', overall.createdLastDay, 'createdLastDay')}
${card('expired, not yet swept', overall.expiredPending, 'expiredPending')}
</div>
${perApp}
<div class="grid2">
<div><h2>Idle time</h2>${histogram('time since the last recorded access', overall.idle)}</div>
<div><h2>Age</h2>${histogram('time since creation', overall.age)}</div>
</div>
<div class="grid2">
<div><h2>Sessions per node</h2><table><tr><th>host</th><th class="num">sessions</th></tr>
${overall.perHost.length === 0 ? html`<tr><td colspan="2" class="muted">none</td></tr>` : overall.perHost.map((row) => html`<tr><td>${row.host || '(unknown)'}</td><td class="num">${row.sessions}</td></tr>`)}</table></div>
<div><h2>Store and sweeper</h2><table>
<tr><th>store</th><td>${store.name} <span class="${store.healthy ? 'ok' : 'bad'}" data-stat="storeHealthy">${store.healthy ? 'healthy' : 'unhealthy'}</span>${store.latencyMs === null ? '' : html` <span class="muted">${store.latencyMs} ms</span>`}${store.error ? html` <span class="bad">${store.error}</span>` : ''}</td></tr>
<tr><th>last sweep</th><td>${sweep ? html`${time(sweep.at)}, removed ${sweep.removed} in ${duration(sweep.durationMs)} <span class="muted">by ${sweep.holder}</span>` : html`<span class="muted">none recorded</span>`}</td></tr>
<tr><th>sweeper lag</th><td>${duration(overall.sweeper.lagMs)}${overall.oldestExpiredAt === null ? '' : html` <span class="muted">(oldest unswept expiry ${time(overall.oldestExpiredAt)})</span>`}</td></tr>
</table></div>
</div>
</div>
${page.actor.role === 'operator' ? expireForm(page) : ''}`;
  return layout(page, 'overview', 'Overview', body);
}

function expireForm(page: Page): Html {
  return html`<h2>Expire idle sessions</h2>
<form method="post" action="${page.prefix}/sessions/expire-idle" class="actions" data-confirm="Expire every session idle longer than this?">${csrfField(page)}
<label>idle longer than <input name="idleLongerThan" placeholder="e.g. 2h" required pattern="\\d+(ms|s|m|h|d)?"></label><button class="danger" type="submit">Expire</button></form>`;
}

function lookupForm(page: Page): Html {
  return html`<form method="get" action="${page.prefix}/lookup" class="actions"><label>Session id <input name="id" required maxlength="512"></label><button type="submit">Look up</button></form>`;
}

// ------------------------------------------------------------------------------- sessions

const FIELD_LABELS: Record<string, string> = {
  principal: 'principal',
  clientAddress: 'client address or CIDR',
  idPrefix: 'id prefix',
  id: 'exact id',
  app: 'app',
  host: 'creating host',
  lastHost: 'last host',
  createdAfter: 'created after',
  createdBefore: 'created before',
  accessedAfter: 'last access after',
  accessedBefore: 'last access before',
  expiresBefore: 'expiring before',
  idleLongerThan: 'idle longer than (15m, 2h)',
};

function filterForm(page: Page, params: URLSearchParams): Html {
  const value = (name: string) => params.get(name) ?? '';
  const fields = Object.entries(FIELD_LABELS)
    .filter(([name]) => name !== 'app' || page.actor.scope === 'all')
    .map(
      ([name, label]) =>
        html`<label>${label}<input name="${name}" value="${value(name)}" maxlength="512"></label>`,
    );
  const option = (name: string, current: string, choices: Array<[string, string]>) =>
    html`<select name="${name}">${choices.map(([v, l]) => html`<option value="${v}"${current === v ? html` selected` : ''}>${l}</option>`)}</select>`;
  return html`<form class="filters" method="get" action="${page.prefix}/sessions">
${fields}
<label>authenticated ${option('authenticated', value('authenticated'), [
    ['', 'any'],
    ['true', 'with a principal'],
    ['false', 'anonymous'],
  ])}</label>
<label>sort ${option('sort', value('sort') || 'lastAccessedAt', [
    ['lastAccessedAt', 'last access'],
    ['createdAt', 'creation'],
    ['id', 'id'],
  ])}</label>
<label>order ${option('order', value('order') || 'desc', [
    ['desc', 'newest first'],
    ['asc', 'oldest first'],
  ])}</label>
<label>per page ${option('limit', value('limit') || '50', [
    ['25', '25'],
    ['50', '50'],
    ['100', '100'],
    ['250', '250'],
  ])}</label>
<div class="actions"><button type="submit">Search</button><a href="${page.prefix}/sessions">reset</a></div>
</form>`;
}

export function sessionsPage(
  page: Page,
  params: URLSearchParams,
  query: SessionQuery,
  result: { rows: SessionRow[]; next?: string; total: number } | undefined,
  displayAttributes: readonly string[],
  message?: Html,
): Html {
  if (!result) {
    return layout(
      page,
      'sessions',
      'Sessions',
      html`<h1>Sessions</h1>${message ?? ''}<p class="notice error">${page.capabilities.reason ?? 'Search is unavailable.'}</p>${lookupForm(page)}`,
    );
  }
  const operator = page.actor.role === 'operator';
  const filterOnly: SessionQuery = { ...query };
  delete filterOnly.cursor;
  const columns = displayAttributes;
  const rows = result.rows.map(
    (row) => html`<tr>
${operator ? html`<td><input type="checkbox" name="id" value="${row.meta.id}" form="delete-selected" aria-label="select"></td>` : ''}
<td><a class="mono" href="${page.prefix}/sessions/${encodeURIComponent(row.meta.id)}">${row.meta.id.slice(0, 12)}…</a></td>
<td>${row.meta.app}</td><td>${row.meta.principal ?? html`<span class="muted">—</span>`}</td>
<td>${row.meta.clientAddress}</td><td>${row.meta.lastHost || row.meta.host}</td>
<td>${time(row.meta.createdAt)}</td><td>${time(row.meta.lastAccessedAt)}</td><td>${time(row.meta.expiresAt)}</td>
${columns.map((name) => html`<td>${row.display[name] === undefined ? html`<span class="muted">—</span>` : renderReadable(row.display[name] as Readable)}</td>`)}
</tr>`,
  );
  const exportLink = (format: string) => `${page.prefix}/sessions/export.${format}${formatQuery(filterOnly)}`;
  const body = html`<h1>Sessions</h1>${message ?? ''}
${filterForm(page, params)}
<div class="pager"><strong data-stat="total">${result.total}</strong> matching · <a href="${exportLink('csv')}">export CSV</a> · <a href="${exportLink('json')}">export JSON</a></div>
${operator ? html`<form id="delete-selected" method="post" action="${page.prefix}/sessions/delete" data-confirm="Delete the selected sessions?">${csrfField(page)}</form>` : ''}
<table id="results"><tr>${operator ? html`<th><input type="checkbox" id="select-all" aria-label="select all"></th>` : ''}<th>id</th><th>app</th><th>principal</th><th>client address</th><th>last host</th><th>created</th><th>last access</th><th>expires</th>${columns.map((name) => html`<th>${name}</th>`)}</tr>
${rows.length === 0 ? html`<tr><td colspan="${9 + columns.length + (operator ? 1 : 0)}" class="muted">no session matches</td></tr>` : rows}
</table>
<div class="pager">${result.next ? html`<a rel="next" href="${page.prefix}/sessions${formatQuery(filterOnly, { cursor: result.next })}">next page →</a>` : html`<span class="muted">last page</span>`}${query.cursor ? html`<a href="${page.prefix}/sessions${formatQuery(filterOnly)}">first page</a>` : ''}</div>
${
  operator
    ? html`<div class="actions"><button class="danger" type="submit" form="delete-selected">Delete selected</button></div>
<h2>Delete every session matching this search</h2>
<form method="post" action="${page.prefix}/sessions/delete-where" class="actions">${csrfField(page)}
${QUERY_PARAMETERS.filter((name) => !['limit', 'cursor', 'sort', 'order'].includes(name) && params.get(name)).map((name) => html`<input type="hidden" name="${name}" value="${params.get(name) ?? ''}">`)}
<button class="secondary" type="submit">Dry run: count them first</button></form>`
    : ''
}`;
  return layout(page, 'sessions', 'Sessions', body);
}

export function confirmDeleteWherePage(page: Page, params: URLSearchParams, matching: number): Html {
  const fields = [...params.entries()].filter(([name]) => name !== '_csrf' && name !== 'confirm');
  const body = html`<h1>Delete by query</h1>
<p><strong data-stat="matching">${matching}</strong> session(s) match: ${fields.length === 0 ? 'every session' : fields.map(([k, v]) => html`<code>${k}=${v}</code> `)}</p>
<form method="post" action="${page.prefix}/sessions/delete-where" class="actions">${csrfField(page)}
${fields.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<input type="hidden" name="confirm" value="yes"><button class="danger" type="submit">Delete ${matching} session(s)</button>
<a href="${page.prefix}/sessions${fields.length ? `?${new URLSearchParams(fields).toString()}` : ''}">cancel</a></form>`;
  return layout(page, 'sessions', 'Delete by query', body);
}

// --------------------------------------------------------------------------------- detail

export function renderReadable(value: Readable): Html {
  if (value === null) return html`<span class="type">null</span>`;
  if (typeof value === 'string')
    return value === MASKED ? html`<span class="masked">${MASKED}</span>` : html`<span>${value}</span>`;
  if (typeof value === 'number' || typeof value === 'boolean')
    return html`<span class="mono">${String(value)}</span>`;
  if (Array.isArray(value)) {
    if (value.length === 0) return html`<span class="type">[ ]</span>`;
    return html`<span class="type">Array(${value.length})</span><ol start="0">${value.map((item) => html`<li>${renderReadable(item)}</li>`)}</ol>`;
  }
  const type = value.$type;
  if (typeof type === 'string') {
    switch (type) {
      case 'Date':
        return html`<span class="type">Date</span><time>${String(value.value)}</time>`;
      case 'Map': {
        const entries = Array.isArray(value.entries) ? value.entries : [];
        return html`<span class="type">Map(${String(value.size)})</span><dl class="value">${entries.map(
          (pair) => {
            const [k, v] = Array.isArray(pair) ? pair : [null, null];
            return html`<dt>${renderReadable(k ?? null)}</dt><dd>${renderReadable(v ?? null)}</dd>`;
          },
        )}</dl>`;
      }
      case 'Set': {
        const values = Array.isArray(value.values) ? value.values : [];
        return html`<span class="type">Set(${String(value.size)})</span><ul>${values.map((item) => html`<li>${renderReadable(item)}</li>`)}</ul>`;
      }
      case 'BigInt':
        return html`<span class="type">BigInt</span><span class="mono">${String(value.value)}n</span>`;
      case 'Number':
        return html`<span class="mono">${String(value.value)}</span>`;
      case 'undefined':
        return html`<span class="type">undefined</span>`;
      default:
        if (value.fields && typeof value.fields === 'object') {
          return html`<span class="type">${type}</span>${renderFields(value.fields as Record<string, Readable>)}`;
        }
        return html`<span class="type">${type}</span>${Object.entries(value)
          .filter(([k]) => k !== '$type')
          .map(([k, v]) => html` <span class="muted">${k}</span> ${renderReadable(v)}`)}`;
    }
  }
  return renderFields(value);
}

function renderFields(fields: Record<string, Readable>): Html {
  const entries = Object.entries(fields);
  if (entries.length === 0) return html`<span class="type">{ }</span>`;
  return html`<dl class="value">${entries.map(([k, v]) => html`<dt>${k}</dt><dd>${renderReadable(v)}</dd>`)}</dl>`;
}

function attributeTable(
  page: Page,
  detail: SessionDetail,
  title: string,
  attributes: AttributeDetail[],
): Html {
  const operator = page.actor.role === 'operator';
  return html`<h2>${title}</h2><table class="attributes"><tr><th>name</th><th>value</th>${operator ? html`<th></th>` : ''}</tr>
${
  attributes.length === 0
    ? html`<tr><td colspan="3" class="muted">none</td></tr>`
    : attributes.map(
        (
          attribute,
        ) => html`<tr data-attribute="${attribute.namespace}:${attribute.name}"><td class="mono">${attribute.name}</td>
<td>${attribute.error ? html`<span class="bad">${attribute.error}</span><br>` : ''}${renderReadable(attribute.value)}</td>
${operator ? html`<td><form method="post" action="${page.prefix}/sessions/${encodeURIComponent(detail.meta.id)}/remove-attribute" class="inline" data-confirm="Remove this attribute?">${csrfField(page)}<input type="hidden" name="namespace" value="${attribute.namespace}"><input type="hidden" name="name" value="${attribute.name}"><button class="secondary" type="submit">remove</button></form></td>` : ''}</tr>`,
      )
}</table>`;
}

export function detailPage(page: Page, detail: SessionDetail, message?: Html): Html {
  const { meta } = detail;
  const now = Date.now();
  const row = (label: string, value: Html | string | number) =>
    html`<tr><th>${label}</th><td>${value}</td></tr>`;
  const operator = page.actor.role === 'operator';
  const namespaces = Object.keys(detail.private).sort();
  const body = html`<h1>Session <code>${meta.id}</code></h1>${message ?? ''}
<div class="grid2"><table id="metadata">
${row('id', html`<code>${meta.id}</code>`)}
${row('state', html`<span class="${detail.state === 'live' ? 'ok' : 'bad'}">${detail.state}</span>`)}
${row('app', meta.app)}
${row('principal', meta.principal ?? html`<span class="muted">anonymous</span>`)}
${row('created', time(meta.createdAt))}
${row('last access', html`${time(meta.lastAccessedAt)} <span class="muted">(idle ${duration(now - meta.lastAccessedAt)})</span>`)}
${row('expires', time(meta.expiresAt))}
${row('absolute end of life', time(meta.absoluteExpiresAt))}
${row('lifetime', meta.maxInactive === 0 ? 'no inactivity limit' : `${duration(meta.maxInactive)} of inactivity`)}
${row('age', duration(now - meta.createdAt))}
${row('client address', meta.clientAddress || '—')}
${row('user agent', meta.userAgent || '—')}
${row('creating host', meta.host || '—')}
${row('last serving host', meta.lastHost || '—')}
${row('created at URL', meta.createdUrl || '—')}
${row('last URL', meta.lastUrl || '—')}
</table>
<div>${
    operator
      ? html`<h2>Actions</h2>
<form method="post" action="${page.prefix}/sessions/${encodeURIComponent(meta.id)}/delete" class="actions" data-confirm="Delete this session? Its user is signed out.">${csrfField(page)}<button class="danger" type="submit">Delete this session</button></form>
${meta.principal ? html`<form method="post" action="${page.prefix}/principals/revoke" class="actions" data-confirm="Sign this user out everywhere?">${csrfField(page)}<input type="hidden" name="principal" value="${meta.principal}"><button class="danger" type="submit">Sign ${meta.principal} out everywhere</button></form>` : ''}`
      : html`<p class="muted">Viewer: read only.</p>`
  }</div></div>
${attributeTable(page, detail, 'Shared attributes', detail.shared)}
${namespaces.length === 0 ? html`<h2>Private attributes</h2><p class="muted">none visible</p>` : namespaces.map((namespace) => attributeTable(page, detail, `Private to ${namespace}`, detail.private[namespace] ?? []))}
<p><a href="${page.prefix}/sessions">← all sessions</a></p>`;
  return layout(page, 'sessions', `Session ${meta.id.slice(0, 8)}…`, body);
}

export function notFoundPage(page: Page, what: string): Html {
  return layout(
    page,
    'sessions',
    'Not found',
    html`<h1>Not found</h1><p class="notice error">${what}</p>${lookupForm(page)}`,
  );
}

// ---------------------------------------------------------------------------------- audit

export function auditPage(
  page: Page,
  result: { entries: AuditEntry[]; next?: string },
  audit: boolean,
): Html {
  const body = html`<h1>Audit log</h1>
${audit ? '' : html`<p class="notice error">This store keeps no audit log; actions are still sent to <code>onAudit</code>.</p>`}
<table id="audit"><tr><th>when</th><th>who</th><th>scope</th><th>action</th><th>target</th><th class="num">sessions</th><th>detail</th></tr>
${
  result.entries.length === 0
    ? html`<tr><td colspan="7" class="muted">nothing yet</td></tr>`
    : result.entries.map(
        (
          entry,
        ) => html`<tr><td>${time(entry.at)}</td><td>${entry.actor}</td><td>${entry.scope}</td><td>${entry.action}</td><td class="mono">${entry.target}</td><td class="num">${entry.count}</td>
<td>${entry.detail ? Object.entries(entry.detail).map(([k, v]) => html`<code>${k}=${String(v)}</code> `) : ''}</td></tr>`,
      )
}</table>
<div class="pager">${result.next ? html`<a rel="next" href="${page.prefix}/audit?cursor=${encodeURIComponent(result.next)}">older →</a>` : html`<span class="muted">end of the log</span>`}</div>`;
  return layout(page, 'audit', 'Audit log', body);
}

export function errorPage(page: Page | undefined, prefix: string, status: number, message: string): Html {
  const body = html`<h1>${status === 403 ? 'Forbidden' : status === 400 ? 'Bad request' : 'Error'}</h1><p class="notice error" role="alert">${message}</p><p><a href="${prefix}/">back</a></p>`;
  return page
    ? layout(page, 'overview', 'Error', body)
    : document('Error', html`<main>${body}</main>`, prefix);
}
