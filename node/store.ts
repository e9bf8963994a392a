/**
 * The node's storage behind one narrow interface (`TelemetryStore`), on Kysely: better-sqlite3 (embedded,
 * the default, no setup) or PostgreSQL (`DATABASE_URL=postgres://…`). Same migrations, same queries, same
 * tests. A batch, its signals and its stream head are written in one transaction: a killed process leaves
 * the whole batch or nothing. The registry index (events and cursor) lives in the same database so a
 * restarted node resumes from where it stopped.
 */
import fs from "node:fs";
import path from "node:path";
import { getAddress } from "ethers";
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Generated,
  type Migration,
  type Selectable,
} from "kysely";
import { appendEntry, EMPTY_HEAD, type AccessLogEntry, type AccessRead, type LogHead } from "../lib/consent/access-log";
import type { Database as SqliteDatabase } from "better-sqlite3";
import type { BatchSummary } from "../lib/telemetry/activity";
import type { BindingEvent } from "../lib/telemetry/bindings";
import type { SignedBatch } from "../lib/telemetry/format";

export type StoreKind = "sqlite" | "postgres";

interface BatchesTable {
  id: Generated<number>;
  digest: string;
  vehicle_id: string;
  device_id: string;
  signer: string;
  sequence: number;
  start_time: number;
  end_time: number;
  received_at: number;
  signature: string;
  /** The signed batch exactly as accepted (`SignedBatch` JSON). */
  signed_json: string;
  types_mask: number;
  odo_first_t: number | null;
  odo_first_m: number | null;
  odo_last_t: number | null;
  odo_last_m: number | null;
  inner_meters: number;
}
interface SignalsTable {
  batch_id: number;
  vehicle_id: string;
  name: string;
  ts: number;
  values_json: string;
  /** Position of the signal in its batch (migration 003): with (ts, batch_id) a total order of a vehicle's values. */
  pos: Generated<number>;
}
interface StreamsTable {
  vehicle_id: string;
  signer: string;
  sequence: number;
  end_time: number;
}
interface RegistryEventsTable {
  block_number: number;
  log_index: number;
  block_time: number;
  kind: string;
  vehicle_id: string;
  device_id: string;
  address: string;
}
interface IndexCursorTable {
  id: number;
  block_number: number;
}
interface AccessLogTable {
  seq: number;
  at: number;
  consumer: string;
  vehicle_id: string;
  /** The ownership epoch of the grant relied on: an owner sees the reads of its own epoch only. */
  epoch: number;
  /** The whole entry (lib/consent/access-log.ts `AccessLogEntry`) as JSON; its hash chain is verifiable. */
  entry_json: string;
  hash: string;
}
/** Migration 004: per consumer, its entries in this node's access log (k) and their credits (cumulative(k)). */
interface ConsumerReadsTable {
  consumer: string;
  reads: number;
  credits: number;
}
/** Migration 004: the latest receipt a consumer signed to this node (the one redeemed), per (consumer, node). */
interface CreditReceiptsTable {
  consumer: string;
  node: string;
  sequence: number;
  cumulative_credits: number;
  /** wei, decimal text (above 2^63 at the highest price). */
  max_price_per_credit: string;
  signature: string;
  received_at: number;
  /** The sequence of the last redeem of this channel `data:redeem` saw succeed (0 before any). */
  redeemed_sequence: Generated<number>;
}
interface Database {
  access_log: AccessLogTable;
  consumer_reads: ConsumerReadsTable;
  credit_receipts: CreditReceiptsTable;
  batches: BatchesTable;
  signals: SignalsTable;
  streams: StreamsTable;
  registry_events: RegistryEventsTable;
  index_cursor: IndexCursorTable;
}

/** One registry event as the index keeps it (lib/telemetry/bindings.ts). */
export type RegistryEvent = BindingEvent;

/** A batch to store: the signed batch, its digest and signer, and its activity summary. */
export interface BatchRecord {
  signed: SignedBatch;
  digest: string;
  signer: string;
  receivedAt: number;
  summary: BatchSummary;
}

export type InsertResult =
  | { ok: true; id: number }
  | { ok: false; code: "duplicate_batch" | "sequence_replayed" | "time_range_overlaps"; message: string };

/** A stored batch as the activity task reads it. */
export interface StoredBatchRow {
  id: number;
  digest: string;
  signature: string;
  summary: BatchSummary;
  /** The signed batch JSON, when asked for. */
  signedJson?: string;
}

/** One stored signal value, as the read API reads it; `(ts, batchId, pos)` orders a vehicle's values of a name. */
export interface SignalRow {
  ts: number;
  batchId: number;
  pos: number;
  values: number[];
}

/** A vehicle's values of one signal name with `from <= ts <= to`. */
export interface SignalRange {
  vehicleId: string;
  name: string;
  from: number;
  to: number;
}

/** A consumer's reads in this node's access log: k and cumulative(k) (docs/data-api.md "Paying for reads"). */
export interface ReadCount {
  reads: number;
  credits: number;
}

/** A stored receipt: the signed numbers and the signature (consumer and node are the channel's). */
export interface StoredReceipt {
  consumer: string;
  node: string;
  sequence: number;
  cumulativeCredits: number;
  maxPricePerCredit: bigint;
  signature: string;
  receivedAt: number;
  /** The channel's last redeemed sequence as `data:redeem` recorded it (0 before any). */
  redeemedSequence: number;
}

/** `appendAccess` with `expect`: the consumer's count moved (another read of it was logged first); nothing written. */
export class ReadCountMoved extends Error {
  constructor(
    readonly expected: ReadCount,
    readonly actual: ReadCount,
  ) {
    super(`the consumer's read count moved from ${expected.reads} to ${actual.reads} while the read was served`);
    this.name = "ReadCountMoved";
  }
}

/** The narrow interface the node, the tasks and the benchmarks use. */
export interface TelemetryStore {
  readonly kind: StoreKind;
  /** Stores a batch whole (batch, signals, stream head) or nothing. */
  insertBatch(record: BatchRecord): Promise<InsertResult>;
  /** Stored batches whose start time lies in [from, to), by (start time, id), `pageSize` at a time. */
  batchesStartingIn(
    from: number,
    to: number,
    opts?: { pageSize?: number; withJson?: boolean },
  ): AsyncGenerator<StoredBatchRow[]>;
  /** The signed JSON of stored batches by id. */
  signedBatches(ids: number[]): Promise<Map<number, string>>;
  countBatches(): Promise<number>;
  countSignals(): Promise<number>;
  /** Every batch's signal count against its JSON (for integrity checks): ids whose counts differ. */
  inconsistentBatches(): Promise<number[]>;
  /** Registry index: the cursor (last indexed block, -1 before any) and every stored event in order. */
  loadIndex(): Promise<{ block: number; events: RegistryEvent[] }>;
  /** Registry index: appends events and moves the cursor, atomically. */
  saveIndex(events: RegistryEvent[], block: number): Promise<void>;
  /**
   * Access log (issue 14): appends the entry that follows the stored head for this read, in one transaction
   * (a crash leaves the entry whole or absent; `seq` is the primary key, so two writers cannot both append
   * the same number). Appends from one process are serialised.
   */
  appendAccess(
    read: AccessRead,
    opts?: {
      /** The consumer's count the read was admitted at: when it moved, `ReadCountMoved` and nothing written. */
      expect?: ReadCount;
      /** A receipt to store (replacing the channel's) in the same transaction, before the entry. */
      receipt?: Omit<StoredReceipt, "redeemedSequence">;
    },
  ): Promise<AccessLogEntry>;
  /** A consumer's entries in the access log and their credits (kept with every append; {0, 0} before any). */
  readCount(consumer: string): Promise<ReadCount>;
  /** The latest receipt of the channel (consumer, node), if any. */
  receiptOf(consumer: string, node: string): Promise<StoredReceipt | undefined>;
  /** Stores a receipt (replacing the channel's) if the consumer's count is still `expect`; `ReadCountMoved` if not. */
  saveReceipt(receipt: Omit<StoredReceipt, "redeemedSequence">, expect: ReadCount): Promise<void>;
  /** Every stored receipt to `node`, by consumer. */
  receiptsOf(node: string): Promise<StoredReceipt[]>;
  /** Records that the channel was redeemed up to `sequence` (never moves it back). */
  markRedeemed(consumer: string, node: string, sequence: number): Promise<void>;
  /** Access log entries in order, optionally of one vehicle (and ownership epoch) and/or consumer, from `afterSeq` (exclusive), `limit` at most. */
  accessLog(filter?: {
    vehicleId?: string;
    epoch?: number;
    consumer?: string;
    afterSeq?: number;
    limit?: number;
  }): Promise<AccessLogEntry[]>;
  /** The head of the stored access log (count and hash of the last entry). */
  accessLogHead(): Promise<LogHead>;
  /**
   * Read API (issue 14): a vehicle's stored values of signal `name` with `from <= ts <= to`, in `(ts, batchId,
   * pos)` order, after `after` (exclusive) when given, `limit` at most: one range scan of the `signals_read` index.
   */
  signalRows(
    q: SignalRange & { after?: Pick<SignalRow, "ts" | "batchId" | "pos">; limit: number },
  ): Promise<SignalRow[]>;
  /** Read API: the latest stored value of signal `name` with `from <= ts <= to` (last in `(ts, batchId, pos)` order). */
  latestSignal(q: SignalRange): Promise<SignalRow | undefined>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Opens the store `DATABASE_URL` names (postgres://…), else the SQLite file (created with its folder). */
export async function openStore(opts: { databaseUrl?: string; sqliteFile?: string }): Promise<TelemetryStore> {
  const url = opts.databaseUrl;
  let db: Kysely<Database>;
  let kind: StoreKind;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const pg = await import("pg");
    // int8 columns hold unix seconds, metres and sequences: all below 2^53, read them as numbers.
    pg.default.types.setTypeParser(20, (v: string) => Number(v));
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.default.Pool({ connectionString: url, max: 8 }) }),
    });
    kind = "postgres";
  } else {
    if (url) throw new Error(`DATABASE_URL must be a postgres:// URL, got "${url.replace(/\/\/[^@]*@/, "//…@")}"`);
    const file = opts.sqliteFile ?? ":memory:";
    if (file !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const { default: SQLite } = await import("better-sqlite3");
    const database = new SQLite(file);
    database.pragma("journal_mode = WAL"); // a killed process rolls back the open transaction on reopen
    database.pragma("synchronous = NORMAL"); // durable against process crashes; see docs/telemetry.md
    database.pragma("busy_timeout = 5000");
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    await migrate(db, "sqlite");
    return new SqliteStore(db, database);
  }
  await migrate(db, kind);
  return new KyselyStore(db, kind);
}

function migrations(kind: StoreKind): Record<string, Migration> {
  const idType = kind === "postgres" ? "bigserial" : "integer";
  const int = "bigint";
  return {
    "001_telemetry": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("batches")
          .addColumn("id", idType, (c) => (kind === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn("digest", "text", (c) => c.notNull().unique())
          .addColumn("vehicle_id", "text", (c) => c.notNull())
          .addColumn("device_id", "text", (c) => c.notNull())
          .addColumn("signer", "text", (c) => c.notNull())
          .addColumn("sequence", int, (c) => c.notNull())
          .addColumn("start_time", int, (c) => c.notNull())
          .addColumn("end_time", int, (c) => c.notNull())
          .addColumn("received_at", int, (c) => c.notNull())
          .addColumn("signature", "text", (c) => c.notNull())
          .addColumn("signed_json", "text", (c) => c.notNull())
          .addColumn("types_mask", "integer", (c) => c.notNull())
          .addColumn("odo_first_t", int)
          .addColumn("odo_first_m", int)
          .addColumn("odo_last_t", int)
          .addColumn("odo_last_m", int)
          .addColumn("inner_meters", int, (c) => c.notNull())
          .addUniqueConstraint("batches_stream_sequence", ["vehicle_id", "signer", "sequence"])
          .execute();
        await db.schema.createIndex("batches_start_time").on("batches").columns(["start_time", "id"]).execute();
        await db.schema
          .createTable("signals")
          .addColumn("batch_id", int, (c) => c.notNull().references("batches.id"))
          .addColumn("vehicle_id", "text", (c) => c.notNull())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("ts", int, (c) => c.notNull())
          .addColumn("values_json", "text", (c) => c.notNull())
          .execute();
        // The read API (issue 14) reads a vehicle's signals by name and time.
        await db.schema
          .createIndex("signals_vehicle_name_ts")
          .on("signals")
          .columns(["vehicle_id", "name", "ts"])
          .execute();
        await db.schema.createIndex("signals_batch").on("signals").column("batch_id").execute();
        await db.schema
          .createTable("streams")
          .addColumn("vehicle_id", "text", (c) => c.notNull())
          .addColumn("signer", "text", (c) => c.notNull())
          .addColumn("sequence", int, (c) => c.notNull())
          .addColumn("end_time", int, (c) => c.notNull())
          .addPrimaryKeyConstraint("streams_pk", ["vehicle_id", "signer"])
          .execute();
        await db.schema
          .createTable("registry_events")
          .addColumn("block_number", int, (c) => c.notNull())
          .addColumn("log_index", "integer", (c) => c.notNull())
          .addColumn("block_time", int, (c) => c.notNull())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("vehicle_id", "text", (c) => c.notNull())
          .addColumn("device_id", "text", (c) => c.notNull())
          .addColumn("address", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("registry_events_pk", ["block_number", "log_index"])
          .execute();
        await db.schema
          .createTable("index_cursor")
          .addColumn("id", "integer", (c) => c.primaryKey())
          .addColumn("block_number", int, (c) => c.notNull())
          .execute();
      },
    },
    "002_access_log": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("access_log")
          .addColumn("seq", int, (c) => c.primaryKey())
          .addColumn("at", int, (c) => c.notNull())
          .addColumn("consumer", "text", (c) => c.notNull())
          .addColumn("vehicle_id", "text", (c) => c.notNull())
          .addColumn("epoch", int, (c) => c.notNull())
          .addColumn("entry_json", "text", (c) => c.notNull())
          .addColumn("hash", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("access_log_vehicle")
          .on("access_log")
          .columns(["vehicle_id", "epoch", "seq"])
          .execute();
        await db.schema.createIndex("access_log_consumer").on("access_log").columns(["consumer", "seq"]).execute();
      },
    },
    "003_signal_reads": {
      // The read API's keyset order: a signal's position in its batch makes (ts, batch_id, pos) unique per vehicle
      // and name, so history pages resume exactly and `last` is one stored value. The new index replaces
      // signals_vehicle_name_ts (a prefix of it), so ingest keeps one index on the read path.
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable("signals")
          .addColumn("pos", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createIndex("signals_read")
          .on("signals")
          .columns(["vehicle_id", "name", "ts", "batch_id", "pos"])
          .execute();
        await db.schema.dropIndex("signals_vehicle_name_ts").execute();
      },
    },
    "004_credits": {
      // Paying for reads (docs/data-api.md "Paying for reads"): each consumer's count of entries in this node's log
      // and their credits, kept by every append (so the count includes the reads logged before payments were on),
      // and the latest receipt per channel. The counts are backfilled from the existing log.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("consumer_reads")
          .addColumn("consumer", "text", (c) => c.primaryKey())
          .addColumn("reads", int, (c) => c.notNull())
          .addColumn("credits", int, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("credit_receipts")
          .addColumn("consumer", "text", (c) => c.notNull())
          .addColumn("node", "text", (c) => c.notNull())
          .addColumn("sequence", int, (c) => c.notNull())
          .addColumn("cumulative_credits", int, (c) => c.notNull())
          .addColumn("max_price_per_credit", "text", (c) => c.notNull())
          .addColumn("signature", "text", (c) => c.notNull())
          .addColumn("received_at", int, (c) => c.notNull())
          .addColumn("redeemed_sequence", int, (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint("credit_receipts_pk", ["consumer", "node"])
          .execute();
        const k = db as unknown as Kysely<Database>;
        const counts = new Map<string, ReadCount>();
        for (let after = -1; ;) {
          const rows = await k
            .selectFrom("access_log")
            .select(["seq", "consumer", "entry_json"])
            .where("seq", ">", after)
            .orderBy("seq")
            .limit(10_000)
            .execute();
          if (rows.length === 0) break;
          for (const r of rows) {
            const c = counts.get(r.consumer) ?? { reads: 0, credits: 0 };
            c.reads += 1;
            c.credits += (JSON.parse(r.entry_json) as AccessLogEntry).resultSize;
            counts.set(r.consumer, c);
          }
          after = Number(rows[rows.length - 1].seq);
        }
        const values = [...counts].map(([consumer, c]) => ({ consumer, reads: c.reads, credits: c.credits }));
        for (let i = 0; i < values.length; i += 500)
          await k
            .insertInto("consumer_reads")
            .values(values.slice(i, i + 500))
            .execute();
      },
    },
  };
}

async function migrate(db: Kysely<Database>, kind: StoreKind): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(kind) },
    migrationTableName: "telemetry_migrations",
    migrationLockTableName: "telemetry_migrations_lock",
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    throw new Error(`telemetry store: migration ${failed ?? "?"} failed: ${(error as Error).message ?? error}`);
  }
}

/** Thrown inside a transaction to roll it back with a refusal. */
class Refused extends Error {
  constructor(readonly result: Extract<InsertResult, { ok: false }>) {
    super(result.message);
  }
}

function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string };
  return err.code === "23505" || err.code === "SQLITE_CONSTRAINT_UNIQUE" || err.code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

async function countIn(db: Kysely<Database>, consumer: string): Promise<ReadCount> {
  const r = await db
    .selectFrom("consumer_reads")
    .select(["reads", "credits"])
    .where("consumer", "=", consumer)
    .executeTakeFirst();
  return r === undefined ? { reads: 0, credits: 0 } : { reads: Number(r.reads), credits: Number(r.credits) };
}

async function upsertReceipt(db: Kysely<Database>, r: Omit<StoredReceipt, "redeemedSequence">): Promise<void> {
  const row = {
    sequence: r.sequence,
    cumulative_credits: r.cumulativeCredits,
    max_price_per_credit: r.maxPricePerCredit.toString(),
    signature: r.signature.toLowerCase(),
    received_at: r.receivedAt,
  };
  await db
    .insertInto("credit_receipts")
    .values({ consumer: getAddress(r.consumer), node: getAddress(r.node), ...row })
    .onConflict((oc) => oc.columns(["consumer", "node"]).doUpdateSet(row))
    .execute();
}

function toStoredReceipt(r: Selectable<CreditReceiptsTable>): StoredReceipt {
  return {
    consumer: r.consumer,
    node: r.node,
    sequence: Number(r.sequence),
    cumulativeCredits: Number(r.cumulative_credits),
    maxPricePerCredit: BigInt(r.max_price_per_credit),
    signature: r.signature,
    receivedAt: Number(r.received_at),
    redeemedSequence: Number(r.redeemed_sequence),
  };
}

function toSignalRow(r: { ts: number; batch_id: number; pos: number; values_json: string }): SignalRow {
  return { ts: Number(r.ts), batchId: Number(r.batch_id), pos: Number(r.pos), values: JSON.parse(r.values_json) };
}

class KyselyStore implements TelemetryStore {
  private _appending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly _db: Kysely<Database>,
    readonly kind: StoreKind,
  ) {}

  appendAccess(
    read: AccessRead,
    opts: { expect?: ReadCount; receipt?: Omit<StoredReceipt, "redeemedSequence"> } = {},
  ): Promise<AccessLogEntry> {
    const run = this._appending.then(() =>
      this._db.transaction().execute(async (trx) => {
        const last = await trx
          .selectFrom("access_log")
          .select(["seq", "hash"])
          .orderBy("seq", "desc")
          .limit(1)
          .executeTakeFirst();
        const head: LogHead = last ? { count: Number(last.seq) + 1, hash: last.hash } : EMPTY_HEAD;
        const entry = appendEntry(head, read);
        const count = await countIn(trx, entry.consumer);
        if (opts.expect !== undefined && (count.reads !== opts.expect.reads || count.credits !== opts.expect.credits))
          throw new ReadCountMoved(opts.expect, count);
        if (opts.receipt !== undefined) await upsertReceipt(trx, opts.receipt);
        await trx
          .insertInto("access_log")
          .values({
            seq: entry.seq,
            at: entry.at,
            consumer: entry.consumer,
            vehicle_id: entry.vehicleId,
            epoch: entry.grant.epoch,
            entry_json: JSON.stringify(entry),
            hash: entry.hash,
          })
          .execute();
        await trx
          .insertInto("consumer_reads")
          .values({ consumer: entry.consumer, reads: 1, credits: entry.resultSize })
          .onConflict((oc) =>
            oc.column("consumer").doUpdateSet({
              reads: (eb) => eb("consumer_reads.reads", "+", 1),
              credits: (eb) => eb("consumer_reads.credits", "+", entry.resultSize),
            }),
          )
          .execute();
        return entry;
      }),
    );
    this._appending = run.catch(() => undefined);
    return run;
  }

  async readCount(consumer: string): Promise<ReadCount> {
    return countIn(this._db, getAddress(consumer));
  }

  async receiptOf(consumer: string, node: string): Promise<StoredReceipt | undefined> {
    const r = await this._db
      .selectFrom("credit_receipts")
      .selectAll()
      .where("consumer", "=", getAddress(consumer))
      .where("node", "=", getAddress(node))
      .executeTakeFirst();
    return r === undefined ? undefined : toStoredReceipt(r);
  }

  saveReceipt(receipt: Omit<StoredReceipt, "redeemedSequence">, expect: ReadCount): Promise<void> {
    // Serialised with the appends: the count cannot move between the check and the write.
    const run = this._appending.then(() =>
      this._db.transaction().execute(async (trx) => {
        const count = await countIn(trx, getAddress(receipt.consumer));
        if (count.reads !== expect.reads || count.credits !== expect.credits) throw new ReadCountMoved(expect, count);
        await upsertReceipt(trx, receipt);
      }),
    );
    this._appending = run.catch(() => undefined);
    return run;
  }

  async receiptsOf(node: string): Promise<StoredReceipt[]> {
    const rows = await this._db
      .selectFrom("credit_receipts")
      .selectAll()
      .where("node", "=", getAddress(node))
      .orderBy("consumer")
      .execute();
    return rows.map(toStoredReceipt);
  }

  async markRedeemed(consumer: string, node: string, sequence: number): Promise<void> {
    await this._db
      .updateTable("credit_receipts")
      .set({ redeemed_sequence: sequence })
      .where("consumer", "=", getAddress(consumer))
      .where("node", "=", getAddress(node))
      .where("redeemed_sequence", "<", sequence)
      .execute();
  }

  async accessLog(
    filter: { vehicleId?: string; epoch?: number; consumer?: string; afterSeq?: number; limit?: number } = {},
  ): Promise<AccessLogEntry[]> {
    let q = this._db.selectFrom("access_log").select(["entry_json"]).orderBy("seq", "asc");
    if (filter.vehicleId !== undefined) q = q.where("vehicle_id", "=", filter.vehicleId);
    if (filter.epoch !== undefined) q = q.where("epoch", "=", filter.epoch);
    if (filter.consumer !== undefined) q = q.where("consumer", "=", filter.consumer);
    if (filter.afterSeq !== undefined) q = q.where("seq", ">", filter.afterSeq);
    if (filter.limit !== undefined) q = q.limit(filter.limit);
    const rows = await q.execute();
    return rows.map((r) => JSON.parse(r.entry_json) as AccessLogEntry);
  }

  async accessLogHead(): Promise<LogHead> {
    const last = await this._db
      .selectFrom("access_log")
      .select(["seq", "hash"])
      .orderBy("seq", "desc")
      .limit(1)
      .executeTakeFirst();
    return last ? { count: Number(last.seq) + 1, hash: last.hash } : EMPTY_HEAD;
  }

  async signalRows(
    q: SignalRange & { after?: Pick<SignalRow, "ts" | "batchId" | "pos">; limit: number },
  ): Promise<SignalRow[]> {
    const after = q.after;
    const rows = await this.signalsIn(q)
      .$if(after !== undefined, (qb) =>
        qb.where((eb) =>
          eb(eb.refTuple("ts", "batch_id", "pos"), ">", eb.tuple(after!.ts, after!.batchId, after!.pos)),
        ),
      )
      .orderBy("ts")
      .orderBy("batch_id")
      .orderBy("pos")
      .limit(q.limit)
      .execute();
    return rows.map(toSignalRow);
  }

  async latestSignal(q: SignalRange): Promise<SignalRow | undefined> {
    const row = await this.signalsIn(q)
      .orderBy("ts", "desc")
      .orderBy("batch_id", "desc")
      .orderBy("pos", "desc")
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : toSignalRow(row);
  }

  /** The range both reads scan: a prefix of the `signals_read` index. */
  private signalsIn(q: SignalRange) {
    return this._db
      .selectFrom("signals")
      .select(["ts", "batch_id", "pos", "values_json"])
      .where("vehicle_id", "=", q.vehicleId)
      .where("name", "=", q.name)
      .where("ts", ">=", q.from)
      .where("ts", "<=", q.to);
  }

  async insertBatch(r: BatchRecord): Promise<InsertResult> {
    const b = r.signed.batch;
    const s = r.summary;
    try {
      return await this._db.transaction().execute(async (trx) => {
        const dup = await trx.selectFrom("batches").select("id").where("digest", "=", r.digest).executeTakeFirst();
        if (dup)
          throw new Refused({ ok: false, code: "duplicate_batch", message: `batch ${r.digest} is already stored` });
        // The stream head moves only forward, and only past the previous batch's end (one statement, so two
        // concurrent requests of one stream cannot both pass).
        const head = await trx
          .insertInto("streams")
          .values({ vehicle_id: b.vehicleId, signer: r.signer, sequence: b.sequence, end_time: b.endTime })
          .onConflict((oc) =>
            oc
              .columns(["vehicle_id", "signer"])
              .doUpdateSet({ sequence: b.sequence, end_time: b.endTime })
              .where("streams.sequence", "<", b.sequence)
              .where("streams.end_time", "<=", b.startTime),
          )
          .returning("sequence")
          .executeTakeFirst();
        if (!head) {
          const cur = await trx
            .selectFrom("streams")
            .select(["sequence", "end_time"])
            .where("vehicle_id", "=", b.vehicleId)
            .where("signer", "=", r.signer)
            .executeTakeFirstOrThrow();
          if (b.sequence <= cur.sequence)
            throw new Refused({
              ok: false,
              code: "sequence_replayed",
              message: `sequence ${b.sequence} is not above the stream's last accepted sequence ${cur.sequence}`,
            });
          throw new Refused({
            ok: false,
            code: "time_range_overlaps",
            message: `the batch starts at ${b.startTime}, before the stream's previous batch ended (${cur.end_time})`,
          });
        }
        const row = await trx
          .insertInto("batches")
          .values({
            digest: r.digest,
            vehicle_id: b.vehicleId,
            device_id: b.deviceId,
            signer: r.signer,
            sequence: b.sequence,
            start_time: b.startTime,
            end_time: b.endTime,
            received_at: r.receivedAt,
            signature: r.signed.signature.toLowerCase(),
            signed_json: JSON.stringify(r.signed),
            types_mask: s.typesMask,
            odo_first_t: s.odoFirst?.t ?? null,
            odo_first_m: s.odoFirst?.m ?? null,
            odo_last_t: s.odoLast?.t ?? null,
            odo_last_m: s.odoLast?.m ?? null,
            inner_meters: s.innerMeters,
          })
          .returning("id")
          .executeTakeFirstOrThrow();
        const id = Number(row.id);
        await trx
          .insertInto("signals")
          .values(
            b.signals.map((sig, pos) => ({
              batch_id: id,
              vehicle_id: b.vehicleId,
              name: sig.name,
              ts: sig.timestamp,
              values_json: JSON.stringify(sig.values),
              pos,
            })),
          )
          .execute();
        return { ok: true as const, id };
      });
    } catch (e) {
      if (e instanceof Refused) return e.result;
      if (isUniqueViolation(e))
        return { ok: false, code: "duplicate_batch", message: `batch ${r.digest} (or its sequence) is already stored` };
      throw e;
    }
  }

  async *batchesStartingIn(
    from: number,
    to: number,
    opts: { pageSize?: number; withJson?: boolean } = {},
  ): AsyncGenerator<StoredBatchRow[]> {
    const pageSize = opts.pageSize ?? 10_000;
    // Keyset pages on the (start_time, id) index: each page is one index range scan, no sort.
    let after: [number, number] = [from, 0];
    for (;;) {
      const rows = await this._db
        .selectFrom("batches")
        .select([
          "id",
          "digest",
          "signature",
          "vehicle_id",
          "signer",
          "start_time",
          "end_time",
          "types_mask",
          "odo_first_t",
          "odo_first_m",
          "odo_last_t",
          "odo_last_m",
          "inner_meters",
        ])
        .$if(opts.withJson === true, (q) => q.select("signed_json"))
        .where((eb) => eb(eb.refTuple("start_time", "id"), ">", eb.tuple(after[0], after[1])))
        .where("start_time", "<", to)
        .orderBy("start_time")
        .orderBy("id")
        .limit(pageSize)
        .execute();
      if (rows.length === 0) return;
      const last = rows[rows.length - 1];
      after = [Number(last.start_time), Number(last.id)];
      yield rows.map((x) => ({
        id: Number(x.id),
        digest: x.digest,
        signature: x.signature,
        signedJson: (x as { signed_json?: string }).signed_json,
        summary: {
          vehicleId: x.vehicle_id,
          signer: x.signer,
          startTime: Number(x.start_time),
          endTime: Number(x.end_time),
          typesMask: Number(x.types_mask),
          odoFirst: x.odo_first_t === null ? null : { t: Number(x.odo_first_t), m: Number(x.odo_first_m) },
          odoLast: x.odo_last_t === null ? null : { t: Number(x.odo_last_t), m: Number(x.odo_last_m) },
          innerMeters: Number(x.inner_meters),
        },
      }));
      if (rows.length < pageSize) return;
    }
  }

  async signedBatches(ids: number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (let i = 0; i < ids.length; i += 5000) {
      const rows = await this._db
        .selectFrom("batches")
        .select(["id", "signed_json"])
        .where("id", "in", ids.slice(i, i + 5000))
        .execute();
      for (const r of rows) out.set(Number(r.id), r.signed_json);
    }
    return out;
  }

  async countBatches(): Promise<number> {
    const r = await this._db
      .selectFrom("batches")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async countSignals(): Promise<number> {
    const r = await this._db
      .selectFrom("signals")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async inconsistentBatches(): Promise<number[]> {
    const counts = await this._db
      .selectFrom("signals")
      .select(["batch_id", (eb) => eb.fn.countAll().as("n")])
      .groupBy("batch_id")
      .execute();
    const byBatch = new Map(counts.map((c) => [Number(c.batch_id), Number(c.n)]));
    const rows = await this._db.selectFrom("batches").select(["id", "signed_json"]).execute();
    const bad: number[] = [];
    for (const r of rows) {
      const expected = (JSON.parse(r.signed_json) as SignedBatch).batch.signals.length;
      if (byBatch.get(Number(r.id)) !== expected) bad.push(Number(r.id));
      byBatch.delete(Number(r.id));
    }
    return [...bad, ...byBatch.keys()]; // signals without a batch count too
  }

  async loadIndex(): Promise<{ block: number; events: RegistryEvent[] }> {
    const cursor = await this._db
      .selectFrom("index_cursor")
      .select("block_number")
      .where("id", "=", 1)
      .executeTakeFirst();
    const rows = await this._db
      .selectFrom("registry_events")
      .selectAll()
      .orderBy("block_number")
      .orderBy("log_index")
      .execute();
    return {
      block: cursor ? Number(cursor.block_number) : -1,
      events: rows.map((e) => ({
        blockNumber: Number(e.block_number),
        logIndex: Number(e.log_index),
        blockTime: Number(e.block_time),
        kind: e.kind as RegistryEvent["kind"],
        vehicleId: e.vehicle_id,
        deviceId: e.device_id,
        address: e.address,
      })),
    };
  }

  async saveIndex(events: RegistryEvent[], block: number): Promise<void> {
    await this._db.transaction().execute(async (trx) => {
      for (let i = 0; i < events.length; i += 500) {
        await trx
          .insertInto("registry_events")
          .values(
            events.slice(i, i + 500).map((e) => ({
              block_number: e.blockNumber,
              log_index: e.logIndex,
              block_time: e.blockTime,
              kind: e.kind,
              vehicle_id: e.vehicleId,
              device_id: e.deviceId,
              address: e.address,
            })),
          )
          .onConflict((oc) => oc.columns(["block_number", "log_index"]).doNothing())
          .execute();
      }
      await trx
        .insertInto("index_cursor")
        .values({ id: 1, block_number: block })
        .onConflict((oc) => oc.column("id").doUpdateSet({ block_number: block }))
        .execute();
    });
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this._db);
  }

  async close(): Promise<void> {
    await this._db.destroy();
  }
}

/**
 * The embedded store's ingest hot path: `insertBatch` runs on the better-sqlite3 driver directly, with
 * prepared statements in one synchronous transaction (the same statements and checks as KyselyStore's, in
 * the same order; the rest of the store is KyselyStore's). Kysely's query building and its async SQLite
 * dialect cost about as much per batch as the inserts themselves (bench:telemetry); better-sqlite3 is
 * synchronous, so one transaction never interleaves with another and the stream-head update stays atomic.
 */
class SqliteStore extends KyselyStore {
  private readonly _insert: (r: BatchRecord) => InsertResult;

  constructor(db: Kysely<Database>, database: SqliteDatabase) {
    super(db, "sqlite");
    const dup = database.prepare("select id from batches where digest = ?").pluck();
    const head = database
      .prepare(
        `insert into streams (vehicle_id, signer, sequence, end_time) values (?, ?, ?, ?)
         on conflict (vehicle_id, signer) do update set sequence = excluded.sequence, end_time = excluded.end_time
         where streams.sequence < excluded.sequence and streams.end_time <= ?
         returning sequence`,
      )
      .pluck();
    const cur = database.prepare("select sequence, end_time from streams where vehicle_id = ? and signer = ?");
    const batch = database.prepare(
      `insert into batches (digest, vehicle_id, device_id, signer, sequence, start_time, end_time, received_at,
           signature, signed_json, types_mask, odo_first_t, odo_first_m, odo_last_t, odo_last_m, inner_meters)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const signal = database.prepare(
      "insert into signals (batch_id, vehicle_id, name, ts, values_json, pos) values (?, ?, ?, ?, ?, ?)",
    );
    const tx = database.transaction((r: BatchRecord): InsertResult => {
      const b = r.signed.batch;
      const s = r.summary;
      if (dup.get(r.digest) !== undefined)
        return { ok: false, code: "duplicate_batch", message: `batch ${r.digest} is already stored` };
      if (head.get(b.vehicleId, r.signer, b.sequence, b.endTime, b.startTime) === undefined) {
        const c = cur.get(b.vehicleId, r.signer) as { sequence: number; end_time: number };
        if (b.sequence <= c.sequence)
          return {
            ok: false,
            code: "sequence_replayed",
            message: `sequence ${b.sequence} is not above the stream's last accepted sequence ${c.sequence}`,
          };
        return {
          ok: false,
          code: "time_range_overlaps",
          message: `the batch starts at ${b.startTime}, before the stream's previous batch ended (${c.end_time})`,
        };
      }
      const id = Number(
        batch.run(
          r.digest,
          b.vehicleId,
          b.deviceId,
          r.signer,
          b.sequence,
          b.startTime,
          b.endTime,
          r.receivedAt,
          r.signed.signature.toLowerCase(),
          JSON.stringify(r.signed),
          s.typesMask,
          s.odoFirst?.t ?? null,
          s.odoFirst?.m ?? null,
          s.odoLast?.t ?? null,
          s.odoLast?.m ?? null,
          s.innerMeters,
        ).lastInsertRowid,
      );
      b.signals.forEach((sig, pos) =>
        signal.run(id, b.vehicleId, sig.name, sig.timestamp, JSON.stringify(sig.values), pos),
      );
      return { ok: true, id };
    });
    // A refusal returned from the transaction function commits nothing written before it: the refusals come
    // before any write except the stream head's, and a refused head update writes nothing.
    this._insert = (r) => {
      try {
        return tx(r);
      } catch (e) {
        if (isUniqueViolation(e))
          return {
            ok: false,
            code: "duplicate_batch",
            message: `batch ${r.digest} (or its sequence) is already stored`,
          };
        throw e;
      }
    };
  }

  override async insertBatch(r: BatchRecord): Promise<InsertResult> {
    return this._insert(r);
  }
}
