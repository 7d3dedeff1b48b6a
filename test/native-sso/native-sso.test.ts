// OpenID Connect Native SSO for Mobile Apps (draft 07): the mail app signs demouser in through the
// browser with `device_sso` and gets a device secret; the calendar app of the same group (same
// keychain) exchanges the ID token and the secret for a DCR token, registers, and exchanges again
// for its own tokens, with no second sign-in. On memory and on Redis; openid-client is each app.

import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import {
  type AuthServer,
  type AuthServerOptions,
  createAuthServer,
  generateKeys,
  MemoryStore,
  type NativeSsoExchangeEvent,
  type Store,
  type Template,
} from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import { stopDate } from '../helpers/clock.js';
import {
  insecure,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import {
  APP_REDIRECT_URI,
  FALLBACK_CLIENT_ID,
  FALLBACK_CLIENT_SECRET,
  testServerOptions,
} from '../helpers/fixture.js';
import { json } from '../helpers/json.js';
import { type Listening, listen } from '../helpers/listen.js';
import { ModelOutageStore } from '../helpers/outage-store.js';
import { startOwnRedis } from '../helpers/redis-server.js';
import { instanceConfiguration, postRegistration } from '../helpers/registration.js';
import {
  codeForInstance,
  formsOf,
  obtainDcrToken,
  SignInBrowser,
  signIn,
} from '../helpers/sign-in.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const DEVICE_SECRET_TYPE = 'urn:openid:params:token-type:device-secret';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const MAIL = 'io.example.mail';
const CALENDAR = 'io.example.calendar';
const ELSEWHERE = 'io.other.app';
const NOTES = 'io.example.notes';
const GROUP = 'ABCDE12345';

const ssoTemplate = (softwareId: string, group: string): Template => ({
  software_id: softwareId,
  client: {
    client_name: softwareId,
    redirect_uris: [APP_REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid profile offline_access',
  },
  nativeSso: { group },
});

const withNativeSso = (o: AuthServerOptions): AuthServerOptions => ({
  ...o,
  registration: {
    ...o.registration,
    templates: [
      ...(o.registration?.templates ?? []),
      ssoTemplate(MAIL, GROUP),
      ssoTemplate(CALENDAR, GROUP),
      ssoTemplate(ELSEWHERE, 'ZZZZZ99999'),
      // A group app whose installs register with no user (the fallback client's DCR token).
      { ...ssoTemplate(NOTES, GROUP), fallbackClients: [FALLBACK_CLIENT_ID] },
    ],
  },
});

/** The `ds_hash` of `secret` for an RS256/ES256 ID token: the left half of its SHA-256. */
const dsHashOf = (secret: string) =>
  createHash('sha256').update(secret).digest().subarray(0, 16).toString('base64url');

interface Pair {
  idToken: string;
  deviceSecret: string;
}

interface Refusal {
  status: number;
  error: string;
  error_description: string;
}

function describeNativeSso(
  name: string,
  makeStore: () => Promise<{ store: Store; close(): Promise<void> }>,
) {
  describe(`Native SSO across a vendor's apps (${name})`, () => {
    let server: RunningServer;
    let closeStore: () => Promise<void>;
    let rawStore: Store;
    let reg: oidc.Configuration;
    const events: Array<[string, NativeSsoExchangeEvent]> = [];

    before(async () => {
      const { store, close } = await makeStore();
      closeStore = close;
      rawStore = store;
      server = await startExample((o) => withNativeSso({ ...o, store }));
      for (const event of ['native_sso.exchanged', 'native_sso.refused'] as const) {
        server.auth.on(event, (payload) => events.push([event, payload]));
      }
      reg = await registrationClient(server.issuer);
    });
    after(async () => {
      await server.close();
      await closeStore();
    });

    /** An install of `softwareId`, registered with `dcrToken`. */
    async function install(
      softwareId: string,
      dcrToken: string,
      body: Record<string, unknown> = {},
    ): Promise<oidc.Configuration> {
      const registered = await postRegistration(
        server.issuer,
        { software_id: softwareId, ...body },
        dcrToken,
      );
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      return instanceConfiguration(server.issuer, registered.body);
    }

    /** The mail app: signs `username` in through its own browser with device_sso. */
    async function mailSignIn(username = 'demouser', password = 'Password1') {
      const browser = new SignInBrowser();
      const { tokens: dcr } = await obtainDcrToken(reg, browser, { username, password });
      const mail = await install(MAIL, dcr.access_token);
      const code = await codeForInstance(browser, mail, 'openid offline_access device_sso');
      const tokens = await oidc.authorizationCodeGrant(mail, code.callback, code.checks);
      return { browser, mail, tokens };
    }

    const pairOf = (tokens: Record<string, unknown>): Pair => ({
      idToken: tokens.id_token as string,
      deviceSecret: tokens.device_secret as string,
    });

    function exchange(config: oidc.Configuration, pair: Pair, extra: Record<string, string> = {}) {
      return oidc.genericGrantRequest(config, TOKEN_EXCHANGE, {
        subject_token: pair.idToken,
        subject_token_type: ID_TOKEN_TYPE,
        actor_token: pair.deviceSecret,
        actor_token_type: DEVICE_SECRET_TYPE,
        ...extra,
      });
    }

    async function refusal(
      config: oidc.Configuration,
      pair: Pair,
      extra: Record<string, string> = {},
    ): Promise<Refusal> {
      try {
        await exchange(config, pair, extra);
      } catch (error) {
        assert.ok(error instanceof oidc.ResponseBodyError, String(error));
        return {
          status: error.status,
          error: error.error,
          error_description: error.error_description ?? '',
        };
      }
      assert.fail('the exchange was not refused');
    }

    /** The calendar app joins with the mail app's pair: DCR token, registration, own tokens. */
    async function calendarJoins(pair: Pair) {
      const dcr = await exchange(reg, pair);
      const calendar = await install(CALENDAR, dcr.access_token);
      const tokens = await exchange(calendar, pairOf(dcr), { scope: 'openid offline_access' });
      return { calendar, dcr, tokens };
    }

    it('the code exchange with device_sso answers a device secret, and its ID token ds_hash and sid', async () => {
      const { mail, tokens } = await mailSignIn();
      const secret = tokens.device_secret as string;
      assert.match(secret, /^[\w-]{43}$/, '256 random bits, base64url');
      const claims = decodeJwt(tokens.id_token as string);
      assert.equal(claims.ds_hash, dsHashOf(secret));
      assert.equal(typeof claims.sid, 'string');
      assert.equal(claims.sub, 'demouser');
      assert.equal(claims.aud, mail.clientMetadata().client_id);
      // openid-client validated the re-issued ID token (signature, nonce, iss, aud).
      assert.equal(tokens.claims()?.sub, 'demouser');
      // A refresh answers no new device secret (only the code exchange does).
      const refreshed = await oidc.refreshTokenGrant(mail, tokens.refresh_token as string);
      assert.equal((refreshed as Record<string, unknown>).device_secret, undefined);
      const listed = await server.auth.nativeSso.list('demouser');
      assert.ok(listed.some((s) => s.sid === claims.sid && s.group === GROUP));
    });

    /** An install of the notes app registered with no user (the fallback client's DCR token). */
    async function unboundNotes(): Promise<oidc.Configuration> {
      const fallback = await oidc.discovery(
        new URL(server.issuer),
        FALLBACK_CLIENT_ID,
        undefined,
        oidc.ClientSecretBasic(FALLBACK_CLIENT_SECRET),
        insecure,
      );
      const { access_token } = await oidc.clientCredentialsGrant(fallback, { scope: 'dcr' });
      return install(NOTES, access_token);
    }

    it('the consent page says what device_sso allows', async () => {
      // The first sign-in through an install with no owner yet asks for consent.
      const browser = new SignInBrowser();
      await obtainDcrToken(reg, browser);
      const notes = await unboundNotes();
      let url = oidc
        .buildAuthorizationUrl(notes, {
          redirect_uri: APP_REDIRECT_URI,
          scope: 'openid device_sso',
          prompt: 'consent',
          code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        })
        .toString();
      let res = await browser.request(url);
      for (let i = 0; i < 5 && res.headers.get('location'); i += 1) {
        url = new URL(res.headers.get('location') as string, url).href;
        assert.ok(!url.startsWith(APP_REDIRECT_URI), url);
        res = await browser.request(url);
      }
      const html = await res.text();
      assert.match(
        html,
        /Sign you in to the same vendor&#39;s other apps on this device|Sign you in to the same vendor's other apps on this device/,
      );
    });

    it('without device_sso, or for an app in no group, no device secret', async () => {
      const browser = new SignInBrowser();
      const { tokens: dcr } = await obtainDcrToken(reg, browser);
      const mail = await install(MAIL, dcr.access_token);
      const code = await codeForInstance(browser, mail, 'openid offline_access');
      const tokens = await oidc.authorizationCodeGrant(mail, code.callback, code.checks);
      assert.equal((tokens as Record<string, unknown>).device_secret, undefined);
      assert.equal(decodeJwt(tokens.id_token as string).ds_hash, undefined);

      // The fixture's app template is in no group: its installs may not even ask for device_sso.
      const { tokens: dcr2 } = await obtainDcrToken(reg, browser);
      const plain = await install('io.example.app', dcr2.access_token, {
        software_version: '1.0.0',
      });
      const { callback } = await signIn(
        browser,
        oidc.buildAuthorizationUrl(plain, {
          redirect_uri: APP_REDIRECT_URI,
          scope: 'openid device_sso',
          code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        }),
      );
      assert.equal(callback.searchParams.get('error'), 'invalid_scope');
    });

    it('another app of the group signs in with no login: DCR token, registration, its own tokens', async () => {
      const { tokens: mailTokens } = await mailSignIn();
      const { calendar, dcr, tokens } = await calendarJoins(pairOf(mailTokens));
      assert.equal(dcr.scope, 'dcr');
      assert.equal(dcr.issued_token_type, ACCESS_TOKEN_TYPE);
      const device = await server.auth.instances.get(calendar.clientMetadata().client_id);
      assert.equal(device?.accountId, 'demouser', 'the install belongs to the signed-in user');

      assert.equal(tokens.issued_token_type, ACCESS_TOKEN_TYPE);
      assert.equal(tokens.scope, 'openid offline_access');
      assert.ok(tokens.refresh_token);
      const userinfo = await oidc.fetchUserInfo(calendar, tokens.access_token, 'demouser');
      assert.equal(userinfo.sub, 'demouser');
      // The secret rotated at each step; the ID token that goes with it is for the calendar app.
      const pair = pairOf(tokens as Record<string, unknown>);
      assert.notEqual(pair.deviceSecret, mailTokens.device_secret);
      assert.notEqual(pair.deviceSecret, (dcr as Record<string, unknown>).device_secret);
      const claims = decodeJwt(pair.idToken);
      assert.equal(claims.aud, calendar.clientMetadata().client_id);
      assert.equal(claims.sid, decodeJwt(mailTokens.id_token as string).sid, 'one device session');
      assert.equal(claims.ds_hash, dsHashOf(pair.deviceSecret));
      // The calendar's refresh token works like any other.
      await oidc.refreshTokenGrant(calendar, tokens.refresh_token as string);
      // And the newest pair keeps the device session going.
      const again = await exchange(calendar, pair, { scope: 'openid' });
      assert.equal(again.scope, 'openid');
      assert.equal(events.at(-1)?.[0], 'native_sso.exchanged');
      assert.deepEqual(events.at(-1)?.[1], {
        clientId: calendar.clientMetadata().client_id,
        accountId: 'demouser',
      });
    });

    it("attack: an install of the group bound to another account is refused; control: the account's own install", async () => {
      const demo = pairOf((await mailSignIn()).tokens);
      const { tokens: otherDcr } = await obtainDcrToken(reg, new SignInBrowser(), {
        username: 'otheruser',
        password: 'Password2',
      });
      const othersCalendar = await install(CALENDAR, otherDcr.access_token);
      const refused = await refusal(othersCalendar, demo);
      assert.equal(refused.error, 'invalid_grant');
      assert.match(refused.error_description, /belongs to another account/);
      // Control: the same pair is still good, for demouser's own calendar install.
      const { tokens } = await calendarJoins(demo);
      assert.ok(tokens.access_token);
    });

    it("an install registered with no user is bound to the device session's account, once: then another account's pair is refused", async () => {
      const notes = await unboundNotes();
      const notesId = notes.clientMetadata().client_id;
      assert.equal((await server.auth.instances.get(notesId))?.accountId, undefined);
      const demo = pairOf((await mailSignIn()).tokens);
      const other = pairOf((await mailSignIn('otheruser', 'Password2')).tokens);
      // No scope asked: all the install's own, without device_sso (a secret comes anyway).
      const tokens = await exchange(notes, demo);
      assert.equal(tokens.scope, 'openid profile offline_access');
      assert.ok((tokens as Record<string, unknown>).device_secret);
      assert.equal((await server.auth.instances.get(notesId))?.accountId, 'demouser');
      const refused = await refusal(notes, other);
      assert.equal(refused.error, 'invalid_grant');
      assert.match(refused.error_description, /belongs to another account/);
    });

    it('a rotated device secret is spent: presenting it again is refused', async () => {
      const { tokens } = await mailSignIn();
      const pair = pairOf(tokens);
      await exchange(reg, pair);
      const reused = await refusal(reg, pair);
      assert.equal(reused.error, 'invalid_grant');
      assert.match(reused.error_description, /already used/);
    });

    it('two apps exchanging one secret at once: exactly one gets tokens, the other is told it was used', async () => {
      const pair = pairOf((await mailSignIn()).tokens);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 5 }, () => exchange(reg, pair)),
      );
      const granted = outcomes.filter((o) => o.status === 'fulfilled');
      assert.equal(granted.length, 1, 'one winner');
      for (const lost of outcomes.filter((o) => o.status === 'rejected')) {
        const error = (lost as PromiseRejectedResult).reason;
        assert.ok(error instanceof oidc.ResponseBodyError, String(error));
        assert.equal(error.error, 'invalid_grant');
        assert.match(error.error_description ?? '', /already used/);
      }
      // The winner's pair carries the device session on.
      const next = pairOf((granted[0] as PromiseFulfilledResult<Record<string, unknown>>).value);
      assert.equal((await exchange(reg, next)).scope, 'dcr');
    });

    it("attack: another group's app is refused; control: the group's own app", async () => {
      const first = await exchange(reg, pairOf((await mailSignIn()).tokens));
      const elsewhere = await install(ELSEWHERE, first.access_token);
      const pair = pairOf(first as Record<string, unknown>);
      const refused = await refusal(elsewhere, pair);
      assert.equal(refused.status, 400);
      assert.equal(refused.error, 'invalid_grant');
      assert.match(refused.error_description, /another group/);
      assert.equal(events.at(-1)?.[0], 'native_sso.refused');
      // The refusal spent nothing: the same pair brings the group's own app in.
      const { tokens } = await calendarJoins(pair);
      assert.equal(tokens.scope, 'openid offline_access');
    });

    it("attack: a stolen device secret with another user's ID token (ds_hash) is refused; control: each pair alone", async () => {
      const demo = pairOf((await mailSignIn()).tokens);
      const other = pairOf((await mailSignIn('otheruser', 'Password2')).tokens);
      const mixed = await refusal(reg, { idToken: other.idToken, deviceSecret: demo.deviceSecret });
      assert.equal(mixed.error, 'invalid_grant');
      assert.match(mixed.error_description, /ds_hash/);
      const mixed2 = await refusal(reg, {
        idToken: demo.idToken,
        deviceSecret: other.deviceSecret,
      });
      assert.equal(mixed2.error, 'invalid_grant');
      // Controls: the untouched pairs still work, each for its own user.
      for (const [pair, user] of [
        [demo, 'demouser'],
        [other, 'otheruser'],
      ] as const) {
        const dcr = await exchange(reg, pair);
        const calendar = await install(CALENDAR, dcr.access_token);
        assert.equal(
          (await server.auth.instances.get(calendar.clientMetadata().client_id))?.accountId,
          user,
        );
      }
    });

    it('attack: an ID token of another issuer, or with a forged signature, is refused; control: the genuine one', async () => {
      const pair = pairOf((await mailSignIn()).tokens);
      const claims = decodeJwt(pair.idToken);
      const { alg, kid } = decodeProtectedHeader(pair.idToken);
      const { privateKey } = await generateKeyPair(alg as string);
      // Same claims and key id, signed by a key that is not the server's.
      const foreign = await new SignJWT(claims)
        .setProtectedHeader({ alg: alg as string, ...(kid ? { kid } : {}) })
        .sign(privateKey);
      const refusedForeign = await refusal(reg, { ...pair, idToken: foreign });
      assert.equal(refusedForeign.error, 'invalid_grant');
      assert.match(refusedForeign.error_description, /not an ID token signed by this server/);
      // Another issuer's own, well-signed token naming the same ds_hash and sid.
      const otherIssuer = await new SignJWT({ ...claims, iss: 'https://elsewhere.example' })
        .setProtectedHeader({ alg: alg as string })
        .sign(privateKey);
      assert.equal((await refusal(reg, { ...pair, idToken: otherIssuer })).error, 'invalid_grant');
      // The genuine token's payload changed (another account) under its own signature.
      const [header, , signature] = pair.idToken.split('.');
      const payload = Buffer.from(JSON.stringify({ ...claims, sub: 'otheruser' })).toString(
        'base64url',
      );
      const tampered = await refusal(reg, {
        ...pair,
        idToken: `${header}.${payload}.${signature}`,
      });
      assert.equal(tampered.error, 'invalid_grant');
      // Control: the genuine pair is accepted.
      assert.equal((await exchange(reg, pair)).scope, 'dcr');
    });

    it('attack: a revoked device secret is refused; control: before revocation it works', async () => {
      const first = pairOf((await mailSignIn()).tokens);
      const dcr = await exchange(reg, first);
      const pair = pairOf(dcr as Record<string, unknown>);
      const { sid } = decodeJwt(pair.idToken);
      const listed = await server.auth.nativeSso.list('demouser');
      assert.ok(listed.some((s) => s.sid === sid && s.clientId === reg.clientMetadata().client_id));
      assert.equal(await server.auth.nativeSso.revoke('demouser', sid as string), 1);
      assert.ok(!(await server.auth.nativeSso.list('demouser')).some((s) => s.sid === sid));
      const revoked = await refusal(reg, pair);
      assert.equal(revoked.error, 'invalid_grant');
      assert.match(revoked.error_description, /unknown, expired or revoked/);
    });

    it("attack: revoking an install (a stolen phone) ends its device session; control: another account's stays", async () => {
      const { mail, tokens } = await mailSignIn();
      const pair = pairOf(tokens);
      const other = pairOf((await mailSignIn('otheruser', 'Password2')).tokens);
      const { sid } = decodeJwt(pair.idToken);
      const mailId = mail.clientMetadata().client_id;
      assert.deepEqual(
        (await server.auth.nativeSso.list('demouser')).find((s) => s.sid === sid)?.clientIds,
        [mailId],
      );
      await server.auth.instances.revoke(mailId);
      // Ended as the revocation is reported: wait for it, within a second.
      for (let i = 0; i < 50; i += 1) {
        if (!(await server.auth.nativeSso.list('demouser')).some((s) => s.sid === sid)) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const refused = await refusal(reg, pair);
      assert.equal(refused.error, 'invalid_grant');
      assert.match(refused.error_description, /unknown, expired or revoked/);
      assert.equal((await exchange(reg, other)).scope, 'dcr');
    });

    it("the device page lists the account's device sessions and ends one; attack: another account's cannot be ended from it", async () => {
      const first = await mailSignIn();
      const second = await mailSignIn();
      const other = pairOf((await mailSignIn('otheruser', 'Password2')).tokens);
      const sidOf = (pair: Pair) => decodeJwt(pair.idToken).sid as string;
      const [one, two] = [pairOf(first.tokens), pairOf(second.tokens)];
      const pageUrl = `${server.issuer}/account/devices`;
      const page = await first.browser.request(pageUrl);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /Signed in across your apps/);
      assert.match(html, new RegExp(`Apps: ${MAIL.replaceAll('.', '\\.')}`));
      const forms = formsOf(html, pageUrl);
      const endOne = forms.find((f) => f.action.endsWith(`/${encodeURIComponent(sidOf(one))}/end`));
      assert.ok(endOne, 'an End button per device session');
      assert.ok(forms.some((f) => f.action.endsWith(`/${encodeURIComponent(sidOf(two))}/end`)));
      assert.ok(!forms.some((f) => f.action.includes(encodeURIComponent(sidOf(other)))));

      // Attack: demouser's form, aimed at otheruser's device session.
      const foreign = await first.browser.request(
        endOne.action.replace(encodeURIComponent(sidOf(one)), encodeURIComponent(sidOf(other))),
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(endOne.fields).toString(),
        },
      );
      assert.equal(foreign.status, 404);
      // The real End.
      const ended = await first.browser.request(endOne.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(endOne.fields).toString(),
      });
      assert.equal(ended.status, 303);
      assert.match(ended.headers.get('location') ?? '', /done=ended/);
      assert.match((await refusal(reg, one)).error_description, /unknown, expired or revoked/);
      // Controls: the account's other device session and the other account's still work.
      assert.equal((await exchange(reg, two)).scope, 'dcr');
      assert.equal((await exchange(reg, other)).scope, 'dcr');
    });

    it('attack: an expired device secret is refused; control: a minute before it expires', async (t) => {
      const first = pairOf((await mailSignIn()).tokens);
      const tick = stopDate(t);
      // The device session lasts ttl.session (14 days by default) from the first sign-in, and
      // rotation does not extend it.
      tick(14 * 24 * 3600 * 1000 - 60_000);
      const pair = pairOf((await exchange(reg, first)) as Record<string, unknown>);
      tick(61_000);
      const expired = await refusal(reg, pair);
      assert.equal(expired.error, 'invalid_grant');
      assert.match(expired.error_description, /unknown, expired or revoked/);
    });

    it('attack: after the user signs out in the browser the device secret is refused; control: before', async () => {
      const { browser, mail, tokens } = await mailSignIn();
      const pair = pairOf(tokens);
      const { sid } = decodeJwt(pair.idToken);
      // Control: the pair works while the browser session lasts (answering the next pair).
      const next = pairOf((await exchange(reg, pair)) as Record<string, unknown>);
      const url = `${server.issuer}/session/end?client_id=${mail.clientMetadata().client_id}`;
      const page = await browser.request(url);
      assert.equal(page.status, 200);
      const [form] = formsOf(await page.text(), url);
      assert.ok(form);
      const out = await browser.request(form.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...form.fields, logout: 'yes' }).toString(),
      });
      assert.equal(out.status, 303);
      const refused = await refusal(reg, next);
      assert.equal(refused.error, 'invalid_grant');
      assert.match(refused.error_description, /session of this device has ended/);
      assert.ok(!(await server.auth.nativeSso.list('demouser')).some((s) => s.sid === sid));
    });

    it('RFC 7592: the read shows device_sso and the exchange grant, an update sending them back is stored without them', async () => {
      const { tokens: dcr } = await obtainDcrToken(reg, new SignInBrowser());
      const registered = await postRegistration(
        server.issuer,
        { software_id: MAIL, client_name: 'Mail' },
        dcr.access_token,
      );
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const { registration_client_uri: uri, registration_access_token: rat } = registered.body;
      const read = await json(await fetch(uri, { headers: { authorization: `Bearer ${rat}` } }));
      assert.ok((read.scope as string).split(' ').includes('device_sso'));
      assert.ok((read.grant_types as string[]).includes(TOKEN_EXCHANGE));
      const {
        registration_access_token: token,
        registration_client_uri: _uri,
        client_secret_expires_at: _e,
        client_id_issued_at: _i,
        ...current
      } = read;
      const updated = await fetch(uri, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(current),
      });
      assert.equal(updated.status, 200, JSON.stringify(await updated.clone().json()));
      const body = await json(updated);
      const again = await json(
        await fetch(uri, {
          headers: { authorization: `Bearer ${body.registration_access_token}` },
        }),
      );
      assert.equal(again.scope, read.scope);
      const stored = await rawStore.adapter('Client').find(read.client_id as string);
      assert.ok(stored);
      assert.doesNotMatch(String(stored.scope ?? ''), /device_sso/);
      assert.ok(!((stored.grant_types as string[] | undefined) ?? []).includes(TOKEN_EXCHANGE));
    });

    it("an install's tokens are bound to its DPoP key (RFC 9449); a DCR token stays bearer: a proof there is refused without spending the secret", async () => {
      const pair = pairOf((await mailSignIn()).tokens);
      const refusedProof = await oidc
        .genericGrantRequest(
          reg,
          TOKEN_EXCHANGE,
          {
            subject_token: pair.idToken,
            subject_token_type: ID_TOKEN_TYPE,
            actor_token: pair.deviceSecret,
            actor_token_type: DEVICE_SECRET_TYPE,
          },
          { DPoP: oidc.getDPoPHandle(reg, await oidc.randomDPoPKeyPair()) },
        )
        .then(
          () => assert.fail('accepted'),
          (error: oidc.ResponseBodyError) => [error.error, error.error_description],
        );
      assert.equal(refusedProof[0], 'invalid_request');
      assert.match(String(refusedProof[1]), /DPoP/);
      const dcr = await exchange(reg, pair);
      const calendar = await install(CALENDAR, dcr.access_token);
      const next = pairOf(dcr as Record<string, unknown>);
      const tokens = await oidc.genericGrantRequest(
        calendar,
        TOKEN_EXCHANGE,
        {
          subject_token: next.idToken,
          subject_token_type: ID_TOKEN_TYPE,
          actor_token: next.deviceSecret,
          actor_token_type: DEVICE_SECRET_TYPE,
          scope: 'openid',
        },
        { DPoP: oidc.getDPoPHandle(calendar, await oidc.randomDPoPKeyPair()) },
      );
      assert.equal(tokens.token_type.toLowerCase(), 'dpop');
      const introspected = await oidc.tokenIntrospection(calendar, tokens.access_token);
      assert.ok((introspected.cnf as { jkt?: string } | undefined)?.jkt);
    });

    it('a scope the install does not have is invalid_scope without spending the secret; control: the same pair then works', async () => {
      const pair = pairOf((await mailSignIn()).tokens);
      const dcr = await exchange(reg, pair);
      const calendar = await install(CALENDAR, dcr.access_token);
      const next = pairOf(dcr as Record<string, unknown>);
      const params = {
        subject_token: next.idToken,
        subject_token_type: ID_TOKEN_TYPE,
        actor_token: next.deviceSecret,
        actor_token_type: DEVICE_SECRET_TYPE,
      };
      const refused = await oidc
        .genericGrantRequest(calendar, TOKEN_EXCHANGE, { ...params, scope: 'openid admin' })
        .then(
          () => assert.fail('accepted'),
          (error: oidc.ResponseBodyError) => error.error,
        );
      assert.equal(refused, 'invalid_scope');
      const tokens = await oidc.genericGrantRequest(calendar, TOKEN_EXCHANGE, {
        ...params,
        scope: 'openid',
      });
      assert.ok(tokens.access_token);
    });

    it('requests that are not Native SSO exchanges are refused as such', async () => {
      const pair = pairOf((await mailSignIn()).tokens);
      const wrongType = await refusal(reg, pair, { subject_token_type: ACCESS_TOKEN_TYPE });
      assert.equal(wrongType.error, 'invalid_request');
      const otherAudience = await refusal(reg, pair, { audience: 'someone-else' });
      assert.equal(otherAudience.error, 'invalid_target');
      const res = await fetch(new URL('/token', server.issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: TOKEN_EXCHANGE,
          client_id: reg.clientMetadata().client_id,
          subject_token: pair.idToken,
          subject_token_type: ID_TOKEN_TYPE,
          actor_token: pair.deviceSecret,
          actor_token_type: 'urn:example:other',
        }),
      });
      assert.equal(res.status, 400);
      assert.equal((await json(res)).error, 'invalid_request');
      // None of these spent the secret; an audience naming the client itself is fine.
      const granted = await exchange(reg, pair, { audience: reg.clientMetadata().client_id });
      assert.equal(granted.scope, 'dcr');
      // As is one naming this server.
      const next = pairOf(granted as Record<string, unknown>);
      assert.equal((await exchange(reg, next, { audience: server.issuer })).scope, 'dcr');
    });
  });
}

describeNativeSso('memory', async () => {
  const store = new MemoryStore();
  return { store, close: () => store.close() };
});

describeNativeSso('Redis', async () => {
  const redis = await startOwnRedis();
  const store = new RedisStore({ client: redis.url, keyPrefix: `native-sso:${randomUUID()}:` });
  return {
    store,
    async close() {
      await store.close();
      await redis.destroy();
    },
  };
});

describe('Native SSO when the store of device secrets is unreachable', () => {
  let server: RunningServer;
  let store: ModelOutageStore;
  let reg: oidc.Configuration;
  before(async () => {
    store = new ModelOutageStore('DeviceSecret');
    server = await startExample((o) => withNativeSso({ ...o, store }));
    reg = await registrationClient(server.issuer);
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  it('the code exchange answers the tokens without a device secret, and the exchange a 503; both work again after', async () => {
    const browser = new SignInBrowser();
    const { tokens: dcr } = await obtainDcrToken(reg, browser);
    const registered = await postRegistration(
      server.issuer,
      { software_id: MAIL },
      dcr.access_token,
    );
    const mail = await instanceConfiguration(server.issuer, registered.body);
    const signInMail = async () => {
      const code = await codeForInstance(browser, mail, 'openid offline_access device_sso');
      return oidc.authorizationCodeGrant(mail, code.callback, code.checks);
    };
    const good = await signInMail();
    assert.ok(good.device_secret);

    store.down = true;
    try {
      const degraded = await signInMail();
      assert.ok(degraded.access_token, 'the sign-in still ends with tokens');
      assert.equal((degraded as Record<string, unknown>).device_secret, undefined);
      assert.equal(decodeJwt(degraded.id_token as string).ds_hash, undefined);
      const res = await fetch(new URL('/token', server.issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: TOKEN_EXCHANGE,
          client_id: reg.clientMetadata().client_id,
          subject_token: good.id_token as string,
          subject_token_type: ID_TOKEN_TYPE,
          actor_token: good.device_secret as string,
          actor_token_type: DEVICE_SECRET_TYPE,
        }),
      });
      assert.equal(res.status, 503);
      const body = await json(res);
      assert.equal(body.error, 'temporarily_unavailable');
      assert.doesNotMatch(JSON.stringify(body), /unreachable|DeviceSecret|at /);
    } finally {
      store.down = false;
    }
    const after = await oidc.genericGrantRequest(reg, TOKEN_EXCHANGE, {
      subject_token: good.id_token as string,
      subject_token_type: ID_TOKEN_TYPE,
      actor_token: good.device_secret as string,
      actor_token_type: DEVICE_SECRET_TYPE,
    });
    assert.equal(after.scope, 'dcr', 'the outage spent nothing');
  });
});

describe('Native SSO across two servers sharing one Redis', () => {
  // Two servers of one deployment (one issuer, one Redis, the same keys) behind one address; the
  // test picks which one answers each request.
  let http: Listening;
  let servers: AuthServer[];
  let answering = 0;
  let redis: Awaited<ReturnType<typeof startOwnRedis>>;
  const stores: RedisStore[] = [];
  before(async () => {
    redis = await startOwnRedis();
    http = await listen();
    const keyPrefix = `native-sso-2:${randomUUID()}:`;
    const keys = await generateKeys();
    const start = () => {
      const store = new RedisStore({ client: redis.url, keyPrefix });
      stores.push(store);
      return createAuthServer(
        withNativeSso({ ...testServerOptions({ issuer: http.url }), store, ...keys }),
      );
    };
    servers = [await start(), await start()];
    const callbacks = servers.map((s) => s.callback());
    http.handle((req, res) => callbacks[answering]?.(req, res));
  });
  after(async () => {
    await http.close();
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(stores.map((s) => s.close()));
    await redis.destroy();
  });

  it('a device secret issued by one is exchanged, rotated and revoked at the other', async () => {
    answering = 0;
    const reg = await registrationClient(http.url);
    const browser = new SignInBrowser();
    const { tokens: dcr } = await obtainDcrToken(reg, browser);
    const registered = await postRegistration(http.url, { software_id: MAIL }, dcr.access_token);
    const mail = await instanceConfiguration(http.url, registered.body);
    const code = await codeForInstance(browser, mail, 'openid offline_access device_sso');
    const first = await oidc.authorizationCodeGrant(mail, code.callback, code.checks);
    const grant = (pair: Record<string, unknown>) =>
      oidc.genericGrantRequest(reg, TOKEN_EXCHANGE, {
        subject_token: pair.id_token as string,
        subject_token_type: ID_TOKEN_TYPE,
        actor_token: pair.device_secret as string,
        actor_token_type: DEVICE_SECRET_TYPE,
      });
    const invalidGrant = (e: oidc.ResponseBodyError) => e.error === 'invalid_grant';
    // Issued by the first, exchanged at the second: the secret rotates for both.
    answering = 1;
    const next = await grant(first);
    assert.equal(next.scope, 'dcr');
    answering = 0;
    await assert.rejects(grant(first), invalidGrant);
    // Revoked through the first, refused at the second.
    const { sid } = decodeJwt(next.id_token as string);
    assert.equal(await servers[0]?.nativeSso.revoke('demouser', sid as string), 1);
    answering = 1;
    await assert.rejects(grant(next), invalidGrant);
  });
});

describe('Native SSO options', () => {
  it('a template in a group needs openid among its scopes; control: with openid it starts', async () => {
    const options = (scope: string): AuthServerOptions => {
      const base = testServerOptions({ issuer: 'http://127.0.0.1:1' });
      return {
        ...base,
        registration: {
          ...base.registration,
          templates: [
            { ...ssoTemplate(MAIL, GROUP), client: { ...ssoTemplate(MAIL, GROUP).client, scope } },
          ],
        },
      };
    };
    await assert.rejects(createAuthServer(options('profile offline_access')), (error: Error) =>
      /options\.registration\.templates\[0\]\.nativeSso needs 'openid' in client\.scope/.test(
        error.message,
      ),
    );
    const started = await createAuthServer(options('openid offline_access'));
    await started.close();
  });
});
