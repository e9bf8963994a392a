/**
 * Validation of the values people give the registry tasks (and the vehicles.csv parser): powertrains,
 * model years, labels, ids, addresses, account references, signatures and times. Each parser returns
 * the typed value or throws an InputError naming where the value came from (`<task> --<argument>`, or
 * `<file>:<line> <column>`). The rules mirror the contracts, so nothing a task sends can revert on them.
 */
import { getAddress, isAddress, isHexString, ZeroAddress } from "ethers";
import { InputError } from "./errors";

/** Where a value came from. */
export interface Where {
  source: string;
  field: string;
  line?: number;
}

/** `IVehicleRegistry.Powertrain`, in enum order. */
export const POWERTRAINS = ["ICE", "HEV", "PHEV", "BEV"] as const;
export type PowertrainName = (typeof POWERTRAINS)[number];

/** `IVehicleRegistry.ConnectionKind` values 1 and 2, by name (0 is None). */
export const CONNECTION_KINDS = { 1: "software", 2: "oem" } as const;
export type ConnectionKindName = (typeof CONNECTION_KINDS)[keyof typeof CONNECTION_KINDS];

/** VehicleRegistry.MIN_YEAR / MAX_YEAR. */
export const MIN_MODEL_YEAR = 1886;
export const MAX_MODEL_YEAR = 2100;
/** VehicleRegistry.MAX_TEXT_LENGTH (make, model), bytes. */
export const VEHICLE_TEXT_MAX_BYTES = 32;
/** DeviceRegistry.MAX_TEXT_LENGTH (serial, hardware revision), bytes. */
export const DEVICE_TEXT_MAX_BYTES = 64;
/** VehicleRegistry.MAX_CONNECTIONS. */
export const MAX_CONNECTIONS = 8;
/** Largest uint64 (grant expiries). */
export const MAX_UINT64 = 2n ** 64n - 1n;

function fail(where: Where, problem: string): never {
  throw new InputError(where.source, where.field, problem, where.line);
}

/** Same rule as `PrintableText.isValid`: 1..maxBytes bytes of printable ASCII (0x20-0x7e) except `"` and `\`. */
export function isPrintableText(text: string, maxBytes: number): boolean {
  if (text.length === 0 || text.length > maxBytes) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** A make, model, serial or hardware revision, exactly as given (no trimming: what you see is what is stored). */
export function parseLabel(value: string | undefined, where: Where, maxBytes: number): string {
  if (value === undefined || value === "") fail(where, "must not be empty");
  if (isPrintableText(value, maxBytes)) return value;
  if (Buffer.byteLength(value) > maxBytes) fail(where, `at most ${maxBytes} bytes, got ${Buffer.byteLength(value)}`);
  const bad = [...value].find((ch) => !isPrintableText(ch, 1))!;
  fail(where, `character ${JSON.stringify(bad)} is not allowed (printable ASCII only, without " and \\)`);
}

/** "ICE" | "HEV" | "PHEV" | "BEV" (case-insensitive) → the enum value 0-3. */
export function parsePowertrain(value: string | undefined, where: Where): number {
  const i = POWERTRAINS.indexOf((value ?? "").trim().toUpperCase() as PowertrainName);
  if (i < 0) fail(where, `expected one of ${POWERTRAINS.join(", ")}, got "${value ?? ""}"`);
  return i;
}

/** A model year, 1886-2100. */
export function parseModelYear(value: string | number | undefined, where: Where): number {
  const text = String(value ?? "").trim();
  if (!/^\d{4}$/.test(text) || Number(text) < MIN_MODEL_YEAR || Number(text) > MAX_MODEL_YEAR) {
    fail(where, `expected a model year from ${MIN_MODEL_YEAR} to ${MAX_MODEL_YEAR}, got "${value ?? ""}"`);
  }
  return Number(text);
}

/** A vehicle or device id: a positive decimal integer without leading zeros. */
export function parseId(value: string | number | undefined, where: Where): bigint {
  const text = String(value ?? "").trim();
  if (!/^[1-9]\d{0,76}$/.test(text)) fail(where, `expected a positive integer id, got "${value ?? ""}"`);
  return BigInt(text);
}

/** A non-negative decimal integer within `[min, max]`. */
export function parseIntIn(value: string | number | undefined, where: Where, min: number, max: number): number {
  const text = String(value ?? "").trim();
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    fail(where, `expected an integer from ${min} to ${max}, got "${value ?? ""}"`);
  }
  return Number(text);
}

/** A 0x address (a mixed-case address must have a valid EIP-55 checksum), returned checksummed. */
export function parseAddress(value: string | undefined, where: Where, opts: { allowZero?: boolean } = {}): string {
  const text = (value ?? "").trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) fail(where, `expected a 0x address (40 hex digits), got "${value ?? ""}"`);
  if (!isAddress(text)) fail(where, `"${text}" has an invalid EIP-55 checksum (check for a typo)`);
  const address = getAddress(text);
  if (!opts.allowZero && address === ZeroAddress) fail(where, "must not be the zero address");
  return address;
}

/** A local account index (`--owner-account 3`), checked against the number of local accounts. */
export function parseAccountIndex(value: string | number | undefined, where: Where, accountCount: number): number {
  const text = String(value ?? "").trim();
  if (!/^\d+$/.test(text)) fail(where, `expected a local account index, got "${value ?? ""}"`);
  const i = Number(text);
  if (i >= accountCount) {
    fail(
      where,
      `account ${i} does not exist: the network has ${accountCount} local account(s) (0-${accountCount - 1})`,
    );
  }
  return i;
}

/** `<index|address>`: a local account index or any 0x address. */
export type AccountRef = { kind: "index"; index: number } | { kind: "address"; address: string };

export function parseAccountRef(value: string | number | undefined, where: Where, accountCount: number): AccountRef {
  const text = String(value ?? "").trim();
  if (text.startsWith("0x") || text.startsWith("0X")) return { kind: "address", address: parseAddress(text, where) };
  if (!/^\d+$/.test(text)) fail(where, `expected a local account index or a 0x address, got "${value ?? ""}"`);
  return { kind: "index", index: parseAccountIndex(text, where, accountCount) };
}

/** An EIP-712 signature as 0x hex: 65 bytes from a key, or any non-empty bytes for an ERC-1271 wallet. */
export function parseSignature(value: string | undefined, where: Where): string {
  const text = (value ?? "").trim();
  if (!isHexString(text) || text.length < 4 || text.length % 2 !== 0) {
    fail(where, `expected a 0x hex signature, got "${value ?? ""}"`);
  }
  return text.toLowerCase();
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * A future point in time, as unix seconds: `+30d` / `+12h` / `+90m` / `+45s` / `+2w` relative to `now`
 * (the chain's latest block time), an ISO-8601 date (`2027-01-31`, midnight UTC) or date-time with an
 * explicit zone (`2027-01-31T12:00:00Z`), or plain unix seconds. Must be after `now` and fit a uint64.
 */
export function parseFutureTime(value: string | number | undefined, where: Where, now: number): bigint {
  const text = String(value ?? "").trim();
  let t: bigint;
  const rel = /^\+(\d{1,9})([smhdw])$/.exec(text);
  if (rel) {
    t = BigInt(now) + BigInt(rel[1]) * BigInt(UNIT_SECONDS[rel[2]]);
  } else if (/^\d{1,20}$/.test(text)) {
    t = BigInt(text);
  } else if (ISO_DATE.test(text)) {
    const [y, mo, d] = text.slice(0, 10).split("-").map(Number);
    const day = new Date(Date.UTC(y, mo - 1, d));
    const ms = Date.parse(text);
    if (!Number.isFinite(ms) || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) {
      fail(where, `not a valid date: "${text}"`);
    }
    t = BigInt(Math.floor(ms / 1000));
  } else {
    fail(
      where,
      `expected +<n>[s|m|h|d|w] (e.g. +30d), an ISO date (2027-01-31 or 2027-01-31T12:00:00Z) or unix seconds, got "${value ?? ""}"`,
    );
  }
  if (t <= BigInt(now)) {
    fail(where, `${isoOf(t)} is not in the future (chain time ${isoOf(now)})`);
  }
  if (t > MAX_UINT64) fail(where, "too far in the future (must fit a uint64)");
  return t;
}

/** Unix seconds → ISO-8601 UTC without milliseconds. */
export function isoOf(seconds: number | bigint): string {
  const ms = Number(seconds) * 1000;
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15
    ? new Date(ms).toISOString().replace(".000Z", "Z")
    : `unix ${seconds}`;
}
