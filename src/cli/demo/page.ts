/**
 * The demo page: server-rendered HTML with a little inline CSS and no script, so what you
 * see is exactly what this one request, on this one node, found in the shared session.
 */
import type { Device } from '../../core/admin-types.js';
import { escapeHtml } from '../../monitor/ui/html.js';
import type { ClusterView, NodeView } from './protocol.js';

// One escaping rule for every page we render: the monitor's. The SSO demo pages import it from here.
export { escapeHtml };

export interface PageModel {
  node: { name: string; version: number; pid: number; port: number | undefined };
  session: {
    id: string;
    isNew: boolean;
    createdAt: number;
    lastAccessedAt: number;
    visits: number;
    user: string | undefined;
  };
  request: { protocol: string; clientAddress: string; secureCookie: boolean };
  cluster: ClusterView;
  /** The signed-in user's live sessions ("your sessions"); empty when nobody is logged in. */
  devices: Device[];
  /** The query string: `killed`, `redeploy` and `live` change what the page says. */
  query: URLSearchParams;
  error?: string;
}

/** A stable colour per slot, so switching nodes is visible at a glance. */
function hue(name: string): number {
  const index = Number(/(\d+)$/.exec(name)?.[1] ?? 0);
  return (index * 137 + 200) % 360;
}

function time(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

function ago(ms: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s ago`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min ago`;
}

function banner(model: PageModel): string {
  const killed = model.query.get('killed');
  const { redeploy } = model.cluster;
  const notes: string[] = [];
  if (model.error) notes.push(`<p class="note bad" role="alert">${escapeHtml(model.error)}</p>`);
  if (killed) {
    notes.push(
      `<p class="note warn"><b>${escapeHtml(killed)} was killed</b> (SIGKILL). This page came from ` +
        `<b>${escapeHtml(model.node.name)}</b> instead, with the same session: ${
          model.session.user ? `still logged in as <b>${escapeHtml(model.session.user)}</b>` : 'nothing lost'
        }. The supervisor restarts ${escapeHtml(killed)} in a few seconds.</p>`,
    );
  }
  if (redeploy) {
    notes.push(
      `<p class="note info"><b>Rolling redeploy to v${redeploy.version}</b>: replacing ${escapeHtml(redeploy.node)} ` +
        `(${redeploy.step} of ${redeploy.of}). Keep reloading: nobody is logged out, no visit is lost.</p>`,
    );
  } else if (model.query.get('redeploy') === 'started') {
    notes.push(
      '<p class="note info">Rolling redeploy finished (or is just starting): see the versions below.</p>',
    );
  }
  return notes.join('\n');
}

function nodeRow(node: NodeView, servedBy: number, now: number): string {
  const current = node.pid === servedBy;
  return `<tr class="${current ? 'current' : ''}">
      <td><span class="dot ${node.state}"></span><span class="chip" style="--h:${hue(node.name)}">${escapeHtml(node.name)}</span></td>
      <td>${node.state}</td><td>v${node.version}</td><td>${node.pid ?? '–'}</td><td>${node.port ?? '–'}</td>
      <td>${node.served}</td><td>${ago(node.startedAt, now)}</td></tr>`;
}

function deviceRow(device: Device, now: number): string {
  const what = [device.browser, device.os].filter(Boolean).join(' on ') || 'unknown browser';
  return `<tr class="${device.current ? 'current' : ''}">
      <td>${escapeHtml(what)}${device.current ? ' <b>(this one)</b>' : ''}</td><td class="mono">${escapeHtml(device.id)}</td>
      <td>${escapeHtml(device.clientAddress)}</td><td>${ago(device.lastAccessedAt, now)}</td></tr>`;
}

/** "Your sessions", as large sites show them: every live session of this user, and a way out of the others. */
function devicesCard(model: PageModel, now: number): string {
  if (!model.session.user) return '';
  const others = model.devices.filter((device) => !device.current).length;
  const signedOut = model.query.get('signedout');
  return `  <section class="card wide">
    <h2>Your sessions: ${model.devices.length}</h2>
    <table>
      <thead><tr><th>device</th><th>session</th><th>address</th><th>last seen</th></tr></thead>
      <tbody id="devices">${model.devices.map((device) => deviceRow(device, now)).join('')}</tbody>
    </table>
    <div class="actions" style="margin-top:14px">
      <form method="post" action="/sessions/revoke-others"><button id="revoke-others" class="secondary"${others === 0 ? ' disabled' : ''}>Sign out other devices (${others})</button></form>
      ${signedOut === null ? '' : `<p class="muted" id="signed-out">Signed out ${escapeHtml(signedOut)} other session(s).</p>`}
    </div>
    <p class="muted">Log in with the same name in another browser (or a private window) to see a second device here.</p>
  </section>
`;
}

function loginForm(model: PageModel): string {
  if (model.session.user) {
    return `<form method="post" action="/logout" class="row">
        <p>Logged in as <b id="user">${escapeHtml(model.session.user)}</b></p>
        <button id="logout" class="secondary">Log out</button></form>`;
  }
  return `<form method="post" action="/login" class="row">
      <label for="name">Not logged in. Your name</label>
      <input id="name" name="name" required maxlength="40" placeholder="ada" autocomplete="off">
      <button id="login">Log in</button></form>`;
}

export function renderPage(model: PageModel): string {
  const { node, session, request, cluster } = model;
  const now = Date.now();
  const live = model.query.get('live') === '1';
  const up = cluster.nodes.filter((n) => n.state === 'up').length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${live ? '<meta http-equiv="refresh" content="1">' : ''}
<title>unisession demo · ${escapeHtml(node.name)}</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%232563eb'/%3E%3C/svg%3E">
<style>
  :root { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2937; background: #f3f4f6; }
  body { max-width: 920px; margin: 0 auto; padding: 20px; }
  header { display: flex; align-items: baseline; justify-content: space-between; gap: 12px; flex-wrap: wrap; }
  h1 { font-size: 22px; margin: 0; } h1 small { font-weight: 400; color: #6b7280; font-size: 15px; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: #6b7280; margin: 0 0 10px; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; margin-top: 14px; }
  .card { background: #fff; border-radius: 10px; padding: 16px; box-shadow: 0 1px 3px #0001; }
  .wide { grid-column: 1 / -1; }
  .served { border-top: 6px solid hsl(var(--h) 70% 50%); }
  .big { font-size: 30px; font-weight: 700; margin: 0; }
  .chip { background: hsl(var(--h) 80% 92%); color: hsl(var(--h) 70% 28%); border-radius: 6px; padding: 1px 7px; font-weight: 600; }
  .muted { color: #6b7280; } code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; } dt { color: #6b7280; } dd { margin: 0; overflow-wrap: anywhere; }
  .visits { font-size: 44px; font-weight: 800; color: #2563eb; line-height: 1; }
  table { width: 100%; border-collapse: collapse; font-size: 14px; }
  th { text-align: left; color: #6b7280; font-weight: 500; border-bottom: 1px solid #e5e7eb; padding: 4px 6px; }
  td { padding: 5px 6px; border-bottom: 1px solid #f3f4f6; } tr.current td { background: #eff6ff; }
  .dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 7px; background: #9ca3af; }
  .dot.up { background: #16a34a; } .dot.starting { background: #f59e0b; } .dot.draining { background: #f97316; } .dot.down { background: #dc2626; }
  .row { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin: 0; } .row p { margin: 0; }
  input { font: inherit; padding: 6px 9px; border: 1px solid #d1d5db; border-radius: 6px; }
  button, .button { font: inherit; font-weight: 600; padding: 7px 14px; border-radius: 6px; border: 0; background: #2563eb; color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
  button.secondary, .button.secondary { background: #e5e7eb; color: #1f2937; }
  button.danger { background: #dc2626; } button.warn { background: #d97706; } button:disabled { opacity: .45; cursor: default; }
  .actions { display: flex; gap: 10px; flex-wrap: wrap; } .actions form { margin: 0; }
  .note { padding: 10px 14px; border-radius: 8px; margin: 14px 0 0; } .note.warn { background: #fef3c7; } .note.info { background: #dbeafe; } .note.bad { background: #fee2e2; }
  ul { margin: 6px 0 0; padding-left: 20px; } li { margin: 3px 0; }
</style></head>
<body>
<header>
  <h1>unisession demo <small>one session, ${cluster.nodes.length} nodes, no sticky sessions</small></h1>
  <span class="muted">store: <code>${escapeHtml(cluster.store)}</code></span>
</header>
${banner(model)}
<div class="grid">
  <section class="card served" style="--h:${hue(node.name)}">
    <h2>This request was served by</h2>
    <p class="big" id="node-name">${escapeHtml(node.name)}</p>
    <p class="mono muted">pid <span id="node-pid">${node.pid}</span> · port <span id="node-port">${node.port ?? '–'}</span> · version <span id="node-version">v${node.version}</span></p>
    <p class="muted">Reload: the balancer sends each request to the next node, with no stickiness.</p>
  </section>
  <section class="card">
    <h2>Visits in this session</h2>
    <p class="visits" id="visits">${session.visits}</p>
    <p class="muted">+1 on every page load, whichever node serves it.</p>
  </section>
  <section class="card wide">
    <h2>Your session</h2>
    <dl>
      <dt>Session id</dt><dd class="mono" id="session-id">${escapeHtml(session.id)}${session.isNew ? ' <span class="muted">(new)</span>' : ''}</dd>
      <dt>Created</dt><dd>${time(session.createdAt)} <span class="muted">(${ago(session.createdAt, now)})</span></dd>
      <dt>Last access</dt><dd>${time(session.lastAccessedAt)} <span class="muted">(${ago(session.lastAccessedAt, now)}; recorded at most every 10 s)</span></dd>
      <dt>Cookie</dt><dd>HttpOnly, SameSite=Lax, Secure <b>${request.secureCookie ? 'on' : 'off'}</b> <span class="muted">(the balancer says the client came over ${escapeHtml(request.protocol)}; X-Forwarded-Proto is trusted from 127.0.0.1 only)</span></dd>
      <dt>Client</dt><dd>${escapeHtml(request.clientAddress)} <span class="muted">(from X-Forwarded-For)</span></dd>
    </dl>
    <div style="margin-top:14px">${loginForm(model)}</div>
  </section>
${devicesCard(model, now)}${
  cluster.monitor
    ? `  <section class="card wide">
    <h2>Monitor</h2>
    <p class="row"><a class="button secondary" id="monitor" href="${escapeHtml(cluster.monitor)}" target="_blank" rel="noopener">Open the monitoring centre</a>
    <span class="muted">Sign in with the one-time token the demo printed. Watch this session appear and the online count change;
    delete it there and this tab is logged out on its next request.</span></p>
  </section>
`
    : ''
}  <section class="card wide">
    <h2>Cluster: ${up} of ${cluster.nodes.length} nodes up</h2>
    <table>
      <thead><tr><th>node</th><th>state</th><th>version</th><th>pid</th><th>port</th><th>requests</th><th>started</th></tr></thead>
      <tbody id="nodes">${cluster.nodes.map((n) => nodeRow(n, node.pid, now)).join('')}</tbody>
    </table>
    <div class="actions" style="margin-top:14px">
      <a class="button secondary" href="/" id="reload">Reload</a>
      <a class="button secondary" href="${live ? '/' : '/?live=1'}" id="live">${live ? 'Stop live reload' : 'Live: reload every second'}</a>
      <form method="post" action="/_demo/kill"><input type="hidden" name="node" value="${escapeHtml(node.name)}"><button id="kill" class="danger">Kill this node (${escapeHtml(node.name)})</button></form>
      <form method="post" action="/_demo/redeploy"><button id="redeploy" class="warn"${cluster.redeploy ? ' disabled' : ''}>Rolling redeploy</button></form>
    </div>
  </section>
</div>
<p class="muted">Every reload goes to the next node (round robin). Each node is a separate process that keeps nothing in memory:
the session lives in the shared store, so any node can serve you, a killed node costs nothing, and a redeploy logs nobody out.</p>
</body></html>`;
}
