/**
 * The SSO demo's page, one for all four apps: who is logged in, the shared attributes every
 * app sees, this app's private ones, which node served it, and links to the other apps.
 * Server-rendered, no script: what you see is what this request found in the shared session.
 */
import { escapeHtml } from '../page.js';
import type { SsoAppCode } from './config.js';

export interface SsoPageModel {
  app: SsoAppCode;
  title: string;
  /** Where this app's own forms post (its path prefix, '' at the root). */
  base: string;
  node: { name: string; pid: number };
  user: string | undefined;
  sessionId: string | undefined;
  shared: Record<string, unknown>;
  private: Record<string, unknown>;
  links: Array<{ code: SsoAppCode; url: string }>;
  /** What this app lets you do, as HTML forms (already escaped). */
  actions: string;
  note?: string;
}

const COLOURS: Record<SsoAppCode, string> = {
  portal: '#2563eb',
  shop: '#16a34a',
  admin: '#9333ea',
  partner: '#ea580c',
};

function table(values: Record<string, unknown>, testId: string): string {
  const entries = Object.entries(values);
  if (entries.length === 0) return `<p class="none" data-testid="${testId}">none</p>`;
  const rows = entries
    .map(
      ([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(JSON.stringify(value))}</td></tr>`,
    )
    .join('');
  return `<table data-testid="${testId}">${rows}</table>`;
}

export function renderSsoPage(model: SsoPageModel): string {
  const colour = COLOURS[model.app];
  const links = model.links
    .map(({ code, url }) =>
      code === model.app
        ? `<strong>${code}</strong>`
        : `<a href="${escapeHtml(url)}" data-testid="link-${code}">${code}</a>`,
    )
    .join(' · ');
  const who = model.user
    ? `Logged in as <strong data-testid="user">${escapeHtml(model.user)}</strong>`
    : '<span data-testid="user">Not logged in</span>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(model.title)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #111; }
  header { background: ${colour}; color: white; padding: 16px 24px; }
  header h1 { margin: 0; font-size: 22px; }
  main { padding: 16px 24px; max-width: 760px; }
  nav { margin: 8px 0 16px; }
  table { border-collapse: collapse; margin: 4px 0 12px; }
  th, td { text-align: left; padding: 2px 12px 2px 0; font-family: ui-monospace, monospace; font-size: 14px; }
  .none { color: #666; margin: 4px 0 12px; }
  form { display: inline-block; margin: 4px 8px 4px 0; }
  small { color: #555; }
  header small { color: #f1f5f9; }
  .note { background: #fef9c3; padding: 8px 12px; }
</style></head>
<body data-app="${model.app}" data-node="${escapeHtml(model.node.name)}">
<header><h1>${escapeHtml(model.title)}</h1>
<small>served by <span data-testid="node">${escapeHtml(model.node.name)}</span> (pid ${model.node.pid}) of the ${model.app} cluster</small></header>
<main>
<nav>Apps: ${links}</nav>
${model.note ? `<p class="note" data-testid="note">${escapeHtml(model.note)}</p>` : ''}
<p>${who}</p>
<h2>Shared attributes <small>(every app sees them)</small></h2>
${table(model.shared, 'shared')}
<h2>Private to ${model.app} <small>(no other app sees them)</small></h2>
${table(model.private, 'private')}
<div>${model.actions}</div>
<p><small>Session ${model.sessionId ? escapeHtml(`${model.sessionId.slice(0, 8)}…`) : '(none)'}: one session in one store for all four apps.</small></p>
</main></body></html>`;
}
