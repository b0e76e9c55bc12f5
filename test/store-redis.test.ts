import { runStoreConformance, uniqueGroup } from './store-conformance.js';
import { redisStore } from '../src/stores/redis.js';

const url = process.env.REDIS_URL;
if (!url) throw new Error('REDIS_URL is not set: run `source .services/env` (scripts/services.sh start) first');
runStoreConformance('redis', () => redisStore({ url, group: uniqueGroup() }));
