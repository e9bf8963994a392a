/**
 * Redemption of the receipts the node holds (docs/data-api.md "Redemption"): reads the store's latest receipt per
 * channel, asks DataCredits for each channel, price and balance, plans with `planRedemption` (lib/credits) and sends
 * `redeemBatch` in chunks from the operator's signer. `npx hardhat data:redeem` is the thin task over it.
 *
 * Restart-safe: what is redeemed is decided from the chain's channels, not from the store, so a run killed after a
 * batch was mined and before the store recorded it redeems nothing twice (the receipt is "already-redeemed"); the
 * store's `redeemed_sequence` is a record only.
 */
import { Contract, getAddress, type ContractRunner } from "ethers";
import { planRedemption, type HeldReceipt, type RedemptionPlan } from "../lib/credits/receipts";
import type { TelemetryStore } from "./store";

const DATA_CREDITS_ABI = [
  "function channel(address consumer, address node) view returns (tuple(uint256 credits, uint256 sequence))",
  "function account(address consumer) view returns (tuple(uint256 balance, uint256 pendingWithdrawal, uint64 releaseAt, uint256 deposited, uint256 redeemed, uint256 withdrawn))",
  "function pricePerCredit() view returns (uint256)",
  "function redeemBatch(tuple(address consumer, address node, uint256 cumulativeCredits, uint256 sequence, uint256 maxPricePerCredit)[] receipts, bytes[] signatures) returns (uint256)",
];

/** Receipts per `redeemBatch` transaction (about 60k gas each). */
export const REDEEM_BATCH_SIZE = 50;

export interface RedeemResult {
  plan: RedemptionPlan;
  /** Hashes of the mined `redeemBatch` transactions (none on a dry run). */
  transactions: string[];
  /** DIMO charged, wei. */
  charged: bigint;
}

export async function redeemHeld(opts: {
  store: TelemetryStore;
  dataCredits: string;
  /** The operator: its address is the receipts' node. */
  signer: ContractRunner & { getAddress(): Promise<string> };
  dryRun?: boolean;
  batchSize?: number;
}): Promise<RedeemResult> {
  const node = getAddress(await opts.signer.getAddress());
  const dc = new Contract(opts.dataCredits, DATA_CREDITS_ABI, opts.signer);
  const stored = await opts.store.receiptsOf(node);
  const held: HeldReceipt[] = stored.map((s) => ({
    receipt: {
      consumer: s.consumer,
      node: s.node,
      cumulativeCredits: BigInt(s.cumulativeCredits),
      sequence: BigInt(s.sequence),
      maxPricePerCredit: s.maxPricePerCredit,
    },
    signature: s.signature,
  }));
  const channels = new Map<string, { credits: bigint; sequence: bigint }>();
  const balances = new Map<string, bigint>();
  for (const h of held) {
    const c = await dc.channel(h.receipt.consumer, node);
    channels.set(getAddress(h.receipt.consumer), { credits: c.credits, sequence: c.sequence });
    balances.set(getAddress(h.receipt.consumer), (await dc.account(h.receipt.consumer)).balance);
  }
  const plan = planRedemption(held, {
    pricePerCredit: await dc.pricePerCredit(),
    channel: (consumer) => channels.get(getAddress(consumer))!,
    balance: (consumer) => balances.get(getAddress(consumer)) ?? 0n,
  });
  const result: RedeemResult = { plan, transactions: [], charged: 0n };
  if (opts.dryRun) return result;
  const size = opts.batchSize ?? REDEEM_BATCH_SIZE;
  for (let i = 0; i < plan.redeem.length; i += size) {
    const chunk = plan.redeem.slice(i, i + size);
    const tx = await dc.redeemBatch(
      chunk.map((x) => x.receipt),
      chunk.map((x) => x.signature),
    );
    const mined = await tx.wait();
    if (mined === null || mined.status !== 1) throw new Error(`redeemBatch ${tx.hash} failed`);
    result.transactions.push(tx.hash);
    for (const x of chunk) {
      await opts.store.markRedeemed(x.receipt.consumer, node, Number(x.receipt.sequence));
      result.charged += x.charge;
    }
  }
  return result;
}
