// The sign-in rows' load (in the load generator's process): whole sign-ins as an app makes them,
// each a few requests that depend on the answers before (cookies, the login form, the code), so
// not autocannon's fixed requests. Node's fetch on keep-alive connections, as many sign-ins in
// flight as the job has connections; both rows run through this same client, so what it costs
// falls on both sides of their ratio.
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CookieJar } from 'tough-cookie';
import type { LoadResult, SignInInstall, SignInJob } from './protocol.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Redirects a browser sign-in may follow before it reaches the app (it takes about four). */
const MAX_REDIRECTS = 10;

/** A sign-in that did not go as an app's would: what answered, and how. */
class SignInFailure extends Error {}

/** A status and body the sign-in did not expect, as the failure's description. */
async function unexpected(step: string, res: Response): Promise<SignInFailure> {
  return new SignInFailure(`${step}: ${res.status} ${(await res.text()).slice(0, 500)}`);
}

/** A POST of `params` as `install` (HTTP Basic, as at the token endpoint); its JSON answer. */
async function post(url: string, install: SignInInstall, params: Record<string, string>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...FORM, authorization: install.authorization },
    body: new URLSearchParams(params).toString(),
  });
  if (res.status !== 200) throw await unexpected(url, res);
  return (await res.json()) as Record<string, unknown>;
}

/** The code at the token endpoint with its verifier; tokens as an app's sign-in gets them. */
async function exchange(
  job: SignInJob,
  install: SignInInstall,
  code: string,
  verifier: string,
  redirectUri?: string,
): Promise<void> {
  const tokens = await post(job.endpoints.token, install, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    ...(redirectUri ? { redirect_uri: redirectUri } : {}),
  });
  if (typeof tokens.refresh_token !== 'string' || typeof tokens.id_token !== 'string') {
    throw new SignInFailure(`token endpoint: no refresh or ID token in ${Object.keys(tokens)}`);
  }
}

/** The login page's form: where it posts, and its hidden fields (the CSRF token). */
function loginForm(html: string, pageUrl: string): { action: string; fields: URLSearchParams } {
  for (const [, action, inner] of html.matchAll(
    /<form\b[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g,
  )) {
    const url = new URL((action as string).replaceAll('&amp;', '&'), pageUrl);
    if (!url.pathname.endsWith('/login')) continue;
    const fields = new URLSearchParams();
    for (const [input] of (inner as string).matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
      fields.set(/name="([^"]+)"/.exec(input)?.[1] ?? '', /value="([^"]*)"/.exec(input)?.[1] ?? '');
    }
    return { action: url.href, fields };
  }
  throw new SignInFailure(`no login form at ${pageUrl}`);
}

/**
 * The browser code flow: the authorization request in a fresh browser (its own cookies, no SSO
 * session, so the login page is served), the password posted on it, the redirects followed to
 * the app's redirect URI (the install's own account: consent is given without a page), then
 * the code exchanged. Any other page (consent, an error) fails the sign-in.
 */
async function browserSignIn(job: SignInJob, install: SignInInstall): Promise<void> {
  const jar = new CookieJar();
  const request = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    const cookie = await jar.getCookieString(url);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const setCookie of res.headers.getSetCookie()) await jar.setCookie(setCookie, url);
    return res;
  };
  const verifier = randomBytes(32).toString('base64url');
  const authorization = new URL(job.endpoints.authorization);
  authorization.search = new URLSearchParams({
    client_id: install.clientId,
    response_type: 'code',
    redirect_uri: job.redirectUri,
    scope: job.scope,
    // As an app asks: oidc-provider issues a refresh token only when consent was prompted for.
    prompt: 'consent',
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  let url = authorization.href;
  let res = await request(url);
  let loginPages = 0;
  for (let step = 0; step < MAX_REDIRECTS; step += 1) {
    const location = res.headers.get('location');
    if (res.status === 303 || res.status === 302) {
      if (!location) throw await unexpected(url, res);
      if (location.startsWith(job.redirectUri)) {
        const code = new URL(location).searchParams.get('code');
        if (!code || loginPages !== 1) {
          throw new SignInFailure(`${loginPages} login pages, then ${location}`);
        }
        // The redirect URI the authorization request named, as the token endpoint requires.
        return exchange(job, install, code, verifier, job.redirectUri);
      }
      url = new URL(location, url).href;
      res = await request(url);
      continue;
    }
    if (res.status !== 200 || loginPages > 0) throw await unexpected(url, res);
    const form = loginForm(await res.text(), url);
    form.fields.set('username', install.username);
    form.fields.set('password', install.password);
    loginPages += 1;
    url = form.action;
    res = await request(url, { method: 'POST', headers: FORM, body: form.fields.toString() });
  }
  throw new SignInFailure(`no redirect to the app after ${MAX_REDIRECTS} steps`);
}

/**
 * The browserless sign-in (draft-ietf-oauth-first-party-apps): one POST to the Authorization
 * Challenge Endpoint with the request's parameters and the username and password, answered with
 * an authorization code, then the code exchanged (no redirect URI: the install has one).
 */
async function challengeSignIn(job: SignInJob, install: SignInInstall): Promise<void> {
  const verifier = randomBytes(32).toString('base64url');
  const answer = await post(job.endpoints.challenge, install, {
    scope: job.scope,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    username: install.username,
    password: install.password,
  });
  if (typeof answer.authorization_code !== 'string') {
    throw new SignInFailure(`challenge endpoint: ${JSON.stringify(answer).slice(0, 500)}`);
  }
  return exchange(job, install, answer.authorization_code, verifier);
}

/** The latency below which `share` of the sorted `values` lie, in ms. */
const percentile = (sorted: number[], share: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? 0;

/**
 * Runs the job's `amount` sign-ins, `connections` at a time: sign-ins per second (from the first
 * request to the last answer), the latency of a whole sign-in, and what failed.
 */
export async function runSignIns(job: SignInJob): Promise<LoadResult> {
  if (job.installs.length < job.connections) {
    throw new Error(`${job.installs.length} installs for ${job.connections} connections`);
  }
  const signIn = job.signIn === 'browser' ? browserSignIn : challengeSignIn;
  let next = 0;
  let succeeded = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: job.connections }, async (_, worker) => {
      // Each concurrent sign-in is its own user's, as in real traffic (see BENCH_ACCOUNTS).
      const install = job.installs[worker] as SignInInstall;
      while (next < job.amount) {
        next += 1;
        const begun = performance.now();
        try {
          await signIn(job, install);
          succeeded += 1;
          latencies.push(performance.now() - begun);
        } catch (error) {
          failures += 1;
          firstFailure ??= error instanceof SignInFailure ? error.message : String(error);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    opsPerSecond: succeeded / seconds,
    p50: Math.round(percentile(latencies, 0.5)),
    p99: Math.round(percentile(latencies, 0.99)),
    failures,
    ...(firstFailure ? { firstFailure } : {}),
  };
}
