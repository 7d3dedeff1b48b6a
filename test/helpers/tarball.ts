// The packed tarball (`npm pack`, which builds dist/ through `prepack`), made once per `npm test`
// run and shared by the system tests that install it: packing takes a minute or two, and two
// packs at once would build into one dist/ together. The first test to ask packs into the test
// tree (test/compile.ts writes it afresh each run, so a tarball never outlives the sources it was
// packed from); the others wait for it. Run from the sources (tsx), each test packs its own.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CHECKOUT } from './checkout.js';

const run = promisify(execFile);
// The test tree's root, when this file runs compiled in it.
const TREE = import.meta.url.endsWith('.js')
  ? fileURLToPath(new URL('../..', import.meta.url))
  : undefined;
const PACKING_TIMEOUT_MS = 300_000;

/** Packs the checkout into `dir` and resolves the tarball's path. */
async function pack(dir: string): Promise<string> {
  try {
    await run('npm', ['pack', '--pack-destination', dir], {
      cwd: CHECKOUT,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm pack failed:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
  }
  const tgz = (await readdir(dir)).filter((f) => f.endsWith('.tgz'));
  if (tgz.length !== 1) throw new Error(`expected one tarball in ${dir}: ${tgz.join(', ')}`);
  return join(dir, tgz[0] as string);
}

/** The path of this run's packed tarball; packs it if no other test has. */
export async function packedTarball(): Promise<string> {
  if (!TREE) return pack(await mkdtemp(join(tmpdir(), 'mobile-oidc-provider-pack-')));
  const dir = join(TREE, '.packed');
  const done = join(dir, 'done.json');
  try {
    await mkdir(dir); // atomic: whoever makes it packs
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    for (let waited = 0; waited < PACKING_TIMEOUT_MS; waited += 250) {
      if (existsSync(done)) {
        const result = JSON.parse(await readFile(done, 'utf8')) as {
          tarball?: string;
          error?: string;
        };
        if (result.error) throw new Error(`another test's npm pack failed: ${result.error}`);
        return result.tarball as string;
      }
      await sleep(250);
    }
    throw new Error(`no tarball in ${dir} after ${PACKING_TIMEOUT_MS / 1000} s`);
  }
  const result = await pack(join(dir)).then(
    (tarball) => ({ tarball }),
    (error: Error) => ({ error: error.message }),
  );
  // Written whole, then renamed: a waiting test never reads half of it.
  await writeFile(`${done}.part`, JSON.stringify(result));
  await rename(`${done}.part`, done);
  if ('error' in result) throw new Error(result.error);
  return result.tarball;
}
