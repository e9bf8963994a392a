import { formatDimo } from "../../lib/units";

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
  return new Date(seconds * 1000).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
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
