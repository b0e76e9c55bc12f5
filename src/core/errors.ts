/**
 * Every error unisession throws is a `UnisessionError` with a stable code from this
 * registry. The README's "Error codes" table lists the same codes (a test checks it).
 */
export const ERROR_CODES = {
  UNISESSION_STORE_UNAVAILABLE: { status: 503, message: 'The session store is unavailable' },
  UNISESSION_DRIVER_MISSING: { status: 500, message: 'A required package is not installed' },
  UNISESSION_SESSION_EXISTS: { status: 500, message: 'A session with this id already exists' },
  UNISESSION_VALUE_TOO_LARGE: { status: 413, message: 'An attribute value is larger than maxValueBytes' },
  UNISESSION_INVALID_NAME: {
    status: 400,
    message: 'An attribute name is empty, too long, not well-formed, has control characters or is reserved',
  },
  UNISESSION_VALUE_TOO_DEEP: {
    status: 413,
    message: 'An attribute value is nested deeper than the codec allows',
  },
  UNISESSION_ENCODE_FAILED: { status: 500, message: 'An attribute value cannot be encoded' },
  UNISESSION_DECODE_FAILED: { status: 500, message: 'A stored attribute value cannot be decoded' },
  UNISESSION_INVALID_OPTION: { status: 500, message: 'An option is invalid' },
  UNISESSION_INVALID_ARGUMENT: {
    status: 400,
    message: 'An argument of a manager or store method is invalid',
  },
  UNISESSION_UNSUPPORTED: { status: 501, message: 'The store does not support this operation' },
  UNISESSION_TOO_MANY_SESSIONS: {
    status: 409,
    message: 'The user has as many sessions as maxSessionsPerPrincipal allows',
  },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class UnisessionError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status an adapter answers with when this error ends a request. */
  readonly status: number;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const base = ERROR_CODES[code].message;
    super(detail ? `${base}: ${detail}` : base, options);
    this.name = 'UnisessionError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
  }
}

export function isUnisessionError(error: unknown, code?: ErrorCode): error is UnisessionError {
  return error instanceof UnisessionError && (code === undefined || error.code === code);
}

/**
 * Wraps a driver's failure (connection refused, timeout...) so callers see one code. The
 * message names only the store (and a safe hint): frameworks such as Fastify put an error's
 * message in the response body, and a driver's text (a host, a constraint, a query) must never
 * reach a client. The driver's error stays on `cause`, which logs and the `error` event show.
 */
export function storeUnavailable(storeName: string, cause: unknown, hint?: string): UnisessionError {
  if (cause instanceof UnisessionError) return cause;
  return new UnisessionError('UNISESSION_STORE_UNAVAILABLE', hint ? `${storeName} (${hint})` : storeName, {
    cause,
  });
}

/** The one error for a missing optional peer dependency. */
export function driverMissing(packageName: string, storeName: string, cause: unknown): UnisessionError {
  return new UnisessionError(
    'UNISESSION_DRIVER_MISSING',
    `the ${storeName} store needs the "${packageName}" package: npm install ${packageName}`,
    { cause },
  );
}

/**
 * An error's message with the messages of its causes, for operators (the CLI, logs), never
 * for HTTP responses: `The session store is unavailable: postgres (connect ECONNREFUSED …)`.
 */
export function explainError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    if (message && !parts.includes(message)) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts[0]} (${parts.slice(1).join(': ')})`;
}
