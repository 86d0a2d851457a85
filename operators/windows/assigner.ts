/**
 * Window assigners describe how event time is cut into windows. All windows are half-open
 * [start, end) in event-time epoch milliseconds. They are plain data (no closures) so a topology can be
 * printed, compared and fingerprinted against restored state.
 */

export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** Tumbling and hopping windows: fixed size, epoch-aligned starts every `advance` ms. */
export interface FixedWindows {
  readonly kind: 'tumbling' | 'hopping';
  readonly size: number;
  readonly advance: number;
  readonly describe: string;
}

/** Kafka Streams sliding windows: see sliding.ts for the exact definition. */
export interface SlidingWindows {
  readonly kind: 'sliding';
  /** Records at most this many ms apart share a window (Kafka's timeDifference, inclusive). */
  readonly timeDifference: number;
  /** Half-open window length: timeDifference + 1. */
  readonly size: number;
  readonly describe: string;
}

/** Session windows: records of a key closer than or equal to `gap` ms apart form one session. */
export interface SessionWindows {
  readonly kind: 'session';
  readonly gap: number;
  readonly describe: string;
}

export type WindowAssigner = FixedWindows | SlidingWindows | SessionWindows;
