// Hostile credentials at the passkey routes: a seeded run of mutated WebAuthn answers (fields of
// the wrong type, prototype-reaching keys, deep nesting, truncated or flipped bytes, client data
// that is no JSON, CBOR that is no CBOR) posted to the login page's passkey route and to the
// passkey page. Each is refused with the page's own status (401 or 400; 413 for a body over the
// form limit), never a 5xx, and no prototype is polluted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../helpers/example.js';
import {
  passkeyLogin,
  passkeyPage,
  postCredential,
  signedInBrowser,
  startWithPasskeys,
} from '../helpers/passkeys.js';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x9a55);
const ROUNDS = Number(process.env.FUZZ_PASSKEY_ROUNDS ?? 300);

let server: RunningServer;
before(async () => {
  server = await startWithPasskeys((o) => ({
    ...o,
    interactions: {
      ...o.interactions,
      signInRateLimit: { perAccount: false, perIp: false, perUsername: false },
    },
  }));
});
after(() => server.close());

/** mulberry32: a small seeded generator, so a failure replays with its seed. */
function generator(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]) =>
  items[Math.floor(random() * items.length)] as T;

const b64u = (text: string) => Buffer.from(text).toString('base64url');
const deep = (depth: number): unknown => (depth === 0 ? 'x' : { a: deep(depth - 1) });

/** Odd values for one field. */
function oddValue(random: Random, original: unknown): unknown {
  const text = typeof original === 'string' ? original : 'AAAA';
  return pick(random, [
    undefined,
    null,
    0,
    -1,
    1e308,
    true,
    [],
    [text],
    {},
    { __proto__: { polluted: true } },
    'x'.repeat(5000),
    '',
    '%%%',
    text.slice(0, Math.floor(text.length / 2)),
    `${text}!`,
    flip(random, text),
    b64u('not json'),
    b64u('{"type":"webauthn.get","challenge":{"a":1},"origin":[]}'),
    b64u(JSON.stringify({ challenge: 'A'.repeat(48), __proto__: { x: 1 } })),
    deep(80),
  ]);
}

/** `text` (base64url) with one byte flipped. */
function flip(random: Random, text: string): string {
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.length === 0) return text;
  const at = Math.floor(random() * bytes.length);
  bytes[at] = (bytes[at] as number) ^ (1 + Math.floor(random() * 255));
  return bytes.toString('base64url');
}

/** A mutation of a valid WebAuthn answer: one to three fields replaced, or raw text. */
function mutate(random: Random, valid: Record<string, unknown>): string {
  if (random() < 0.1) {
    return pick(random, [
      '{',
      '"a string"',
      '[1,2,3]',
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      `${'['.repeat(3000)}${']'.repeat(3000)}`,
    ]);
  }
  const copy = structuredClone(valid) as Record<string, Record<string, unknown>>;
  for (let i = 0; i < 1 + Math.floor(random() * 3); i += 1) {
    const response = copy.response;
    if (
      random() < 0.6 &&
      typeof response === 'object' &&
      response !== null &&
      !Array.isArray(response)
    ) {
      const key = pick(random, Object.keys(response).concat('extra'));
      (response as Record<string, unknown>)[key] = oddValue(random, response[key]);
    } else {
      const key = pick(random, ['id', 'rawId', 'type', 'response', 'clientExtensionResults']);
      (copy as Record<string, unknown>)[key] = oddValue(random, copy[key]);
    }
  }
  return JSON.stringify(copy);
}

describe('hostile credentials at the passkey routes', () => {
  it(`refuses ${ROUNDS} mutated assertions at the login page with 401, never a 5xx`, async () => {
    const random = generator(SEED);
    const browser = await signedInBrowser(server.issuer);
    const authenticator = new SoftwareAuthenticator(server.issuer);
    const { add } = await passkeyPage(browser, server.issuer);
    await postCredential(browser, add, authenticator.create(add.options));
    const login = await passkeyLogin(server.issuer);
    const statuses = new Map<number, number>();
    for (let i = 0; i < ROUNDS; i += 1) {
      const valid = authenticator.get(login.form.options) as unknown as Record<string, unknown>;
      const res = await postCredential(login.browser, login.form, mutate(random, valid));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const body = await res.text();
      assert.ok(
        [401, 303, 413].includes(res.status),
        `round ${i} (seed ${SEED}) answered ${res.status}`,
      );
      assert.doesNotMatch(body, /\bat \w+ \(|Error:/, 'no stack trace');
      // A mutation that left the answer valid signs in: start over with a new interaction.
      if (res.status === 303) Object.assign(login, await passkeyLogin(server.issuer));
    }
    assert.ok((statuses.get(401) ?? 0) > ROUNDS * 0.8, JSON.stringify([...statuses]));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it(`refuses ${ROUNDS} mutated registrations at the passkey page with 400, never a 5xx`, async () => {
    const random = generator(SEED + 1);
    const browser = await signedInBrowser(server.issuer, 'otheruser');
    for (let i = 0; i < ROUNDS; i += 1) {
      const { add } = await passkeyPage(browser, server.issuer);
      const authenticator = new SoftwareAuthenticator(server.issuer);
      const valid = authenticator.create(add.options) as unknown as Record<string, unknown>;
      const res = await postCredential(browser, add, mutate(random, valid));
      await res.body?.cancel();
      assert.ok(
        [400, 303, 413].includes(res.status),
        `round ${i} (seed ${SEED + 1}) answered ${res.status}`,
      );
    }
    const stored = await server.auth.passkeys.list('otheruser');
    for (const p of stored) {
      assert.equal(typeof p.id, 'string');
      assert.equal(typeof p.createdAt, 'number');
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
