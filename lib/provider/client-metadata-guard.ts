import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';

/** oidc-provider's `Client` class, with the static method it calls before any policy runs. */
interface ClientClass {
  needsSecret(metadata: Record<string, unknown>): boolean;
}

/**
 * Refuses non-string algorithm members (`*_alg`, `*_enc`) before oidc-provider reads them.
 * oidc-provider's registration and RFC 7592 update call `Client.needsSecret(properties)` on the
 * raw body before any registration policy runs, and it regex-tests every signing and encryption
 * algorithm member: an object there throws a TypeError, a 500. This wraps that one static method
 * of this provider's own `Client` class (no file of oidc-provider is changed); every member name
 * ending in `_alg` or `_enc` is checked, so algorithm members a later version adds are covered.
 * test/registration/metadata-types.test.ts fails if an upgrade moves the call.
 *
 * @internal
 */
export function refuseNonStringAlgorithms(provider: Provider): void {
  const client = provider.Client as unknown as ClientClass;
  const needsSecret = client.needsSecret.bind(client);
  client.needsSecret = (metadata) => {
    for (const [name, value] of Object.entries(metadata)) {
      if (/_(alg|enc)$/.test(name) && value !== undefined && typeof value !== 'string') {
        throw new errors.InvalidClientMetadata(`${name} must be a string`);
      }
    }
    return needsSecret(metadata);
  };
}
