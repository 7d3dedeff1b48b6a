import { randomUUID } from 'node:crypto';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import { describeJourney } from './journey.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describeJourney(
  'Redis (standalone)',
  async () => new RedisStore({ client: REDIS_URL, keyPrefix: `journey:${randomUUID()}:` }),
);
