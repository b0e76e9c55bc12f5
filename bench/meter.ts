import net from 'node:net';

export interface StoreTraffic {
  /** Bytes this process wrote to its store since the last reading. */
  sent: number;
  /** Bytes this process received from its store since the last reading. */
  received: number;
  /** CPU time (user + system) this process used since the last reading, in µs. */
  cpuMicros: number;
}

/**
 * Counts the bytes this process exchanges with sockets connected to `storePort`: what the
 * session library sends its store and what it gets back. Every contestant installs the same
 * meter, so the numbers compare. Returns a function that reads and resets the counts, with
 * the process's CPU time over the same span.
 */
export function meterStoreTraffic(storePort: number): () => StoreTraffic {
  let sent = 0;
  let received = 0;
  let cpu = process.cpuUsage();
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function countingWrite(this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    if (this.remotePort === storePort && chunk) sent += Buffer.byteLength(chunk as string | Buffer);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof write;
  // Every client reads its socket through 'data' events (ioredis, mongodb, pg alike).
  const emit = net.Socket.prototype.emit;
  net.Socket.prototype.emit = function countingEmit(
    this: net.Socket,
    event: string | symbol,
    ...args: unknown[]
  ) {
    if (event === 'data' && this.remotePort === storePort) {
      const chunk = args[0] as Buffer | string;
      received += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    }
    return (emit as (...a: unknown[]) => boolean).call(this, event, ...args);
  } as typeof emit;
  return () => {
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const reading = { sent, received, cpuMicros: used.user + used.system };
    sent = 0;
    received = 0;
    return reading;
  };
}
