import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** How a drained server ended. */
export interface DrainResult {
  /** Connections still open at the deadline, cut with their requests unfinished. */
  cut: number;
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });

/**
 * Stops a node:http (or https) server gracefully: it accepts no new connection, lets every
 * request under way finish (and so its session commit, which the adapters make before the
 * response leaves), and closes each keep-alive connection as soon as it is idle, so that a
 * client or load balancer reusing it opens a new one, on another node. At `deadline` (a
 * `Date.now()` value) whatever is still open is cut.
 *
 * `server.close()` alone is not enough: it closes the connections idle at that moment, but a
 * connection busy then is kept alive after its response and could take further requests
 * for as long as the client keeps it. Fastify's `close()` has the same gap (it waits for such a
 * connection until its keep-alive timeout), so `close` lets a framework close its own server
 * while this closes the connections. @param close stops the server; resolves when it is closed.
 */
export async function drainServer(
  server: Server,
  deadline: number,
  close: () => Promise<unknown> = () => closeServer(server),
): Promise<DrainResult> {
  const onRequest = (_request: IncomingMessage, response: ServerResponse) => {
    // A request that arrived on a kept-alive connection after the drain began is served, then
    // the connection closes: Node ends it after a response that says so.
    if (!response.headersSent) response.setHeader('connection', 'close');
  };
  server.on('request', onRequest);
  const closed = close();
  // Connections go idle one by one as their responses end: close each one when it does.
  const sweep = setInterval(() => server.closeIdleConnections(), 25);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), Math.max(0, deadline - Date.now()));
  });
  try {
    server.closeIdleConnections();
    if ((await Promise.race([closed, late])) !== 'late') return { cut: 0 };
    const cut = await openConnections(server);
    server.closeAllConnections();
    await closed;
    return { cut };
  } finally {
    clearInterval(sweep);
    clearTimeout(timer);
    server.off('request', onRequest);
  }
}

function openConnections(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));
}
