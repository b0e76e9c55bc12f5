/**
 * The supervisor: forks the app nodes, restarts the ones that die, replaces them one by one
 * in a rolling redeploy, and stops them all on exit. It also keeps the balancer's rotation:
 * a node is in it exactly while its state is `up`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Rotation, Target } from './balancer.js';
import {
  type ClusterView,
  type FromNode,
  NODE_CONFIG_ENV,
  type NodeConfig,
  type NodeView,
  type ToNode,
} from './protocol.js';

export interface SupervisorOptions {
  /** How many app nodes. */
  nodes: number;
  /** The `--store` URL every node opens. */
  store: string;
  /** The store for display (password masked). */
  storeLabel: string;
  /** The balancer's address, which the nodes trust for X-Forwarded-*. @default '127.0.0.1' */
  trustedProxy?: string;
  /** The cookie signing secret every node shares. */
  secret: string;
  /** The monitor's URL, shown on the demo page. */
  monitorUrl?: string;
  /** How long a dead node stays dead before it is restarted, in ms. @default 3000 */
  restartDelay?: number;
  /** How long a node may take to start listening, in ms. @default 20000 */
  startTimeout?: number;
  /** Where the supervisor reports what happens (a node died, came back, was replaced). */
  log?: (line: string) => void;
  /** The node program to fork. @default the demo app's node (./node.ts) */
  entry?: string;
  /** Handed to every node as `NodeConfig.app` (for a custom `entry`). */
  app?: unknown;
}

/** One forked process. A slot's node is replaced by a new AppNode on restart or redeploy. */
export class AppNode implements Target {
  port: number | undefined;
  state: NodeView['state'] = 'starting';
  /** Requests the balancer is proxying to this process right now. */
  inflight = 0;
  served = 0;
  /** True once the supervisor itself asked this process to go (no restart then). */
  retiring = false;
  readonly startedAt = Date.now();
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly version: number,
    readonly child: ChildProcess,
    startTimeout: number,
  ) {
    this.exited = once(child, 'exit').then(() => undefined);
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${name} did not start within ${startTimeout} ms`));
        child.kill('SIGKILL');
      }, startTimeout);
      child.on('message', (message: FromNode) => {
        if (message.type === 'ready') {
          this.port = message.port;
          clearTimeout(timer);
          resolve();
        } else if (message.type === 'fatal') {
          clearTimeout(timer);
          reject(new Error(`${name}: ${message.message}`));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited before it was ready (${signal ?? `code ${code}`})`));
      });
    });
    // Handled by whoever awaits it; this keeps an unawaited failure from crashing the supervisor.
    this.ready.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(message: ToNode): void {
    // The channel may be closing (the node is exiting): a lost message is then harmless.
    if (this.child.connected) this.child.send(message, () => undefined);
  }

  view(): NodeView {
    const { name, pid, port, version, state, startedAt, served } = this;
    return { name, pid, port, version, state, startedAt, served };
  }
}

interface Slot {
  name: string;
  node: AppNode;
  restartTimer?: NodeJS.Timeout;
  /** Consecutive failed restarts, for the back-off. */
  failures: number;
  /** A redeploy is replacing this slot's node: a death now needs no restart. */
  replacing: boolean;
}

export interface RedeployResult {
  version: number;
  replaced: Array<{ name: string; oldPid: number | undefined; newPid: number | undefined }>;
  ms: number;
}

/** The node entry next to this file: `.ts` under tsx, `.js` once built. */
const NODE_ENTRY = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? './node.ts' : './node.js', import.meta.url),
);

export class Supervisor implements Rotation {
  private readonly slots: Slot[] = [];
  /** Every process started and not yet exited, whatever its role. */
  private readonly live = new Set<AppNode>();
  /** Replaced nodes that are draining; shown on the page until they exit. */
  private readonly draining = new Set<AppNode>();
  /** Replacements a redeploy is starting; shown on the page until they take over. */
  private readonly incoming = new Set<AppNode>();
  /** Every pid ever forked, so a caller can check that none outlives the demo. */
  readonly pids: number[] = [];
  private version = 1;
  private next = 0;
  private stopping = false;
  private redeploying: ClusterView['redeploy'] = null;
  private lastServed = -1;
  private readonly ticker: NodeJS.Timeout;
  private readonly log: (line: string) => void;

  constructor(private readonly options: SupervisorOptions) {
    this.log = options.log ?? (() => undefined);
    // Request counts change on every request: push them to the nodes at most once a second.
    this.ticker = setInterval(() => {
      const served = this.views().reduce((sum, node) => sum + node.served, 0);
      if (served !== this.lastServed) this.broadcast();
    }, 1000);
    this.ticker.unref();
  }

  /** Forks every node and resolves when all of them serve; rejects if one cannot start. */
  async start(): Promise<void> {
    for (let i = 1; i <= this.options.nodes; i++) {
      this.slots.push({ name: `node-${i}`, node: this.fork(`node-${i}`, 1), failures: 0, replacing: false });
    }
    await Promise.all(this.slots.map((slot) => slot.node.ready));
    for (const slot of this.slots) slot.node.state = 'up';
    this.broadcast();
  }

  /** The next node in round-robin order that is up and not in `skip`. */
  pick(skip: ReadonlySet<Target>): AppNode | undefined {
    const count = this.slots.length;
    for (let i = 0; i < count; i++) {
      const node = this.slots[(this.next + i) % count]!.node;
      if (node.state === 'up' && !skip.has(node)) {
        this.next = (this.next + i + 1) % count;
        return node;
      }
    }
    return undefined;
  }

  view(): ClusterView {
    const view: ClusterView = {
      nodes: this.views(),
      redeploy: this.redeploying,
      store: this.options.storeLabel,
    };
    if (this.options.monitorUrl) view.monitor = this.options.monitorUrl;
    return view;
  }

  private views(): NodeView[] {
    const nodes = [...this.slots.map((slot) => slot.node), ...this.incoming, ...this.draining];
    // Old and new processes of one slot side by side.
    nodes.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }) || a.version - b.version);
    return nodes.map((node) => node.view());
  }

  /** SIGKILLs a node, as a crash would; the supervisor restarts it after `restartDelay`. */
  async kill(name: string): Promise<AppNode | undefined> {
    const node = this.slots.find((slot) => slot.name === name)?.node;
    if (!node?.alive) return undefined;
    // Out of the rotation first, so no new request is sent to a process about to die.
    node.state = 'down';
    this.broadcast();
    node.child.kill('SIGKILL');
    await node.exited;
    return node;
  }

  /**
   * Replaces every node, one after another: start the new process, wait until it serves,
   * put it in the rotation in place of the old one, let the old one finish its requests,
   * then stop it. Capacity never drops, and no request is cut off.
   */
  async redeploy(): Promise<RedeployResult> {
    if (this.redeploying) throw new Error('a rolling redeploy is already running');
    if (this.stopping) throw new Error('the demo is stopping');
    const started = Date.now();
    const version = ++this.version;
    const replaced: RedeployResult['replaced'] = [];
    try {
      for (const [index, slot] of this.slots.entries()) {
        if (this.stopping) break;
        this.redeploying = { version, step: index + 1, of: this.slots.length, node: slot.name };
        slot.replacing = true;
        this.broadcast();
        const fresh = this.fork(slot.name, version);
        this.incoming.add(fresh);
        this.broadcast();
        try {
          await fresh.ready;
        } finally {
          slot.replacing = false;
          this.incoming.delete(fresh);
        }
        const old = slot.node;
        clearTimeout(slot.restartTimer);
        slot.node = fresh;
        fresh.state = 'up';
        replaced.push({ name: slot.name, oldPid: old.pid, newPid: fresh.pid });
        this.log(`redeploy v${version}: ${slot.name} pid ${old.pid} → pid ${fresh.pid}`);
        await this.retire(old);
      }
    } finally {
      this.redeploying = null;
      this.broadcast();
    }
    return { version, replaced, ms: Date.now() - started };
  }

  /** Stops every process it started; resolves when all have exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.ticker);
    for (const slot of this.slots) clearTimeout(slot.restartTimer);
    await Promise.all([...this.live].map((node) => this.retire(node)));
  }

  /** Takes a node out of the rotation, waits for its requests in flight, then stops it. */
  private async retire(node: AppNode): Promise<void> {
    node.retiring = true;
    if (!node.alive) return;
    node.state = 'draining';
    this.draining.add(node);
    this.broadcast();
    for (let waited = 0; node.inflight > 0 && waited < 10_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    node.send({ type: 'shutdown' });
    const timer = setTimeout(() => node.child.kill('SIGKILL'), 6000);
    await node.exited;
    clearTimeout(timer);
  }

  private fork(name: string, version: number): AppNode {
    const config: NodeConfig = {
      name,
      version,
      store: this.options.store,
      trustedProxy: this.options.trustedProxy ?? '127.0.0.1',
      secret: this.options.secret,
      ...(this.options.app === undefined ? {} : { app: this.options.app }),
    };
    const child = fork(this.options.entry ?? NODE_ENTRY, [], {
      env: { ...process.env, [NODE_CONFIG_ENV]: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const node = new AppNode(name, version, child, this.options.startTimeout ?? 20_000);
    if (child.pid !== undefined) this.pids.push(child.pid);
    this.live.add(node);
    child.on('error', (error) => this.log(`${name}: ${error.message}`));
    child.once('exit', (code, signal) => this.exited(node, code, signal));
    node.ready.then(
      () => this.broadcast(),
      (error: Error) => {
        if (!node.retiring) this.log(error.message);
      },
    );
    return node;
  }

  private exited(node: AppNode, code: number | null, signal: NodeJS.Signals | null): void {
    this.live.delete(node);
    this.draining.delete(node);
    node.state = 'down';
    const slot = this.slots.find((candidate) => candidate.node === node);
    if (slot && !node.retiring && !this.stopping) {
      if (slot.replacing) {
        this.log(`${node.name} (pid ${node.pid}) died during the redeploy; its replacement is starting`);
      } else {
        const delay = Math.min(30_000, (this.options.restartDelay ?? 3000) * 2 ** slot.failures);
        this.log(
          `${node.name} (pid ${node.pid}) died (${signal ?? `exit code ${code}`}); restarting in ${delay / 1000} s`,
        );
        slot.restartTimer = setTimeout(() => this.restart(slot), delay);
      }
    }
    this.broadcast();
  }

  private restart(slot: Slot): void {
    if (this.stopping || slot.replacing || slot.node.alive) return;
    const node = this.fork(slot.name, slot.node.version);
    slot.node = node;
    node.ready.then(
      () => {
        slot.failures = 0;
        if (slot.node !== node || node.retiring) return;
        node.state = 'up';
        this.log(`${node.name} is back: pid ${node.pid}, port ${node.port}`);
        this.broadcast();
      },
      () => {
        slot.failures++;
      },
    );
  }

  /** Sends the cluster view to every node, for their pages. */
  private broadcast(): void {
    const cluster = this.view();
    this.lastServed = cluster.nodes.reduce((sum, node) => sum + node.served, 0);
    for (const node of this.live) node.send({ type: 'cluster', cluster });
  }
}
