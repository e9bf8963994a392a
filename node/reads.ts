/**
 * The node's reads of stored signal values under a permit (docs/data-api.md "Reads"): the latest value of each
 * signal, and a page of history buckets, each strictly inside the permit's per-signal window. Store queries are
 * index range scans of `signals_read` (vehicle, name, ts, batch, position); a history page reads only the values
 * of its own buckets (plus one chunk) and at most `READ_LIMITS.maxPageRows` of them.
 */
import type { ReadPermit } from "../lib/consent/permissions";
import {
  BucketAggregator,
  READ_LIMITS,
  type Aggregation,
  type Bucket,
  type CursorPosition,
} from "../lib/consent/read-query";
import type { SignalRow, TelemetryStore } from "./store";

export interface LatestValue {
  name: string;
  timestamp: number | null;
  values: number[] | null;
}

/** The latest stored value of each permitted signal inside its window (null when none). */
export async function readLatest(store: TelemetryStore, permit: ReadPermit): Promise<LatestValue[]> {
  const vehicleId = permit.vehicleId.toString();
  return Promise.all(
    permit.signals.map(async (s): Promise<LatestValue> => {
      const row =
        s.window === null ? undefined : await store.latestSignal({ vehicleId, name: s.dataType, ...s.window });
      return { name: s.name, timestamp: row?.ts ?? null, values: row?.values ?? null };
    }),
  );
}

export interface HistoryPageResult {
  buckets: Bucket[];
  /** Where the next page starts, null on the last page. */
  next: CursorPosition | null;
  /** Stored values aggregated into this page. */
  rows: number;
}

/**
 * One page of history from `position`: buckets in (signal as asked, start) order, `limit` at most, ending early at a
 * bucket boundary once `maxRows` stored values were aggregated.
 */
export async function readHistoryPage(
  store: TelemetryStore,
  permit: ReadPermit,
  opts: {
    interval: number;
    agg: Aggregation;
    limit: number;
    position: CursorPosition;
    maxRows?: number;
    chunk?: number;
  },
): Promise<HistoryPageResult> {
  const vehicleId = permit.vehicleId.toString();
  const maxRows = opts.maxRows ?? READ_LIMITS.maxPageRows;
  const chunk = opts.chunk ?? READ_LIMITS.rowChunk;
  const buckets: Bucket[] = [];
  let rows = 0;
  const full = () => buckets.length >= opts.limit || rows >= maxRows;

  for (let n = opts.position.signal; n < permit.signals.length; n++) {
    const s = permit.signals[n];
    if (s.window === null) continue;
    if (full()) {
      // The page is full: the next page starts at this signal if it has any value in its window.
      const any = await store.signalRows({ vehicleId, name: s.dataType, ...s.window, limit: 1 });
      if (any.length > 0) return { buckets, next: { signal: n, start: null }, rows };
      continue;
    }
    const from =
      n === opts.position.signal && opts.position.start !== null
        ? Math.max(s.window.from, opts.position.start)
        : s.window.from;
    const agg = new BucketAggregator(s.name, opts.interval, opts.agg);
    let after: SignalRow | undefined;
    for (;;) {
      const page = await store.signalRows({ vehicleId, name: s.dataType, from, to: s.window.to, after, limit: chunk });
      for (const row of page) {
        const start = agg.bucketOf(row.ts);
        if (agg.current !== null && start !== agg.current) {
          buckets.push(agg.flush()!);
          if (full()) return { buckets, next: { signal: n, start }, rows };
        }
        agg.add(row.ts, row.values);
        rows++;
      }
      if (page.length < chunk) break;
      after = page[page.length - 1];
    }
    const last = agg.flush();
    if (last !== undefined) buckets.push(last);
  }
  return { buckets, next: null, rows };
}
