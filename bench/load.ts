// The bench's load generator, a process of its own (autocannon: keep-alive connections, each
// sending its next request as soon as the previous answer arrives, latency histograms, little
// CPU per request); whole sign-ins, which autocannon's fixed requests cannot make, through
// bench/sign-ins.ts. Reads one JSON LoadJob per line on stdin, runs them one after another, and
// prints one JSON LoadResult per line on stdout.
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import autocannon, { type Request } from 'autocannon';
import type { Chain, LoadJob, LoadResult, RequestJob, RequestPart } from './protocol.js';
import { runSignIns } from './sign-ins.js';

/** What each request carries from its setup to its response (autocannon's per-request context). */
interface Context {
  chain?: Chain;
}

/** A first-in, first-out queue of chains: a refresh takes the head and puts it back at the tail. */
class ChainQueue {
  #items: Chain[];
  #head = 0;
  constructor(chains: Chain[]) {
    this.#items = [...chains];
  }
  take(): Chain {
    const chain = this.#items[this.#head++];
    if (!chain) throw new Error('no refresh chain left: more connections than chains');
    return chain;
  }
  put(chain: Chain): void {
    this.#items.push(chain);
  }
  /** The chains, next to be used first; those still taken are not in it. */
  rest(): Chain[] {
    return this.#items.slice(this.#head);
  }
}

function refreshBody(chain: Chain): RequestPart {
  return {
    headers: { authorization: chain.authorization },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: chain.refreshToken,
    }).toString(),
  };
}

async function run(job: RequestJob): Promise<LoadResult> {
  const queue = job.chains ? new ChainQueue(job.chains) : undefined;
  let next = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const failed = (description: string) => {
    failures += 1;
    firstFailure ??= description;
  };
  /** The varying part of the next request: a chain's refresh, or the next listed request. */
  const nextPart = (context: Context): RequestPart => {
    if (queue) {
      context.chain = queue.take();
      return refreshBody(context.chain);
    }
    return job.requests?.[next++] ?? {};
  };
  const request: Request = {
    setupRequest: (req, context) => {
      const part = nextPart(context as Context);
      return {
        ...req,
        headers: { ...req.headers, ...part.headers },
        ...(part.body === undefined ? {} : { body: part.body }),
      };
    },
    onResponse: (status, body, context) => {
      lastResponse = performance.now();
      const { chain } = context as Context;
      if (status < 200 || status > 299) failed(`${status} ${body}`);
      else if (chain)
        chain.refreshToken = (JSON.parse(body) as { refresh_token: string }).refresh_token;
      if (chain) queue?.put(chain);
    },
  };
  const started = performance.now();
  let lastResponse = started;
  const result = await autocannon({
    url: job.url,
    method: job.method,
    headers: job.headers,
    ...(job.body === undefined ? {} : { body: job.body }),
    connections: job.connections,
    amount: job.amount,
    requests: [request],
    // autocannon notices the end only at its next sample; sampling often ends the run sooner.
    sampleInt: 10,
  });
  // The run lasts from the first request to the last answer.
  const seconds = (lastResponse - started) / 1000;
  if (result.errors > 0) failed(`${result.errors} connection errors (${result.timeouts} timeouts)`);
  return {
    opsPerSecond: result['2xx'] / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures,
    ...(firstFailure ? { firstFailure } : {}),
    ...(queue ? { chains: queue.rest() } : {}),
  };
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const job = JSON.parse(line) as LoadJob;
  const result = 'signIn' in job ? await runSignIns(job) : await run(job);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
