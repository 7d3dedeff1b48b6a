import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout's root directory. `npm test` runs the tests from a mirror of it (test/compile.ts)
 * whose files link back here; what must act on the checkout itself (`npm pack`, `npm run bench`)
 * starts from this.
 */
export const CHECKOUT = dirname(
  realpathSync(fileURLToPath(new URL('../../package-lock.json', import.meta.url))),
);
