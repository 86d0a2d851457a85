/**
 * Rolling health of each scoring slot: the outcome and inference latency of its most recent N rows. The
 * guard rails read error rate and p99 latency from here; a count-based window keeps memory fixed whatever
 * the traffic, and reset() starts a slot afresh after an action (e.g. a rollback) so the next decision is
 * about the new model only.
 */
export interface SlotHealth {
  readonly samples: number;
  readonly errors: number;
  readonly errorRate: number;
  /** p99 inference latency (ms) of successful rows; 0 without samples. */
  readonly p99LatencyMs: number;
}

class Ring {
  readonly latencies: Float64Array;
  readonly failed: Uint8Array;
  size = 0;
  next = 0;
  constructor(capacity: number) {
    this.latencies = new Float64Array(capacity);
    this.failed = new Uint8Array(capacity);
  }
  push(latencyMs: number, ok: boolean): void {
    this.latencies[this.next] = latencyMs;
    this.failed[this.next] = ok ? 0 : 1;
    this.next = (this.next + 1) % this.latencies.length;
    this.size = Math.min(this.size + 1, this.latencies.length);
  }
}

export class VariantMonitor {
  private readonly rings = new Map<string, Ring>();

  constructor(private readonly windowRows = 2000) {
    if (!Number.isInteger(windowRows) || windowRows < 1) {
      throw new Error(`windowRows must be an integer >= 1, got ${windowRows}`);
    }
  }

  observe(slot: string, latencyMs: number, ok: boolean): void {
    let ring = this.rings.get(slot);
    if (!ring) this.rings.set(slot, (ring = new Ring(this.windowRows)));
    ring.push(latencyMs, ok);
  }

  health(slot: string): SlotHealth {
    const ring = this.rings.get(slot);
    if (!ring || ring.size === 0) return { samples: 0, errors: 0, errorRate: 0, p99LatencyMs: 0 };
    const ok: number[] = [];
    let errors = 0;
    for (let i = 0; i < ring.size; i++) {
      if (ring.failed[i]) errors++;
      else ok.push(ring.latencies[i]!);
    }
    ok.sort((a, b) => a - b);
    // Nearest-rank p99: the smallest latency that at least 99% of rows did not exceed.
    const p99 = ok.length ? ok[Math.max(0, Math.ceil(0.99 * ok.length) - 1)]! : 0;
    return { samples: ring.size, errors, errorRate: errors / ring.size, p99LatencyMs: p99 };
  }

  reset(slot: string): void {
    this.rings.delete(slot);
  }
}
