import { createHash } from 'node:crypto';

/**
 * A consistent-hash ring (ketama layout: 40 md5 digests, 160 points, per node). Written here
 * rather than taken from `hashring` because we need one thing that library does not give: the
 * walk of *distinct* nodes from a key's position, which names the primary, the backup (the
 * next distinct node) and the nodes to fall back on when those are down, all in ring order.
 * Adding or removing a node moves only the keys on its arcs.
 */
export class HashRing {
  private readonly points: Array<{ at: number; node: string }> = [];

  constructor(readonly nodes: readonly string[]) {
    for (const node of nodes) {
      for (let i = 0; i < 40; i++) {
        const digest = createHash('md5').update(`${node}-${i}`).digest();
        for (let j = 0; j < 4; j++) this.points.push({ at: digest.readUInt32LE(j * 4), node });
      }
    }
    // Ties (vanishingly rare) are broken by name so every process builds the same ring.
    this.points.sort((a, b) => a.at - b.at || (a.node < b.node ? -1 : 1));
  }

  /** Every node once, in ring order from the key's position: [primary, backup, ...]. */
  walk(key: string): string[] {
    const { points } = this;
    if (points.length === 0) return [];
    const at = createHash('md5').update(key).digest().readUInt32LE(0);
    let low = 0;
    let high = points.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (points[mid]!.at < at) low = mid + 1;
      else high = mid;
    }
    const seen = new Set<string>();
    for (let i = 0; i < points.length && seen.size < this.nodes.length; i++) {
      seen.add(points[(low + i) % points.length]!.node);
    }
    return [...seen];
  }
}
