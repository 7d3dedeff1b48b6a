#!/usr/bin/env node
// The `mobile-oidc-provider` executable (package.json `bin`): the process around runCli.
import { text } from 'node:stream/consumers';
import { runCli } from './run.js';

// A server that cannot listen (EADDRINUSE, EACCES) says so in one line; anything else is a bug
// and keeps its stack.
process.on('uncaughtException', (error: NodeJS.ErrnoException) => {
  const line = typeof error.syscall === 'string' ? error.message : (error.stack ?? String(error));
  process.stderr.write(`mobile-oidc-provider: ${line}\n`);
  process.exit(1);
});

const code = await runCli(process.argv.slice(2), {
  stdout: (line) => process.stdout.write(line),
  stderr: (line) => process.stderr.write(line),
  // Nothing piped in: a terminal would wait for input nobody means to type.
  stdin: async () => (process.stdin.isTTY ? undefined : await text(process.stdin)),
});
// A server that refused to start may already listen: a refusal ends the process.
if (code === 0) process.exitCode = 0;
else process.exit(code);
