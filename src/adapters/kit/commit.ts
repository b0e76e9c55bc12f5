import type { Session } from '../../core/session.js';

export type Callback = (error?: unknown) => void;

/**
 * Commits the session and returns the response headers not handed out yet: what every
 * adapter does before its response leaves.
 */
export async function commitHeaders(session: Session): Promise<Array<[string, string]>> {
  await session.commit();
  return session.responseHeaders();
}

/**
 * Runs a session method for an API that takes a callback or returns a promise (Express's and
 * Fastify's `save(cb)`, `regenerate(cb)`...). Without a callback the promise carries the
 * outcome. With one, the outcome goes to the callback, and the promise never rejects: a
 * callback that throws goes to `fail`, so nothing reaches the process as an unhandled rejection.
 */
export function settle(
  work: Promise<void>,
  callback: Callback | undefined,
  fail: (error: unknown) => void,
): Promise<void> {
  if (!callback) return work;
  return work.then(() => callback(), callback).catch(fail);
}
