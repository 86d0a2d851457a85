import { Observable } from 'rxjs';
import type { Element, PartitionContext, Stage, StreamRecord } from '../../schemas/stream.js';
import type { AnyAggregator } from '../aggregate/aggregator.js';
import { rawOf } from '../raw-of.js';
import type { WindowAssigner } from './assigner.js';
import { parseDuration, type Duration } from './duration.js';
import { lateEventsCounter } from './late-counter.js';
import { WindowEngine } from './window-engine.js';
import type { LateInfo } from './strategy.js';

/** One closed window of one key. */
export interface WindowResult<R> {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly value: R;
}

export interface WindowOptions<T, R> {
  /** e.g. aggregate({ txnCount: count(), amountSum: sum((e) => e.amount) }) */
  readonly aggregate: AnyAggregator<T, R>;
  /** Extra watermark time after a window's end during which late records still count. Default 0. */
  readonly grace?: Duration;
  /** How far the watermark trails the highest event time seen. Default 0. */
  readonly outOfOrderness?: Duration;
  /** Alias of outOfOrderness, matching the source option name. */
  readonly lateness?: Duration;
  /** State store name; needed when one topology has two window stages with the same assigner. */
  readonly store?: string;
}

/** Store names claimed per partition, so two window stages cannot silently share (and corrupt) state. */
const claimed = new WeakMap<PartitionContext, Set<string>>();

/**
 * Keyed event-time windows with emit-final semantics (see window-engine.ts). Each closed window is
 * emitted once as a record with the window's key, eventTime = end - 1 (the last instant inside it),
 * and the source position/headers of the record whose arrival closed it, so its offset is committed
 * only after the result is. Records without a key or with an unusable event time go to the dead-letter
 * output; records later than the grace period go to the late output and the late-events counter.
 * At every barrier the stage flushes the engine into its store and captures it, then forwards the barrier
 * after anything emitted for records before it.
 */
export function window<T, R>(
  assigner: WindowAssigner,
  options: WindowOptions<T, R>,
): Stage<T, WindowResult<R>> {
  if (!assigner || typeof assigner !== 'object' || typeof assigner.describe !== 'string') {
    throw new TypeError(
      'window(assigner, ...) needs tumbling(...), hopping(...), sliding(...) or session(...)',
    );
  }
  const aggregator = options?.aggregate;
  if (!aggregator || typeof aggregator.prepare !== 'function') {
    throw new TypeError(
      `window(${assigner.describe}, { aggregate }) needs aggregate: aggregate({ n: count(), ... })`,
    );
  }
  if (options.lateness !== undefined && options.outOfOrderness !== undefined) {
    throw new RangeError('window options: give either outOfOrderness or its alias lateness, not both');
  }
  const grace = parseDuration(options.grace ?? 0, 'window grace');
  const outOfOrderness = parseDuration(
    options.outOfOrderness ?? options.lateness ?? 0,
    'window outOfOrderness',
  );
  const storeName = options.store ?? `window.${assigner.describe}`;

  return (ctx) => (source) =>
    new Observable<Element<WindowResult<R>>>((subscriber) => {
      const names = claimed.get(ctx) ?? new Set<string>();
      claimed.set(ctx, names);
      if (names.has(storeName)) {
        subscriber.error(
          new Error(
            `Two window stages use the state store "${storeName}"; give each a distinct \`store\` option`,
          ),
        );
        return;
      }
      names.add(storeName);
      let engine: WindowEngine<unknown, unknown> | undefined;
      const partition = String(ctx.partition);

      const late = (record: StreamRecord<T>, info: LateInfo): void => {
        lateEventsCounter.inc({ topology: ctx.topology, partition });
        ctx.side.late(record, {
          code: 'LATE',
          message:
            `record at event time ${info.eventTime} is ${info.watermark - info.eventTime} ms behind the watermark ` +
            `${info.watermark}; its last ${assigner.describe} window closed at watermark ${info.closedAt} ` +
            `(${info.watermark - info.closedAt} ms ago, grace ${grace} ms)`,
        });
      };

      const onRecord = (record: StreamRecord<T>): void => {
        if (record.key === null) {
          return deadLetter(
            ctx,
            record,
            'NULL_KEY',
            `window ${assigner.describe} needs keyed records; add keyBy(...) before it`,
          );
        }
        if (!Number.isSafeInteger(record.eventTime)) {
          return deadLetter(
            ctx,
            record,
            'INVALID_EVENT_TIME',
            `event time ${String(record.eventTime)} is not whole epoch ms`,
          );
        }
        let input: unknown;
        try {
          input = aggregator.prepare(record.value);
        } catch (err) {
          return deadLetter(
            ctx,
            record,
            'AGGREGATE_INPUT',
            `aggregate ${aggregator.describe} failed: ${String(err)}`,
          );
        }
        // Lazily, so the store is read after the runtime restored it.
        engine ??= new WindowEngine(ctx.store<unknown>(storeName), {
          assigner,
          ops: aggregator,
          grace,
          outOfOrderness,
          fingerprint: aggregator.describe,
        });
        const step = engine.process(record.key, record.eventTime, input);
        if (step.late) late(record, step.late);
        // Indexed, not for-of: this runs for every record, and most close nothing.
        for (let i = 0; i < step.closed.length; i += 1) {
          const closed = step.closed[i] as (typeof step.closed)[number];
          subscriber.next({
            kind: 'record',
            key: closed.key,
            eventTime: closed.end - 1,
            value: {
              key: closed.key,
              start: closed.start,
              end: closed.end,
              value: aggregator.result(closed.acc),
            },
            source: record.source,
            headers: record.headers,
          });
        }
      };

      const subscription = source.subscribe({
        next: (element) => {
          try {
            if (element.kind === 'barrier') {
              engine?.flush();
              ctx.captureState(element);
              subscriber.next(element);
            } else {
              onRecord(element);
            }
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        subscription.unsubscribe();
        names.delete(storeName);
      };
    });
}

function deadLetter(
  ctx: PartitionContext,
  record: StreamRecord<unknown>,
  code: string,
  message: string,
): void {
  ctx.side.deadLetter(rawOf(ctx, record), { code, message });
}
