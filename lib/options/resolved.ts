import type { Template } from '../core/template-types.js';
import type { FederatedProviderOptions } from '../federation/types.js';
import type {
  API_DEFAULTS,
  DEFAULTS,
  FEDERATED_PROVIDER_DEFAULTS,
  TEMPLATE_DEFAULTS,
} from './defaults.js';
import type { ApiOptions, AuthServerOptions } from './types.js';

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

// Mirrors `withDefaults`: an object option is filled in when its default supplies every key it
// requires (a group requires none); otherwise only the keys inside it are, once it is given.
type IsFilledIn<V, D> = D extends readonly unknown[]
  ? true
  : D extends object
    ? string extends keyof Extract<V, object>
      ? true
      : [RequiredKeys<Extract<V, object>>] extends [keyof D]
        ? true
        : false
    : true;

type ResolvedValue<V, D> = V extends readonly unknown[] | ((...args: never[]) => unknown)
  ? V
  : V extends object
    ? D extends readonly unknown[]
      ? V
      : string extends keyof V
        ? V
        : WithDefaults<V, D>
    : V;

type FilledKeys<O, D> = {
  [K in keyof O & keyof D]-?: IsFilledIn<NonNullable<O[K]>, D[K]> extends true ? K : never;
}[keyof O & keyof D];

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * Options of type `O` after the defaults `D` (shaped like `O`) are filled in: every key that
 * gets a default is required, recursively; the others keep their optionality.
 *
 * @internal
 */
export type WithDefaults<O, D> = Simplify<
  Pick<O, Exclude<keyof O, keyof D>> & {
    [K in FilledKeys<O, D>]-?: ResolvedValue<NonNullable<O[K]>, D[K & keyof D]>;
  } & {
    [K in Exclude<keyof O & keyof D, FilledKeys<O, D>>]?: ResolvedValue<
      NonNullable<O[K]>,
      D[K & keyof D]
    >;
  }
>;

type Override<T, U> = Simplify<Omit<T, keyof U> & U>;

type DefaultedOptions = WithDefaults<AuthServerOptions, typeof DEFAULTS>;
type DefaultedRegistration = DefaultedOptions['registration'];

/** A `federation.providers` entry with its defaults filled in. @internal */
export type ResolvedFederatedProvider = WithDefaults<
  FederatedProviderOptions,
  typeof FEDERATED_PROVIDER_DEFAULTS
>;

/**
 * Options after validation, with every default filled in. Beyond the constant defaults, the
 * entries of `apis` and `registration.templates` carry theirs, and `resolveOptions` computes
 * `registration.instances.allowedScopes` and `registration.fallbackClients` from other options.
 *
 * @internal
 */
export type ResolvedOptions = Override<
  DefaultedOptions,
  {
    apis: WithDefaults<ApiOptions, typeof API_DEFAULTS>[];
    federation: Override<
      DefaultedOptions['federation'],
      { providers: ResolvedFederatedProvider[] }
    >;
    registration: Override<
      DefaultedRegistration,
      {
        instances: Override<DefaultedRegistration['instances'], { allowedScopes: string[] }>;
        templates: WithDefaults<Template, typeof TEMPLATE_DEFAULTS>[];
        fallbackClients: string[];
      }
    >;
  }
>;
