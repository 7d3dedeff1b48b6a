// The native token exchange and the Authorization Challenge Endpoint bind what they issue with
// oidc-provider's own sender-constraint steps (RFC 9449 DPoP, RFC 8705 mTLS), which it does not
// export: lib/provider/sender-constraints.ts reaches them. Each step runs here in an extension
// grant of a bare oidc-provider over real HTTP, where its built-in grants run them, so an upgrade
// that moves them, renames them or changes what they return or throw fails here by name.
import assert from 'node:assert/strict';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  calculateJwkThumbprint,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from 'jose';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import {
  applyRefreshTokenBindings,
  checkDpopReplay,
  checkDpopRequired,
  checkMtlsCert,
  validateDpop,
} from '../../lib/provider/sender-constraints.js';
import { type Listening, listen } from '../helpers/listen.js';
import { selfSignedClient } from '../helpers/test-pki.js';

const PROBE = 'urn:example:params:oauth:grant-type:sender-constraints';
const CERTIFICATE_HEADER = 'x-test-client-certificate';
const SECRET = 'a-confidential-client-secret-0123456789';

type Json = Record<string, unknown>;

/** What the probe grant saw: each step's answer. */
interface Seen {
  proof: { thumbprint: string; jti: string; iat: number } | null;
  certificate: boolean;
  refreshJkt: string | null;
  refreshX5t: string | null;
}

/** Runs every step as oidc-provider's grants do, and answers what each gave. */
async function probe(provider: Provider, ctx: KoaContextWithOIDC): Promise<void> {
  const client = ctx.oidc.client;
  assert.ok(client);
  const proof = await validateDpop(provider, ctx);
  checkDpopRequired(provider, ctx, proof);
  const certificate = checkMtlsCert(provider, ctx);
  const replayError =
    ctx.oidc.params?.replay_error === 'dpop' ? errors.InvalidDpopProof : undefined;
  await checkDpopReplay(provider, ctx, proof, client.clientId, replayError);
  const at = new provider.AccessToken({
    accountId: 'probe',
    client,
    grantId: 'probe-grant',
    gty: PROBE,
  } as ConstructorParameters<Provider['AccessToken']>[0]);
  if (proof) at.setThumbprint('jkt', proof.thumbprint);
  if (certificate) at.setThumbprint('x5t', certificate);
  const rt = new provider.RefreshToken({
    accountId: 'probe',
    client,
    grantId: 'probe-grant',
    gty: PROBE,
  } as ConstructorParameters<Provider['RefreshToken']>[0]);
  await applyRefreshTokenBindings(provider, ctx, at, rt);
  const seen: Seen = {
    proof: proof ?? null,
    certificate: certificate !== undefined,
    refreshJkt: rt.jkt ?? null,
    refreshX5t: ((rt as unknown as Json)['x5t#S256'] as string | undefined) ?? null,
  };
  ctx.body = seen;
}

describe("oidc-provider's sender-constraint steps, as the library runs them", () => {
  let http: Listening;
  let tokenUrl: string;
  let key: Awaited<ReturnType<typeof generateKeyPair>>;
  let jwk: JWK;
  let certificateDer: string;

  before(async () => {
    http = await listen();
    tokenUrl = `${http.url}/token`;
    const grant = { grant_types: [PROBE], redirect_uris: [], response_types: [] };
    const provider = new Provider(http.url, {
      clients: [
        { client_id: 'public', token_endpoint_auth_method: 'none', ...grant },
        {
          client_id: 'confidential',
          client_secret: SECRET,
          token_endpoint_auth_method: 'client_secret_post',
          ...grant,
        },
        {
          client_id: 'dpop-bound',
          token_endpoint_auth_method: 'none',
          dpop_bound_access_tokens: true,
          ...grant,
        },
        {
          client_id: 'certificate-bound',
          token_endpoint_auth_method: 'none',
          tls_client_certificate_bound_access_tokens: true,
          ...grant,
        },
      ],
      features: {
        mTLS: {
          enabled: true,
          certificateBoundAccessTokens: true,
          // The test's stand-in for a TLS socket: the certificate's DER in a header.
          getCertificate: (ctx) => {
            const der = ctx.get(CERTIFICATE_HEADER);
            return der ? new X509Certificate(Buffer.from(der, 'base64')) : undefined;
          },
        },
      },
    });
    provider.registerGrantType(PROBE, (ctx) => probe(provider, ctx), ['replay_error']);
    http.handle(provider.callback());
    key = await generateKeyPair('ES256');
    jwk = await exportJWK(key.publicKey);
    certificateDer = (await selfSignedClient('CN=device-1')).der;
  });
  after(() => http?.close());

  /** A DPoP proof of the test key for a POST to `htu` (RFC 9449 §4.2). */
  const proofFor = (htu: string, jti = randomUUID()) =>
    new SignJWT({ jti, htm: 'POST', htu, iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .sign(key.privateKey);

  /** The probe grant at the token endpoint as `clientId`. */
  async function request(
    clientId: string,
    headers: Record<string, string> = {},
    params: Record<string, string> = {},
  ): Promise<{ status: number; body: Json }> {
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({
        grant_type: PROBE,
        client_id: clientId,
        ...(clientId === 'confidential' ? { client_secret: SECRET } : {}),
        ...params,
      }),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  it("validateDpop: a proof for the token endpoint gives its key's RFC 7638 thumbprint, jti and iat; no proof gives undefined", async () => {
    const jti = randomUUID();
    const proof = await proofFor(tokenUrl, jti);
    const bound = await request('public', { dpop: proof });
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
    assert.deepEqual((bound.body as unknown as Seen).proof, {
      thumbprint: await calculateJwkThumbprint(jwk),
      jti,
      iat: decodeJwt(proof).iat,
    });
    const bare = await request('public');
    assert.equal(bare.status, 200, JSON.stringify(bare.body));
    assert.equal((bare.body as unknown as Seen).proof, null);
  });

  it('validateDpop: a proof for another URL is invalid_dpop_proof (control: the token endpoint is the previous case)', async () => {
    const refused = await request('public', { dpop: await proofFor(`${http.url}/elsewhere`) });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_dpop_proof');
  });

  it('checkDpopReplay: a proof used again is refused with the error class given, invalid_grant by default; control: a fresh proof passes', async () => {
    const proof = await proofFor(tokenUrl);
    assert.equal((await request('public', { dpop: proof })).status, 200);
    const replayed = await request('public', { dpop: proof });
    assert.equal(replayed.status, 400);
    assert.equal(replayed.body.error, 'invalid_grant');
    const classed = await request('public', { dpop: proof }, { replay_error: 'dpop' });
    assert.equal(classed.body.error, 'invalid_dpop_proof');
    const fresh = await request('public', { dpop: await proofFor(tokenUrl) });
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
  });

  it('checkDpopRequired: a dpop_bound_access_tokens client without a proof is invalid_grant; control: with one', async () => {
    const refused = await request('dpop-bound');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
    const control = await request('dpop-bound', { dpop: await proofFor(tokenUrl) });
    assert.equal(control.status, 200, JSON.stringify(control.body));
  });

  it('checkMtlsCert: a certificate-bound client gets its certificate, and without one is invalid_grant; another client gets none', async () => {
    const bound = await request('certificate-bound', { [CERTIFICATE_HEADER]: certificateDer });
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
    assert.equal((bound.body as unknown as Seen).certificate, true);
    const missing = await request('certificate-bound');
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_grant');
    const other = await request('public', { [CERTIFICATE_HEADER]: certificateDer });
    assert.equal((other.body as unknown as Seen).certificate, false);
  });

  it("applyRefreshTokenBindings: a public client's refresh token takes the access token's DPoP key, or its certificate; control: a confidential client's takes neither", async () => {
    const dpopBound = await request('public', { dpop: await proofFor(tokenUrl) });
    assert.equal(dpopBound.status, 200, JSON.stringify(dpopBound.body));
    assert.equal((dpopBound.body as unknown as Seen).refreshJkt, await calculateJwkThumbprint(jwk));
    const certificateBound = await request('certificate-bound', {
      [CERTIFICATE_HEADER]: certificateDer,
    });
    assert.equal(certificateBound.status, 200, JSON.stringify(certificateBound.body));
    assert.equal(
      (certificateBound.body as unknown as Seen).refreshX5t,
      createHash('sha256').update(Buffer.from(certificateDer, 'base64')).digest('base64url'),
    );
    const control = await request('confidential', { dpop: await proofFor(tokenUrl) });
    assert.equal(control.status, 200, JSON.stringify(control.body));
    assert.equal(
      (control.body as unknown as Seen).proof?.thumbprint,
      await calculateJwkThumbprint(jwk),
    );
    assert.equal((control.body as unknown as Seen).refreshJkt, null);
    assert.equal((control.body as unknown as Seen).refreshX5t, null);
  });
});
