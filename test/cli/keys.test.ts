// `mobile-oidc-provider keys`: generate prints a key set the server takes; rotate moves it through
// the stages of a rotation (add: new keys published but not signing; promote: they sign, the
// old ones verify; retire: only the signing keys remain; now: add and promote at once); env
// prints it as the example server's environment. Bad input is one line on stderr, exit 1 (bad
// keys) or 2 (bad usage), and never echoes key material.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAuthServer, type ServerKeys } from 'mobile-oidc-provider';
import type { JWK } from 'oidc-provider';
import { cli, keysFrom, rotated } from '../helpers/cli.js';
import { testAccounts } from '../helpers/fixture.js';

const kids = (keys: ServerKeys) => keys.jwks.keys.map((jwk) => jwk.kid);
const pending = (jwk: JWK) => Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('sign');
/** The kid that signs `alg`: oidc-provider's choice, the first key of the alg that may sign. */
const signer = (keys: ServerKeys, alg: string) =>
  keys.jwks.keys.find((jwk) => jwk.alg === alg && !pending(jwk))?.kid;

describe('mobile-oidc-provider keys', () => {
  let dir: string;
  let generated: ServerKeys;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mop-cli-'));
    generated = await keysFrom(['keys', 'generate']);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('generate prints private RS256 and ES256 keys and a cookie key, which a production server starts with', async () => {
    assert.deepEqual(
      generated.jwks.keys.map((jwk) => [jwk.alg, jwk.use, typeof jwk.d, typeof jwk.kid]),
      [
        ['RS256', 'sig', 'string', 'string'],
        ['ES256', 'sig', 'string', 'string'],
      ],
    );
    assert.equal(generated.cookieKeys.length, 1);
    const server = await createAuthServer({
      issuer: 'https://login.example.com',
      ...generated,
      accounts: testAccounts(),
    });
    await server.close();
    const again = await keysFrom(['keys', 'generate']);
    assert.notDeepEqual(kids(again), kids(generated), 'every run makes new keys');
  });

  it('rotate --stage add appends new keys of each signing algorithm as pending (key_ops ["verify"]) and a new cookie key last: the old keys still sign', async () => {
    const added = await rotated(generated, 'add');
    assert.deepEqual(added.jwks.keys.slice(0, 2), generated.jwks.keys, 'the old keys stay first');
    const fresh = added.jwks.keys.slice(2);
    assert.deepEqual(
      fresh.map((jwk) => [jwk.alg, jwk.key_ops, typeof jwk.d]),
      [
        ['RS256', ['verify'], 'string'],
        ['ES256', ['verify'], 'string'],
      ],
    );
    assert.equal(signer(added, 'RS256'), generated.jwks.keys[0]?.kid);
    assert.equal(added.cookieKeys[0], generated.cookieKeys[0], 'the old cookie key still signs');
    assert.equal(added.cookieKeys.length, 2);
    // The RSA key is as long as the one it replaces.
    assert.equal(fresh[0]?.n?.length, generated.jwks.keys[0]?.n?.length);
  });

  it('rotate --stage promote makes the pending keys sign and keeps the old ones verifying; the newest cookie key signs', async () => {
    const added = await rotated(generated, 'add');
    const promoted = await rotated(added, 'promote');
    const [newRsa, newEc] = added.jwks.keys.slice(2).map((jwk) => jwk.kid);
    assert.deepEqual(kids(promoted), [newRsa, newEc, ...kids(generated)]);
    assert.ok(!promoted.jwks.keys.some(pending), 'no key is pending any more');
    assert.equal(signer(promoted, 'RS256'), newRsa);
    assert.equal(signer(promoted, 'ES256'), newEc);
    assert.deepEqual(promoted.cookieKeys, [added.cookieKeys[1], generated.cookieKeys[0]]);
  });

  it('rotate --stage retire keeps only the keys that sign and the cookie key that signs', async () => {
    const promoted = await rotated(await rotated(generated, 'add'), 'promote');
    const retired = await rotated(promoted, 'retire');
    assert.deepEqual(retired.jwks.keys, promoted.jwks.keys.slice(0, 2));
    assert.deepEqual(retired.cookieKeys, promoted.cookieKeys.slice(0, 1));
  });

  it('rotate with no stage (now) signs with new keys at once and keeps the old ones verifying', async () => {
    const now = await keysFrom(['keys', 'rotate'], JSON.stringify(generated));
    assert.deepEqual(kids(now).slice(2), kids(generated));
    assert.ok(!kids(generated).includes(signer(now, 'RS256')));
    assert.ok(!now.jwks.keys.some(pending));
    assert.equal(now.cookieKeys[1], generated.cookieKeys[0]);
  });

  it('rotate reads a file argument as well as stdin, and says on stderr which keys sign', async () => {
    const file = join(dir, 'keys.json');
    await writeFile(file, JSON.stringify(generated));
    const run = await cli(['keys', 'rotate', '--stage', 'add', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stderr,
      `signing: RS256 ${kids(generated)[0]}, ES256 ${kids(generated)[1]}; verifying only: ${JSON.parse(
        run.stdout,
      )
        .jwks.keys.slice(2)
        .map((jwk: JWK) => `${jwk.alg} ${jwk.kid}`)
        .join(', ')}; cookie keys: 2 (the first signs)\n`,
    );
  });

  it('attack on the procedure: promoting twice, adding twice, or retiring pending keys is refused (a second promote would sign with the old key again)', async () => {
    const added = await rotated(generated, 'add');
    const promoted = await rotated(added, 'promote');
    for (const [keys, stage, message] of [
      [promoted, 'promote', 'no pending keys to promote'],
      [generated, 'promote', 'no pending keys to promote'],
      [added, 'add', 'already hold pending keys'],
      [added, 'retire', 'promote them (--stage promote) before retiring'],
    ] as const) {
      const run = await cli(['keys', 'rotate', '--stage', stage], JSON.stringify(keys));
      assert.equal(run.code, 1, `${stage}: ${run.stderr}`);
      assert.match(
        run.stderr,
        new RegExp(`^mobile-oidc-provider: .*${message.replace(/[()]/g, '\\$&')}`),
      );
      assert.equal(run.stdout, '');
    }
  });

  it("a server starts with each stage's keys (pending keys included)", async () => {
    const added = await rotated(generated, 'add');
    for (const keys of [added, await rotated(added, 'promote')]) {
      const server = await createAuthServer({
        issuer: 'https://login.example.com',
        ...keys,
        accounts: testAccounts(),
      });
      await server.close();
    }
  });

  it('env prints JWKS and COOKIE_KEYS lines, as the example server reads them', async () => {
    const promoted = await rotated(await rotated(generated, 'add'), 'promote');
    const run = await cli(['keys', 'env'], JSON.stringify(promoted));
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.deepEqual(JSON.parse((lines[0] as string).replace(/^JWKS=/, '')), promoted.jwks);
    assert.equal(lines[1], `COOKIE_KEYS=${promoted.cookieKeys.join(',')}`);
  });

  describe('bad input: one line on stderr, no stack, exit 1 for keys and 2 for usage', () => {
    const cases: Array<[string, string[], string | undefined, number, RegExp]> = [
      ['no command', [], undefined, 2, /a command is needed/],
      ['an unknown command', ['frobnicate'], undefined, 2, /unknown command frobnicate/],
      ['an unknown keys command', ['keys', 'shred'], undefined, 2, /unknown command keys shred/],
      ['an unknown option', ['keys', 'generate', '--bits'], undefined, 2, /--bits/],
      ['an unknown stage', ['keys', 'rotate', '--stage', 'later'], '{}', 2, /unknown stage later/],
      ['two files', ['keys', 'rotate', 'a', 'b'], undefined, 2, /unexpected argument b/],
      [
        'no file and nothing on stdin',
        ['keys', 'rotate'],
        undefined,
        2,
        /file argument or on stdin/,
      ],
      [
        'a missing file',
        ['keys', 'rotate', '/nonexistent/keys.json'],
        undefined,
        1,
        /cannot read the key file \/nonexistent\/keys.json \(ENOENT\)/,
      ],
      [
        'malformed JSON',
        ['keys', 'rotate'],
        '{"jwks": secret-ish',
        1,
        /^mobile-oidc-provider: stdin is not JSON( \(at position \d+\))?\n$/,
      ],
      ['the wrong shape', ['keys', 'env'], '{"keys":[]}', 1, /expected \{"jwks"/],
      [
        'no RS256 key',
        ['keys', 'rotate'],
        '{"jwks":{"keys":[]},"cookieKeys":["c"]}',
        1,
        /no private RSA signing key for RS256/,
      ],
      [
        'a short cookie key',
        ['keys', 'rotate'],
        'GENERATED_WITH_SHORT_COOKIE',
        1,
        /cookieKeys must be/,
      ],
    ];
    for (const [name, args, stdin, code, message] of cases) {
      it(name, async () => {
        const input =
          stdin === 'GENERATED_WITH_SHORT_COOKIE'
            ? JSON.stringify({ ...generated, cookieKeys: ['short'] })
            : stdin;
        const run = await cli(args, input);
        assert.equal(run.code, code, run.stderr);
        assert.match(run.stderr, message);
        assert.match(run.stderr, /^mobile-oidc-provider: [^\n]+\n$/, 'one line');
        assert.doesNotMatch(run.stderr, /secret-ish|\bat .*\.js/, 'no input echoed, no stack');
        assert.equal(run.stdout, '');
      });
    }

    it("a public key in place of a private one is refused by the server's own check", async () => {
      const {
        d: _d,
        p: _p,
        q: _q,
        dp: _dp,
        dq: _dq,
        qi: _qi,
        ...publicRsa
      } = generated.jwks.keys[0] as JWK;
      const run = await cli(
        ['keys', 'rotate'],
        JSON.stringify({ ...generated, jwks: { keys: [publicRsa, generated.jwks.keys[1]] } }),
      );
      assert.equal(run.code, 1);
      assert.match(run.stderr, /^mobile-oidc-provider: stdin: jwks\.keys\[0\] is a public key/);
    });

    it('control: --help prints the usage on stdout, exit 0', async () => {
      for (const args of [['--help'], ['-h'], ['keys', 'rotate', '--help'], ['serve', '--help']]) {
        const run = await cli(args);
        assert.equal(run.code, 0);
        assert.match(run.stdout, /^Usage: mobile-oidc-provider <command>/);
        assert.match(run.stdout, /--stage promote/);
      }
    });
  });
});
