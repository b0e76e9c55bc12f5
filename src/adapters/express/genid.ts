import type { Request } from 'express';
import { customIdProblem } from '../../core/id.js';
import type { RequestInfo } from '../../core/request.js';
import { invalidOption } from '../../core/validate.js';

/** The Express request behind each request view the middleware opened a session for. */
const requests = new WeakMap<RequestInfo, Request>();

/** Lets `genid(req)` receive the Express request the core's request view stands for. */
export function rememberRequest(info: RequestInfo, req: Request): RequestInfo {
  requests.set(info, req);
  return info;
}

/**
 * The core's `generateId` for express-session's `genid(req)`. Each id is checked at once (the
 * core checks again): a weak one (short, outside `[A-Za-z0-9_-]`, few distinct characters, a
 * repeated pattern, the previous id again) fails the request with UNISESSION_INVALID_OPTION
 * naming `genid`, before any session is named by it.
 */
export function genidGenerator(genid: (req: Request) => string): (info: RequestInfo) => string {
  let previous: string | undefined;
  return (info) => {
    const id = genid(requests.get(info) as Request);
    const problem = customIdProblem(id, previous);
    if (problem !== undefined) throw invalidOption('session', 'genid', `a function returning ${problem}`, id);
    previous = id;
    return id;
  };
}
