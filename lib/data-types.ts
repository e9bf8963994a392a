/**
 * Vehicle data types and their permission bits: bit `t` of a DataAccess grant's `permissions` lets the
 * consumer read data type `t` (`IDataAccess.canRead(consumer, vehicleId, t)`). One table for the access
 * tasks and for the rewards policy (points per data type provided).
 */
import { InputError } from "./errors";

export interface DataType {
  /** Canonical name, as written in tasks, CSV files and the rewards policy. */
  readonly name: string;
  /** Bit position in a grant's permissions (0-255). */
  readonly bit: number;
  /** Other accepted spellings. */
  readonly aliases: readonly string[];
  readonly description: string;
}

export const DATA_TYPES: readonly DataType[] = [
  { name: "location", bit: 0, aliases: [], description: "GPS position" },
  { name: "odometer", bit: 1, aliases: [], description: "odometer reading" },
  {
    name: "fuel_level",
    bit: 2,
    aliases: ["battery_level", "fuel_battery_level"],
    description: "fuel level, or battery state of charge for electric vehicles",
  },
  { name: "dtc", bit: 3, aliases: ["diagnostic_codes"], description: "diagnostic trouble codes" },
  { name: "tire_pressure", bit: 4, aliases: [], description: "tire pressures" },
  { name: "speed", bit: 5, aliases: [], description: "vehicle speed" },
  { name: "engine_load", bit: 6, aliases: [], description: "engine load" },
  { name: "charging_status", bit: 7, aliases: [], description: "charging status (BEV and PHEV)" },
];

const BY_NAME: ReadonlyMap<string, DataType> = new Map(
  DATA_TYPES.flatMap((t) => [t.name, ...t.aliases].map((n) => [n, t] as const)),
);

/** The data type with this name or alias (case-insensitive), or undefined. */
export function findDataType(name: string): DataType | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}

/** Every accepted spelling, for help texts and error messages. */
export function dataTypeNames(): string[] {
  return DATA_TYPES.map((t) => (t.aliases.length ? `${t.name} (${t.aliases.join(", ")})` : t.name));
}

/**
 * Parses a comma-separated list of data-type names ("location,odometer,battery_level") into the
 * canonical names (table order, no repeats) and the permission bit mask. Throws an InputError naming
 * `where` for an empty list, an empty entry or an unknown name.
 */
export function parseDataTypeList(
  value: string,
  where: { source: string; field: string; line?: number },
): { names: string[]; permissions: bigint } {
  const entries = value.split(",").map((s) => s.trim());
  if (entries.length === 1 && entries[0] === "") {
    throw new InputError(
      where.source,
      where.field,
      `no data types given; use ${dataTypeNames().join(", ")}`,
      where.line,
    );
  }
  let permissions = 0n;
  for (const entry of entries) {
    if (entry === "") throw new InputError(where.source, where.field, `empty entry in "${value}"`, where.line);
    const t = findDataType(entry);
    if (!t) {
      throw new InputError(
        where.source,
        where.field,
        `unknown data type "${entry}"; known: ${dataTypeNames().join(", ")}`,
        where.line,
      );
    }
    permissions |= 1n << BigInt(t.bit);
  }
  return { names: dataTypesOfPermissions(permissions), permissions };
}

/** Names of the bits set in a permission mask; bits outside the table appear as "bit<N>". */
export function dataTypesOfPermissions(permissions: bigint): string[] {
  const names: string[] = [];
  for (let bit = 0; bit < 256 && permissions >> BigInt(bit) !== 0n; bit++) {
    if ((permissions >> BigInt(bit)) & 1n) names.push(DATA_TYPES.find((t) => t.bit === bit)?.name ?? `bit${bit}`);
  }
  return names;
}
