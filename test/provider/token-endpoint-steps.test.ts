// The Authorization Challenge Endpoint authenticates its client "as at the token endpoint" with
// oidc-provider's own request steps (form body, parameters, client authentication, the request
// context), which it does not export: lib/provider/token-endpoint-steps.ts reaches them. They run
// here on a route of a bare oidc-provider over real HTTP, composed as the library composes them, so
// an upgrade that moves them, renames them or changes what they read, set or throw fails here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Context } from 'koa';
import compose from 'koa-compose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import {
  assembleParams,
  clientAuthentication,
  clientAuthParams,
  inRequestContext,
  parseFormBody,
} from '../../lib/provider/token-endpoint-steps.js';
import { type Listening, listen } from '../helpers/listen.js';

const SECRET = 'a-confidential-client-secret-0123456789';
/** The route's own parameter; the client authentication ones are added to it. */
const OWN_PARAMS = ['allowed'];

type Json = Record<string, unknown>;

/** What the route saw once every step ran. */
interface Seen {
  body: Json;
  params: Record<string, unknown>;
  authParams: string[];
  clientId: string | undefined;
  current: boolean;
}

/** The steps on `/probe`, as lib/first-party/client-auth.ts composes them; errors as JSON. */
function probeRoute(provider: Provider) {
  let authParams: string[] = [];
  const chain = compose<Context>([
    parseFormBody,
    (ctx, next) => {
      authParams = [...clientAuthParams(ctx)].sort();
      return assembleParams(new Set([...OWN_PARAMS, ...authParams]), ctx, next);
    },
    ...clientAuthentication,
    async (ctx) => {
      const { oidc } = ctx as unknown as KoaContextWithOIDC;
      const params = oidc.params as Record<string, unknown>;
      const seen: Seen = {
        body: oidc.body as Json,
        params: Object.fromEntries(
          [...OWN_PARAMS, 'other'].map((name) => [name, params[name] ?? null]),
        ),
        authParams,
        clientId: oidc.client?.clientId,
        current: Provider.ctx === ctx,
      };
      ctx.body = seen;
    },
  ]);
  return async (ctx: Context, next: () => Promise<unknown>) => {
    if (ctx.path !== '/probe') return next();
    let oidc: unknown;
    Object.defineProperty(ctx, 'oidc', {
      get: () => {
        oidc ??= new provider.OIDCContext(ctx as never);
        return oidc;
      },
    });
    try {
      await inRequestContext(ctx, () => chain(ctx));
    } catch (error) {
      const { statusCode, error: code, error_description } = error as Json;
      ctx.status = typeof statusCode === 'number' ? statusCode : 500;
      ctx.body = { error: code ?? 'server_error', error_description };
    }
  };
}

describe("oidc-provider's token endpoint steps, as the library runs them on its own route", () => {
  let http: Listening;

  before(async () => {
    http = await listen();
    const provider = new Provider(http.url, {
      clients: [
        {
          client_id: 'app',
          client_secret: SECRET,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [],
          response_types: [],
          grant_types: ['client_credentials'],
        },
        {
          client_id: 'poster',
          client_secret: SECRET,
          token_endpoint_auth_method: 'client_secret_post',
          redirect_uris: [],
          response_types: [],
          grant_types: ['client_credentials'],
        },
      ],
      features: { clientCredentials: { enabled: true } },
    });
    provider.use(probeRoute(provider));
    http.handle(provider.callback());
  });
  after(() => http?.close());

  const basic = (clientId: string, secret: string) =>
    `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;

  async function probe(
    body: string,
    headers: Record<string, string> = { authorization: basic('app', SECRET) },
    contentType = 'application/x-www-form-urlencoded',
  ): Promise<{ status: number; body: Json; headers: Headers }> {
    const res = await fetch(`${http.url}/probe`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as Json, headers: res.headers };
  }

  it('parseFormBody reads the whole form, a repeated parameter as an array; assembleParams keeps only the allowed names', async () => {
    const answer = await probe('allowed=1&other=2&repeated=a&repeated=b');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const seen = answer.body as unknown as Seen;
    assert.deepEqual(seen.body, { allowed: '1', other: '2', repeated: ['a', 'b'] });
    assert.deepEqual(seen.params, { allowed: '1', other: null });
  });

  it('parseFormBody refuses a body of another content type with invalid_request; control: a form', async () => {
    const refused = await probe('{"allowed":"1"}', undefined, 'application/json');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_request');
    assert.equal((await probe('allowed=1')).status, 200);
  });

  it("clientAuthParams names the configured methods' parameters", async () => {
    const seen = (await probe('allowed=1')).body as unknown as Seen;
    assert.deepEqual(seen.authParams, [
      'client_assertion',
      'client_assertion_type',
      'client_id',
      'client_secret',
    ]);
  });

  it('clientAuthentication authenticates the client by its method, from the header or the assembled parameters', async () => {
    assert.ok(clientAuthentication.length > 0);
    assert.ok(clientAuthentication.every((step) => typeof step === 'function'));
    const byHeader = await probe('allowed=1');
    assert.equal((byHeader.body as unknown as Seen).clientId, 'app');
    const byBody = await probe(`client_id=poster&client_secret=${SECRET}`, {});
    assert.equal(byBody.status, 200, JSON.stringify(byBody.body));
    assert.equal((byBody.body as unknown as Seen).clientId, 'poster');
  });

  it('clientAuthentication: a wrong secret is 401 invalid_client with WWW-Authenticate; two mechanisms at once are invalid_request', async () => {
    const wrong = await probe('allowed=1', { authorization: basic('app', 'wrong') });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic /);
    const twice = await probe(`client_id=poster&client_secret=${SECRET}`, {
      authorization: basic('poster', SECRET),
    });
    assert.equal(twice.status, 400);
    assert.equal(twice.body.error, 'invalid_request');
  });

  it("inRequestContext makes the request oidc-provider's current one (Provider.ctx); control: none outside", async () => {
    assert.equal(((await probe('allowed=1')).body as unknown as Seen).current, true);
    assert.equal(Provider.ctx, undefined);
  });
});
