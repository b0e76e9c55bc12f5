import type { Server } from 'node:http';

/** Listens on 127.0.0.1 (the demos serve loopback only); rejects with the listen error (a port taken, say). */
export function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
