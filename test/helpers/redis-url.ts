/**
 * The developer's Redis that in-process tests share (each under a key prefix of its own):
 * `TEST_REDIS_URL`, or the local default that `.ci/run` starts.
 */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
