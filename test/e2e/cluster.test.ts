/**
 * The cluster acceptance test: 3 processes of an Express app share the SQLite store; every
 * request goes to the next process, one process is SIGKILLed halfway and restarted later.
 * No session, no attribute update and no increment may be lost.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from '../helpers/client.js';
import { type Node, startNode, stopNode } from '../helpers/processes.js';

const APP = 'test/e2e/fixtures/cluster-app.ts';
const REQUESTS = 1000;

describe('cluster of 3 processes on the embedded SQLite store', () => {
  const db = join(mkdtempSync(join(tmpdir(), 'unisession-cluster-')), 'sessions.sqlite');
  const nodes: Array<Node | undefined> = [];
  after(async () => {
    await Promise.all(nodes.map((node) => node && stopNode(node)));
  });

  it('survives a SIGKILL midway with no lost session, update or increment', async () => {
    for (let i = 0; i < 3; i++) nodes.push(await startNode(APP, { DB: db, NODE_NAME: `node-${i}` }));
    const client = new Client('');
    let next = 0;
    let refused = 0;
    /** Round robin over the live nodes; a refused connection moves on to the next node. */
    const send = async (path: string) => {
      for (let attempt = 0; attempt < nodes.length; attempt++) {
        const node = nodes[next++ % nodes.length];
        if (!node) continue;
        try {
          return await client.json<{ node: string; user: string | null; counter: number }>(
            `http://127.0.0.1:${node.port}${path}`,
          );
        } catch (error) {
          if ((error as { cause?: { code?: string } }).cause?.code !== 'ECONNREFUSED') throw error;
          refused++;
        }
      }
      throw new Error('no node answered');
    };

    await send('/login?user=alice');
    const servedBy = new Set<string>();
    for (let i = 1; i <= REQUESTS; i++) {
      if (i === REQUESTS / 2) {
        // Kill a node between two requests: every acknowledged write must already be durable.
        await stopNode(nodes[1]!, 'SIGKILL');
      }
      if (i === (REQUESTS * 3) / 4) nodes[1] = await startNode(APP, { DB: db, NODE_NAME: 'node-1b' });
      const reply = await send('/inc');
      servedBy.add(reply.node);
      assert.equal(reply.user, 'alice', `request ${i}: logged out`);
      assert.equal(reply.counter, i, `request ${i}: lost increment`);
    }
    assert.deepEqual([...servedBy].sort(), ['node-0', 'node-1', 'node-1b', 'node-2']);
    assert.ok(refused > 0, 'the killed node was tried and refused');

    for (const node of nodes) {
      const state = await client.json<Record<string, unknown>>(`http://127.0.0.1:${node!.port}/state`);
      assert.equal(state.counter, REQUESTS);
      assert.equal(state.user, 'alice');
      assert.deepEqual(
        state.history,
        Array.from({ length: REQUESTS }, (_, i) => i + 1),
      );
      for (let k = 0; k < 50; k++) assert.equal(state[`k${k}`], REQUESTS - ((REQUESTS - k) % 50));
    }
  });
});
