// Fallback clients that authenticate with a certificate (RFC 8705 §2): tls_client_auth (PKI,
// §2.1) and self_signed_tls_client_auth (§2.2), the certificate read from the TLS socket of an
// HTTPS server, or from the header a trusted TLS-terminating proxy sets. Either way the instance
// gets cal=by-provisioned-key.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import {
  createServer as createHttpsServer,
  request as httpsRequest,
  type Server,
} from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  type AuthServer,
  type AuthServerOptions,
  createAuthServer,
  type Template,
} from 'mobile-oidc-provider';
import { APP_REDIRECT_URI, testServerOptions } from '../helpers/fixture.js';
import type { JsonBody } from '../helpers/json.js';
import { listen } from '../helpers/listen.js';
import { postRegistration } from '../helpers/registration.js';
import {
  createAuthority,
  type Issued,
  selfSignedClient,
  type TestAuthority,
} from '../helpers/test-pki.js';

const DEVICE_SUBJECT = 'CN=fallback-device-42,O=Example';
const TEMPLATE = 'com.example.mtls-fallback';
const onlyClientCredentials = {
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
};

function mtlsOptions(base: AuthServerOptions, selfSigned: Issued): AuthServerOptions {
  const template: Template = {
    software_id: TEMPLATE,
    client: { redirect_uris: [APP_REDIRECT_URI], scope: 'openid offline_access payments' },
    fallbackClients: ['pki-device-client', 'self-signed-client'],
  };
  return {
    ...base,
    clients: [
      {
        client_id: 'pki-device-client',
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: DEVICE_SUBJECT,
        ...onlyClientCredentials,
      },
      {
        client_id: 'self-signed-client',
        token_endpoint_auth_method: 'self_signed_tls_client_auth',
        jwks: {
          keys: [{ kty: 'EC', crv: 'P-256', x5c: [selfSigned.der], ...publicPoint(selfSigned) }],
        },
        ...onlyClientCredentials,
      },
    ],
    introspection: { resourceServers: [] },
    registration: { templates: [template] },
    mtls: {},
  };
}

// The JWK's public point, as RFC 7517 §4.7 wants x5c's first certificate to match the key.
function publicPoint(issued: Issued) {
  return new X509Certificate(issued.cert).publicKey.export({ format: 'jwk' });
}

interface TlsClient {
  cert?: string;
  key?: string;
  ca: string;
}

/** A POST over HTTPS with an optional client certificate; resolves status and JSON body. */
function httpsPost(
  url: string,
  body: string,
  tls: TlsClient,
  headers: Record<string, string>,
): Promise<{ status: number; body: JsonBody }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', ...tls, headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as JsonBody }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('mTLS fallback clients on an HTTPS server (certificate from the TLS socket)', () => {
  let authority: TestAuthority;
  let https: Server;
  let auth: AuthServer;
  let issuer: string;
  let selfSigned: Issued;

  before(async () => {
    authority = await createAuthority('Device Provisioning CA');
    selfSigned = await selfSignedClient('CN=self-signed-device');
    const serverCert = await authority.server();
    // Ask for a client certificate, verify it against the provisioning CA, but let the request
    // through either way: oidc-provider answers invalid_client, which the client can read.
    https = createHttpsServer({
      ...serverCert,
      ca: [authority.cert],
      requestCert: true,
      rejectUnauthorized: false,
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    issuer = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
    auth = await createAuthServer(mtlsOptions(testServerOptions({ issuer }), selfSigned));
    https.on('request', auth.callback());
  });
  after(async () => {
    https.closeAllConnections();
    await new Promise((resolve) => https.close(resolve));
    await auth.close();
  });

  const token = (clientId: string, tls: TlsClient) =>
    httpsPost(
      `${issuer}/token`,
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        scope: 'dcr',
      }).toString(),
      tls,
      { 'content-type': 'application/x-www-form-urlencoded' },
    );

  const register = (accessToken: string, tls: TlsClient) =>
    httpsPost(
      `${issuer}/reg`,
      JSON.stringify({ software_id: TEMPLATE }),
      { ca: tls.ca },
      {
        'content-type': 'application/json',
        authorization: `Bearer ${accessToken}`,
      },
    );

  it('tls_client_auth: a certificate from the provisioning CA with the registered subject DN → cal=by-provisioned-key', async () => {
    const device = await authority.client(DEVICE_SUBJECT);
    const granted = await token('pki-device-client', { ...device, ca: authority.cert });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    const registered = await register(granted.body.access_token, { ca: authority.cert });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    assert.equal(registered.body.cal, 'by-provisioned-key');
    const device_ = await auth.devices.get(registered.body.client_id);
    assert.equal(device_?.registeredBy.fallback_auth_method, 'tls_client_auth');
  });

  it('tls_client_auth refuses no certificate, another subject, and a certificate from another CA', async () => {
    const none = await token('pki-device-client', { ca: authority.cert });
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'invalid_client');
    const otherSubject = await authority.client('CN=someone-else,O=Example');
    assert.equal(
      (await token('pki-device-client', { ...otherSubject, ca: authority.cert })).status,
      401,
    );
    const rogue = await (await createAuthority('Rogue CA')).client(DEVICE_SUBJECT);
    const refused = await token('pki-device-client', { ...rogue, ca: authority.cert });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'invalid_client');
  });

  it('self_signed_tls_client_auth: the registered certificate → cal=by-provisioned-key; another one → invalid_client', async () => {
    const granted = await token('self-signed-client', { ...selfSigned, ca: authority.cert });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    const registered = await register(granted.body.access_token, { ca: authority.cert });
    assert.equal(registered.body.cal, 'by-provisioned-key');
    const stranger = await selfSignedClient('CN=self-signed-device');
    assert.equal(
      (await token('self-signed-client', { ...stranger, ca: authority.cert })).status,
      401,
    );
  });
});

describe('mTLS fallback behind a TLS-terminating proxy (certificate from a trusted header)', () => {
  it('reads the URL-encoded PEM from the configured header, and needs the verified header for tls_client_auth', async () => {
    const authority = await createAuthority('Device Provisioning CA');
    const selfSigned = await selfSignedClient('CN=self-signed-device');
    const http = await listen();
    const base = testServerOptions({ issuer: http.url });
    const auth = await createAuthServer({
      ...mtlsOptions(base, selfSigned),
      proxy: true,
      mtls: { certificateHeader: 'x-ssl-client-cert', verifiedHeader: 'x-ssl-client-verify' },
    });
    http.handle(auth.callback());
    try {
      const device = await authority.client(DEVICE_SUBJECT);
      const tokenWith = (headers: Record<string, string>) =>
        fetch(`${http.url}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: 'pki-device-client',
            scope: 'dcr',
          }),
        });
      const cert = encodeURIComponent(device.cert);
      const verified = await tokenWith({
        'x-ssl-client-cert': cert,
        'x-ssl-client-verify': 'SUCCESS',
      });
      assert.equal(verified.status, 200);
      const { access_token } = (await verified.json()) as { access_token: string };
      const registered = await postRegistration(http.url, { software_id: TEMPLATE }, access_token);
      assert.equal(registered.body.cal, 'by-provisioned-key');
      const unverified = await tokenWith({
        'x-ssl-client-cert': cert,
        'x-ssl-client-verify': 'FAILED:unable to verify',
      });
      assert.equal(unverified.status, 401);
      assert.equal((await tokenWith({})).status, 401);
    } finally {
      await http.close();
      await auth.close();
    }
  });

  it('refuses the header without options.proxy: only a trusted proxy may set it', async () => {
    const base = testServerOptions({ issuer: 'http://127.0.0.1:1' });
    await assert.rejects(
      createAuthServer({ ...base, mtls: { certificateHeader: 'x-ssl-client-cert' } }),
      /options\.mtls\.certificateHeader needs options\.proxy/,
    );
  });
});
