/**
 * The read requests of the data API (docs/data-api.md "Reads"): their limits in one place, their schemas (zod,
 * run at the edge of the node as the routes' validators), the opaque history cursor and the per-interval
 * aggregation of stored signal values.
 *
 * Pure: no I/O. The node (node/reads.ts) feeds `BucketAggregator` with the stored values in time order.
 */
import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";
import { findDataType } from "../data-types";
import { ConsentError, type ConsentCode } from "./errors";

/** Every limit of the read routes, with its unit. */
export const READ_LIMITS = {
  /** History bucket width, seconds: smallest, largest and default. */
  minIntervalSeconds: 60,
  maxIntervalSeconds: 86_400,
  defaultIntervalSeconds: 3_600,
  /** History buckets per page (all signals together): largest and default. */
  maxPageBuckets: 5_000,
  defaultPageBuckets: 500,
  /**
   * Raw stored values one history page aggregates at most before it ends (at a bucket boundary; a single bucket is
   * never split): bounds the work of one request whatever the interval and the data rate.
   */
  maxPageRows: 100_000,
  /** Stored values the node reads per store query while aggregating. */
  rowChunk: 2_000,
  /** Longest query string the routes accept, characters (Fastify's own limit on the URL applies too). */
  maxNamesLength: 256,
} as const;

export const AGGREGATIONS = ["avg", "min", "max", "last"] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];
/** Data types whose values are codes or states, not magnitudes: only `last` means something. */
export const LAST_ONLY_TYPES: readonly string[] = ["dtc", "charging_status"];

/** A parsed list of signal names: as asked (for the answer) and canonical (for the store and the grant). */
export interface SignalNames {
  asked: string[];
  dataTypes: string[];
}

const MAX_TIME = Number.MAX_SAFE_INTEGER;

/** Issue params carrying the refusal code (default INVALID_PARAMETER). */
function fail(ctx: z.RefinementCtx, code: ConsentCode, message: string, path: string): void {
  ctx.addIssue({ code: z.ZodIssueCode.custom, message, path: [path], params: { consentCode: code } });
}

const namesSchema = z
  .string({ required_error: "required (a comma-separated list of signal names)" })
  .max(READ_LIMITS.maxNamesLength)
  .transform((text, ctx): SignalNames => {
    const asked = text.split(",").map((s) => s.trim());
    const dataTypes: string[] = [];
    for (const name of asked) {
      const t = name === "" ? undefined : findDataType(name);
      if (t === undefined) {
        fail(ctx, "UNKNOWN_SIGNAL", name === "" ? `empty name in "${text}"` : `unknown signal "${name}"`, "names");
        return z.NEVER;
      }
      if (dataTypes.includes(t.name)) {
        fail(ctx, "INVALID_PARAMETER", `"${name}" repeats data type ${t.name}`, "names");
        return z.NEVER;
      }
      dataTypes.push(t.name);
    }
    return { asked, dataTypes };
  });

function intText(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,16}$/, `expected an integer ${min} – ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `expected an integer ${min} – ${max}`);
}

export const VEHICLE_PARAMS_SCHEMA = z
  .object({ id: z.string().regex(/^(0|[1-9][0-9]{0,77})$/, "not a decimal vehicle id") })
  .strict();

export const LATEST_QUERY_SCHEMA = z.object({ names: namesSchema }).strict();
export type LatestQuery = z.infer<typeof LATEST_QUERY_SCHEMA>;

export const HISTORY_QUERY_SCHEMA = z
  .object({
    names: namesSchema,
    from: intText(0, MAX_TIME),
    to: intText(0, MAX_TIME).optional(),
    interval: intText(READ_LIMITS.minIntervalSeconds, READ_LIMITS.maxIntervalSeconds).default(
      String(READ_LIMITS.defaultIntervalSeconds),
    ),
    agg: z.enum(AGGREGATIONS).default("last"),
    cursor: z.string().max(512).optional(),
    limit: intText(1, READ_LIMITS.maxPageBuckets).default(String(READ_LIMITS.defaultPageBuckets)),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.to !== undefined && q.from > q.to) fail(ctx, "INVALID_RANGE", `from ${q.from} is after to ${q.to}`, "from");
    if (q.agg !== "last" && q.names !== undefined) {
      const codes = q.names.dataTypes.filter((t) => LAST_ONLY_TYPES.includes(t));
      if (codes.length > 0) fail(ctx, "INVALID_PARAMETER", `${codes.join(", ")} accept agg=last only`, "agg");
    }
  });
export type HistoryQuery = z.infer<typeof HISTORY_QUERY_SCHEMA>;

/**
 * Parses `data` with `schema`, or throws the ConsentError of its first issue: the code the schema gave
 * (`UNKNOWN_SIGNAL`, `INVALID_RANGE`) or `INVALID_PARAMETER`, with the parameter in `field` (an unknown
 * parameter names itself).
 */
export function parseParams<T extends z.ZodTypeAny>(schema: T, data: unknown): z.infer<T> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    const key = issue.keys[0];
    throw new ConsentError("INVALID_PARAMETER", `${key}: unknown parameter`, { parameter: key }, key);
  }
  const field = String(issue.path[0] ?? "query");
  const code = ((issue as { params?: { consentCode?: ConsentCode } }).params?.consentCode ??
    "INVALID_PARAMETER") as ConsentCode;
  const message = issue.code === z.ZodIssueCode.invalid_type ? `${issue.message.toLowerCase()}` : issue.message;
  throw new ConsentError(code, `${field}: ${message}`, { parameter: field }, field);
}

/** Where the next history page starts: the signal (index in the names asked) and the bucket start. */
export interface CursorPosition {
  signal: number;
  start: number | null;
}

interface CursorBody {
  v: 1;
  /** Signal index and bucket start of the next page. */
  n: number;
  s: number | null;
  /** The query's `to`, resolved on the first page (so "now" does not move while paging). */
  to: number;
  /** Binds the cursor to the query's other parameters. */
  q: string;
}

/** The parameters a cursor is bound to (all but `cursor` and `limit`; `to` as asked, or "now"). */
export function queryKey(q: Pick<HistoryQuery, "names" | "from" | "to" | "interval" | "agg">): string {
  const text = [q.names.dataTypes.join(","), q.from, q.to ?? "now", q.interval, q.agg].join("|");
  return keccak256(toUtf8Bytes(text)).slice(2, 18);
}

export function encodeCursor(pos: CursorPosition, to: number, key: string): string {
  const body: CursorBody = { v: 1, n: pos.signal, s: pos.start, to, q: key };
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

/** Decodes a cursor of this query, or `INVALID_PARAMETER` (field `cursor`). */
export function decodeCursor(text: string, key: string, signals: number): { position: CursorPosition; to: number } {
  const bad = (why: string) =>
    new ConsentError("INVALID_PARAMETER", `cursor: ${why}; pass nextCursor of the same query`, {}, "cursor");
  let body: CursorBody;
  try {
    body = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as CursorBody;
  } catch {
    throw bad("not a cursor of this node");
  }
  const int = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (
    body === null ||
    typeof body !== "object" ||
    body.v !== 1 ||
    !int(body.n) ||
    body.n >= signals ||
    !(body.s === null || int(body.s)) ||
    !int(body.to) ||
    typeof body.q !== "string"
  ) {
    throw bad("not a cursor of this node");
  }
  if (body.q !== key) throw bad("issued for another query");
  return { position: { signal: body.n, start: body.s }, to: body.to };
}

/** One history bucket as answered. */
export interface Bucket {
  name: string;
  start: number;
  count: number;
  values: number[];
}

/** `sum / n` as a JSON number, exact to double precision even when the sum exceeds 2^53. */
function mean(sum: bigint, n: number): number {
  const d = BigInt(n);
  return Number(sum / d) + Number(sum % d) / n;
}

/**
 * Aggregates one signal's values into buckets `[k·interval, (k+1)·interval)`, fed in time order (ties in store
 * order). Each value component (a location's latitude and longitude, each wheel's pressure) is aggregated on its
 * own, over the values that have it: `avg` the arithmetic mean (not rounded), `min`, `max`, `last` the values of
 * the latest stored value. `count` is the number of stored values in the bucket.
 */
export class BucketAggregator {
  private _start: number | null = null;
  private _count = 0;
  private _n: number[] = [];
  private _sum: bigint[] = [];
  private _min: number[] = [];
  private _max: number[] = [];
  private _last: number[] = [];

  constructor(
    private readonly _name: string,
    readonly interval: number,
    private readonly _agg: Aggregation,
  ) {}

  /** The aligned start of the bucket of time `ts`. */
  bucketOf(ts: number): number {
    return Math.floor(ts / this.interval) * this.interval;
  }

  /** The start of the bucket being filled, or null. */
  get current(): number | null {
    return this._start;
  }

  /**
   * Adds a value of time `ts` to the bucket being filled (opening it when none is). The caller flushes first when
   * `bucketOf(ts)` is not `current`: it decides whether the page has room for the next bucket.
   */
  add(ts: number, values: readonly number[]): void {
    if (this._start === null) this._start = this.bucketOf(ts);
    this._count++;
    this._last = [...values];
    values.forEach((v, j) => {
      if (j >= this._n.length) {
        this._n.push(0);
        this._sum.push(0n);
        this._min.push(v);
        this._max.push(v);
      }
      this._n[j]++;
      this._sum[j] += BigInt(v);
      if (v < this._min[j]) this._min[j] = v;
      if (v > this._max[j]) this._max[j] = v;
    });
  }

  /** Closes the bucket being filled (undefined when none). */
  flush(): Bucket | undefined {
    if (this._start === null) return undefined;
    const values =
      this._agg === "last"
        ? this._last
        : this._agg === "min"
          ? this._min
          : this._agg === "max"
            ? this._max
            : this._sum.map((s, j) => mean(s, this._n[j]));
    const bucket = { name: this._name, start: this._start, count: this._count, values: [...values] };
    this._start = null;
    this._count = 0;
    this._n = [];
    this._sum = [];
    this._min = [];
    this._max = [];
    this._last = [];
    return bucket;
  }
}
