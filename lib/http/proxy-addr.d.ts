// proxy-addr ships no types: the part of its API client-address.ts uses.
declare module 'proxy-addr' {
  import type { IncomingMessage } from 'node:http';

  /** Whether the address at `hop` (0: the socket peer, then X-Forwarded-For right to left) is a trusted proxy. */
  type Trust = (address: string, hop: number) => boolean;

  /** The client address: the first untrusted hop from the socket peer leftwards. */
  function proxyaddr(req: IncomingMessage, trust: Trust): string;

  namespace proxyaddr {
    /** The socket peer and the X-Forwarded-For entries right to left, up to the first untrusted one. */
    function all(req: IncomingMessage, trust?: Trust): (string | undefined)[];
    /** A trust function for these addresses and CIDR ranges; throws a TypeError for a bad one. */
    function compile(ranges: string | readonly string[]): Trust;
  }

  export = proxyaddr;
}
