/**
 * Splitting a week's issuance into pools and a pool into per-vehicle amounts, exactly, in wei.
 *
 *  - `core = floor(issuance × coreBps / 10000)`, `green = issuance − core` (the green pool takes the odd wei).
 *  - A pool's `available = share + carryIn` (carryIn = the pool's remainder from the previous week).
 *  - Each entry gets `floor(available × points / poolPoints)`: nobody gets more than their pro-rata share.
 *  - `carryOut = available − Σ paid` (< number of entries with points, in wei) goes to next week's pool;
 *    a pool without points carries everything. So `Σ paid + carryOut == share + carryIn`, always.
 */
import { BPS } from "../issuance";

export interface PoolTotals {
  shareWei: bigint;
  carryInWei: bigint;
  availableWei: bigint;
  /** Σ points of the pool's entries. */
  points: bigint;
  paidWei: bigint;
  carryOutWei: bigint;
}

export function splitIssuance(issuanceWei: bigint, coreBps: number): { coreWei: bigint; greenWei: bigint } {
  if (issuanceWei < 0n) throw new RangeError("issuance must not be negative");
  if (!Number.isInteger(coreBps) || coreBps < 0 || coreBps > 10_000) throw new RangeError(`bad coreBps ${coreBps}`);
  const coreWei = (issuanceWei * BigInt(coreBps)) / BPS;
  return { coreWei, greenWei: issuanceWei - coreWei };
}

/**
 * Allocates `shareWei + carryInWei` pro rata to `points` (non-negative safe integers). Returns the totals
 * and one amount per entry (0n for entries without points).
 */
export function allocatePool(
  shareWei: bigint,
  carryInWei: bigint,
  points: ArrayLike<number>,
): { totals: PoolTotals; amounts: bigint[] } {
  if (shareWei < 0n || carryInWei < 0n) throw new RangeError("pool amounts must not be negative");
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (!Number.isSafeInteger(p) || p < 0) throw new RangeError(`points must be non-negative integers, got ${p}`);
    sum += p;
  }
  if (!Number.isSafeInteger(sum)) throw new RangeError("pool points exceed 2^53");
  const availableWei = shareWei + carryInWei;
  const total = BigInt(sum);
  const amounts: bigint[] = []; // pushed: `new Array(n)` of a large n is a slow dictionary-mode array
  let paidWei = 0n;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (p === 0) {
      amounts.push(0n);
      continue;
    }
    const a = (availableWei * BigInt(p)) / total;
    amounts.push(a);
    paidWei += a;
  }
  return {
    totals: { shareWei, carryInWei, availableWei, points: total, paidWei, carryOutWei: availableWei - paidWei },
    amounts,
  };
}
