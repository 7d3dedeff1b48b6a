// A software WebAuthn authenticator for the tests: EC P-256 (ES256) credentials made and used
// following the byte layouts of WebAuthn Level 3 — authenticator data (§6.1: rpIdHash, flags,
// signCount, attested credential data with a COSE_Key), attestation objects with format "none"
// (§8.7), client data JSON (§5.8.1), and assertion signatures over authData ‖ SHA-256(clientData)
// (§6.3.3). Every part can be bent for the attack tests: origin, RP ID, flags, counter,
// challenge, credential id, user handle.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

/** A value the small CBOR encoder below writes (RFC 8949: the parts WebAuthn uses). */
type Cbor = number | string | Buffer | Cbor[] | Map<number | string, Cbor>;

/** A CBOR head: major type and length (or value), shortest form. */
function head(major: number, length: number): Buffer {
  const type = major << 5;
  if (length < 24) return Buffer.from([type | length]);
  if (length < 0x100) return Buffer.from([type | 24, length]);
  if (length < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = type | 25;
    b.writeUInt16BE(length, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = type | 26;
  b.writeUInt32BE(length, 1);
  return b;
}

/** Encodes `value` as CBOR: integers, byte strings, text strings, arrays and maps. */
export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  return Buffer.concat([
    head(5, value.size),
    ...[...value].flatMap(([key, item]) => [cbor(key), cbor(item)]),
  ]);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64u = (data: Buffer) => data.toString('base64url');

/** Authenticator data flags (WebAuthn §6.1). */
export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40, ED: 0x80 } as const;

/** One credential the authenticator holds. */
export interface SoftwareCredential {
  id: Buffer;
  privateKey: KeyObject;
  /** The public key as a COSE_Key (EC2, ES256, P-256). */
  cose: Buffer;
  rpId: string;
  userHandle: Buffer;
  counter: number;
}

/** What `create` may bend. */
export interface CreateOverrides {
  /** clientData.origin. @default the authenticator's origin */
  origin?: string;
  /** The RP ID hashed into authenticator data. @default the options' rp.id */
  rpId?: string;
  /** The challenge in client data. @default the options' */
  challenge?: string;
  /** clientData.type. @default 'webauthn.create' */
  type?: string;
  /** Authenticator data flags. @default UP | UV | AT (| BE | BS for a synced authenticator) */
  flags?: number;
  /** The credential id to make (instead of 16 random bytes). */
  credentialId?: Buffer;
}

/** What `get` may bend. */
export interface GetOverrides {
  /** Which credential to use (base64url id). @default the only one for the RP ID */
  credentialId?: string;
  origin?: string;
  rpId?: string;
  challenge?: string;
  type?: string;
  flags?: number;
  /** The signature counter to report (the authenticator's own is not changed). */
  counter?: number;
  /** The user handle to report (base64url), or `null` for none. */
  userHandle?: string | null;
}

/** The JSON of a registration (WebAuthn's RegistrationResponseJSON). */
export interface RegistrationJson {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; attestationObject: string; transports: string[] };
  clientExtensionResults: Record<string, never>;
  authenticatorAttachment: 'platform';
}

/** The JSON of an assertion (WebAuthn's AuthenticationResponseJSON). */
export interface AssertionJson {
  id: string;
  rawId: string;
  type: 'public-key';
  response: {
    clientDataJSON: string;
    authenticatorData: string;
    signature: string;
    userHandle?: string;
  };
  clientExtensionResults: Record<string, never>;
  authenticatorAttachment: 'platform';
}

interface Options {
  challenge: string;
  rp?: { id?: string };
  rpId?: string;
  user?: { id: string };
  pubKeyCredParams?: { alg: number }[];
  excludeCredentials?: { id: string }[];
  allowCredentials?: { id: string }[];
}

const parse = (options: string | object): Options =>
  (typeof options === 'string' ? JSON.parse(options) : options) as Options;

/**
 * A software authenticator at a browser origin. `counts` makes it keep a signature counter
 * (incremented per assertion); otherwise it reports 0 like the synced passkey providers.
 */
export class SoftwareAuthenticator {
  readonly credentials = new Map<string, SoftwareCredential>();
  readonly aaguid = randomBytes(16);

  constructor(
    readonly origin: string,
    readonly settings: { counts?: boolean; synced?: boolean } = {},
  ) {}

  /** `navigator.credentials.create()` with JSON options, answered as RegistrationResponseJSON. */
  create(options: string | object, overrides: CreateOverrides = {}): RegistrationJson {
    const o = parse(options);
    if (!o.pubKeyCredParams?.some((p) => p.alg === -7)) throw new Error('ES256 is not offered');
    for (const excluded of o.excludeCredentials ?? []) {
      if (this.credentials.has(excluded.id)) throw new Error('InvalidStateError: already made');
    }
    const rpId = o.rp?.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = cbor(
      new Map<number, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x as string, 'base64url')],
        [-3, Buffer.from(jwk.y as string, 'base64url')],
      ]),
    );
    const id = overrides.credentialId ?? randomBytes(16);
    const credential: SoftwareCredential = {
      id,
      privateKey,
      cose,
      rpId,
      userHandle: Buffer.from(o.user?.id ?? '', 'base64url'),
      counter: 0,
    };
    const length = Buffer.alloc(2);
    length.writeUInt16BE(id.length);
    const synced = this.settings.synced ? FLAGS.BE | FLAGS.BS : 0;
    const authData = Buffer.concat([
      sha256(overrides.rpId ?? rpId),
      Buffer.from([overrides.flags ?? FLAGS.UP | FLAGS.UV | FLAGS.AT | synced]),
      Buffer.alloc(4), // signCount 0
      this.aaguid,
      length,
      id,
      cose,
    ]);
    const attestationObject = cbor(
      new Map<string, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    const clientData = JSON.stringify({
      type: overrides.type ?? 'webauthn.create',
      challenge: overrides.challenge ?? o.challenge,
      origin: overrides.origin ?? this.origin,
      crossOrigin: false,
    });
    this.credentials.set(b64u(id), credential);
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(Buffer.from(clientData)),
        attestationObject: b64u(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** `navigator.credentials.get()` with JSON options, answered as AuthenticationResponseJSON. */
  get(options: string | object, overrides: GetOverrides = {}): AssertionJson {
    const o = parse(options);
    const rpId = o.rpId ?? new URL(this.origin).hostname;
    const allowed = (o.allowCredentials ?? []).map((c) => c.id);
    const candidates = [...this.credentials.entries()].filter(
      ([id, c]) =>
        (overrides.credentialId ? id === overrides.credentialId : c.rpId === rpId) &&
        (allowed.length === 0 || allowed.includes(id)),
    );
    const [id, credential] = candidates[0] ?? [];
    if (!id || !credential) throw new Error('NotAllowedError: no credential for this RP');
    if (this.settings.counts) credential.counter += 1;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(overrides.counter ?? credential.counter);
    const synced = this.settings.synced ? FLAGS.BE | FLAGS.BS : 0;
    const authData = Buffer.concat([
      sha256(overrides.rpId ?? rpId),
      Buffer.from([overrides.flags ?? FLAGS.UP | FLAGS.UV | synced]),
      counter,
    ]);
    const clientData = Buffer.from(
      JSON.stringify({
        type: overrides.type ?? 'webauthn.get',
        challenge: overrides.challenge ?? o.challenge,
        origin: overrides.origin ?? this.origin,
        crossOrigin: false,
      }),
    );
    const signature = sign(
      'sha256',
      Buffer.concat([authData, sha256(clientData)]),
      credential.privateKey,
    );
    const userHandle =
      overrides.userHandle === undefined ? b64u(credential.userHandle) : overrides.userHandle;
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientData),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(userHandle !== null ? { userHandle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** A clone: the same keys and counters in another authenticator (what cloning a key gives). */
  clone(): SoftwareAuthenticator {
    const copy = new SoftwareAuthenticator(this.origin, this.settings);
    for (const [id, c] of this.credentials) copy.credentials.set(id, { ...c });
    return copy;
  }
}

/** Bytes as the browser hands them over: a fresh ArrayBuffer. */
const arrayBuffer = (base64url: string): ArrayBuffer => {
  const bytes = Buffer.from(base64url, 'base64url');
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
};

/**
 * The authenticator behind a stand-in `navigator.credentials`, for running the pages' scripts
 * outside a browser: it takes the options as the scripts pass them (ArrayBuffers and typed
 * arrays), hands them to the software authenticator as JSON, and answers with a
 * PublicKeyCredential-shaped object of ArrayBuffers, as a browser does.
 */
export function browserCredentials(authenticator: SoftwareAuthenticator) {
  const text = (value: unknown): string => {
    if (value instanceof ArrayBuffer) return Buffer.from(value).toString('base64url');
    if (ArrayBuffer.isView(value)) {
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64url');
    }
    throw new TypeError('the script passed no binary value where WebAuthn wants one');
  };
  const ids = (list: unknown) =>
    ((list as { id: unknown }[] | undefined) ?? []).map((c) => ({ ...c, id: text(c.id) }));
  return {
    async create(request: { publicKey: Record<string, unknown> }) {
      const pk = request.publicKey;
      const json = authenticator.create({
        ...pk,
        challenge: text(pk.challenge),
        user: { ...(pk.user as object), id: text((pk.user as { id: unknown }).id) },
        excludeCredentials: ids(pk.excludeCredentials),
      });
      return {
        id: json.id,
        rawId: arrayBuffer(json.rawId),
        type: json.type,
        response: {
          clientDataJSON: arrayBuffer(json.response.clientDataJSON),
          attestationObject: arrayBuffer(json.response.attestationObject),
          getTransports: () => json.response.transports,
        },
        getClientExtensionResults: () => ({}),
      };
    },
    async get(request: { publicKey: Record<string, unknown>; mediation?: string }) {
      const pk = request.publicKey;
      const json = authenticator.get({
        ...pk,
        challenge: text(pk.challenge),
        allowCredentials: ids(pk.allowCredentials),
      });
      return {
        id: json.id,
        rawId: arrayBuffer(json.rawId),
        type: json.type,
        response: {
          clientDataJSON: arrayBuffer(json.response.clientDataJSON),
          authenticatorData: arrayBuffer(json.response.authenticatorData),
          signature: arrayBuffer(json.response.signature),
          userHandle: json.response.userHandle ? arrayBuffer(json.response.userHandle) : null,
        },
        getClientExtensionResults: () => ({}),
      };
    },
  };
}
