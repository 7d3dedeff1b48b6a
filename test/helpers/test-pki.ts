// Test PKI for mutual TLS: a CA that issues server and client certificates, and self-signed
// client certificates, all generated per run with @peculiar/x509 (nothing vendored).
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Every test key: ECDSA P-256 with SHA-256 (ES256). */
export const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const HOUR = 3_600_000;

/** A certificate with its private key, as PEM, ready for `tls` options. */
export interface Issued {
  cert: string;
  key: string;
  /** The certificate's DER, base64 (for a JWK's `x5c`). */
  der: string;
}

async function issued(cert: x509.X509Certificate, key: webcrypto.CryptoKey): Promise<Issued> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key)).toString('base64');
  return {
    cert: cert.toString('pem'),
    key: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`,
    der: Buffer.from(cert.rawData).toString('base64'),
  };
}

/** A test certificate authority. */
export interface TestAuthority {
  /** The CA certificate, PEM. */
  cert: string;
  /** Issues a server certificate for 127.0.0.1. */
  server(): Promise<Issued>;
  /** Issues a client certificate with this subject DN (e.g. `CN=device-42`). */
  client(subject: string): Promise<Issued>;
}

export async function createAuthority(name: string): Promise<TestAuthority> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + 24 * HOUR),
    keys,
    signingAlgorithm: EC,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  let serial = 1;
  async function issue(subject: string, extensions: x509.Extension[]) {
    serial += 1;
    const leafKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial.toString(16).padStart(2, '0'),
      subject,
      issuer: ca.subject,
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + HOUR),
      publicKey: leafKeys.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: EC,
      extensions,
    });
    return issued(cert, leafKeys.privateKey);
  }
  return {
    cert: ca.toString('pem'),
    server: () =>
      issue('CN=127.0.0.1', [
        new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ]),
    client: (subject) =>
      issue(subject, [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])]),
  };
}

/** A self-signed client certificate (for `self_signed_tls_client_auth`, RFC 8705 §2.2). */
export async function selfSignedClient(subject: string): Promise<Issued> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: subject,
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + HOUR),
    keys,
    signingAlgorithm: EC,
  });
  return issued(cert, keys.privateKey);
}
