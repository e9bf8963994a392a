/** What a failed wallet request or transaction means, in a driver's words. */
import { isError, type Interface } from "ethers";
import { formatAmount } from "./format";

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

/** Walks the wrappers wallets and ethers put around an error to the revert data, if any. */
function revertData(e: unknown): string | undefined {
  for (let x = e as Record<string, unknown> | undefined, depth = 0; x && depth < 6; depth++) {
    if (typeof x.data === "string" && x.data.startsWith("0x") && x.data.length >= 10) return x.data;
    x = (x.error ?? x.info ?? x.cause) as Record<string, unknown> | undefined;
    if (x && typeof x === "object" && "error" in x && !("data" in x)) x = x.error as Record<string, unknown>;
  }
  return undefined;
}

export function explain(e: unknown, iface: Interface): Failure {
  const raw = e as { code?: unknown; error?: { code?: unknown } };
  if (isError(e, "ACTION_REJECTED") || raw?.code === 4001 || raw?.error?.code === 4001)
    return { kind: "rejected", message: "You rejected the request in your wallet. Nothing was sent." };
  const data = revertData(e);
  if (data) {
    const parsed = iface.parseError(data);
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
