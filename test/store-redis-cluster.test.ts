import { runStoreConformance, uniqueGroup } from './store-conformance.js';
import { redisStore } from '../src/stores/redis.js';

const nodes = process.env.REDIS_CLUSTER_NODES;
if (!nodes) throw new Error('REDIS_CLUSTER_NODES is not set');
runStoreConformance('redis cluster', () => redisStore({ cluster: nodes.split(','), group: uniqueGroup() }));
