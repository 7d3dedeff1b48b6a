// The pages' WebAuthn scripts, run outside a browser: each script (exactly as the page sends
// it) runs in a fresh V8 context with stand-ins for the few DOM parts it touches and a
// `navigator.credentials` backed by the software authenticator, which hands over ArrayBuffers as
// a browser does. What the script posts must then pass the server's verification: this holds
// the base64url ↔ ArrayBuffer conversions and the JSON shapes to the server's, ahead of the
// real-Chromium tests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createContext, runInContext } from 'node:vm';
import type { RunningServer } from '../helpers/example.js';
import {
  followToApp,
  passkeyLogin,
  passkeyPage,
  postCredential,
  signedInAccount,
  signedInBrowser,
  startWithPasskeys,
} from '../helpers/passkeys.js';
import { browserCredentials, SoftwareAuthenticator } from '../helpers/software-authenticator.js';

let server: RunningServer;
before(async () => {
  server = await startWithPasskeys();
});
after(() => server.close());

/** The script element's source in a page. */
function pageScript(html: string): string {
  const source = /<script nonce="[^"]+">([\s\S]*?)<\/script>/.exec(html)?.[1];
  assert.ok(source, 'the page has a nonce’d script');
  return source;
}

interface Element {
  hidden: boolean;
  disabled?: boolean;
  listeners: Map<string, (event: unknown) => unknown>;
}

/** A stand-in page: the elements the scripts look up by id, and what a form submission sends. */
function fakePage(formId: string, options: string) {
  const element = (hidden: boolean): Element => ({ hidden, listeners: new Map() });
  const credential = { value: '' };
  let submit: (value: string) => void = () => {};
  const submitted = new Promise<string>((resolve) => {
    submit = resolve;
  });
  const listening = (target: Element) =>
    Object.assign(target, {
      addEventListener(type: string, listener: (event: unknown) => unknown) {
        target.listeners.set(type, listener);
      },
    });
  const form = Object.assign(listening(element(formId === 'passkey-register-form')), {
    dataset: { options },
    elements: { namedItem: (name: string) => (name === 'credential' ? credential : null) },
    submit: () => submit(credential.value),
  });
  const button = Object.assign(listening(element(true)), { disabled: false });
  const elements: Record<string, unknown> = {
    [formId]: form,
    'passkey-button': button,
    'passkey-error': element(true),
    'passkey-register-error': element(true),
    'passkey-unsupported': element(false),
  };
  return {
    form,
    button,
    elements,
    submitted,
    document: { getElementById: (id: string) => elements[id] ?? null },
  };
}

/** Runs `source` in a new context with this page and these WebAuthn stand-ins. */
function run(
  source: string,
  page: ReturnType<typeof fakePage>,
  credentials: unknown,
  conditional: boolean | undefined,
) {
  const PublicKeyCredential =
    conditional === undefined
      ? undefined
      : Object.assign(() => {}, { isConditionalMediationAvailable: async () => conditional });
  const context = createContext({
    document: page.document,
    window: { PublicKeyCredential },
    navigator: { credentials },
    atob,
    btoa,
    AbortController,
  });
  runInContext(source, context);
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the login page’s script', () => {
  it('signs in through passkey autofill (conditional mediation)', async () => {
    const { authenticator } = await enrolledAuthenticator();
    const login = await passkeyLogin(server.issuer);
    const page = fakePage('passkey-form', login.form.options);
    const backend = browserCredentials(authenticator);
    const mediations: unknown[] = [];
    run(
      pageScript(login.html),
      page,
      {
        get: (request: { mediation?: string }) => {
          mediations.push(request.mediation);
          return backend.get(request as never);
        },
      },
      true,
    );
    const credential = await page.submitted;
    assert.deepEqual(mediations, ['conditional']);
    assert.equal(page.button.hidden, false, 'the button is shown where WebAuthn works');
    const res = await postCredential(login.browser, login.form, credential);
    assert.equal(res.status, 303);
    const callback = await followToApp(login.browser, res, login.form.action);
    assert.equal(await signedInAccount(server, login, callback), 'demouser');
  });

  it('signs in through the button, aborting the pending autofill request first', async () => {
    const { authenticator } = await enrolledAuthenticator();
    const login = await passkeyLogin(server.issuer);
    const page = fakePage('passkey-form', login.form.options);
    const backend = browserCredentials(authenticator);
    let autofill: { signal: AbortSignal } | undefined;
    run(
      pageScript(login.html),
      page,
      {
        get: (request: { mediation?: string; signal: AbortSignal }) => {
          // Autofill waits for the user; the button's modal request answers at once.
          if (request.mediation === 'conditional') {
            autofill = request;
            return new Promise((_, reject) =>
              request.signal.addEventListener('abort', () => reject(new Error('AbortError'))),
            );
          }
          return backend.get(request as never);
        },
      },
      true,
    );
    await tick();
    assert.ok(autofill, 'autofill was started');
    page.button.listeners.get('click')?.({});
    const credential = await page.submitted;
    assert.equal(autofill.signal.aborted, true);
    assert.equal(page.button.disabled, true, 'no second submission');
    const res = await postCredential(login.browser, login.form, credential);
    assert.equal(res.status, 303);
  });

  it('shows its message when the passkey dialog is cancelled, and posts nothing', async () => {
    const login = await passkeyLogin(server.issuer);
    const page = fakePage('passkey-form', login.form.options);
    run(
      pageScript(login.html),
      page,
      { get: async () => Promise.reject(new Error('NotAllowedError')) },
      false,
    );
    page.button.listeners.get('click')?.({});
    await tick();
    assert.equal((page.elements['passkey-error'] as Element).hidden, false);
  });

  it('leaves the page as it is where the browser has no WebAuthn', async () => {
    const login = await passkeyLogin(server.issuer);
    const page = fakePage('passkey-form', login.form.options);
    run(pageScript(login.html), page, undefined, undefined);
    assert.equal(page.button.hidden, true);
  });
});

describe('the passkey page’s script', () => {
  it('adds a passkey: the form shown, created on submit, posted with its name', async () => {
    const browser = await signedInBrowser(server.issuer, 'otheruser');
    const { html, add } = await passkeyPage(browser, server.issuer);
    const page = fakePage('passkey-register-form', add.options);
    const authenticator = new SoftwareAuthenticator(server.issuer);
    run(pageScript(html), page, browserCredentials(authenticator), false);
    assert.equal(page.form.hidden, false);
    assert.equal((page.elements['passkey-unsupported'] as Element).hidden, true);
    let prevented = false;
    await page.form.listeners.get('submit')?.({
      preventDefault: () => {
        prevented = true;
      },
    });
    assert.ok(prevented, 'the form waits for the ceremony');
    const credential = await page.submitted;
    const res = await postCredential(browser, add, credential, { name: 'Laptop' });
    assert.equal(res.status, 303);
    const [id] = authenticator.credentials.keys();
    assert.equal((await server.auth.passkeys.get(id as string))?.name, 'Laptop');
  });

  it('shows its message when creating fails (an authenticator that has one already)', async () => {
    const browser = await signedInBrowser(server.issuer);
    const { html, add } = await passkeyPage(browser, server.issuer);
    const page = fakePage('passkey-register-form', add.options);
    run(
      pageScript(html),
      page,
      { create: async () => Promise.reject(new Error('InvalidStateError')) },
      false,
    );
    await page.form.listeners.get('submit')?.({ preventDefault() {} });
    assert.equal((page.elements['passkey-register-error'] as Element).hidden, false);
  });
});

/** An authenticator with a passkey of demouser, added through the page's own script. */
async function enrolledAuthenticator() {
  const browser = await signedInBrowser(server.issuer);
  const { html, add } = await passkeyPage(browser, server.issuer);
  const page = fakePage('passkey-register-form', add.options);
  const authenticator = new SoftwareAuthenticator(server.issuer, { counts: true });
  run(pageScript(html), page, browserCredentials(authenticator), false);
  await page.form.listeners.get('submit')?.({ preventDefault() {} });
  const res = await postCredential(browser, add, await page.submitted);
  assert.equal(res.status, 303);
  return { authenticator };
}
