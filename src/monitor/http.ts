import { isUnisessionError } from '../core/errors.js';
import { QueryError } from './query.js';
import { Forbidden, UnsupportedListing } from './service.js';

/*
 * Responses shared by the API and the UI: JSON bodies, the security headers every answer
 * carries, and the one mapping from a thrown error to a status and a message that is safe to
 * show (ours, never a driver's).
 */

/** Sent with every response: nothing is cached, framed, sniffed, or leaks a Referer. */
export const SECURITY_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on form posts,
  // which the Origin check must refuse. Nothing leaks to other sites either way.
  'referrer-policy': 'same-origin',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

export function withHeaders(init: ResponseInit = {}, extra: Record<string, string> = {}): ResponseInit {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries({ ...SECURITY_HEADERS, ...extra })) {
    if (!headers.has(name)) headers.set(name, value);
  }
  return { ...init, headers };
}

export function json(body: unknown, status = 200, extra: Record<string, string> = {}): Response {
  return new Response(
    JSON.stringify(body),
    withHeaders({ status }, { 'content-type': 'application/json; charset=utf-8', ...extra }),
  );
}

export interface Problem {
  status: number;
  code: string;
  message: string;
}

/**
 * What a client is told about a failure. Messages of our own validation (a bad filter, a
 * forged cursor) are shown; anything else is generic, and `report` receives the error.
 */
export function problemOf(error: unknown, report: (error: unknown) => void): Problem {
  if (error instanceof QueryError) return { status: 400, code: 'INVALID_QUERY', message: error.message };
  if (error instanceof Forbidden) return { status: 403, code: 'FORBIDDEN', message: error.message };
  if (error instanceof UnsupportedListing)
    return { status: 501, code: 'UNSUPPORTED', message: error.message };
  if (isUnisessionError(error, 'UNISESSION_INVALID_ARGUMENT')) {
    return { status: 400, code: error.code, message: error.message };
  }
  if (isUnisessionError(error, 'UNISESSION_UNSUPPORTED')) {
    return { status: 501, code: error.code, message: error.message };
  }
  report(error);
  if (isUnisessionError(error, 'UNISESSION_STORE_UNAVAILABLE')) {
    return { status: 503, code: error.code, message: 'The session store is unavailable' };
  }
  return { status: 500, code: 'INTERNAL', message: 'The monitor failed to answer; see its error log' };
}

/** Reads a JSON request body of at most 64 KiB; undefined when absent or malformed. */
export async function readJson(request: Request): Promise<unknown> {
  const text = await readText(request, 65_536);
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new QueryError('the request body is not valid JSON');
  }
}

/** Reads an urlencoded form body of at most 64 KiB. */
export async function readForm(request: Request): Promise<URLSearchParams> {
  const text = await readText(request, 65_536);
  return new URLSearchParams(text ?? '');
}

async function readText(request: Request, max: number): Promise<string | undefined> {
  if (!request.body) return undefined;
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > max) throw new QueryError(`the request body is larger than ${max} bytes`);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new QueryError(`the request body is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
