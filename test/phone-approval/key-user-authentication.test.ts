// A template may require that the attested key an install approves with requires the user's
// authentication, as the device's secure hardware enforces it (issue #30): installs registered
// through the real registration with Android key attestations from the tests' honest test root,
// whose KeyDescriptions do or do not require user authentication. Attacks, each with its
// control: a key without user authentication, a claim only the software list makes, a key
// unlocked for longer than the template allows or by the device credential where a biometric is
// required, an install without Android key evidence, and RFC 7592 updates that try to change
// what the record says; on memory and on Redis.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type AuthServerOptions,
  ConfigurationError,
  createAuthServer,
  type Template,
} from 'mobile-oidc-provider';
import { attestationBinding } from 'mobile-oidc-provider/attestation';
import {
  BIOMETRIC_PER_USE,
  createAndroidRoot,
  TEST_PACKAGE,
  TEST_SIGNING_DIGEST,
  type UserAuthTags,
} from '../helpers/android-attestation.js';
import { challengeOf, FIRST_PARTY_STORES, verifier } from '../helpers/first-party.js';
import { APP_REDIRECT_URI, FALLBACK_PKI_CLIENT_ID, testServerOptions } from '../helpers/fixture.js';
import type { JsonBody } from '../helpers/json.js';
import {
  answerTo,
  type PhoneInstall,
  type PhoneServer,
  pendingFor,
  startPhoneApproval,
} from '../helpers/phone-approval.js';
import { fetchChallenge, postRegistration } from '../helpers/registration.js';
import { createDeviceKey } from '../helpers/test-attestation.js';

/** Approvals need a key that requires any user authentication, for each use. */
const KEY_AUTH = 'io.example.phone.keyauth';
/** Approvals need a key only a biometric unlocks, usable up to 30 s after. */
const BIOMETRIC_30 = 'io.example.phone.keyauth.bio30';
/** Approvals need a key that requires user authentication, or the app's `uv: true` without evidence. */
const KEY_AUTH_OR_UV = 'io.example.phone.keyauth.uv';

const androidTemplate = (softwareId: string, approvals: Template['approvals']): Template => ({
  software_id: softwareId,
  client: {
    client_name: 'Phone App',
    redirect_uris: [APP_REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'private_key_jwt',
    scope: 'openid profile offline_access',
  },
  instanceFields: ['client_name', 'software_version', 'jwks'],
  attestation: {
    formats: ['android-key'],
    user: 'optional',
    androidKey: {
      packageNames: [TEST_PACKAGE],
      signingCertDigests: [Buffer.from(TEST_SIGNING_DIGEST).toString('base64')],
    },
  },
  fallbackClients: [FALLBACK_PKI_CLIENT_ID],
  firstParty: { minimumLevel: 'by-provisioned-key' },
  approvals,
});

/** The configuration problems createAuthServer reports for `options`. */
async function problems(options: AuthServerOptions): Promise<string[]> {
  try {
    await createAuthServer(options);
  } catch (error) {
    assert.ok(error instanceof ConfigurationError, String(error));
    return [...error.problems];
  }
  assert.fail('the options were accepted');
}

describe('approvals.requireKeyUserAuthentication options', () => {
  const withTemplate = ({ fallbackClients: _none, ...template }: Template): AuthServerOptions => {
    const o = testServerOptions({ issuer: 'http://127.0.0.1:1' });
    return { ...o, registration: { ...o.registration, templates: [template] } };
  };

  it('needs attestation: only an attested key shows what it requires; control: with android-key', async () => {
    const { attestation: _none, ...unattested } = androidTemplate(KEY_AUTH, {
      requireKeyUserAuthentication: true,
    });
    const found = await problems(withTemplate(unattested));
    assert.ok(
      found.some((p) =>
        /templates\[0\]\.approvals\.requireKeyUserAuthentication needs attestation/.test(p),
      ),
      found.join('\n'),
    );
    const server = await createAuthServer(
      withTemplate(androidTemplate(KEY_AUTH, { requireKeyUserAuthentication: true })),
    );
    await server.close();
  });

  it('the schema names a wrong userAuthType or maxAuthTimeout', async () => {
    for (const [requirement, message] of [
      [{ userAuthType: 'face' }, /\.userAuthType must be one of any, biometric$/],
      [{ maxAuthTimeout: -1 }, /\.maxAuthTimeout must be >= 0$/],
      [{ other: 1 }, /\.other is not a known option$/],
    ] as const) {
      const found = await problems(
        withTemplate(
          androidTemplate(KEY_AUTH, {
            requireKeyUserAuthentication: requirement as never,
          }),
        ),
      );
      assert.ok(
        found.some(
          (p) =>
            p.startsWith(
              'options.registration.templates[0].approvals.requireKeyUserAuthentication',
            ) && message.test(p),
        ),
        found.join('\n'),
      );
    }
  });
});

for (const [name, open] of FIRST_PARTY_STORES) {
  describe(`phone approval with the attested key's user authentication (${name})`, {
    timeout: 120_000,
  }, () => {
    let phone: PhoneServer;
    let close: () => Promise<void>;
    let root: Awaited<ReturnType<typeof createAndroidRoot>>;
    let counter = 0;

    before(async () => {
      const opened = await open();
      close = opened.close;
      root = await createAndroidRoot();
      phone = await startPhoneApproval(opened.store, (o) => ({
        ...o,
        attestation: { ...o.attestation, androidRoots: [root.pem] },
        // Most requests here are left pending: the push-fatigue limit is not under test.
        phoneApproval: { ...o.phoneApproval, maxPendingPerAccount: 20 },
        registration: {
          ...o.registration,
          templates: [
            ...(o.registration?.templates ?? []),
            androidTemplate(KEY_AUTH, { requireKeyUserAuthentication: true }),
            androidTemplate(BIOMETRIC_30, {
              requireKeyUserAuthentication: { userAuthType: 'biometric', maxAuthTimeout: 30 },
            }),
            androidTemplate(KEY_AUTH_OR_UV, {
              requireKeyUserAuthentication: true,
              requireUserVerification: true,
            }),
          ],
        },
      }));
    });
    after(async () => {
      await phone?.close();
      await close?.();
    });

    /** Android key attestation evidence for `device`'s key, bound to a fresh challenge. */
    const evidence = async (
      device: Awaited<ReturnType<typeof createDeviceKey>>,
      tags: { userAuth?: UserAuthTags; softwareUserAuth?: UserAuthTags },
    ) => {
      const challenge = await fetchChallenge(phone.issuer);
      const binding = await attestationBinding(challenge, device.jwk);
      const chain = await root.attest(device.publicKey, {
        challenge: binding.clientDataHash,
        ...tags,
      });
      return { format: 'android-key', challenge, evidence: chain };
    };

    /**
     * A new install of `softwareId`, registered with an Android key attestation whose
     * KeyDescription carries `tags`, bound to `account` by a first-party password sign-in.
     */
    const androidInstall = async (
      softwareId: string,
      tags: { userAuth?: UserAuthTags; softwareUserAuth?: UserAuthTags },
      account: [string, string] = ['demouser', 'Password1'],
    ): Promise<PhoneInstall> => {
      const device = await createDeviceKey();
      const registered = await postRegistration(phone.issuer, {
        software_id: softwareId,
        jwks: { keys: [device.jwk] },
        attestation: await evidence(device, tags),
      });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      assert.equal(registered.body.cal, 'by-policy');
      const install: PhoneInstall = {
        clientId: registered.body.client_id as string,
        key: device.privateKey,
        jwk: device.jwk,
        management: {
          uri: registered.body.registration_client_uri,
          token: registered.body.registration_access_token,
        },
      };
      const signedIn = await phone.postAsInstall(install, '/authorize-challenge', {
        scope: 'openid',
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
        username: account[0],
        password: account[1],
      });
      assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
      return install;
    };

    /** Starts a request for demouser; the installs asked (from the requested event) and its message. */
    const start = async () => {
      counter += 1;
      const binding = `KEY-${counter}`;
      const before = phone.events.length;
      const started = await phone.backchannel({
        scope: 'openid',
        login_hint: 'demouser',
        binding_message: binding,
      });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      const requested = phone.events
        .slice(before)
        .find((e) => e.name === 'phone_approval.requested');
      const asked = (requested?.payload as { installs: string[] } | undefined)?.installs ?? [];
      return { id: started.body.auth_req_id as string, binding, asked };
    };

    /** The install's listing is refused as an approver that may not approve. */
    const assertNotApprover = async (install: PhoneInstall, description: RegExp) => {
      const listed = await phone.list(install);
      assert.equal(listed.status, 400, JSON.stringify(listed.body));
      assert.equal(listed.body.error, 'unauthorized_client');
      assert.match(String(listed.body.error_description), description);
    };

    /** What the install's record keeps of its key's user authentication. */
    const recorded = async (install: PhoneInstall) =>
      (await phone.server.auth.devices.get(install.clientId))?.registeredBy.evidence
        ?.key_user_authentication;

    /** Approves `listed` as `install`; the web client's tokens. */
    const approve = async (install: PhoneInstall, listed: JsonBody, id: string, uv?: boolean) => {
      const answered = await phone.answer(
        install,
        listed.approval_id,
        await answerTo(install, listed, 'approve', uv === undefined ? {} : { uv }),
      );
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      const polled = await phone.poll(id);
      assert.equal(polled.status, 200, JSON.stringify(polled.body));
      return polled.body;
    };

    let perUse: PhoneInstall;
    let noAuth: PhoneInstall;

    it('a key without user authentication is not asked and may not answer; control: a key that requires it for each use approves', async () => {
      perUse = await androidInstall(KEY_AUTH, { userAuth: BIOMETRIC_PER_USE });
      noAuth = await androidInstall(KEY_AUTH, { userAuth: { noAuthRequired: true } });
      assert.deepEqual(await recorded(perUse), { methods: ['biometric'], timeout: 0 });
      assert.equal(await recorded(noAuth), undefined);

      const { id, binding, asked } = await start();
      assert.ok(asked.includes(perUse.clientId), JSON.stringify(asked));
      assert.ok(!asked.includes(noAuth.clientId), JSON.stringify(asked));
      await assertNotApprover(noAuth, /attested key does not require user authentication/);
      // It tries anyway, with the id of the approval its account's other install was asked.
      const listed = await pendingFor(phone, perUse, binding);
      const forged = await phone.answer(
        noAuth,
        listed.approval_id,
        await answerTo(noAuth, listed, 'approve', { uv: true }),
      );
      assert.equal(forged.status, 400, JSON.stringify(forged.body));
      assert.equal(forged.body.error, 'unauthorized_client');
      assert.match(String(forged.body.error_description), /does not require user authentication/);

      const tokens = await approve(perUse, listed, id);
      assert.equal(typeof tokens.access_token, 'string');
    });

    it('a claim only the software-enforced list makes is not trusted; control: the same tags hardware-enforced', async () => {
      const softwareOnly = await androidInstall(KEY_AUTH, { softwareUserAuth: BIOMETRIC_PER_USE });
      assert.equal(await recorded(softwareOnly), undefined);
      const { asked } = await start();
      assert.ok(!asked.includes(softwareOnly.clientId), JSON.stringify(asked));
      assert.ok(asked.includes(perUse.clientId), JSON.stringify(asked));
      await assertNotApprover(softwareOnly, /does not require user authentication/);
    });

    it("the template's kind and timeout: a key the device credential unlocks or that stays usable too long is refused; control: a biometric key within the timeout approves", async () => {
      const timed = await androidInstall(KEY_AUTH, {
        userAuth: { userAuthType: 2, authTimeout: 10 },
      });
      const either = await androidInstall(BIOMETRIC_30, { userAuth: { userAuthType: 3 } });
      const tooLong = await androidInstall(BIOMETRIC_30, {
        userAuth: { userAuthType: 2, authTimeout: 60 },
      });
      const within = await androidInstall(BIOMETRIC_30, {
        userAuth: { userAuthType: 2, authTimeout: 30 },
      });
      const { id, binding, asked } = await start();
      for (const refused of [timed, either, tooLong]) {
        assert.ok(!asked.includes(refused.clientId), JSON.stringify(asked));
      }
      assert.ok(asked.includes(within.clientId), JSON.stringify(asked));
      await assertNotApprover(timed, /need an authentication for each use/);
      await assertNotApprover(either, /can be used without a biometric/);
      await assertNotApprover(tooLong, /stays usable 60 s .* allow 30 s/);
      const tokens = await approve(within, await pendingFor(phone, within, binding), id);
      assert.equal(typeof tokens.access_token, 'string');
    });

    it("an install without Android key evidence: not an approver, unless the template takes the app's uv statement", async () => {
      const fallback = await phone.install('demouser', 'Password1', KEY_AUTH);
      const fallbackUv = await phone.install('demouser', 'Password1', KEY_AUTH_OR_UV);
      // An Android key known to sign without the user stays out even where uv is taken.
      const noAuthUv = await androidInstall(KEY_AUTH_OR_UV, {});
      const { id, binding, asked } = await start();
      assert.ok(!asked.includes(fallback.clientId), JSON.stringify(asked));
      assert.ok(!asked.includes(noAuthUv.clientId), JSON.stringify(asked));
      assert.ok(asked.includes(fallbackUv.clientId), JSON.stringify(asked));
      await assertNotApprover(fallback, /need an attested key that requires user authentication/);
      await assertNotApprover(noAuthUv, /does not require user authentication/);
      const listed = await pendingFor(phone, fallbackUv, binding);
      const withoutUv = await phone.answer(
        fallbackUv,
        listed.approval_id,
        await answerTo(fallbackUv, listed, 'approve'),
      );
      assert.equal(withoutUv.status, 400, JSON.stringify(withoutUv.body));
      assert.match(String(withoutUv.body.error_description), /uv: true/);
      const relisted = await pendingFor(phone, fallbackUv, binding);
      const tokens = await approve(fallbackUv, relisted, id, true);
      assert.equal(typeof tokens.access_token, 'string');
    });

    /** An RFC 7592 update of `install` with `body`; keeps the rotated registration access token. */
    const update = async (install: PhoneInstall, softwareId: string, body: JsonBody) => {
      const res = await fetch(install.management.uri, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${install.management.token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ client_id: install.clientId, software_id: softwareId, ...body }),
      });
      const answer = (await res.json()) as JsonBody;
      if (res.status === 200) install.management.token = answer.registration_access_token;
      return { status: res.status, body: answer };
    };

    it('an update cannot make a key require user authentication: record fields are ignored, another key needs fresh evidence; control: fresh evidence of a key that does', async () => {
      const install = await androidInstall(KEY_AUTH, {});
      const claimed = { methods: ['biometric'], timeout: 0 };
      const forged = await update(install, KEY_AUTH, {
        jwks: { keys: [install.jwk] },
        key_user_authentication: claimed,
        mobile_oidc_instance: {
          cal: 'by-policy',
          registered_by: {
            method: 'attestation',
            evidence: {
              format: 'android-key',
              platform: 'android',
              app_id: TEST_PACKAGE,
              key_user_authentication: claimed,
            },
          },
        },
      });
      assert.ok([200, 400].includes(forged.status), JSON.stringify(forged.body));
      assert.equal(await recorded(install), undefined);
      await assertNotApprover(install, /does not require user authentication/);

      // Another key, without evidence: refused (the attested key is the install's for life).
      const other = await createDeviceKey();
      const rekeyed = await update(install, KEY_AUTH, { jwks: { keys: [other.jwk] } });
      assert.equal(rekeyed.status, 400, JSON.stringify(rekeyed.body));
      assert.equal(rekeyed.body.error, 'invalid_client_metadata');
      assert.equal(await recorded(install), undefined);

      // Control: fresh evidence of a new key that requires user authentication for each use.
      const fresh = await createDeviceKey();
      const reattested = await update(install, KEY_AUTH, {
        jwks: { keys: [fresh.jwk] },
        attestation: await evidence(fresh, { userAuth: BIOMETRIC_PER_USE }),
      });
      assert.equal(reattested.status, 200, JSON.stringify(reattested.body));
      assert.deepEqual(await recorded(install), { methods: ['biometric'], timeout: 0 });
      install.key = fresh.privateKey;
      install.jwk = fresh.jwk;
      const { asked } = await start();
      assert.ok(asked.includes(install.clientId), JSON.stringify(asked));
    });

    it('fresh evidence of a key without user authentication ends approvals by that install; control: before, it was asked', async () => {
      const install = await androidInstall(KEY_AUTH, { userAuth: BIOMETRIC_PER_USE });
      const before = await start();
      assert.ok(before.asked.includes(install.clientId), JSON.stringify(before.asked));
      const fresh = await createDeviceKey();
      const reattested = await update(install, KEY_AUTH, {
        jwks: { keys: [fresh.jwk] },
        attestation: await evidence(fresh, { userAuth: { noAuthRequired: true } }),
      });
      assert.equal(reattested.status, 200, JSON.stringify(reattested.body));
      install.key = fresh.privateKey;
      install.jwk = fresh.jwk;
      assert.equal(await recorded(install), undefined);
      await assertNotApprover(install, /does not require user authentication/);
      const after = await start();
      assert.ok(!after.asked.includes(install.clientId), JSON.stringify(after.asked));
    });
  });
}
