// Hostile paths on the device endpoints (issue #13): an id with bad percent-encoding
// (RFC 3986 §2.1: '%' must be followed by two hex digits, and the octets must be UTF-8) is the
// caller's mistake, so it is a 4xx, never a 500. The credential is checked first, as for any
// other path: without one the answer is the usual RFC 6750 §3.1 challenge.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { type RunningServer, registrationClient, startExample } from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { type Listening, listen } from '../helpers/listen.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
} from '../helpers/sign-in.js';

const ADMIN_SECRET = 'device-paths-admin-secret-0123456789abcdef';

// Each is refused by decodeURIComponent: a '%' without two hex digits, a truncated UTF-8
// sequence, an invalid UTF-8 octet, a lone surrogate.
const BAD_IDS = ['%ZZ', '%', '%E0%A4%A', '%E0%A4', '%C0%80', '%FF', '%ED%A0%80', 'abc%2'];

describe('device endpoints with bad percent-encoding in the path', () => {
  let server: RunningServer;
  let admin: Listening;
  let userToken: string;
  let serverErrors: unknown[];

  before(async () => {
    server = await startExample((o) => o, { ADMIN_SECRET });
    serverErrors = [];
    server.auth.provider.on('server_error', (_ctx: unknown, error: unknown) => {
      serverErrors.push(error);
    });
    admin = await listen();
    admin.handle(server.auth.adminCallback());

    const browser = new SignInBrowser();
    const { tokens: dcr } = await obtainDcrToken(await registrationClient(server.issuer), browser);
    const instance = await registerInstance(server.issuer, dcr.access_token);
    const { callback, checks } = await codeForInstance(browser, instance, 'openid devices');
    userToken = (await oidc.authorizationCodeGrant(instance, callback, checks)).access_token;
  });
  after(async () => {
    await admin.close();
    await server.close();
  });

  const call = (base: string, path: string, method: string, token?: string) =>
    fetch(`${base}${path}`, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  async function assertInvalidRequest(res: Response, what: string) {
    assert.equal(res.status, 400, what);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/, what);
    const body = await json(res);
    assert.equal(body.error, 'invalid_request', what);
    assert.match(body.error_description, /percent-encoding/, what);
  }

  for (const id of BAD_IDS) {
    it(`self-service DELETE /devices/${id} with the user's token is 400 invalid_request`, async () => {
      await assertInvalidRequest(
        await call(server.issuer, `/devices/${id}`, 'DELETE', userToken),
        id,
      );
    });
  }

  it('self-service DELETE /devices/%ZZ without a token is the RFC 6750 §3.1 challenge (401), not a 500', async () => {
    const res = await call(server.issuer, '/devices/%ZZ', 'DELETE');
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    assert.equal((await json(res)).error, 'invalid_request');
  });

  it('self-service DELETE /devices/%ZZ with an unknown token is 401 invalid_token', async () => {
    const res = await call(server.issuer, '/devices/%ZZ', 'DELETE', 'no-such-token');
    assert.equal(res.status, 401);
    assert.equal((await json(res)).error, 'invalid_token');
  });

  for (const [method, path] of [
    ['GET', '/devices/%ZZ'],
    ['DELETE', '/devices/%ZZ'],
    ['GET', '/accounts/%E0%A4%A/devices'],
    ['DELETE', '/accounts/%E0%A4%A/devices'],
    ['GET', '/accounts/%/devices'],
    ['DELETE', '/devices/%FF'],
  ] as const) {
    it(`admin API ${method} ${path} with the admin secret is 400 invalid_request`, async () => {
      await assertInvalidRequest(await call(admin.url, path, method, ADMIN_SECRET), path);
    });

    it(`admin API ${method} ${path} without credentials is 401 (credentials are checked first)`, async () => {
      const res = await call(admin.url, path, method);
      assert.equal(res.status, 401);
      assert.equal((await json(res)).error, 'invalid_request');
    });
  }

  it('well-encoded ids still work: an unknown device is 404, an encoded account id is decoded', async () => {
    const unknown = await call(admin.url, '/devices/no%2Dsuch%20device', 'GET', ADMIN_SECRET);
    assert.equal(unknown.status, 404);
    assert.equal((await json(unknown)).error, 'not_found');
    const listed = await call(admin.url, '/accounts/demo%75ser/devices', 'GET', ADMIN_SECRET);
    assert.equal(listed.status, 200);
    assert.equal((await json(listed)).devices.length, 1);
    const mine = await call(server.issuer, '/devices/no%20such', 'DELETE', userToken);
    assert.equal(mine.status, 404);
  });

  it('none of these requests reached the server_error path', () => {
    assert.deepEqual(serverErrors, []);
  });
});
