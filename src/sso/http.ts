import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedOptions } from '../core/options.js';
import { isSecureRequest, type RequestInfo, requestHost, trustPredicate } from '../core/request.js';

/**
 * The SSO handlers' own view of HTTP, so that one implementation serves Web-standard handlers
 * and node:http/Express alike (src/sso/mount.ts converts). Every answer carries the two
 * headers that keep tickets out of caches and Referer headers.
 */

/** What an SSO handler needs of a request: the query, cookies, and the origin the client used. */
export interface SsoRequest {
  info: RequestInfo;
  /** The request URL as the client saw it (scheme and host from a trusted proxy when there is one). */
  url: URL;
  secure: boolean;
}

/** An SSO answer, before it becomes a `Response` or is written to a `ServerResponse`. */
export interface SsoResponse {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

/**
 * On every SSO response. `no-store`: a page or redirect carrying a ticket must never be served
 * again from a cache. `no-referrer`: the next page must not receive the ticket (in the URL of
 * the callback) in its Referer header.
 */
export const SSO_HEADERS: ReadonlyArray<[string, string]> = [
  ['cache-control', 'no-store'],
  ['referrer-policy', 'no-referrer'],
];

/**
 * The request as SSO sees it. `absolute` is the Fetch API's full URL when there is one; a node
 * request has only a path, so scheme and host come from TLS and Host (or a trusted proxy).
 */
export function ssoRequest(
  info: RequestInfo,
  options: Pick<ResolvedOptions, 'trustProxy'>,
  absolute?: string,
): SsoRequest {
  const trusted = trustPredicate(options.trustProxy);
  const secure = isSecureRequest(info, trusted);
  const host = requestHost(info, trusted) ?? 'invalid.host';
  let url: URL;
  try {
    url = absolute ? new URL(absolute) : new URL(info.url, `${secure ? 'https' : 'http'}://${host}`);
  } catch {
    url = new URL('/', 'http://invalid.host');
  }
  return { info, url, secure };
}

export function redirect(location: string, headers: Array<[string, string]> = []): SsoResponse {
  return { status: 303, headers: [...SSO_HEADERS, ['location', location], ...headers], body: '' };
}

/**
 * A refusal: a short page saying what was wrong in words a user can act on, with a stable
 * `reason` code. It never carries the ticket, the session id or a driver's message.
 */
export function refusal(
  status: number,
  reason: string,
  explanation: string,
  headers: Array<[string, string]> = [],
) {
  const body =
    '<!doctype html><meta charset="utf-8"><title>Sign-in failed</title>' +
    `<h1>Sign-in failed</h1><p>${escapeHtml(explanation)}</p><p><small>${escapeHtml(reason)}</small></p>`;
  return {
    status,
    headers: [
      ...SSO_HEADERS,
      ['content-type', 'text/html; charset=utf-8'],
      ['x-sso-refused', reason],
      ...headers,
    ],
    body,
  } satisfies SsoResponse;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The single value of a query parameter; undefined when absent or given more than once. */
export function single(url: URL, name: string): string | undefined {
  const values = url.searchParams.getAll(name);
  return values.length === 1 ? values[0] : undefined;
}

export function toWebResponse(answer: SsoResponse): Response {
  const headers = new Headers();
  for (const [name, value] of answer.headers) headers.append(name, value);
  return new Response(answer.status === 303 ? null : answer.body, { status: answer.status, headers });
}

export function writeNodeResponse(res: ServerResponse, answer: SsoResponse): void {
  res.statusCode = answer.status;
  const grouped = new Map<string, string[]>();
  for (const [name, value] of answer.headers) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0]! : values);
  res.end(answer.body);
}

export type NodeRequest = IncomingMessage;
