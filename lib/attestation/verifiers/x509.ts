import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  Certificate,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  KeyUsage,
  KeyUsageFlags,
  type Name,
} from '@peculiar/asn1-x509';
import { AttestationError } from '../../core/errors.js';

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

// The chain checks and the verifiers' extension reads share one ASN.1 parse per certificate.
const parsedCertificates = new WeakMap<X509Certificate, Certificate>();

function parsed(cert: X509Certificate): Certificate {
  let certificate = parsedCertificates.get(cert);
  if (!certificate) {
    try {
      certificate = AsnConvert.parse(cert.raw, Certificate);
    } catch (cause) {
      throw new AttestationError('malformed', 'a certificate cannot be parsed', { cause });
    }
    parsedCertificates.set(cert, certificate);
  }
  return certificate;
}

/** The DER value of a certificate's extension, if it has it. @internal */
export function extensionValue(cert: X509Certificate, oid: string): Buffer | undefined {
  const extension = parsed(cert).tbsCertificate.extensions?.find((e) => e.extnID === oid);
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
 * A name compared as RFC 5280 §7.1 asks, approximately: same attribute types in the same RDNs,
 * string values compared case-insensitively with whitespace collapsed, whatever their string type.
 */
function canonicalName(name: Name): string {
  return JSON.stringify(
    name.map((rdn) =>
      rdn
        .map((atv) => {
          const value = atv.value;
          const text = value.anyValue
            ? `x:${Buffer.from(value.anyValue).toString('hex')}`
            : `s:${value.toString().normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase()}`;
          return `${atv.type}=${text}`;
        })
        .sort(),
    ),
  );
}

// The only critical extensions this validator processes (RFC 5280 §4.2: refuse any other).
const PROCESSED_CRITICAL = new Set([id_ce_basicConstraints, id_ce_keyUsage]);

/** What path validation reads of one certificate. */
interface Link {
  cert: X509Certificate;
  subject: string;
  issuer: string;
  ca: boolean;
  pathLen: number | undefined;
  /** The keyUsage bits, when the extension is present. */
  keyUsage: number | undefined;
}

function link(cert: X509Certificate, what: string): Link {
  const { tbsCertificate } = parsed(cert);
  const extensions = tbsCertificate.extensions ?? [];
  const oids = new Set(extensions.map((e) => e.extnID));
  if (oids.size !== extensions.length) {
    // RFC 5280 §4.2: two values of one extension leave the reader to pick which one counts.
    throw new AttestationError('malformed', `${what} repeats an extension`);
  }
  const unknown = extensions.find((e) => e.critical && !PROCESSED_CRITICAL.has(e.extnID));
  if (unknown) {
    throw new AttestationError(
      'critical_extension_unknown',
      `${what} has a critical extension this verifier does not process (${unknown.extnID})`,
    );
  }
  const value = (oid: string) => extensions.find((e) => e.extnID === oid)?.extnValue.buffer;
  let constraints: BasicConstraints | undefined;
  let keyUsage: number | undefined;
  try {
    const bc = value(id_ce_basicConstraints);
    if (bc) constraints = AsnConvert.parse(bc, BasicConstraints);
    const ku = value(id_ce_keyUsage);
    if (ku) keyUsage = AsnConvert.parse(ku, KeyUsage).toNumber();
  } catch (cause) {
    throw new AttestationError(
      'malformed',
      `${what} has a malformed basic constraint or key usage`,
      {
        cause,
      },
    );
  }
  return {
    cert,
    subject: canonicalName(tbsCertificate.subject),
    issuer: canonicalName(tbsCertificate.issuer),
    ca: constraints?.cA === true,
    pathLen: constraints?.cA ? constraints.pathLenConstraint : undefined,
    keyUsage,
  };
}

/**
 * Departures from RFC 5280 a verifier allows for its platform's real chains. @internal
 */
export interface ChainAllowances {
  /**
   * Whether `cert`, at `index` of the chain (an issuer, never the chain's top nor a pinned root),
   * may sign the certificate below it without being a CA (basicConstraints cA, keyCertSign).
   */
  nonCaIssuer?: (cert: X509Certificate, index: number) => boolean;
}

/**
 * Validates a chain, leaf first, as RFC 5280 §6.1 does: each certificate is valid at `now`, signed
 * by the next with names chaining (issuer = next subject), each issuer is a CA (basicConstraints
 * cA, and keyCertSign when keyUsage is present), each pathLenConstraint holds, the leaf is not a
 * CA, and no certificate has a critical extension other than basicConstraints and keyUsage. The
 * chain's last certificate either has a pinned root's public key and is self-signed (a root
 * re-issued with the same key stays trusted), or is signed by a pinned root, which then takes part
 * in the path as its top. The path is exactly the given chain, in its order.
 *
 * @param chain - leaf first.
 * @param trusted - pinned roots, PEM.
 * @param now - the time validity periods are checked at.
 * @param allowances - departures from RFC 5280 the platform's real chains need; none by default.
 * @throws AttestationError `malformed`, `chain_untrusted`, `certificate_expired`,
 *   `name_chaining_broken`, `issuer_not_ca`, `key_cert_sign_missing`, `path_length_exceeded`,
 *   `leaf_is_ca` or `critical_extension_unknown`.
 * @internal
 */
export function verifyChain(
  chain: X509Certificate[],
  trusted: readonly string[],
  now: Date,
  allowances: ChainAllowances = {},
): void {
  const top = chain.at(-1);
  if (!top) throw new AttestationError('malformed', 'the certificate chain is empty');
  const pinned = trusted.map(pinnedRoot);
  const topKey = spki(top);
  const path = [...chain];
  if (pinned.some((root) => root.spki.equals(topKey))) {
    if (!top.verify(top.publicKey)) {
      throw new AttestationError('chain_untrusted', 'the root certificate is not self-signed');
    }
  } else {
    const issuers = pinned.filter((root) => top.verify(root.cert.publicKey));
    const root = issuers.find((r) => validAt(r.cert, now)) ?? issuers[0];
    if (!root) {
      throw new AttestationError('chain_untrusted', 'the chain does not end at a trusted root');
    }
    path.push(root.cert);
  }
  const name = (i: number) => (i < chain.length ? `certificate ${i}` : 'the root certificate');
  const links = path.map((cert, i) => link(cert, name(i)));
  for (const [i, { cert }] of links.entries()) {
    if (!validAt(cert, now)) {
      throw new AttestationError('certificate_expired', `${name(i)} is not valid at this time`);
    }
  }
  const leaf = links[0] as Link;
  if (leaf.ca) {
    // A CA leaf could pass for an issuer of certificates appended below it.
    throw new AttestationError('leaf_is_ca', 'the leaf certificate is a CA certificate');
  }
  for (let i = 0; i + 1 < links.length; i++) {
    const subject = links[i] as Link;
    const issuer = links[i + 1] as Link;
    if (!subject.cert.verify(issuer.cert.publicKey)) {
      throw new AttestationError('chain_untrusted', `${name(i)} is not signed by its issuer`);
    }
    if (subject.issuer !== issuer.subject) {
      throw new AttestationError(
        'name_chaining_broken',
        `${name(i)} names another issuer than ${name(i + 1)}`,
      );
    }
    const allowed =
      i + 1 < chain.length - 1 && allowances.nonCaIssuer?.(issuer.cert, i + 1) === true;
    if (!issuer.ca && !allowed) {
      throw new AttestationError('issuer_not_ca', `${name(i + 1)} is not a CA certificate`);
    }
    if (
      issuer.keyUsage !== undefined &&
      (issuer.keyUsage & KeyUsageFlags.keyCertSign) === 0 &&
      !allowed
    ) {
      throw new AttestationError(
        'key_cert_sign_missing',
        `${name(i + 1)} is not allowed to sign certificates (keyUsage without keyCertSign)`,
      );
    }
  }
  // RFC 5280 §4.2.1.9: at most pathLen non-self-issued intermediates below a CA.
  for (const [j, ca] of links.entries()) {
    if (ca.pathLen === undefined) continue;
    const below = links.slice(1, j).filter((l) => l.subject !== l.issuer).length;
    if (below > ca.pathLen) {
      throw new AttestationError(
        'path_length_exceeded',
        `${name(j)} allows ${ca.pathLen} intermediate certificates below it, not ${below}`,
      );
    }
  }
}
