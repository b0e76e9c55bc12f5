/**
 * The fuzz servers: each adapter's app in a child process of its own (a crash must not take
 * the test down with it), on one SQLite file. The child reports every error that reached
 * the process over IPC, and switches its store's fault injection on request.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { type Adapter, type ChildMessage, type FaultMessage, TRUSTING_ADAPTER } from './protocol.js';

/** How long one request may take before it counts as "no answer". */
const ANSWER_WITHIN_MS = 8_000;
/**
 * Node's own limit on a request's header section (--max-http-header-size). A request over
 * it never reaches the app: Node answers 431, or drops the connection while the client is
 * still writing. Either is fine; the app must just go on serving.
 */
const NODE_HEADER_LIMIT = 16 * 1024;

export interface Reply {
  /** The path requested. */
  path: string;
  /** 431 also when Node dropped the connection of a request over its header limit. */
  status: number;
  headers: IncomingHttpHeaders;
  setCookies: string[];
  body: string;
}

/** A request as it goes on the wire: header values are byte strings (one char per byte). */
export interface WireRequest {
  path: string;
  headers: Record<string, string | string[]>;
}

export class FuzzServer {
  /** Every uncaught exception and unhandled rejection the child reported, in order. */
  readonly crashes: string[] = [];
  private readonly events = new EventEmitter();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });

  private constructor(
    readonly adapter: Adapter,
    readonly child: ChildProcess,
    readonly port: number,
    /** Everything the process printed. */
    readonly output: string[],
  ) {
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'crash') {
        this.crashes.push(`${message.kind}: ${message.text}`);
        this.events.emit('trouble');
      } else if (message.type === 'fault') {
        this.events.emit('fault', message.down);
      }
    });
    child.once('exit', () => this.events.emit('trouble'));
  }

  static async start(adapter: Adapter, sqliteFile: string): Promise<FuzzServer> {
    const child = spawn(process.execPath, ['--import', 'tsx', `test/e2e/fuzz/fixtures/${adapter}.ts`], {
      env: {
        ...process.env,
        FUZZ_SQLITE_FILE: sqliteFile,
        FUZZ_TRUST_PROXY: String(adapter === TRUSTING_ADAPTER),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const output: string[] = [];
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const port = await announcedPort(child, adapter, output);
    return new FuzzServer(adapter, child, port, output);
  }

  get trustsProxy(): boolean {
    return this.adapter === TRUSTING_ADAPTER;
  }

  /** Why the process cannot answer any more, or undefined while it runs. */
  get exited(): string | undefined {
    const { exitCode, signalCode } = this.child;
    if (exitCode === null && signalCode === null) return undefined;
    return `the ${this.adapter} process exited (${signalCode ?? exitCode}): ${this.output.join('').slice(-2000)}`;
  }

  /**
   * Sends one request and resolves with the reply. Rejects as soon as the process reports
   * an error it did not handle or exits (a request it was serving may never be answered),
   * and after ANSWER_WITHIN_MS without an answer.
   */
  async send(wire: WireRequest): Promise<Reply> {
    const crashesBefore = this.crashes.length;
    const abort = new AbortController();
    const trouble = once(this.events, 'trouble', { signal: abort.signal }).then(() => {
      throw new Error(this.troubleSince(crashesBefore) ?? `the ${this.adapter} process is in trouble`);
    });
    try {
      const reply = await Promise.race([this.exchangeOrRefused(wire, abort.signal), trouble]);
      const problem = this.troubleSince(crashesBefore);
      if (problem) throw new Error(problem);
      return reply;
    } finally {
      abort.abort();
      trouble.catch(() => undefined);
    }
  }

  /** What went wrong in the process since `crashesBefore` reports had come in. */
  troubleSince(crashesBefore: number): string | undefined {
    const crashes = this.crashes.slice(crashesBefore);
    if (crashes.length > 0) return `the ${this.adapter} process saw ${crashes.join('\n')}`;
    return this.exited;
  }

  /** Switches the store's fault injection, and waits until the child has done it. */
  async setFault(down: boolean): Promise<void> {
    const done = once(this.events, 'fault');
    this.child.send({ type: 'fault', down } satisfies FaultMessage);
    await done;
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    if (this.exited) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }

  private async exchangeOrRefused(wire: WireRequest, signal: AbortSignal): Promise<Reply> {
    try {
      return await this.exchange(wire, signal);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const dropped = code === 'ECONNRESET' || code === 'EPIPE';
      if (!dropped || !mayExceedNodeLimit(wire)) throw error;
      return { path: wire.path, status: 431, headers: {}, setCookies: [], body: '' };
    }
  }

  private exchange(wire: WireRequest, signal: AbortSignal): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const outgoing = request(
        {
          host: '127.0.0.1',
          port: this.port,
          path: wire.path,
          method: 'GET',
          headers: wire.headers,
          // Over the limit, on a connection of its own: some servers answer 431 and then
          // close the connection without saying so, which would fail the next request.
          agent: mayExceedNodeLimit(wire) ? false : this.agent,
          signal,
          timeout: ANSWER_WITHIN_MS,
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('error', reject);
          incoming.on('end', () =>
            resolve({
              path: wire.path,
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              setCookies: incoming.headers['set-cookie'] ?? [],
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      outgoing.on('timeout', () =>
        outgoing.destroy(
          new Error(`${this.adapter}: no answer to ${wire.path} within ${ANSWER_WITHIN_MS} ms`),
        ),
      );
      outgoing.on('error', reject);
      outgoing.end();
    });
  }
}

/** Whether the request line and header lines may be over Node's limit (counted with a margin). */
function mayExceedNodeLimit(wire: WireRequest): boolean {
  // The request line, Host and Connection take about 64 bytes besides the path.
  let size = wire.path.length + 64;
  for (const [name, values] of Object.entries(wire.headers)) {
    for (const value of [values].flat()) size += name.length + value.length + 4;
  }
  return size > NODE_HEADER_LIMIT - 256;
}

function announcedPort(child: ChildProcess, adapter: Adapter, output: string[]): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${adapter} did not start: ${output.join('')}`)), 30_000);
    const onData = () => {
      const match = /^listening (\d+)$/m.exec(output.join(''));
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(Number(match[1]));
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${adapter} exited with ${code} before listening: ${output.join('')}`));
    });
  });
}
