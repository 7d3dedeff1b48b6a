// The `mobile-oidc-provider` command: parses its arguments and runs one command. Kept apart from
// the process (cli.ts) so tests run it in process, with their own stdin, stdout and stderr.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { generateKeys } from '../lib/keys/index.js';
import { CliError } from './errors.js';
import { asEnv, type Input, parseKeySet, readInput } from './key-set.js';
import { describeKeys, rotate, STAGES, type Stage } from './rotate.js';

/** What the CLI reads and writes. */
export interface Io extends Input {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const USAGE = `Usage: mobile-oidc-provider <command> [options]

Commands:
  keys generate             print new server keys as JSON: {"jwks":{"keys":[RS256, ES256]},"cookieKeys":[…]}
  keys rotate [file]        read keys (file, or stdin) and print them rotated:
      --stage now           (default) new keys sign at once, the old ones still verify
      --stage add           new keys published and verifying, not signing yet (key_ops ["verify"])
      --stage promote       the added keys sign, the old ones still verify
      --stage retire        only the keys that sign remain
  keys env [file]           print keys (file, or stdin) as JWKS=… and COOKIE_KEYS=… lines (an env file)
  serve                     run the example server (environment as \`npm start\`, plus HOST)

Options:
  -h, --help                show this help

docs/operations.md ("Keys and rotation") describes the rotation of several processes.
`;

/** A usage error from node's argument parser, as one short line. */
function usageError(error: unknown): CliError {
  const message = (error as Error).message.split('. ')[0] ?? 'bad arguments';
  return new CliError('usage', `${message.replace(/\.$/, '')} (see --help)`, { cause: error });
}

/** Parses `args` against `options`, turning the parser's errors into usage errors. */
function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  positionals: number,
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(error);
  }
  if (parsed.positionals.length > positionals) {
    throw new CliError(
      'usage',
      `unexpected argument ${parsed.positionals[positionals]} (see --help)`,
    );
  }
  return parsed;
}

const help = { help: { type: 'boolean', short: 'h' } } as const;

async function keysCommand([subcommand, ...args]: string[], io: Io): Promise<void> {
  switch (subcommand) {
    case 'generate': {
      const { values } = parse(args, help, 0);
      if (values.help) return io.stdout(USAGE);
      const keys = await generateKeys();
      io.stdout(`${JSON.stringify(keys, null, 2)}\n`);
      return;
    }
    case 'rotate': {
      const { values, positionals } = parse(
        args,
        { ...help, stage: { type: 'string', default: 'now' } },
        1,
      );
      if (values.help) return io.stdout(USAGE);
      const stage = values.stage as Stage;
      if (!STAGES.includes(stage)) {
        throw new CliError(
          'usage',
          `unknown stage ${values.stage}: one of ${STAGES.join(', ')} (see --help)`,
        );
      }
      const [file] = positionals;
      const current = parseKeySet(await readInput(file, io), file ?? 'stdin');
      const rotated = await rotate(current, stage);
      io.stdout(`${JSON.stringify(rotated, null, 2)}\n`);
      io.stderr(`${describeKeys(rotated)}\n`);
      return;
    }
    case 'env': {
      const { values, positionals } = parse(args, help, 1);
      if (values.help) return io.stdout(USAGE);
      const [file] = positionals;
      io.stdout(asEnv(parseKeySet(await readInput(file, io), file ?? 'stdin')));
      return;
    }
    default:
      throw new CliError(
        'usage',
        subcommand === undefined
          ? 'keys needs a command: generate, rotate or env (see --help)'
          : `unknown command keys ${subcommand} (see --help)`,
      );
  }
}

/**
 * Runs the command `args` names (the arguments after the program's name) and resolves its exit
 * code; a refusal is one line on stderr. `serve` resolves once the server listens, and the
 * process then lives as long as it does.
 */
export async function runCli(args: string[], io: Io): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case '-h':
      case '--help':
      case 'help':
        io.stdout(USAGE);
        return 0;
      case 'keys':
        await keysCommand(rest, io);
        return 0;
      case 'serve': {
        const { values } = parse(rest, help, 0);
        if (values.help) {
          io.stdout(USAGE);
          return 0;
        }
        // The example server, compiled beside this file: it starts listening on import.
        await import('../examples/server/main.js').catch((error: unknown) => {
          // Start-up refusals are the operator's settings (options refused, a secret missing).
          throw new CliError('bad_input', `the server did not start: ${(error as Error).message}`, {
            cause: error,
          });
        });
        return 0;
      }
      default:
        throw new CliError(
          'usage',
          command === undefined
            ? 'a command is needed: keys generate, keys rotate, keys env or serve (see --help)'
            : `unknown command ${command} (see --help)`,
        );
    }
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    io.stderr(`mobile-oidc-provider: ${error.message}\n`);
    return error.exitCode;
  }
}
