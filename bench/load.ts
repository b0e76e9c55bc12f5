import autocannon from 'autocannon';
import type { StoreTraffic } from './meter.js';

export interface Measurement {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** Requests completed in the run. */
  requests: number;
}

/**
 * Drives `path` for `seconds` with `connections` concurrent connections, each request
 * carrying the next session cookie in turn, so the load spreads over every session.
 */
export async function measure(
  base: string,
  path: string,
  cookies: string[],
  seconds: number,
  connections = 32,
): Promise<Measurement> {
  let next = 0;
  const result = await autocannon({
    url: base,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        path,
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, cookie: cookies[next++ % cookies.length]! },
        }),
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    requests: result.requests.total,
  };
}

/** Creates `count` sessions of `size` bytes through the app itself; returns their cookies. */
export async function seed(base: string, count: number, size: number): Promise<string[]> {
  const cookies: string[] = [];
  const batch = 25;
  for (let i = 0; i < count; i += batch) {
    const responses = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, () => fetch(`${base}/seed?size=${size}`)),
    );
    for (const response of responses) {
      const cookie = response.headers.get('set-cookie')?.split(';')[0];
      if (response.status !== 200 || !cookie)
        throw new Error(`seeding failed: HTTP ${response.status} ${await response.text()}`);
      cookies.push(cookie);
    }
  }
  return cookies;
}

/** What the contestant's process exchanged with its store, and its CPU time, since the last call (bench/meter.ts). */
export async function storeTraffic(base: string): Promise<StoreTraffic> {
  return (await (await fetch(`${base}/__bench/stats`)).json()) as StoreTraffic;
}
