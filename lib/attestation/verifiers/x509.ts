import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { AttestationError } from '../../errors.js';

const PEM = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/;

/** A certificate from PEM, base64 DER or DER bytes. @internal */
export function parseCertificate(value: string | Uint8Array, what: string): X509Certificate {
  try {
    if (typeof value !== 'string') return new X509Certificate(Buffer.from(value));
    const body = PEM.exec(value)?.[1] ?? value;
    return new X509Certificate(Buffer.from(body.replace(/\s/g, ''), 'base64'));
  } catch (cause) {
    throw new AttestationError('malformed', `${what} is not a certificate`, { cause });
  }
}

/** The DER value of a certificate's extension, if it has it. @internal */
export function extensionValue(cert: X509Certificate, oid: string): Buffer | undefined {
  let parsed: Certificate;
  try {
    parsed = AsnConvert.parse(cert.raw, Certificate);
  } catch (cause) {
    throw new AttestationError('malformed', 'a certificate cannot be parsed', { cause });
  }
  const extension = parsed.tbsCertificate.extensions?.find((e) => e.extnID === oid);
  return extension ? Buffer.from(extension.extnValue.buffer) : undefined;
}

const spki = (cert: X509Certificate) => cert.publicKey.export({ type: 'spki', format: 'der' });
const validAt = (cert: X509Certificate, now: Date) =>
  new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);

// Roots are configuration, verified on every attestation: parse each PEM once.
const roots = new Map<string, { cert: X509Certificate; spki: Buffer }>();

function pinnedRoot(pem: string, index: number) {
  let root = roots.get(pem);
  if (!root) {
    const cert = parseCertificate(pem, `root ${index}`);
    root = { cert, spki: spki(cert) };
    if (roots.size < 100) roots.set(pem, root);
  }
  return root;
}

/**
 * Checks a chain, leaf first: each certificate is signed by the next and valid at `now`, and the
 * last one either has a pinned root's public key (a root re-issued with the same key stays
 * trusted) or is signed by a pinned root that is valid at `now`.
 *
 * @throws AttestationError `chain_untrusted` or `certificate_expired`.
 * @internal
 */
export function verifyChain(chain: X509Certificate[], trusted: readonly string[], now: Date): void {
  const pinned = trusted.map(pinnedRoot);
  for (const [i, cert] of chain.entries()) {
    const issuer = chain[i + 1];
    if (issuer && !cert.verify(issuer.publicKey)) {
      throw new AttestationError('chain_untrusted', `certificate ${i} is not signed by its issuer`);
    }
    if (!validAt(cert, now)) {
      throw new AttestationError(
        'certificate_expired',
        `certificate ${i} is not valid at this time`,
      );
    }
  }
  const top = chain.at(-1);
  if (!top) throw new AttestationError('malformed', 'the certificate chain is empty');
  const topKey = spki(top);
  if (pinned.some((root) => root.spki.equals(topKey))) {
    if (!top.verify(top.publicKey)) {
      throw new AttestationError('chain_untrusted', 'the root certificate is not self-signed');
    }
    return;
  }
  const issuer = pinned.find((root) => top.verify(root.cert.publicKey))?.cert;
  if (!issuer)
    throw new AttestationError('chain_untrusted', 'the chain does not end at a trusted root');
  if (!validAt(issuer, now)) {
    throw new AttestationError(
      'certificate_expired',
      'the root certificate is not valid at this time',
    );
  }
}
