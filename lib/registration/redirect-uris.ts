// Whether a redirect URI says what it means: an RFC 8252 native-app form that RFC 3986 and
// browsers read alike.
import { domainToUnicode } from 'node:url';
import fastUri, { type URIComponent } from 'fast-uri';

// Schemes that must never be a redirect target, whatever their spelling.
const DANGEROUS_SCHEMES = new Set([
  'javascript:',
  'data:',
  'file:',
  'vbscript:',
  'blob:',
  'about:',
]);

const isAscii = (value: string) => [...value].every((c) => c <= '\x7f');
// The characters RFC 3986 allows in a URI (§2: unreserved, reserved and '%'), all ASCII.
const NOT_URI_CHARACTER = /[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/;
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };
// RFC 8252 §7.3: a loopback redirect is exactly http://127.0.0.1[:port]/… or http://[::1][:port]/….
const LOOPBACK_REDIRECT = /^http:\/\/(?:127\.0\.0\.1|\[::1\])(?::[0-9]+)?\//;
// RFC 3986 parse options: unicodeSupport keeps the host as written (no IDNA, no IPv4 rewriting).
const AS_WRITTEN = { unicodeSupport: true } as const;

/** The host and port exactly as written in `uri`, for a URI whose parse found an authority. */
function writtenAuthority(uri: string, rfc: URIComponent) {
  const rest = uri.slice(String(rfc.scheme).length + '://'.length);
  const end = rest.startsWith('[') ? rest.indexOf(']') + 1 : rest.search(/[:/?#]|$/);
  const host = rest.slice(0, end);
  const port = /^:([0-9]*)/.exec(rest.slice(end))?.[1];
  return { host, port };
}

/**
 * Where the RFC 3986 reading of `uri` (fast-uri) and the browsers' reading (WHATWG URL) part:
 * the host as written against the host a browser goes to, then port, path and query. Both
 * sides go through the same RFC 3986 §6.2.2 normalisation (percent-encoding case, unreserved
 * characters), so only differences in meaning remain.
 */
function parsesDisagree(uri: string, rfc: URIComponent, url: URL): string | undefined {
  const browser = fastUri.parse(url.href, AS_WRITTEN);
  const special = url.protocol in DEFAULT_PORTS;
  if (browser.error || rfc.scheme !== browser.scheme) {
    return `is read differently by RFC 3986 and by browsers (WHATWG URL: '${url.href}')`;
  }
  if ((rfc.host === undefined) !== (browser.host === undefined)) {
    return `is read differently by RFC 3986 and by browsers (WHATWG URL: '${url.href}')`;
  }
  if (rfc.host !== undefined) {
    const written = writtenAuthority(uri, rfc);
    if (written.host.includes('%')) {
      return `must not percent-encode its host: browsers read '${written.host}' as '${url.hostname}'`;
    }
    if (
      written.host.toLowerCase() !== url.hostname.toLowerCase() ||
      String(rfc.host).toLowerCase() !== String(browser.host).toLowerCase()
    ) {
      if (/^[0-9.]+$/.test(url.hostname)) {
        return `has the non-canonical IP address '${written.host}', which browsers read as ${url.hostname}: write IPv4 addresses as four decimal numbers without leading zeros`;
      }
      if (url.hostname.startsWith('[')) {
        return `has the IPv6 address '${written.host}' in a form browsers rewrite to ${url.hostname}: write it in that form (RFC 5952)`;
      }
      return `has the host '${written.host}', which browsers read as '${url.hostname}'`;
    }
    if (written.port !== undefined) {
      if (!/^(?:0|[1-9][0-9]*)$/.test(written.port)) {
        return `has the port '${written.port}': write a port as a decimal number without leading zeros, or leave out the ':'`;
      }
      const port = url.port || DEFAULT_PORTS[url.protocol];
      if (Number(written.port) !== Number(port)) {
        return `has the port '${written.port}', which browsers read as ${port ?? 'no port'}`;
      }
    }
  }
  // RFC 3986 §6.2.3: in http(s) URIs an empty path is the same as '/'.
  const path = (component: URIComponent) =>
    special && !component.path ? '/' : (component.path ?? '');
  if (path(rfc) !== path(browser)) {
    return `has the path '${path(rfc)}', which browsers read as '${url.pathname}': leave out dot segments (RFC 3986 §5.2.4)`;
  }
  if (rfc.query !== browser.query) {
    return `has a query that browsers read differently ('${url.search}')`;
  }
  return undefined;
}

/**
 * The URI with its internationalised host in ASCII (punycode, RFC 5890 A-labels), when `uri` is
 * an http(s) URI whose only non-ASCII characters are in its host and that host is exactly the
 * Unicode form of the ASCII one, ignoring case. A host that IDNA mapping changes further
 * (fullwidth letters, ideographic full stops, decomposed characters) has no exact ASCII form:
 * the reason instead. `undefined` when the non-ASCII characters are not (only) in such a host.
 */
function asciiHostForm(uri: string): { uri: string } | { problem: string } | undefined {
  const url = URL.parse(uri);
  if (!url || !(url.protocol in DEFAULT_PORTS) || url.username || url.password) return undefined;
  const rfc = fastUri.parse(uri, AS_WRITTEN);
  if (rfc.error || rfc.scheme === undefined || rfc.host === undefined) return undefined;
  if (rfc.userinfo !== undefined || !uri.slice(rfc.scheme.length).startsWith('://')) {
    return undefined;
  }
  const { host } = writtenAuthority(uri, rfc);
  if (host.includes('%') || host.startsWith('[')) return undefined;
  const start = rfc.scheme.length + '://'.length;
  const rewritten = uri.slice(0, start) + url.hostname + uri.slice(start + host.length);
  if (!isAscii(rewritten) || URL.parse(rewritten)?.href !== url.href) return undefined;
  if (domainToUnicode(url.hostname) !== host.toLowerCase()) {
    return {
      problem: `has the host '${host}', which IDNA mapping (UTS #46) changes to '${url.hostname}': write the host in that ASCII form`,
    };
  }
  return { uri: rewritten };
}

/**
 * The form of a redirect URI the server stores and matches: an internationalised host in
 * http(s) is rewritten to its ASCII (punycode) form when that form is exact (RFC 7591 §2 lets
 * the server replace metadata values, and the response shows what it stored); anything else is
 * returned as given, for {@link redirectUriProblem} to judge.
 *
 * @internal
 */
export function normalizedRedirectUri(uri: string): string {
  if (isAscii(uri)) return uri;
  const ascii = asciiHostForm(uri);
  return ascii && 'uri' in ascii ? ascii.uri : uri;
}

/**
 * Checks one redirect URI against RFC 8252 §7 (native apps) and RFC 9700 §4.1.1 (exact
 * matching): a private-use scheme in reverse-domain form, a loopback IP literal over `http`
 * with any port (exactly `http://127.0.0.1[:port]/…` or `http://[::1][:port]/…`, RFC 8252
 * §7.3), or a claimed `https` URL; never a fragment or a wildcard. It must say what it means:
 * no userinfo (RFC 3986 §3.2.1, §7.6), no backslashes, only ASCII characters RFC 3986 allows,
 * an IP address in its canonical form, and RFC 3986 and the browsers' WHATWG URL parser must
 * read the same scheme, host, port, path and query. An internationalised host must be in its
 * ASCII form ({@link normalizedRedirectUri} gives it for registrations).
 *
 * @returns the reason it is refused, or `undefined` when it is acceptable.
 * @internal
 */
export function redirectUriProblem(uri: string): string | undefined {
  // Stored as given, so the raw string must be clean too (the URL parser would trim it).
  if ([...uri].some((c) => c <= ' ' || c === '\x7f'))
    return 'must not contain whitespace or control characters';
  if (uri.includes('*')) return 'must not contain wildcards';
  if (uri.includes('#')) return 'must not contain a fragment (RFC 6749 §3.1.2)';
  if (uri.includes('\\')) {
    return "must not contain backslashes: RFC 3986 does not allow them, and browsers read them as '/'";
  }
  if (!isAscii(uri)) {
    const ascii = asciiHostForm(uri);
    if (ascii && 'problem' in ascii) return ascii.problem;
    return ascii && redirectUriProblem(ascii.uri) === undefined
      ? `must have its host in ASCII (punycode) form: '${ascii.uri}'`
      : 'must be ASCII (RFC 3986 §2): percent-encode other characters, and write an internationalised host in its ASCII (punycode) form';
  }
  const character = NOT_URI_CHARACTER.exec(uri)?.[0];
  if (character) {
    return `must only contain characters RFC 3986 allows (§2): percent-encode '${character}'`;
  }
  const url = URL.parse(uri);
  if (url && DANGEROUS_SCHEMES.has(url.protocol)) return `must not use the ${url.protocol} scheme`;
  const rfc = fastUri.parse(uri, AS_WRITTEN);
  if (rfc.error) return `is not a valid URI (RFC 3986): ${rfc.error}`;
  if (rfc.scheme === undefined) return 'must be an absolute URI';
  if (!url) return 'is not a URL browsers can parse (WHATWG URL)';
  if (rfc.userinfo !== undefined || url.username || url.password) {
    return "must not contain userinfo (a name or password and '@' before the host): browsers go to the host after the '@' (RFC 3986 §3.2.1, §7.6)";
  }
  const brackets = uri.match(/[[\]]/g)?.length ?? 0;
  if (brackets > 0 && !(brackets === 2 && url.hostname.startsWith('['))) {
    return "must not contain '[' or ']' outside an IPv6 host (RFC 3986 §3.2.2)";
  }
  const disagreement = parsesDisagree(uri, rfc, url);
  if (disagreement) return disagreement;
  if (url.protocol === 'https:') {
    return url.hostname ? undefined : 'must name a host';
  }
  if (url.protocol === 'http:') {
    // RFC 8252 §7.3 and §8.3: loopback IP literals only; "localhost" may resolve elsewhere.
    if (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]') {
      return 'may use http only for the loopback addresses 127.0.0.1 and [::1] (RFC 8252 §7.3)';
    }
    return LOOPBACK_REDIRECT.test(uri)
      ? undefined
      : 'must be exactly http://127.0.0.1[:port]/… or http://[::1][:port]/… as a loopback redirect (RFC 8252 §7.3)';
  }
  // RFC 8252 §7.1: a private-use scheme must be a reverse domain name the app controls.
  const scheme = url.protocol.slice(0, -1);
  if (!/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/.test(scheme)) {
    return 'must use a reverse-domain private-use scheme such as com.example.app: (RFC 8252 §7.1), a loopback http URL or an https URL';
  }
  return undefined;
}
