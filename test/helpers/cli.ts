// Runs the CLI in process, with stdin given and stdout and stderr captured.
import type { ServerKeys } from 'mobile-oidc-provider';
import { runCli } from '../../bin/run.js';

/** What one run of the CLI printed, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mobile-oidc-provider <args>` in process; `stdin` is what is piped in (none: a terminal). */
export async function cli(args: string[], stdin?: string): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    stdin: async () => stdin,
  });
  return { code, stdout, stderr };
}

/** Runs a keys command that must succeed and print a key set; resolves the key set. */
export async function keysFrom(args: string[], stdin?: string): Promise<ServerKeys> {
  const run = await cli(args, stdin);
  if (run.code !== 0) throw new Error(`${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as ServerKeys;
}

/** `keys rotate --stage <stage>` of `keys`, given on stdin. */
export const rotated = (keys: ServerKeys, stage: string): Promise<ServerKeys> =>
  keysFrom(['keys', 'rotate', '--stage', stage], JSON.stringify(keys));
