/**
 * The windows of feature views, as one stage: each view's window + aggregate runs as its own branch with
 * its own state store (named after the view and its version, so a new version starts from empty state),
 * and every closed window becomes a FeatureRow of its view.
 */
import { map } from 'rxjs';
import type { FeatureRowRecord } from '../../schemas/index.js';
import type { Element, Stage } from '../../schemas/stream.js';
import { window, type WindowResult } from '../../operators/windows/index.js';
import type { FeatureType, FeatureView } from './feature-view.js';
import { fanOut } from './fan-out.js';

/** Feature values as stored: numbers only (booleans as 0/1); a missing value is an absent key. */
export function toFeatureMap(
  values: Readonly<Record<string, number | boolean | null>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(values)) {
    if (v === null || v === undefined) continue;
    const n = typeof v === 'boolean' ? Number(v) : v;
    if (Number.isFinite(n)) out[name] = n;
  }
  return out;
}

/** The windows of one view, emitting its feature rows. */
export function featureWindow<T, F extends Record<string, FeatureType>>(
  view: FeatureView<T, F>,
): Stage<T, FeatureRowRecord> {
  const windowed = window(view.assigner, {
    aggregate: view.aggregator,
    grace: view.graceMs,
    outOfOrderness: view.outOfOrdernessMs,
    store: `fv.${view.name}.${view.version}`,
  });
  return (ctx) => (source) =>
    source.pipe(
      windowed(ctx),
      map(
        (
          element: Element<WindowResult<Record<string, number | boolean | null>>>,
        ): Element<FeatureRowRecord> => {
          if (element.kind === 'barrier') return element;
          const w = element.value;
          return {
            ...element,
            value: {
              view: view.name,
              viewVersion: view.versionNumber,
              entity: w.key,
              windowStart: w.start,
              windowEnd: w.end,
              // A window's row is valid from its end: point-in-time joins may use it at t >= windowEnd.
              eventTime: w.end,
              features: toFeatureMap(w.value),
            },
          };
        },
      ),
    );
}

/** The windows of several views over the same keyed input, checkpoint-aligned. */
export function featureWindows<T>(
  views: readonly FeatureView<T, Record<string, FeatureType>>[],
): Stage<T, FeatureRowRecord> {
  const names = views.map((v) => v.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`featureWindows lists view ${dup} twice`);
  return fanOut(views.map((v) => featureWindow(v)));
}
