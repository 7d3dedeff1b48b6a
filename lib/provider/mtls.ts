import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** Where client certificates come from (see `MtlsOptions`). @internal */
export interface MtlsSettings {
  certificateHeader?: string;
  verifiedHeader?: string;
}

// One parse per request: oidc-provider asks for the certificate more than once.
const parsed = new WeakMap<object, X509Certificate | null>();

function certificateFromHeader(ctx: KoaContextWithOIDC, header: string): X509Certificate | null {
  const value = ctx.get(header);
  if (!value) return null;
  try {
    return new X509Certificate(decodeURIComponent(value));
  } catch {
    return null;
  }
}

function certificateFromSocket(ctx: KoaContextWithOIDC): X509Certificate | null {
  const socket = ctx.socket as Partial<TLSSocket>;
  const peer = socket.getPeerCertificate?.();
  return peer?.raw ? new X509Certificate(peer.raw) : null;
}

/** The request's client certificate, from the trusted proxy's header or the TLS socket. */
function clientCertificate(ctx: KoaContextWithOIDC, settings: MtlsSettings) {
  let certificate = parsed.get(ctx);
  if (certificate === undefined) {
    certificate = settings.certificateHeader
      ? certificateFromHeader(ctx, settings.certificateHeader)
      : certificateFromSocket(ctx);
    parsed.set(ctx, certificate);
  }
  return certificate ?? undefined;
}

// RFC 4514 strings list RDNs most significant last, Node's `subject` first: compare as sets.
const rdns = (dn: string) =>
  new Set(
    dn
      .split(/[\n,]/)
      .map((rdn) => rdn.trim())
      .filter(Boolean),
  );

const SAN_PREFIX: Record<string, string> = {
  tls_client_auth_san_dns: 'DNS:',
  tls_client_auth_san_uri: 'URI:',
  tls_client_auth_san_ip: 'IP Address:',
  tls_client_auth_san_email: 'email:',
};

/**
 * oidc-provider's mutual-TLS feature (RFC 8705 §2) over this deployment's certificate source:
 * the TLS socket (with `requestCert`), or a header set by a trusted TLS-terminating proxy.
 * Certificate-bound access tokens stay off: the library's endpoints cannot check them.
 *
 * @internal
 */
export function mtlsFeature(settings: MtlsSettings) {
  return {
    enabled: true,
    certificateBoundAccessTokens: false,
    selfSignedTlsClientAuth: true,
    tlsClientAuth: true,
    getCertificate: (ctx: KoaContextWithOIDC) => clientCertificate(ctx, settings),
    certificateAuthorized(ctx: KoaContextWithOIDC) {
      if (settings.certificateHeader) {
        return !!settings.verifiedHeader && ctx.get(settings.verifiedHeader) === 'SUCCESS';
      }
      return (ctx.socket as Partial<TLSSocket>).authorized === true;
    },
    certificateSubjectMatches(ctx: KoaContextWithOIDC, property: string, expected: string) {
      const certificate = clientCertificate(ctx, settings);
      if (!certificate) return false;
      if (property === 'tls_client_auth_subject_dn') {
        const actual = rdns(certificate.subject);
        const wanted = rdns(expected);
        return actual.size === wanted.size && [...wanted].every((rdn) => actual.has(rdn));
      }
      const prefix = SAN_PREFIX[property];
      const names = (certificate.subjectAltName ?? '').split(',').map((name) => name.trim());
      return prefix !== undefined && names.includes(`${prefix}${expected}`);
    },
  };
}
