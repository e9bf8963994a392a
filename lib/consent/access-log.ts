/**
 * The node's access log: every read appended as an entry chained to the previous one by hash, so that a
 * published head (count and hash, e.g. beside the weekly distribution) fixes the whole history before it. A
 * consumer cannot later deny a read, and the node cannot drop, edit or reorder one without the published head
 * giving it away.
 *
 * Bytes (another language can check them):
 *   contentHash = keccak256(abi.encode(bytes32 ENTRY_TAG, uint64 seq, uint64 at, address consumer, uint256 vehicleId,
 *                 bytes32 keccak256(utf8(signals joined by ",")), uint64 from, uint64 to, uint64 resultSize,
 *                 address grantOwner, uint64 grantEpoch, uint256 grantPermissions, uint64 grantExpiresAt,
 *                 uint64 grantGrantedAt))
 *   hash        = keccak256(abi.encode(bytes32 prevHash, bytes32 contentHash)), prevHash of entry 0 = 0x00…00
 *   ENTRY_TAG   = keccak256("DIMO access log entry v1")
 * The head of a log of n entries is (n, hash of entry n-1), or (0, 0x00…00) when empty.
 *
 * Evidence (`exportEvidence`) of one consumer's reads (optionally one vehicle's) carries those entries in full
 * and the content hash of every entry up to the head, so a third party re-derives the published head without
 * seeing the other consumers' reads (`verifyEvidence`); the file's keccak256 is the slash proposal's
 * `evidenceHash`. It also counts reads per vehicle, which a compensation rule may weight by.
 *
 * Pure: no I/O; the log file format (JSON Lines, one entry a line) is parsed by `parseAccessLog`.
 */
import { AbiCoder, getAddress, keccak256, toUtf8Bytes, ZeroHash } from "ethers";
import { z } from "zod";
import { InputError } from "../errors";
import { ConsentError } from "./errors";

export const ENTRY_TAG = keccak256(toUtf8Bytes("DIMO access log entry v1"));
const abi = AbiCoder.defaultAbiCoder();

/** One read, as the node records it. */
export interface AccessRead {
  /** Time of the read, unix seconds. */
  at: number;
  consumer: string;
  vehicleId: string;
  /** Canonical data-type names returned. */
  signals: string[];
  /** Inclusive time range of the data asked for, unix seconds. */
  from: number;
  to: number;
  /** Rows (signal values) returned. */
  resultSize: number;
  /** The grant the read relied on (`ReadPermit.grant`). */
  grant: { owner: string; epoch: number; permissions: string; expiresAt: number; grantedAt: number };
}

export interface AccessLogEntry extends AccessRead {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface LogHead {
  count: number;
  hash: string;
}

export const EMPTY_HEAD: LogHead = { count: 0, hash: ZeroHash };

const uint64 = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "not an address");
const bytes32 = z.string().regex(/^0x[0-9a-f]{64}$/, "not a 0x-prefixed lower-case 32-byte hash");
const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/, "not a decimal integer");

export const ACCESS_LOG_ENTRY_SCHEMA = z
  .object({
    seq: uint64,
    at: uint64,
    consumer: address,
    vehicleId: decimal,
    signals: z.array(z.string().regex(/^[a-z_]+$/, "not a signal name")).min(1),
    from: uint64,
    to: uint64,
    resultSize: uint64,
    grant: z
      .object({ owner: address, epoch: uint64, permissions: decimal, expiresAt: uint64, grantedAt: uint64 })
      .strict(),
    prevHash: bytes32,
    hash: bytes32,
  })
  .strict();

export function contentHash(e: AccessRead & { seq: number }): string {
  return keccak256(
    abi.encode(
      [
        "bytes32",
        "uint64",
        "uint64",
        "address",
        "uint256",
        "bytes32",
        "uint64",
        "uint64",
        "uint64",
        "address",
        "uint64",
        "uint256",
        "uint64",
        "uint64",
      ],
      [
        ENTRY_TAG,
        e.seq,
        e.at,
        getAddress(e.consumer),
        BigInt(e.vehicleId),
        keccak256(toUtf8Bytes(e.signals.join(","))),
        e.from,
        e.to,
        e.resultSize,
        getAddress(e.grant.owner),
        e.grant.epoch,
        BigInt(e.grant.permissions),
        e.grant.expiresAt,
        e.grant.grantedAt,
      ],
    ),
  );
}

export function chainHash(prevHash: string, content: string): string {
  return keccak256(abi.encode(["bytes32", "bytes32"], [prevHash, content]));
}

/** The entry that follows `head` for this read. */
export function appendEntry(head: LogHead, read: AccessRead): AccessLogEntry {
  const body = {
    seq: head.count,
    at: read.at,
    consumer: getAddress(read.consumer),
    vehicleId: read.vehicleId,
    signals: [...read.signals],
    from: read.from,
    to: read.to,
    resultSize: read.resultSize,
    grant: {
      owner: getAddress(read.grant.owner),
      epoch: read.grant.epoch,
      permissions: read.grant.permissions,
      expiresAt: read.grant.expiresAt,
      grantedAt: read.grant.grantedAt,
    },
  };
  return { ...body, prevHash: head.hash, hash: chainHash(head.hash, contentHash(body)) };
}

/** The head after `entries` (not verified; see `verifyLog`). */
export function headOf(entries: readonly AccessLogEntry[]): LogHead {
  return entries.length === 0 ? EMPTY_HEAD : { count: entries.length, hash: entries[entries.length - 1].hash };
}

/**
 * Checks every entry (numbering, link to the previous one, hash of its content) and, when given, that the log
 * still holds the published head: `LOG_TRUNCATED` when it has fewer entries, `LOG_TAMPERED` when entry
 * `count - 1` is not the published hash. Entries after the head (appended since) are allowed. Returns the head.
 */
export function verifyLog(entries: readonly AccessLogEntry[], published?: LogHead): LogHead {
  let prev = ZeroHash;
  entries.forEach((e, i) => {
    if (e.seq !== i) {
      throw new ConsentError("LOG_TAMPERED", `entry ${i} is numbered ${e.seq}`, { index: i, seq: e.seq }, "seq");
    }
    if (e.prevHash !== prev) {
      throw new ConsentError(
        "LOG_TAMPERED",
        `entry ${i} does not follow entry ${i - 1} (prevHash ${e.prevHash})`,
        {
          index: i,
        },
        "prevHash",
      );
    }
    const expected = chainHash(prev, contentHash(e));
    if (e.hash !== expected) {
      throw new ConsentError(
        "LOG_TAMPERED",
        `entry ${i}'s content does not match its hash ${e.hash}`,
        {
          index: i,
          hash: e.hash,
          expected,
        },
        "hash",
      );
    }
    prev = e.hash;
  });
  if (published !== undefined) checkAgainstHead(entries.length, (n) => entries[n].hash, published);
  return headOf(entries);
}

function checkAgainstHead(count: number, hashAt: (n: number) => string, published: LogHead): void {
  if (count < published.count) {
    throw new ConsentError(
      "LOG_TRUNCATED",
      `the log has ${count} entries, the published head counts ${published.count}`,
      {
        count,
        published: published.count,
      },
    );
  }
  const at = published.count === 0 ? ZeroHash : hashAt(published.count - 1);
  if (at !== published.hash) {
    throw new ConsentError(
      "LOG_TAMPERED",
      `entry ${published.count - 1} is ${at}, the published head is ${published.hash}`,
      { index: published.count - 1, hash: at, published: published.hash },
    );
  }
}

/**
 * Parses a log file (JSON Lines). Throws an InputError naming the file, the line and the field of the first bad
 * entry; it does not check the chain (`verifyLog` does).
 */
export function parseAccessLog(text: string, source: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      throw new InputError(source, "entry", `not JSON (${(e as Error).message})`, i + 1);
    }
    const parsed = ACCESS_LOG_ENTRY_SCHEMA.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(source, issue.path.join(".") || "entry", issue.message, i + 1);
    }
    entries.push(parsed.data);
  });
  return entries;
}

/** One line of the log file for an entry. */
export function formatLogLine(e: AccessLogEntry): string {
  return `${JSON.stringify(e)}\n`;
}

export interface Evidence {
  kind: "dimo-access-log-evidence";
  version: 1;
  consumer: string;
  vehicleId: string | null;
  head: LogHead;
  summary: {
    reads: number;
    rows: number;
    firstAt: number | null;
    lastAt: number | null;
    /** Reads per vehicle (decimal id), ascending ids. */
    readsByVehicle: Record<string, number>;
    /** Reads per data type. */
    readsBySignal: Record<string, number>;
  };
  /** The consumer's reads (of the vehicle, if given), in log order, in full. */
  entries: AccessLogEntry[];
  /** contentHash of every entry 0 … head.count-1: the chain re-derives the head from these. */
  contentHashes: string[];
}

/**
 * Evidence of `consumer`'s reads (of `vehicleId` if given) up to the log's head. The log is verified first (and
 * against `published` when given; the evidence then stops at the published head).
 */
export function exportEvidence(
  entries: readonly AccessLogEntry[],
  opts: { consumer: string; vehicleId?: string; published?: LogHead },
): Evidence {
  const head = verifyLog(entries, opts.published);
  const upTo = opts.published ?? head;
  const consumer = getAddress(opts.consumer);
  const within = entries.slice(0, upTo.count);
  const selected = within.filter(
    (e) => e.consumer === consumer && (opts.vehicleId === undefined || e.vehicleId === opts.vehicleId),
  );
  const readsByVehicle: Record<string, number> = {};
  const readsBySignal: Record<string, number> = {};
  for (const e of [...selected].sort((a, b) => (BigInt(a.vehicleId) < BigInt(b.vehicleId) ? -1 : 1))) {
    readsByVehicle[e.vehicleId] = (readsByVehicle[e.vehicleId] ?? 0) + 1;
  }
  for (const e of selected) for (const s of e.signals) readsBySignal[s] = (readsBySignal[s] ?? 0) + 1;
  return {
    kind: "dimo-access-log-evidence",
    version: 1,
    consumer,
    vehicleId: opts.vehicleId ?? null,
    head: { count: upTo.count, hash: upTo.hash },
    summary: {
      reads: selected.length,
      rows: selected.reduce((n, e) => n + e.resultSize, 0),
      firstAt: selected.length ? Math.min(...selected.map((e) => e.at)) : null,
      lastAt: selected.length ? Math.max(...selected.map((e) => e.at)) : null,
      readsByVehicle,
      readsBySignal,
    },
    entries: selected.map((e) => ({ ...e })),
    contentHashes: within.map((e) => contentHash(e)),
  };
}

/**
 * Re-checks evidence: the content hashes chain to its head (and to `published` when given), every entry's content
 * matches the content hash at its number and its chain hash, and every entry is the named consumer's (and vehicle's).
 */
export function verifyEvidence(ev: Evidence, published?: LogHead): LogHead {
  return verifyDisclosed(
    ev.contentHashes,
    ev.head,
    ev.entries,
    (e) => e.consumer === ev.consumer && (ev.vehicleId === null || e.vehicleId === ev.vehicleId),
    "the named consumer/vehicle",
    published,
  );
}

/**
 * A log disclosed for several consumers at once (the data-use settlement, docs/rewards-spec.md §15): the entries of
 * `consumers` up to `head` in full, and the content hash of every entry, so a third party re-derives the head
 * without seeing the other consumers' reads.
 */
export interface Disclosure {
  head: LogHead;
  /** Checksummed addresses, ascending by lower-case address. */
  consumers: string[];
  entries: AccessLogEntry[];
  contentHashes: string[];
}

/** The disclosure of `consumers`' reads up to the log's head (or `published`); the log is verified first. */
export function exportDisclosure(
  entries: readonly AccessLogEntry[],
  consumers: readonly string[],
  published?: LogHead,
): Disclosure {
  const head = verifyLog(entries, published);
  const upTo = published ?? head;
  const named = [...new Set(consumers.map((c) => getAddress(c)))].sort((a, b) =>
    a.toLowerCase() < b.toLowerCase() ? -1 : 1,
  );
  const within = entries.slice(0, upTo.count);
  const set = new Set(named);
  return {
    head: { count: upTo.count, hash: upTo.hash },
    consumers: named,
    entries: within.filter((e) => set.has(e.consumer)).map((e) => ({ ...e })),
    contentHashes: within.map((e) => contentHash(e)),
  };
}

/**
 * Re-checks a disclosure like `verifyEvidence`: the content hashes chain to its head (and to `published`), every
 * entry matches the content hash at its number and its chain hash, and every entry is one of the named consumers'.
 */
export function verifyDisclosure(d: Disclosure, published?: LogHead): LogHead {
  const set = new Set(d.consumers);
  return verifyDisclosed(d.contentHashes, d.head, d.entries, (e) => set.has(e.consumer), "a named consumer", published);
}

function verifyDisclosed(
  contentHashes: readonly string[],
  stated: LogHead,
  entries: readonly AccessLogEntry[],
  belongs: (e: AccessLogEntry) => boolean,
  whose: string,
  published?: LogHead,
): LogHead {
  const hashes: string[] = [];
  let prev = ZeroHash;
  for (const c of contentHashes) {
    prev = chainHash(prev, c);
    hashes.push(prev);
  }
  const head = hashes.length === 0 ? EMPTY_HEAD : { count: hashes.length, hash: prev };
  if (head.count !== stated.count || head.hash !== stated.hash) {
    throw new ConsentError(
      "LOG_TAMPERED",
      `the content hashes chain to ${head.hash} (${head.count}), not the stated head`,
      {
        hash: head.hash,
        count: head.count,
      },
    );
  }
  if (published !== undefined) checkAgainstHead(hashes.length, (n) => hashes[n], published);
  let lastSeq = -1;
  for (const e of entries) {
    if (e.seq <= lastSeq) {
      throw new ConsentError("LOG_TAMPERED", `entry ${e.seq} repeats or is out of order`, { seq: e.seq });
    }
    lastSeq = e.seq;
    if (!belongs(e)) {
      throw new ConsentError("LOG_TAMPERED", `entry ${e.seq} is not a read of ${whose}`, {
        seq: e.seq,
      });
    }
    const c = contentHash(e);
    if (
      contentHashes[e.seq] !== c ||
      e.prevHash !== (e.seq === 0 ? ZeroHash : hashes[e.seq - 1]) ||
      e.hash !== hashes[e.seq]
    ) {
      throw new ConsentError("LOG_TAMPERED", `entry ${e.seq} does not match the chain`, { seq: e.seq });
    }
  }
  return head;
}

/** The evidence file's bytes (stable: fixed key order, two-space indent, final newline) and their keccak256. */
export function evidenceFile(ev: Evidence): { text: string; hash: string } {
  const text = `${JSON.stringify(ev, null, 2)}\n`;
  return { text, hash: keccak256(toUtf8Bytes(text)) };
}
