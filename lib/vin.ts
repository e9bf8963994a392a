/**
 * Vehicle identification numbers (ISO 3779) and the VIN commitment the vehicle registry stores.
 *
 * The raw VIN never reaches the chain. The registry stores
 *
 *     vinCommitment = keccak256(abi.encodePacked("DIMO-VIN-v1", scrypt(normalizedVin)))
 *     scrypt: salt "DIMO-VIN-v1", N = 2^15, r = 8, p = 1, 32-byte key
 *
 * Why this shape:
 * - **Deterministic.** The same VIN (after normalization) always gives the same commitment, so the
 *   registry's "one commitment, one vehicle" rule blocks registering one car twice.
 * - **Memory-hard.** The VIN space is small and structured (manufacturer prefix, model year, plant,
 *   serial), so a plain hash could be reversed by enumeration. Each scrypt evaluation costs ~32 MiB of
 *   memory and ~0.1 s, which makes guessing VINs from the public commitments expensive, and GPUs/ASICs
 *   gain little. The fixed salt is deliberate: a per-vehicle salt would defeat duplicate detection.
 * - **Versioned.** The "DIMO-VIN-v1" tag (salt and hash prefix) lets a future scheme coexist.
 *
 * Pure: node:crypto and ethers' hashing helpers only.
 */
import { scrypt, scryptSync, type ScryptOptions } from "node:crypto";
import { keccak256, solidityPacked } from "ethers";
import { InputError } from "./errors";

/** Domain tag: the scrypt salt and the prefix of the hashed preimage. */
export const VIN_COMMITMENT_TAG = "DIMO-VIN-v1";
/** scrypt parameters: 128 · N · r = 32 MiB of memory per evaluation. */
export const VIN_SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const satisfies ScryptOptions;
/** scrypt output length, bytes. */
export const VIN_SCRYPT_KEY_LENGTH = 32;
export const VIN_LENGTH = 17;

/** ISO 3779 alphabet: digits and capital letters except I, O and Q. */
const VIN_CHAR = /^[A-HJ-NPR-Z0-9]$/;

/** Where a VIN came from, for error messages. */
export interface VinSource {
  source: string;
  field: string;
  line?: number;
}

const DEFAULT_SOURCE: VinSource = { source: "vin", field: "vin" };

/**
 * Trims and upper-cases a VIN and checks it has 17 characters of `[A-HJ-NPR-Z0-9]`. Throws an InputError
 * naming `where` otherwise. The check digit is NOT enforced (see `hasValidCheckDigit`).
 */
export function normalizeVin(vin: string, where: VinSource = DEFAULT_SOURCE): string {
  const v = vin.trim().toUpperCase();
  if (v.length !== VIN_LENGTH) {
    throw new InputError(
      where.source,
      where.field,
      `a VIN has ${VIN_LENGTH} characters, got ${v.length}${v.length === 0 ? " (empty)" : ""}`,
      where.line,
    );
  }
  for (let i = 0; i < v.length; i++) {
    if (!VIN_CHAR.test(v[i])) {
      const hint = "IOQ".includes(v[i]) ? " (VINs never use I, O or Q)" : "";
      throw new InputError(
        where.source,
        where.field,
        `character ${JSON.stringify(v[i])} at position ${i + 1} is not allowed${hint}; a VIN uses 0-9 and A-Z except I, O, Q`,
        where.line,
      );
    }
  }
  return v;
}

/** ISO 3779 transliteration of letters to values (digits are their own value). */
const TRANSLITERATION: Record<string, number> = {
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8,
  J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9,
  S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9,
}; // prettier-ignore
/** Position weights; position 9 (the check digit itself) weighs 0. */
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/**
 * Whether position 9 holds the North-American check digit (weighted sum mod 11, 10 written "X").
 * Informational only: many VINs from outside North America do not use a check digit, so registration never
 * rejects on it. Returns false for anything that is not a well-formed VIN. Never throws, never logs.
 */
export function hasValidCheckDigit(vin: string): boolean {
  const v = vin.trim().toUpperCase();
  if (v.length !== VIN_LENGTH || ![...v].every((c) => VIN_CHAR.test(c))) return false;
  let sum = 0;
  for (let i = 0; i < VIN_LENGTH; i++) {
    const c = v[i];
    const value = c >= "0" && c <= "9" ? c.charCodeAt(0) - 48 : TRANSLITERATION[c];
    sum += value * WEIGHTS[i];
  }
  const r = sum % 11;
  return v[8] === (r === 10 ? "X" : String(r));
}

function commitmentOf(derived: Buffer): string {
  return keccak256(solidityPacked(["string", "bytes32"], [VIN_COMMITMENT_TAG, derived]));
}

/**
 * The registry's VIN commitment (0x-prefixed bytes32) of a VIN; the VIN is normalized first, so
 * " 1hgcm82633a004352 " and "1HGCM82633A004352" commit to the same value. Takes ~0.1 s (scrypt).
 */
export function vinCommitment(vin: string, where: VinSource = DEFAULT_SOURCE): string {
  const v = normalizeVin(vin, where);
  return commitmentOf(scryptSync(v, VIN_COMMITMENT_TAG, VIN_SCRYPT_KEY_LENGTH, VIN_SCRYPT_PARAMS));
}

/** `vinCommitment` on libuv's thread pool, so many VINs can be committed in parallel (bulk imports). */
export async function vinCommitmentAsync(vin: string, where: VinSource = DEFAULT_SOURCE): Promise<string> {
  const v = normalizeVin(vin, where);
  const derived = await new Promise<Buffer>((resolve, reject) =>
    scrypt(v, VIN_COMMITMENT_TAG, VIN_SCRYPT_KEY_LENGTH, VIN_SCRYPT_PARAMS, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
  return commitmentOf(derived);
}
