import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import type { NextFunction, Request, Response } from 'express';

/** Listens on a free loopback port and returns the base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A running server: its base URL and how to stop it. */
export type Running = { url: string; close(): Promise<void> };

/** Listens on a free loopback port; `close` also ends keep-alive connections. */
export async function serve(server: Server): Promise<Running> {
  return { url: await listen(server), close: () => close(server) };
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on right now, for a server a test starts as a child process. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The Express error handler a user would write: the UnisessionError's status and code, as JSON. */
export function errorsAsJson(
  error: { status?: number; code?: string; message: string },
  _req: Request,
  res: Response,
  _next: NextFunction,
): void {
  res.status(error.status ?? 500).json({ error: error.code, message: error.message });
}
