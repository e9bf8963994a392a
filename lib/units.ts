import { InputError } from "./errors";

export const DECIMALS = 18;
export const WEI_PER_DIMO = 10n ** 18n;

const DECIMAL_RE = /^(\d+)(?:\.(\d{1,18}))?$/;

/**
 * Parses a non-negative decimal DIMO amount ("1105000", "0.5", "1_000_000" is refused) into wei,
 * exactly (no floating point). `where` names the source for the error message.
 */
export function parseDimo(value: string, where: { source: string; field: string; line?: number }): bigint {
  const text = value.trim();
  const m = DECIMAL_RE.exec(text);
  if (!m) {
    throw new InputError(
      where.source,
      where.field,
      `expected a non-negative decimal DIMO amount with at most 18 decimals, got "${value}"`,
      where.line,
    );
  }
  const frac = (m[2] ?? "").padEnd(DECIMALS, "0");
  return BigInt(m[1]) * WEI_PER_DIMO + BigInt(frac);
}

/** Formats wei as DIMO with all significant decimals ("1300030.123", "5"). */
export function formatDimo(wei: bigint): string {
  const neg = wei < 0n;
  const abs = neg ? -wei : wei;
  const whole = abs / WEI_PER_DIMO;
  const frac = (abs % WEI_PER_DIMO).toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${whole}${frac ? `.${frac}` : ""}`;
}

/** Formats wei as whole DIMO with thousands separators, rounded down ("1,300,030"). */
export function formatDimoRounded(wei: bigint, decimals = 0): string {
  const scale = 10n ** BigInt(DECIMALS - decimals);
  const units = wei / scale;
  const whole = (units / 10n ** BigInt(decimals)).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  if (decimals === 0) return whole;
  const frac = (units % 10n ** BigInt(decimals)).toString().padStart(decimals, "0");
  return `${whole}.${frac}`;
}

/** Parses a strictly positive safe integer argument. */
export function parsePositiveInt(
  value: string | number,
  where: { source: string; field: string; line?: number },
  max = Number.MAX_SAFE_INTEGER,
): number {
  const text = String(value).trim();
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new InputError(where.source, where.field, `expected an integer from 1 to ${max}, got "${value}"`, where.line);
  }
  return Number(text);
}
