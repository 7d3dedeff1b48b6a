// Redirect URIs say what they mean (issue #13). A redirect URI is matched as a string but
// followed by a browser, so the registered string must name exactly one place: no userinfo
// (RFC 3986 §3.2.1, §7.6: `https://app.example.com@evil.example/` goes to evil.example), no
// backslashes, no IP address in a form a browser rewrites, and RFC 3986 (fast-uri) and the
// browsers' WHATWG URL parser must agree on scheme, host, port, path and query. Loopback
// redirects are exactly http://127.0.0.1[:port]/… or http://[::1][:port]/… (RFC 8252 §7.3,
// §8.3). An internationalised host is stored, returned and matched in its ASCII (punycode) form
// (RFC 7591 §2 lets the server replace values; the response shows what it stored). Every refusal
// is `invalid_redirect_uri` naming the URI (RFC 7591 §3.2.2), and leaves no client behind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { RegistrationPolicyError } from '../../lib/core/errors.js';
import {
  applyInstanceRules,
  type InstanceRuleSettings,
  redirectUriProblem,
} from '../../lib/registration/instance-rules.js';
import { ClientCountingStore } from '../helpers/client-counter.js';
import { APP_REDIRECT_URI, type RunningServer, startExample } from '../helpers/example.js';
import { type JsonBody, json } from '../helpers/json.js';
import { postRegistration } from '../helpers/registration.js';
import { freshDcrToken } from '../helpers/sign-in.js';

const SETTINGS: InstanceRuleSettings = {
  allowedScopes: ['openid', 'profile', 'offline_access'],
  authMethods: ['client_secret_basic', 'private_key_jwt'],
};

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The rules' refusal of `uris` as redirect_uris (fails when they accept them). */
function refusal(field: string, uris: string[]): RegistrationPolicyError {
  try {
    applyInstanceRules(
      { redirect_uris: ['com.example.app:/ok'], [field]: uris },
      structuredClone(SETTINGS),
    );
  } catch (error) {
    assert.ok(error instanceof RegistrationPolicyError, String(error));
    return error;
  }
  assert.fail(`${uris.join(', ')} was accepted`);
}

/** Each attack, the RFC it offends, and what the refusal must say. */
const ATTACKS: Array<[uri: string, rule: string, reason: RegExp]> = [
  // RFC 3986 §3.2.1 / §7.6: userinfo makes the host look like another one.
  ['https://app.example.com@evil.example/cb', 'RFC 3986 §3.2.1 userinfo', /userinfo/],
  ['https://evil.example:443@app.example.com/cb', 'RFC 3986 §3.2.1 user:password', /userinfo/],
  ['https://user:secret@app.example.com/cb', 'RFC 3986 §3.2.1 user:password', /userinfo/],
  ['https://@app.example.com/cb', 'RFC 3986 §3.2.1 empty userinfo', /userinfo/],
  ['https://:@app.example.com/cb', 'RFC 3986 §3.2.1 empty user and password', /userinfo/],
  ['https://app.example.com%2f@evil.example/', 'RFC 3986 §3.2.1 encoded slash', /userinfo/],
  ['http://127.0.0.1@evil.example/cb', 'RFC 8252 §8.3 loopback as userinfo', /userinfo/],
  ['com.example.app://user@callback', 'RFC 3986 §3.2.1 in a private-use URI', /userinfo/],
  // Backslashes: not RFC 3986 characters; WHATWG reads them as '/' in http(s).
  ['http://127.0.0.1\\@evil.example/', 'RFC 3986 §2 backslash before @', /backslash/],
  ['https://evil.example\\@app.example.com/', 'RFC 3986 §2 backslash in the host', /backslash/],
  ['https:\\\\evil.example/cb', 'RFC 3986 §2 backslashes as slashes', /backslash/],
  ['https://app.example.com\\cb', 'RFC 3986 §2 backslash as a path', /backslash/],
  ['com.example.app:\\cb', 'RFC 3986 §2 backslash in a private-use URI', /backslash/],
  // IPv4 literals a browser rewrites (decimal, octal, hex, short forms).
  ['http://2130706433/', 'RFC 3986 §3.2.2 decimal IPv4', /non-canonical IP address '2130706433'/],
  ['http://127.1/', 'RFC 3986 §3.2.2 short IPv4', /non-canonical IP address '127\.1'/],
  ['http://0177.0.0.1/', 'RFC 3986 §3.2.2 octal IPv4', /non-canonical IP address/],
  ['http://0x7f000001/', 'RFC 3986 §3.2.2 hex IPv4', /non-canonical IP address/],
  ['http://0x7f.1/', 'RFC 3986 §3.2.2 hex short IPv4', /read as 127\.0\.0\.1/],
  ['http://127.0.0.01/cb', 'RFC 3986 §3.2.2 leading zero', /non-canonical IP address/],
  ['https://0x7f.0.0.1/cb', 'RFC 3986 §3.2.2 hex IPv4 over https', /non-canonical IP address/],
  ['https://01.2.3.4/cb', 'RFC 3986 §3.2.2 octal part over https', /non-canonical IP address/],
  // RFC 8252 §7.3: loopback is exactly 127.0.0.1 or [::1], lower-case http, a path.
  ['http://[::ffff:127.0.0.1]/cb', 'RFC 8252 §7.3 IPv4-mapped IPv6', /IPv6 address/],
  ['http://[::ffff:7f00:1]/cb', 'RFC 8252 §7.3 IPv4-mapped IPv6 (canonical)', /loopback/],
  ['http://[0:0:0:0:0:0:0:1]/cb', 'RFC 8252 §7.3 uncompressed ::1', /IPv6 address/],
  ['http://[::1%25lo0]/cb', 'RFC 8252 §7.3 zone id', /browsers can parse/],
  ['http://localhost/', 'RFC 8252 §8.3 localhost', /loopback/],
  ['http://localhost:8080/cb', 'RFC 8252 §8.3 localhost with a port', /loopback/],
  ['http://127.0.0.1.nip.io/cb', 'RFC 8252 §8.3 a DNS name over http', /loopback/],
  ['http://127.0.0.2/cb', 'RFC 8252 §7.3 other loopback address', /loopback/],
  ['HTTP://127.0.0.1/cb', 'RFC 8252 §7.3 upper-case scheme', /exactly http:\/\/127\.0\.0\.1/],
  ['http://127.0.0.1', 'RFC 8252 §7.3 no path', /exactly http:\/\/127\.0\.0\.1/],
  ['http://127.0.0.1:8080', 'RFC 8252 §7.3 no path after the port', /exactly/],
  ['http://127.0.0.1?x=1', 'RFC 8252 §7.3 a query without a path', /exactly/],
  ['http://127.0.0.1:/cb', 'RFC 3986 §3.2.3 empty port', /port ''/],
  ['http://127.0.0.1:080/cb', 'RFC 3986 §3.2.3 port with a leading zero', /port '080'/],
  ['http://127.0.0.1:65536/cb', 'RFC 3986 §3.2.3 port out of range', /port/],
  // Percent-encoded and internationalised hosts that have no exact ASCII form.
  ['https://ex%61mple.com/cb', 'RFC 3986 §3.2.2 percent-encoded host', /percent-encode its host/],
  ['https://app%2eexample.com/cb', 'RFC 3986 §3.2.2 encoded dot', /percent-encode its host/],
  ['https://ＡＰＰ.example.com/cb', 'UTS #46 fullwidth letters', /IDNA mapping/],
  ['https://app。example.com/cb', 'UTS #46 ideographic full stop', /IDNA mapping/],
  ['https://bu\u0308cher.example/cb', 'UTS #46 decomposed ü', /IDNA mapping/],
  ['https://bücher.example/cb?q=é', 'RFC 3986 §2 non-ASCII query', /must be ASCII/],
  ['https://app.example.com/bücher', 'RFC 3986 §2 non-ASCII path', /must be ASCII/],
  ['com.example.app://bücher/cb', 'RFC 3986 §2 non-ASCII private-use host', /must be ASCII/],
  // WHATWG and RFC 3986 read something else.
  ['https://app.example.com/a/../cb', 'RFC 3986 §5.2.4 dot segments', /path '\/a\/\.\.\/cb'/],
  ['https://app.example.com/%2e%2e/cb', 'RFC 3986 §5.2.4 encoded dots', /path/],
  ['https://app.example.com/cb/.', 'RFC 3986 §5.2.4 trailing dot segment', /path/],
  ['com.example.app:/a/./cb', 'RFC 3986 §5.2.4 dot segment, private-use', /path/],
  ['https:app.example.com/cb', 'RFC 3986 §3.2 no authority', /must have a host/],
  ['https:/app.example.com/cb', 'RFC 3986 §3.2 one slash', /must have a host/],
  ['https:///app.example.com/cb', 'RFC 3986 §3.2 three slashes', /must have a host/],
  ['https://app.example.com/cb?x=%ZZ', 'RFC 3986 §2.1 bad percent-encoding', /percent-encoding/],
  ['https://app.example.com/cb%', 'RFC 3986 §2.1 lone %', /percent-encoding/],
  ['https://app.example.com/a|b', 'RFC 3986 §2 a character it does not allow', /'\|'/],
  ['https://app.example.com/a"b', 'RFC 3986 §2 a quote', /'"'/],
  ['https://app.example.com/[cb]', 'RFC 3986 §3.2.2 brackets outside a host', /'\['/],
  ['com.example.app://host:99999/cb', 'RFC 3986 §3.2.3 port out of range', /port/],
  // Already refused before: whitespace and control characters.
  ['https://app.example.com/c\tb', 'RFC 3986 §2 tab', /whitespace or control/],
  ['https://app.example.com/cb\n', 'RFC 3986 §2 newline', /whitespace or control/],
  ['https://app.example.com\r/cb', 'RFC 3986 §2 carriage return', /whitespace or control/],
];

/** Accepted, stored as given. */
const CONTROLS: Array<[uri: string, rule: string]> = [
  ['http://127.0.0.1:8080/cb', 'RFC 8252 §7.3 loopback IPv4 with a port'],
  ['http://127.0.0.1/cb', 'RFC 8252 §7.3 loopback IPv4'],
  ['http://[::1]/cb', 'RFC 8252 §7.3 loopback IPv6'],
  ['http://[::1]:51004/oauth2redirect/example-provider', 'RFC 8252 §7.3 its own example'],
  ['https://app.example.com/cb', 'RFC 8252 §7.2 claimed https'],
  ['https://app.example.com/cb?tenant=a%20b&x=%7e', 'RFC 3986 §3.4 a query'],
  ['https://app.example.com:443/cb', 'RFC 3986 §6.2.3 the default port written out'],
  ['https://1.2.3.4/cb', 'RFC 3986 §3.2.2 canonical IPv4 over https'],
  ['https://xn--bcher-kva.example/cb', 'RFC 5890 an A-label'],
  ['com.example.app:/oauth', 'RFC 8252 §7.1 private-use scheme'],
  ['io.example.app://callback', 'RFC 8252 §7.1 private-use scheme with an authority'],
];

describe('redirectUriProblem: the attacks of issue #13 and more', () => {
  for (const [uri, rule, reason] of ATTACKS) {
    it(`${rule}: refuses ${JSON.stringify(uri)}`, () => {
      const problem = redirectUriProblem(uri);
      assert.ok(problem, 'accepted');
      assert.match(problem, reason);
      // Through the rules: invalid_redirect_uri naming the URI, in either field.
      for (const field of ['redirect_uris', 'post_logout_redirect_uris']) {
        const error = refusal(field, [uri]);
        assert.equal(error.code, 'invalid_redirect_uri');
        assert.match(error.message, new RegExp(`^${field} '${escapeRegExp(uri)}' `));
      }
    });
  }

  for (const [uri, rule] of CONTROLS) {
    it(`${rule}: accepts ${uri} unchanged`, () => {
      assert.equal(redirectUriProblem(uri), undefined);
      const metadata = { redirect_uris: [uri], post_logout_redirect_uris: [uri] };
      applyInstanceRules(metadata, structuredClone(SETTINGS));
      assert.deepEqual(metadata.redirect_uris, [uri]);
      assert.deepEqual(metadata.post_logout_redirect_uris, [uri]);
    });
  }

  it('RFC 5890: an internationalised host is rewritten to its ASCII form in both fields', () => {
    const metadata = {
      redirect_uris: ['https://bücher.example/cb', 'com.example.app:/cb'],
      post_logout_redirect_uris: ['https://Bücher.example/out?x=1'],
    };
    applyInstanceRules(metadata, structuredClone(SETTINGS));
    assert.deepEqual(metadata.redirect_uris, [
      'https://xn--bcher-kva.example/cb',
      'com.example.app:/cb',
    ]);
    assert.deepEqual(metadata.post_logout_redirect_uris, ['https://xn--bcher-kva.example/out?x=1']);
  });

  it('a static client (options validation) is told the ASCII form to configure instead', () => {
    assert.match(
      redirectUriProblem('https://bücher.example/cb') ?? '(accepted)',
      /ASCII \(punycode\) form: 'https:\/\/xn--bcher-kva\.example\/cb'/,
    );
  });

  it('an internationalised host that is still refused once in ASCII is refused', () => {
    // http to a non-loopback IDN: the ASCII form is no better.
    const error = refusal('redirect_uris', ['http://bücher.example/cb']);
    assert.equal(error.code, 'invalid_redirect_uri');
    assert.match(error.message, /^redirect_uris 'http:\/\/bücher\.example\/cb' .*loopback/);
  });
});

describe('redirect URIs over HTTP (RFC 7591 §3.2.2, RFC 7592 §2.2)', () => {
  let server: RunningServer;
  let store: ClientCountingStore;
  let token: string;

  const freshToken = () => freshDcrToken(server.issuer);

  before(async () => {
    store = new ClientCountingStore();
    server = await startExample((o) => ({ ...o, store }));
    token = await freshToken();
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  for (const uri of [
    'https://app.example.com@evil.example/cb',
    'http://127.0.0.1\\@evil.example/',
    'https://evil.example:443@app.example.com/cb',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://localhost/',
    'https://ex%61mple.com/cb',
  ]) {
    it(`POST /reg refuses ${JSON.stringify(uri)}: 400 invalid_redirect_uri naming it, nothing stored`, async () => {
      for (const field of ['redirect_uris', 'post_logout_redirect_uris']) {
        const res = await postRegistration(
          server.issuer,
          { redirect_uris: [APP_REDIRECT_URI], [field]: [uri] },
          token,
        );
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error, 'invalid_redirect_uri');
        assert.ok(
          res.body.error_description.startsWith(`${field} '${uri}' `),
          res.body.error_description,
        );
        assert.equal(store.clientWrites, 0);
      }
    });
  }

  let registered: JsonBody;

  it('after the refusals the same single-use DCR token registers an IDN redirect URI, stored and returned in ASCII', async () => {
    const res = await postRegistration(
      server.issuer,
      {
        redirect_uris: ['https://bücher.example/cb', 'http://127.0.0.1:8080/cb'],
        post_logout_redirect_uris: ['https://bücher.example/out'],
      },
      token,
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    registered = res.body;
    assert.deepEqual(registered.redirect_uris, [
      'https://xn--bcher-kva.example/cb',
      'http://127.0.0.1:8080/cb',
    ]);
    assert.deepEqual(registered.post_logout_redirect_uris, ['https://xn--bcher-kva.example/out']);
    assert.equal(store.clientWrites, 1);

    // RFC 7592 §2.1: the read shows what is stored.
    const read = await fetch(registered.registration_client_uri, {
      headers: { authorization: `Bearer ${registered.registration_access_token}` },
    });
    assert.equal(read.status, 200);
    assert.deepEqual((await json(read)).redirect_uris, registered.redirect_uris);
  });

  it('the authorization endpoint matches the stored ASCII form, not the Unicode spelling (RFC 9700 §4.1.1)', async () => {
    const authorize = (redirectUri: string) => {
      const url = new URL('/auth', server.issuer);
      url.search = new URLSearchParams({
        client_id: registered.client_id,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: redirectUri,
        code_challenge: oidc.randomPKCECodeVerifier().padEnd(43, 'A'),
        code_challenge_method: 'S256',
      }).toString();
      return fetch(url, { redirect: 'manual' });
    };
    const ascii = await authorize('https://xn--bcher-kva.example/cb');
    assert.equal(ascii.status, 303, 'on to the sign-in pages');
    assert.ok(!(ascii.headers.get('location') ?? '').startsWith('https://xn--bcher-kva'));
    const unicode = await authorize('https://bücher.example/cb');
    assert.equal(unicode.status, 400, 'an unregistered redirect_uri is an error page, no redirect');
  });

  it('RFC 7592 §2.2: an update is held to the same rules', async () => {
    const { registration_access_token, registration_client_uri, ...current } = registered;
    const {
      client_secret_expires_at: _expires,
      client_id_issued_at: _issued,
      ...echo
    } = current as Record<string, unknown>;
    const put = (body: Record<string, unknown>) =>
      fetch(registration_client_uri, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${registration_access_token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
    const refused = await put({
      ...echo,
      redirect_uris: ['https://app.example.com@evil.example/cb'],
    });
    assert.equal(refused.status, 400);
    const answer = await json(refused);
    assert.equal(answer.error, 'invalid_redirect_uri');
    assert.match(answer.error_description, /^redirect_uris 'https:\/\/app\.example\.com@evil/);
    assert.equal(store.clientWrites, 1, 'the refused update stored nothing');

    const renamed = await put({ ...echo, redirect_uris: ['https://straße.example/cb'] });
    assert.equal(renamed.status, 200);
    assert.deepEqual((await json(renamed)).redirect_uris, ['https://xn--strae-oqa.example/cb']);
  });
});
