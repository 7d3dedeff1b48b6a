import {
  type AuthServer,
  type AuthServerOptions,
  createAuthServer,
  MemoryStore,
} from 'mobile-oidc-provider';
import { testServerOptions } from './fixture.js';
import { type Listening, listen } from './listen.js';

/**
 * One issuer URL on one store, whose server is replaced between phases by one with other
 * options: a deployment changing its configuration while tokens and instances live on.
 */
export class PhasedIssuer {
  #auth: AuthServer | undefined;

  private constructor(
    readonly http: Listening,
    readonly store: MemoryStore,
  ) {}

  static async start(): Promise<PhasedIssuer> {
    return new PhasedIssuer(await listen(), new MemoryStore());
  }

  get issuer(): string {
    return this.http.url;
  }

  /** The server of the current phase. */
  get auth(): AuthServer {
    if (!this.#auth) throw new Error('no phase started');
    return this.#auth;
  }

  /** Serves the test server's options with `overrides` applied, from now on. */
  async phase(overrides: (options: AuthServerOptions) => AuthServerOptions): Promise<void> {
    const options = testServerOptions({ issuer: this.issuer });
    const warn = console.warn;
    console.warn = () => {}; // development-key warnings are expected here
    let next: AuthServer;
    try {
      next = await createAuthServer({ ...overrides(options), store: this.store });
    } finally {
      console.warn = warn;
    }
    this.http.server.removeAllListeners('request');
    this.http.handle(next.callback());
    await this.#auth?.close();
    this.#auth = next;
  }

  async close(): Promise<void> {
    await this.http.close();
    await this.#auth?.close();
    await this.store.close();
  }
}
