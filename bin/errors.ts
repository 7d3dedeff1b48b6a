import { MobileOidcProviderError } from '../lib/core/errors.js';

/**
 * What the CLI refuses, printed as one line on stderr without a stack: `usage` (a command or
 * option it does not know, exit code 2) or `bad_input` (keys it cannot read or use, exit code 1).
 */
export class CliError extends MobileOidcProviderError {
  declare readonly code: 'usage' | 'bad_input';

  constructor(code: 'usage' | 'bad_input', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }

  /** The process's exit code: 2 for a usage error, as shells' own tools do; 1 otherwise. */
  get exitCode(): number {
    return this.code === 'usage' ? 2 : 1;
  }
}
