import type { ServerResponse } from 'node:http';
import { ERROR_CODES, UnisessionError } from '../../core/errors.js';

/**
 * Answers with the error's status and code and the code's fixed message: never the error's
 * own message, which may carry a driver's text (a table name, a connection string).
 */
export function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body =
    error instanceof UnisessionError
      ? { error: error.code, message: ERROR_CODES[error.code].message }
      : { message: 'Internal Server Error' };
  res.statusCode = error instanceof UnisessionError ? error.status : 500;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}
