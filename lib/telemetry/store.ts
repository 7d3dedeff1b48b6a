import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { isStorageFailure, type StoreObserver } from '../storage/guard.js';
import { AlreadyConsumedError } from '../storage/store.js';
import type { Instruments } from './instruments.js';
import { CodeNames } from './labels.js';

/** An operation's metric attributes and span settings, made once per operation and model. */
interface Operation {
  attributes: Attributes;
  spanName: string;
  spanAttributes: Attributes;
}

/**
 * Measures every store operation the guard runs: its latency (`mobile_oidc.store.operation.duration_seconds`),
 * its failures (`mobile_oidc.store.errors`) and, inside a recording span, a child span.
 *
 * @internal
 */
export class StoreTelemetry implements StoreObserver {
  readonly #instruments: Instruments;
  readonly #tracer: Tracer | undefined;
  readonly #metered: boolean;
  // By model, then operation name: looked up without building a key per call.
  readonly #operations = new Map<string | undefined, Map<string, Operation>>();
  readonly #models = new CodeNames();

  constructor(instruments: Instruments, tracer: Tracer | undefined, metered: boolean) {
    this.#instruments = instruments;
    this.#tracer = tracer;
    this.#metered = metered;
  }

  observe<T>(name: string, model: string | undefined, operation: () => Promise<T>): Promise<T> {
    const parent = this.#tracer ? trace.getSpan(context.active()) : undefined;
    // A span per store call only inside a sampled request: none without a tracer or a parent.
    if (!parent?.isRecording() && !this.#metered) return operation();
    const op = this.#operation(name, model);
    const start = performance.now();
    let span: Span | undefined;
    let pending: Promise<T>;
    try {
      if (parent?.isRecording() && this.#tracer) {
        const active = context.active();
        span = this.#tracer.startSpan(
          op.spanName,
          { kind: SpanKind.CLIENT, attributes: op.spanAttributes },
          active,
        );
        pending = context.with(trace.setSpan(active, span), operation);
      } else {
        pending = operation();
      }
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      (result) => {
        this.#settled(op, start, span, undefined);
        return result;
      },
      (error: unknown) => {
        this.#settled(op, start, span, error);
        throw error;
      },
    );
  }

  #settled(op: Operation, start: number, span: Span | undefined, error: unknown): void {
    // A failure is the store's (unreachable, erroring); a lost consume race is an answer.
    const failed = error !== undefined && isStorageFailure(error);
    if (this.#metered) {
      this.#instruments.storeDuration.record((performance.now() - start) / 1000, op.attributes);
      if (failed) this.#instruments.storeErrors.add(1, op.attributes);
    }
    if (!span) return;
    // The error's kind only: a store's message may quote a key, and keys hold token ids.
    if (failed) {
      span.setAttribute('error.type', 'storage_unavailable');
      span.setStatus({ code: SpanStatusCode.ERROR });
    } else if (error instanceof AlreadyConsumedError) {
      span.setAttribute('mobile_oidc.store.outcome', 'already_consumed');
    }
    span.end();
  }

  #operation(name: string, model: string | undefined): Operation {
    let byName = this.#operations.get(model);
    if (!byName) {
      byName = new Map();
      this.#operations.set(model, byName);
    }
    let op = byName.get(name);
    if (!op) {
      const modelName = model === undefined ? undefined : this.#models.of(model);
      const attributes = Object.freeze(
        modelName === undefined ? { operation: name } : { operation: name, model: modelName },
      );
      op = {
        attributes,
        spanName: modelName === undefined ? `store ${name}` : `store ${modelName}.${name}`,
        spanAttributes: Object.freeze(
          modelName === undefined
            ? { 'mobile_oidc.store.operation': name }
            : { 'mobile_oidc.store.operation': name, 'mobile_oidc.store.model': modelName },
        ),
      };
      byName.set(name, op);
    }
    return op;
  }
}
