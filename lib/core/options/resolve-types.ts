// The type-level machinery of options: the shape a defaults object may take, and the type of
// options once their defaults are filled in. Every feature's options.ts builds on these.

/**
 * The shape a defaults object may take for options of type `T`: any subset of its keys, with
 * the read-only values `as const` gives.
 *
 * @internal
 */
export type DefaultsOf<T> = { readonly [K in keyof T]?: DefaultValue<NonNullable<T[K]>> };

// Distributes over unions such as `RateLimit | false`; functions have no constant default.
type DefaultValue<V> = V extends readonly (infer E)[]
  ? readonly DefaultValue<E>[]
  : V extends (...args: never[]) => unknown
    ? never
    : V extends object
      ? DefaultsOf<V>
      : V;

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

/** `T` with its intersections flattened into one object type. @internal */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

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

/** `T` with the keys of `U` replaced by `U`'s: for resolved values no constant default gives. @internal */
export type Override<T, U> = Simplify<Omit<T, keyof U> & U>;
