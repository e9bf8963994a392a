/**
 * The signed telemetry batch (docs/telemetry.md): EIP-712 typed data over the batch, in the domain
 * `{ name: "DIMO Telemetry", version: "1", chainId, verifyingContract: VehicleRegistry }`.
 *
 *   TelemetryBatch(uint256 vehicleId,uint256 deviceId,address integration,uint64 sequence,uint64 startTime,
 *                  uint64 endTime,Signal[] signals)
 *   Signal(string name,uint64 timestamp,int64[] values)
 *
 * A hardware device signs with its bound key (`deviceId` ≠ 0, `integration` = zero address); an integration
 * signs with its own key for a vehicle it attested a connection for (`deviceId` = 0, `integration` = its
 * address). The batch digest (`batchDigest`) is the EIP-712 hash: it identifies the batch everywhere (the
 * store, the published files, the weekly commitment).
 *
 * Pure: no Hardhat, no I/O.
 */
import {
  Signature,
  TypedDataEncoder,
  ZeroAddress,
  getAddress,
  isAddress,
  recoverAddress,
  type TypedDataDomain,
} from "ethers";
import { z } from "zod";
import {
  MAX_BATCH_SPAN_SECONDS,
  MAX_SEQUENCE,
  MAX_SIGNALS_PER_BATCH,
  SIGNAL_NAMES,
  SIGNAL_VALUE_RULES,
  TELEMETRY_DOMAIN_NAME,
  type SignalName,
} from "./settings";

export const TELEMETRY_TYPES = {
  TelemetryBatch: [
    { name: "vehicleId", type: "uint256" },
    { name: "deviceId", type: "uint256" },
    { name: "integration", type: "address" },
    { name: "sequence", type: "uint64" },
    { name: "startTime", type: "uint64" },
    { name: "endTime", type: "uint64" },
    { name: "signals", type: "Signal[]" },
  ],
  Signal: [
    { name: "name", type: "string" },
    { name: "timestamp", type: "uint64" },
    { name: "values", type: "int64[]" },
  ],
};

/** Stable refusal codes of a batch's content (the node adds its own for chain and storage checks). */
export type FormatErrorCode =
  | "malformed_batch"
  | "batch_too_large"
  | "unknown_signal"
  | "value_out_of_range"
  | "time_range_invalid"
  | "bad_signature";

const ID_RE = /^(0|[1-9]\d{0,77})$/;
const UINT256_MAX = (1n << 256n) - 1n;
const idString = z
  .string()
  .regex(ID_RE, "expected a decimal integer without leading zeros")
  .refine((s) => BigInt(s) <= UINT256_MAX, "exceeds uint256");
/** A 0x address: all lowercase, all uppercase, or a valid EIP-55 checksum. */
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x address")
  .refine((a) => isAddress(a), "bad EIP-55 checksum");
const seconds = z.number().int().min(0).max(MAX_SEQUENCE);

const signalSchema = z
  .object({
    name: z.string().max(64),
    timestamp: seconds,
    values: z.array(z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)).max(64),
  })
  .strict();

/** The batch as carried in JSON (ids as decimal strings, times in unix seconds, values as integers). */
export const batchSchema = z
  .object({
    vehicleId: idString.refine((s) => s !== "0", "vehicle id 0 does not exist"),
    deviceId: idString,
    integration: address,
    sequence: z.number().int().min(0).max(MAX_SEQUENCE),
    startTime: seconds,
    endTime: seconds,
    signals: z.array(signalSchema).min(1, "a batch carries at least one signal"),
  })
  .strict()
  .superRefine((b, ctx) => {
    const issue = (code: FormatErrorCode, path: (string | number)[], message: string) =>
      ctx.addIssue({ code: z.ZodIssueCode.custom, path, message, params: { errorCode: code } });
    if (b.signals.length > MAX_SIGNALS_PER_BATCH)
      issue("batch_too_large", ["signals"], `${b.signals.length} signals; at most ${MAX_SIGNALS_PER_BATCH}`);
    const isDevice = b.deviceId !== "0";
    const isIntegration = /^0x0{40}$/i.test(b.integration) === false;
    if (isDevice === isIntegration)
      issue(
        "malformed_batch",
        ["deviceId"],
        "exactly one of deviceId (a hardware device) and integration (a software integration) is set",
      );
    if (b.endTime < b.startTime)
      issue("time_range_invalid", ["endTime"], `endTime ${b.endTime} is before startTime ${b.startTime}`);
    else if (b.endTime - b.startTime > MAX_BATCH_SPAN_SECONDS)
      issue(
        "time_range_invalid",
        ["endTime"],
        `the batch spans ${b.endTime - b.startTime} s; at most ${MAX_BATCH_SPAN_SECONDS} s`,
      );
    b.signals.forEach((s, i) => {
      const rule = (SIGNAL_VALUE_RULES as Record<string, (typeof SIGNAL_VALUE_RULES)[SignalName] | undefined>)[s.name];
      if (!rule) {
        issue(
          "unknown_signal",
          ["signals", i, "name"],
          `unknown signal "${s.name}" (known: ${SIGNAL_NAMES.join(", ")})`,
        );
        return;
      }
      if (s.timestamp < b.startTime || s.timestamp > b.endTime)
        issue(
          "time_range_invalid",
          ["signals", i, "timestamp"],
          `timestamp ${s.timestamp} is outside the batch's range [${b.startTime}, ${b.endTime}]`,
        );
      if (s.values.length < rule.minCount || s.values.length > rule.maxCount)
        issue(
          "value_out_of_range",
          ["signals", i, "values"],
          `${s.name} carries ${rule.minCount === rule.maxCount ? rule.minCount : `${rule.minCount}-${rule.maxCount}`} values, got ${s.values.length}`,
        );
      s.values.forEach((v, j) => {
        const [lo, hi] = rule.ranges[Math.min(j, rule.ranges.length - 1)];
        if (v < lo || v > hi)
          issue("value_out_of_range", ["signals", i, "values", j], `${s.name} value ${v} is outside [${lo}, ${hi}]`);
      });
    });
  });
export type TelemetryBatch = z.infer<typeof batchSchema>;
export type TelemetrySignal = TelemetryBatch["signals"][number];

/** A signed batch as POSTed to the node and published: the batch, its 65-byte signature, its domain. */
export const signedBatchSchema = z
  .object({
    chainId: z.number().int().positive(),
    registry: address,
    batch: batchSchema,
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, "expected a 65-byte 0x signature"),
  })
  .strict();
export type SignedBatch = z.infer<typeof signedBatchSchema>;

/** One problem of a batch: a stable code, a message and the JSON path of the field (dotted). */
export interface FormatProblem {
  code: FormatErrorCode;
  message: string;
  field: string;
}

/** Parses a signed batch; the first problem (with its code) when it is not one. */
export function parseSignedBatch(
  input: unknown,
): { ok: true; value: SignedBatch } | { ok: false; problem: FormatProblem } {
  const r = signedBatchSchema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  // The most specific problem first: size, then names, then ranges, then the rest.
  const order: FormatErrorCode[] = ["batch_too_large", "unknown_signal", "value_out_of_range", "time_range_invalid"];
  const issues = r.error.issues.map((i) => ({
    code: ((i as { params?: { errorCode?: FormatErrorCode } }).params?.errorCode ??
      "malformed_batch") as FormatErrorCode,
    message: i.message,
    field: i.path.join("."),
  }));
  issues.sort((a, b) => rank(a.code) - rank(b.code));
  return { ok: false, problem: issues[0] };
  function rank(c: FormatErrorCode): number {
    const k = order.indexOf(c);
    return k === -1 ? order.length : k;
  }
}

/** The EIP-712 domain of telemetry on a chain. */
export function telemetryDomain(chainId: number | bigint, registry: string): TypedDataDomain {
  return { name: TELEMETRY_DOMAIN_NAME, version: "1", chainId, verifyingContract: getAddress(registry) };
}

/** The value ethers encodes (the JSON batch, with the integration address checksummed). */
function typedValue(batch: TelemetryBatch): Record<string, unknown> {
  return { ...batch, integration: getAddress(batch.integration) };
}

/** The batch's EIP-712 digest, `keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(batch))`, 0x hex. */
export function batchDigest(batch: TelemetryBatch, chainId: number | bigint, registry: string): string {
  return TypedDataEncoder.hash(telemetryDomain(chainId, registry), TELEMETRY_TYPES, typedValue(batch));
}

/** `hashStruct(batch)` alone (for the documented vector). */
export function batchStructHash(batch: TelemetryBatch): string {
  return TypedDataEncoder.from(TELEMETRY_TYPES).hash(typedValue(batch));
}

/** The signer of a digest, or null when the signature is not a canonical (low-s) secp256k1 signature. */
export function recoverSigner(digest: string, signature: string): string | null {
  try {
    const sig = Signature.from(signature);
    if (sig.serialized.toLowerCase() !== signature.toLowerCase()) return null; // non-canonical form
    return recoverAddress(digest, sig);
  } catch {
    return null;
  }
}

/** The address a batch must be signed by, given the device key bound on chain (device batches only). */
export function isDeviceBatch(batch: TelemetryBatch): boolean {
  return batch.deviceId !== "0";
}

/** The integration address of an integration batch, checksummed, or null for a device batch. */
export function integrationOf(batch: TelemetryBatch): string | null {
  const a = getAddress(batch.integration);
  return a === ZeroAddress ? null : a;
}

/** Signs a batch with a key that can sign EIP-712 (an ethers Wallet); for devices, integrations and tests. */
export async function signBatch(
  signer: {
    signTypedData(
      domain: TypedDataDomain,
      types: typeof TELEMETRY_TYPES,
      value: Record<string, unknown>,
    ): Promise<string>;
  },
  batch: TelemetryBatch,
  chainId: number,
  registry: string,
): Promise<SignedBatch> {
  const signature = await signer.signTypedData(telemetryDomain(chainId, registry), TELEMETRY_TYPES, typedValue(batch));
  return { chainId, registry: getAddress(registry), batch, signature };
}
