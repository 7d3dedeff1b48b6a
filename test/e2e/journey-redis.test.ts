import { randomUUID } from 'node:crypto';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { describeJourney } from './journey.js';

describeJourney(
  'Redis (standalone)',
  async () => new RedisStore({ client: TEST_REDIS_URL, keyPrefix: `journey:${randomUUID()}:` }),
);
