/**
 * The stage after the window: each closed histogram of a model version becomes drift metrics and maybe a
 * retrain request (drift-evaluation.ts). Per-model state lives in a changelog-backed store and is captured
 * at every barrier, so after a crash the replayed windows meet the state they met the first time.
 *
 * Profiles load asynchronously (first window of a version), so elements are handled on one ordered chain:
 * a barrier is captured and forwarded only after every window before it was evaluated.
 */
import { Observable } from 'rxjs';
import type { DriftMetricRecord, RetrainRequestRecord } from '../../schemas/index.js';
import type { Element, Stage, StreamRecord } from '../../schemas/stream.js';
import { rawOf } from '../../operators/raw-of.js';
import type { WindowResult } from '../../operators/windows/index.js';
import type { DriftPolicy } from './drift-policy.js';
import { parseModelKey } from './drift-sample.js';
import { evaluateWindow, initialDriftState, type ModelDriftState } from './drift-evaluation.js';
import type { DriftHistogram } from './histogram-aggregator.js';
import { ProfileUnavailableError, type ProfileCache } from './profile-cache.js';

export type DriftOutput =
  | { readonly kind: 'metric'; readonly metric: DriftMetricRecord }
  | { readonly kind: 'retrain'; readonly request: RetrainRequestRecord };

export interface EvaluateOptions {
  readonly profiles: ProfileCache;
  readonly policy: DriftPolicy;
  readonly store?: string;
  /** Called for every request emitted (logging, metrics). */
  readonly onRequest?: (request: RetrainRequestRecord) => void;
}

export function evaluateDrift(o: EvaluateOptions): Stage<WindowResult<DriftHistogram>, DriftOutput> {
  const storeName = o.store ?? 'drift.policy';
  return (ctx) => (source) =>
    new Observable<Element<DriftOutput>>((subscriber) => {
      const store = () => ctx.store<ModelDriftState>(storeName);
      let chain: Promise<void> = Promise.resolve();
      let failed = false;

      const evaluate = async (record: StreamRecord<WindowResult<DriftHistogram>>) => {
        const window = record.value;
        const { model, modelVersion } = parseModelKey(window.key);
        let layouts;
        try {
          layouts = o.profiles.peek(model, modelVersion) ?? (await o.profiles.get(model, modelVersion));
        } catch (err) {
          if (!(err instanceof ProfileUnavailableError)) throw err;
          const raw = rawOf(ctx, record);
          ctx.side.deadLetter(raw, { code: err.code, message: err.message });
          return;
        }
        const state = store().get(window.key) ?? initialDriftState;
        const result = evaluateWindow(window, layouts, o.policy, state);
        store().put(window.key, result.state);
        const emit = (value: DriftOutput, key: string) =>
          subscriber.next({ ...record, key, eventTime: window.end - 1, value });
        for (const metric of result.metrics) emit({ kind: 'metric', metric }, window.key);
        if (result.request) {
          o.onRequest?.(result.request);
          emit({ kind: 'retrain', request: result.request }, window.key);
        }
      };

      const handle = (element: Element<WindowResult<DriftHistogram>>) => {
        chain = chain
          .then(async () => {
            if (failed) return;
            if (element.kind === 'barrier') {
              ctx.captureState(element);
              subscriber.next(element);
            } else {
              await evaluate(element);
            }
          })
          .catch((err: unknown) => {
            failed = true;
            subscriber.error(err);
          });
      };

      const subscription = source.subscribe({
        next: handle,
        error: (err: unknown) => subscriber.error(err),
        complete: () => void chain.then(() => subscriber.complete()),
      });
      return () => subscription.unsubscribe();
    });
}
