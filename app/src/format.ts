import { formatDimo, formatDimoRounded } from "../../lib/units";

/** Exact DIMO (every significant decimal, no rounding) with thousands separators: "12,345.678901234567890123". */
export function formatAmount(wei: bigint): string {
  const [whole, frac] = formatDimo(wei).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return frac ? `${grouped}.${frac}` : grouped;
}

export function shortAddress(a: string): string {
  return `${a.slice(0, 6)}…${a.slice(-4)}`;
}

export function formatTime(seconds: number): string {
  // With its time zone ("Dec 8, 2026, 6:00 AM GMT+1"): a driver and the chain may be in different zones.
  return new Date(seconds * 1000).toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZoneName: "short",
  });
}

/**
 * The exact amount as nodes: the whole part, then the decimals in a smaller span, so that a narrow screen
 * breaks a long amount only at its decimal point. `textContent` is `formatAmount(wei)`.
 */
export function amountNodes(wei: bigint): Node[] {
  const [whole, frac] = formatAmount(wei).split(".");
  const w = document.createElement("span");
  w.className = "whole";
  w.textContent = whole;
  if (!frac) return [w];
  const f = document.createElement("span");
  f.className = "frac";
  f.textContent = `.${frac}`;
  return [w, document.createElement("wbr"), f];
}

/** Decimals of the readable amount (rounded down, so it never shows more than the exact amount). */
export const READABLE_DECIMALS = 4;

/**
 * The amount a driver reads: 2 to 4 decimals, rounded down ("1,234.5678", "12.50"); "< 0.0001" for a dust
 * amount that would read as 0. The exact amount is `formatAmount`.
 */
export function readableAmount(wei: bigint): string {
  const rounded = formatDimoRounded(wei, READABLE_DECIMALS);
  if (wei > 0n && /^0\.0+$/.test(rounded)) return `< 0.${"0".repeat(READABLE_DECIMALS - 1)}1`;
  const [whole, frac] = rounded.split(".");
  return `${whole}.${frac.replace(/0{1,2}$/, "")}`;
}

/** What a hover or a tap shows: the amount to the last decimal and in wei. */
export function exactAmountText(wei: bigint): string {
  return `exactly ${formatAmount(wei)} DIMO (${wei.toString()} wei)`;
}
