/**
 * Round trips to Redis, counted on the client side: writes on an ioredis connection's socket.
 * With one request at a time and auto-pipelining, one write is one round trip.
 *
 * @module
 */
import type { Redis } from 'ioredis';

/** Counts the writes on `redis`'s socket from now on (each new socket after a reconnect too). */
export function countSocketWrites(redis: Redis): () => number {
  let writes = 0;
  redis.on('connect', () => {
    const { stream } = redis;
    const write = stream.write;
    stream.write = function (this: typeof stream, ...args: unknown[]) {
      writes += 1;
      return Reflect.apply(write, this, args) as boolean;
    };
  });
  return () => writes;
}
