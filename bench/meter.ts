import net from 'node:net';

/**
 * Counts the bytes this process writes to sockets connected to `storePort`: what the session
 * library sends its store. Every contestant installs the same meter, so the numbers compare.
 * Returns a function that reads and resets the count.
 */
export function meterStoreBytes(storePort: number): () => number {
  let bytes = 0;
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function countingWrite(this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    if (this.remotePort === storePort && chunk) bytes += Buffer.byteLength(chunk as string | Buffer);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof write;
  return () => {
    const counted = bytes;
    bytes = 0;
    return counted;
  };
}
