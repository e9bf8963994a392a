/**
 * Parsing of the weekly inputs: the activity CSV (this module's format) and a tolerant adapter for
 * registry snapshot rows (the real `registry:snapshot` parser lives elsewhere and yields the same
 * `SnapshotVehicle` shape).
 *
 * Activity CSV of week N, header exactly `vehicle_id,active,km_driven,data_types,referral_code`:
 *  - `vehicle_id`: a positive integer without leading zeros, a vehicle of the week's snapshot, once;
 *  - `active`: `true` or `false`;
 *  - `km_driven`: a non-negative decimal with at most 3 decimals (kept exactly as integer metres);
 *  - `data_types`: `;`-separated names from `DATA_TYPES` (empty allowed, no repeats);
 *  - `referral_code`: empty, or the referrer's 0x address (mixed case must be a valid checksum; the zero
 *    address is refused).
 * Every problem is an InputError `<file>:<line> <column>: <problem>`; the line is the CSV line (1 = header).
 */
import fs from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { getAddress, ZeroAddress } from "ethers";
import { InputError } from "../errors";
import { DATA_TYPES, POWERTRAINS, type DataType, type Powertrain } from "./policy";

export const ACTIVITY_HEADER = ["vehicle_id", "active", "km_driven", "data_types", "referral_code"] as const;

/** One vehicle of the registry snapshot at the end of the week. */
export interface SnapshotVehicle {
  vehicleId: bigint | number | string;
  /** End-of-week owner, checksummed 0x address. */
  owner: string;
  powertrain: Powertrain;
  /** Paired hardware device id, or null. */
  pairedDevice: number | null;
  /** One entry per software / OEM connection of the vehicle. */
  connectionKinds: readonly ("software" | "oem")[];
}

/** One row of the activity CSV. */
export interface ActivityRow {
  /** Canonical decimal vehicle id. */
  vehicleId: string;
  active: boolean;
  /** Distance driven in the week in metres (km × 1000, exact). */
  kmMeters: number;
  dataTypes: readonly DataType[];
  /** Checksummed referrer address, or null. */
  referralCode: string | null;
  /** CSV line of the row. */
  line: number;
}

const VEHICLE_ID_RE = /^[1-9]\d*$/;
const KM_RE = /^(\d{1,9})(?:\.(\d{1,3}))?$/;
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const DATA_TYPE_SET: ReadonlySet<string> = new Set(DATA_TYPES);

/** Canonical decimal string of a vehicle id (positive integer), or null when it is not one. */
export function canonicalVehicleId(id: bigint | number | string): string | null {
  if (typeof id === "bigint") return id > 0n ? id.toString() : null;
  if (typeof id === "number") return Number.isSafeInteger(id) && id > 0 ? String(id) : null;
  return VEHICLE_ID_RE.test(id) ? id : null;
}

/** Numeric order of canonical decimal ids (shorter is smaller, then lexicographic). */
export function compareVehicleIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

const HEX_CODE = new Uint8Array(128);
for (const c of "0123456789abcdefABCDEF") HEX_CODE[c.charCodeAt(0)] = 1;

/** Whether `s` is `0x` and 40 hex digits (any case; a hand loop: a regex is 5× slower over a million). */
export function isAddressFormat(s: string): boolean {
  if (s.length !== 42 || s.charCodeAt(0) !== 48 || s.charCodeAt(1) !== 120) return false;
  for (let i = 2; i < 42; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || HEX_CODE[c] === 0) return false;
  }
  return true;
}

/** Parses a `0x` address (checksum checked when mixed case); null when malformed. */
export function parseAddress(text: string): string | null {
  if (!ADDRESS_RE.test(text)) return null;
  try {
    return getAddress(text);
  } catch {
    return null;
  }
}

/**
 * Parses the activity CSV. `knownVehicleIds` holds the canonical ids of the week's snapshot; a row for
 * any other vehicle is refused. Rows come back in file order.
 */
export function parseActivityCsv(
  text: string | Buffer,
  source: string,
  knownVehicleIds: { has(vehicleId: string): boolean },
): ActivityRow[] {
  const seen = new Map<string, number>();
  const dataTypeCache = new Map<string, readonly DataType[]>();
  let headerSeen = false;
  const rows: ActivityRow[] = [];

  const dataTypesOf = (field: string, line: number): readonly DataType[] => {
    const cached = dataTypeCache.get(field);
    if (cached) return cached;
    const names = field === "" ? [] : field.split(";");
    const set = new Set<string>();
    for (const name of names) {
      if (!DATA_TYPE_SET.has(name))
        throw new InputError(
          source,
          "data_types",
          `unknown data type "${name}" (expected ${DATA_TYPES.join(", ")})`,
          line,
        );
      if (set.has(name)) throw new InputError(source, "data_types", `data type "${name}" listed twice`, line);
      set.add(name);
    }
    const list = Object.freeze(names as DataType[]);
    dataTypeCache.set(field, list);
    return list;
  };

  const onRecord = (record: string[], line: number): ActivityRow | null => {
    if (!headerSeen) {
      headerSeen = true;
      if (record.length !== ACTIVITY_HEADER.length || record.some((c, i) => c !== ACTIVITY_HEADER[i]))
        throw new InputError(
          source,
          "header",
          `expected "${ACTIVITY_HEADER.join(",")}", got "${record.join(",")}"`,
          line,
        );
      return null;
    }
    const [id, active, km, types, referral] = record;
    if (!VEHICLE_ID_RE.test(id))
      throw new InputError(source, "vehicle_id", `expected a positive integer, got "${id}"`, line);
    if (!knownVehicleIds.has(id))
      throw new InputError(source, "vehicle_id", `vehicle ${id} is not in the registry snapshot`, line);
    const first = seen.get(id);
    if (first !== undefined)
      throw new InputError(source, "vehicle_id", `duplicate row for vehicle ${id} (first at line ${first})`, line);
    seen.set(id, line);
    if (active !== "true" && active !== "false")
      throw new InputError(source, "active", `expected "true" or "false", got "${active}"`, line);
    const m = KM_RE.exec(km);
    if (!m) {
      const problem = /^-\s*\d/.test(km.trim())
        ? `must not be negative, got "${km}"`
        : `expected a non-negative number of km with at most 3 decimals, got "${km}"`;
      throw new InputError(source, "km_driven", problem, line);
    }
    const kmMeters = Number(m[1]) * 1000 + Number((m[2] ?? "").padEnd(3, "0"));
    let referralCode: string | null = null;
    if (referral !== "") {
      referralCode = parseAddress(referral);
      if (referralCode === null)
        throw new InputError(source, "referral_code", `expected empty or a 0x address, got "${referral}"`, line);
      if (referralCode === ZeroAddress)
        throw new InputError(source, "referral_code", "the zero address cannot be a referrer", line);
    }
    return {
      vehicleId: id,
      active: active === "true",
      kmMeters,
      dataTypes: dataTypesOf(types, line),
      referralCode,
      line,
    };
  };

  try {
    parse(text, {
      bom: true,
      skip_empty_lines: true,
      on_record: (record: string[], context: { lines: number }) => {
        const row = onRecord(record, context.lines);
        if (row) rows.push(row);
        return null; // keep nothing in csv-parse's own result
      },
    });
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as Error & { code?: string; lines?: number };
    if (typeof err.code === "string" && err.code.startsWith("CSV_"))
      throw new InputError(source, "csv", `malformed CSV: ${err.message}`, err.lines);
    throw e;
  }
  if (!headerSeen) throw new InputError(source, "header", `empty file; expected "${ACTIVITY_HEADER.join(",")}"`, 1);
  return rows;
}

/** Reads and parses an activity CSV file; errors name the file by its base name. */
export function readActivityFile(file: string, knownVehicleIds: { has(vehicleId: string): boolean }): ActivityRow[] {
  return parseActivityCsv(fs.readFileSync(file), path.basename(file), knownVehicleIds);
}

/**
 * Tolerant adapter from registry snapshot CSV text (`vehicle_id,owner,powertrain,make,model,year,
 * paired_device,connection_kinds`, connection kinds `;`-separated, extra columns ignored) to
 * `SnapshotVehicle`s. For tests and the benchmark until the real `registry:snapshot` parser is wired in.
 */
export function parseSnapshotCsv(text: string | Buffer, source: string): SnapshotVehicle[] {
  const out: SnapshotVehicle[] = [];
  let columns: Map<string, number> | undefined;
  const kindsCache = new Map<string, readonly ("software" | "oem")[]>();
  const col = (record: string[], name: string, line: number): string => {
    const i = columns!.get(name);
    if (i === undefined) throw new InputError(source, "header", `missing column "${name}"`, 1);
    const v = record[i];
    if (v === undefined) throw new InputError(source, name, "missing value", line);
    return v.trim();
  };
  try {
    parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      on_record: (record: string[], context: { lines: number }) => {
        const line = context.lines;
        if (!columns) {
          columns = new Map(record.map((c, i) => [c.trim().toLowerCase(), i]));
          return null;
        }
        const id = col(record, "vehicle_id", line);
        if (canonicalVehicleId(id) === null)
          throw new InputError(source, "vehicle_id", `expected a positive integer, got "${id}"`, line);
        const ownerText = col(record, "owner", line);
        const owner = parseAddress(ownerText);
        if (owner === null) throw new InputError(source, "owner", `expected a 0x address, got "${ownerText}"`, line);
        const powertrain = col(record, "powertrain", line).toUpperCase();
        if (!(POWERTRAINS as readonly string[]).includes(powertrain))
          throw new InputError(
            source,
            "powertrain",
            `expected one of ${POWERTRAINS.join(", ")}, got "${powertrain}"`,
            line,
          );
        const paired = col(record, "paired_device", line);
        if (paired !== "" && !/^\d+$/.test(paired))
          throw new InputError(source, "paired_device", `expected empty or a device id, got "${paired}"`, line);
        const kindsText = columns.has("connection_kinds") ? col(record, "connection_kinds", line).toLowerCase() : "";
        let kinds = kindsCache.get(kindsText);
        if (!kinds) {
          const list = kindsText === "" ? [] : kindsText.split(";").map((k) => k.trim());
          for (const k of list)
            if (k !== "software" && k !== "oem")
              throw new InputError(source, "connection_kinds", `expected "software" or "oem", got "${k}"`, line);
          kinds = Object.freeze(list as ("software" | "oem")[]);
          kindsCache.set(kindsText, kinds);
        }
        out.push({
          vehicleId: id,
          owner,
          powertrain: powertrain as Powertrain,
          pairedDevice: paired === "" ? null : Number(paired),
          connectionKinds: kinds,
        });
        return null;
      },
    });
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as Error & { code?: string; lines?: number };
    if (typeof err.code === "string" && err.code.startsWith("CSV_"))
      throw new InputError(source, "csv", `malformed CSV: ${err.message}`, err.lines);
    throw e;
  }
  return out;
}

/**
 * The referral codes of a week's activity rows (`rewards:activity --referral-codes`): a CSV `vehicle_id,referral_code`
 * giving the referrer's address per vehicle (docs/rewards-spec.md §2, §7), each vehicle once. Not telemetry: the
 * oracle's input, written into the rows as given. Returns vehicle id (canonical decimal) → checksummed address.
 */
export function parseReferralCodes(text: string | Buffer, source: string): Map<string, string> {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true }) as string[][];
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new InputError(source, "(csv)", err.message, err.lines);
  }
  const header = (records[0] ?? []).map((c) => c.trim().toLowerCase()).join(",");
  if (header !== "vehicle_id,referral_code")
    throw new InputError(source, "header", `expected "vehicle_id,referral_code", got "${header}"`, 1);
  const out = new Map<string, string>();
  records.slice(1).forEach((r, i) => {
    const line = i + 2;
    const id = canonicalVehicleId((r[0] ?? "").trim());
    if (id === null)
      throw new InputError(source, "vehicle_id", `expected a positive integer, got "${r[0] ?? ""}"`, line);
    const code = parseAddress((r[1] ?? "").trim());
    if (code === null || code === ZeroAddress)
      throw new InputError(source, "referral_code", `expected the referrer's 0x address, got "${r[1] ?? ""}"`, line);
    if (out.has(id)) throw new InputError(source, "vehicle_id", `vehicle ${id} is given twice`, line);
    out.set(id, code);
  });
  return out;
}
