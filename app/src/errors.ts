/** What a failed wallet request or transaction means, in a driver's words. */
import { Interface, isError } from "ethers";
import { abi as distributorAbi } from "../../artifacts/contracts/rewards/RewardDistributor.sol/RewardDistributor.json";
import { formatAmount } from "./format";

const distributor = new Interface(distributorAbi);

export type Failure = { kind: "rejected" | "failed"; message: string };

const REWARD_ERRORS: Record<string, (args: readonly unknown[]) => string> = {
  RewardsNothingToClaim: (a) =>
    `Nothing left to claim: ${formatAmount(a[2] as bigint)} DIMO of ${formatAmount(a[1] as bigint)} DIMO ` +
    "is already claimed (perhaps from another tab or device). The page has been refreshed.",
  RewardsInvalidProof: () =>
    "The proof does not match the active root: a new week was activated meanwhile. The page has been refreshed.",
  RewardsZeroAddress: () => "The recipient cannot be the zero address.",
  RewardsNoPendingRoot: () => "There is no pending week to activate.",
  RewardsChallengeWindowOpen: (a) =>
    `The pending week is still in its challenge window until ${new Date(Number(a[0]) * 1000).toLocaleString()}.`,
};

/** The revert data of a refused call: on the ethers error, or on the wallet's JSON-RPC error inside it. */
function revertData(e: unknown): string | undefined {
  const x = e as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } };
  for (const d of [x?.data, x?.info?.error?.data, x?.error?.data])
    if (typeof d === "string" && /^0x[0-9a-fA-F]{8}/.test(d)) return d;
  return undefined;
}

export function explain(e: unknown): Failure {
  const raw = e as { code?: unknown; error?: { code?: unknown } };
  if (isError(e, "ACTION_REJECTED") || raw?.code === 4001 || raw?.error?.code === 4001)
    return { kind: "rejected", message: "You rejected the request in your wallet. Nothing was sent." };
  const data = revertData(e);
  if (data) {
    const parsed = distributor.parseError(data);
    if (parsed) {
      const say = REWARD_ERRORS[parsed.name];
      return { kind: "failed", message: say ? say(parsed.args) : `The contract refused: ${parsed.name}.` };
    }
  }
  if (isError(e, "CALL_EXCEPTION") && e.receipt)
    return { kind: "failed", message: `The transaction ${e.receipt.hash} failed on chain (reverted).` };
  const m = (e as { shortMessage?: string; message?: string })?.shortMessage ?? (e as Error)?.message ?? String(e);
  return { kind: "failed", message: `The request failed: ${m}` };
}
