import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { SessionManager } from '../core/manager.js';
import { checkOptions, invalidOption, is } from '../core/validate.js';
import { drainServer } from './node/drain.js';

/**
 * What `gracefulShutdown` stops first: a node:http or https server (what Express's, Koa's and
 * plain Node's `listen()` and Hono's `serve()` return), or anything with an async `close()`
 * that stops accepting and waits for its requests, as a Fastify instance does (its `onClose`
 * hooks run then, and the unisession plugin closes the manager it made).
 */
export type Closable = Server | { close(): PromiseLike<unknown> };

export interface ShutdownOptions {
  /**
   * How long in-flight requests may take to finish, in ms, from the signal. Connections still
   * open then are cut (and counted in the report). Keep it under your orchestrator's grace
   * period (Kubernetes: 30 s; systemd: TimeoutStopSec). @default 10_000
   */
  timeoutMs?: number;
  /** The signals that start the shutdown; `[]` installs no handler (call `shutdown()`). @default ['SIGTERM', 'SIGINT'] */
  signals?: NodeJS.Signals[];
  /**
   * Exit the process once a signal's shutdown is done: code 0, or 1 if connections had to be
   * cut or closing failed. Without it, the process exits when nothing else keeps it alive. @default true
   */
  exit?: boolean;
}

/** What one shutdown did. */
export interface ShutdownReport {
  /** Connections cut at the deadline with their requests unfinished (0 in a clean shutdown). */
  cut: number;
  /** Failures while closing (a store that could not close cleanly); the shutdown went on. */
  errors: unknown[];
}

export interface GracefulShutdown {
  /** Runs the shutdown now (the signal handlers call it). Every call returns the same promise. */
  shutdown(): Promise<ShutdownReport>;
  /** Removes the signal handlers. */
  dispose(): void;
}

const SHUTDOWN_OPTIONS = {
  timeoutMs: is.positiveInteger,
  signals: is.arrayOf(is.nonEmptyString),
  exit: is.boolean,
};

const isNodeServer = (value: unknown): value is Server =>
  value instanceof NetServer && typeof (value as Server).closeIdleConnections === 'function';

/**
 * Shuts a node down without dropping a request or a session write, on SIGTERM (a rolling
 * deploy, `docker stop`, Kubernetes) and SIGINT:
 * 1. the servers stop accepting connections; requests under way finish, with their session
 *    commits, and each keep-alive connection closes once idle, so the load balancer sends
 *    the next request to another node;
 * 2. then each manager closes: its sweeper stops (a sweep under way finishes), it gives up the
 *    sweeper lease so another node takes over at once, and its store closes.
 *
 * @param servers what accepts requests: node:http servers, or a Fastify instance.
 * @param managers the session managers to close after the servers: `session(...).manager`,
 *   or the manager you made. A Fastify plugin's own manager closes in Fastify's `onClose`.
 * @example
 * const sessions = session({ store: redisStore({ url }) });
 * app.use(sessions);
 * const server = app.listen(3000);
 * gracefulShutdown(server, sessions.manager, { timeoutMs: 10_000 });
 */
export function gracefulShutdown(
  servers: Closable | readonly Closable[],
  managers: SessionManager | readonly SessionManager[] = [],
  options: ShutdownOptions = {},
): GracefulShutdown {
  checkOptions('gracefulShutdown', options, SHUTDOWN_OPTIONS);
  const targets = toList(servers);
  const owned = toList(managers);
  targets.forEach((target, i) => {
    if (!isNodeServer(target) && typeof (target as { close?: unknown })?.close !== 'function') {
      throw invalidOption(
        'gracefulShutdown',
        `servers[${i}]`,
        'a node:http server or an object with close()',
        target,
      );
    }
  });
  owned.forEach((manager, i) => {
    if (!(manager instanceof SessionManager)) {
      throw invalidOption('gracefulShutdown', `managers[${i}]`, 'a SessionManager', manager);
    }
  });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let running: Promise<ShutdownReport> | undefined;

  const shutdown = () => {
    running ??= run(targets, owned, Date.now() + timeoutMs);
    return running;
  };
  const onSignal = () => {
    shutdown().then((report) => {
      if (options.exit !== false) process.exit(report.cut > 0 || report.errors.length > 0 ? 1 : 0);
    });
  };
  for (const signal of signals) process.on(signal, onSignal);
  return {
    shutdown,
    dispose: () => {
      for (const signal of signals) process.off(signal, onSignal);
    },
  };
}

async function run(
  targets: Closable[],
  managers: SessionManager[],
  deadline: number,
): Promise<ShutdownReport> {
  const errors: unknown[] = [];
  const drained = await Promise.all(
    targets.map(async (target) => {
      try {
        if (isNodeServer(target)) return (await drainServer(target, deadline)).cut;
        const framework = target as { close(): PromiseLike<unknown>; server?: unknown };
        const close = async () => framework.close();
        // Fastify: its close() stops its server; the drain closes each connection once idle.
        if (isNodeServer(framework.server)) return (await drainServer(framework.server, deadline, close)).cut;
        await close();
      } catch (error) {
        errors.push(error);
      }
      return 0;
    }),
  );
  // Only now: a request still running above may be committing through these managers.
  for (const manager of managers) {
    try {
      await manager.close();
    } catch (error) {
      errors.push(error);
    }
  }
  return { cut: drained.reduce((sum, cut) => sum + cut, 0), errors };
}

function toList<T>(value: T | readonly T[]): T[] {
  return Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
}
