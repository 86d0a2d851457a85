/** The feature views defined in this codebase, by name: what `sluice features register` publishes. */
import type { TxnEventRecord } from '../../schemas/index.js';
import type { FeatureView } from './feature-view.js';
import { cardViews } from './views/index.js';

export const definedViews: readonly FeatureView<TxnEventRecord>[] =
  cardViews as unknown as FeatureView<TxnEventRecord>[];

export class UnknownViewError extends Error {
  override readonly name = 'UnknownViewError';
}

export function viewByName(
  name: string,
  views: readonly FeatureView<unknown>[] = definedViews as readonly FeatureView<unknown>[],
): FeatureView<unknown> {
  const view = views.find((v) => v.name === name);
  if (!view) {
    throw new UnknownViewError(
      `no feature view named "${name}"; defined views: ${views.map((v) => v.name).join(', ') || '(none)'}`,
    );
  }
  return view;
}
