/** What a failed wallet request or transaction means, in a driver's words. */
import { Interface, isError } from "ethers";
import { abi as distributorAbi } from "../../artifacts/contracts/rewards/RewardDistributor.sol/RewardDistributor.json";
import { abi as accessAbi } from "../../artifacts/contracts/registry/DataAccess.sol/DataAccess.json";
import { abi as stakingAbi } from "../../artifacts/contracts/staking/ConsumerStaking.sol/ConsumerStaking.json";
import { formatAmount, shortAddress } from "./format";

const distributor = new Interface(distributorAbi);
const interfaces = [distributor, new Interface(accessAbi), new Interface(stakingAbi)];

export type Failure = { kind: "rejected" | "failed"; message: string };

const REWARD_ERRORS: Record<string, (args: readonly unknown[]) => string> = {
  RewardsNothingToClaim: (a) =>
    `Nothing left to claim: ${formatAmount(a[2] as bigint)} DIMO of ${formatAmount(a[1] as bigint)} DIMO ` +
    "is already claimed (perhaps from another tab or device). The page has been refreshed.",
  RewardsInvalidProof: () =>
    "The proof does not match the active root: a new week was activated meanwhile. The page has been refreshed.",
  RewardsZeroAddress: () => "The recipient cannot be the zero address.",
  RewardsNoPendingRoot: () => "There is no pending week to activate.",
  AccessNotVehicleOwner: (a) => `You no longer own vehicle #${a[0]}: only its owner can grant or extend access.`,
  AccessNotOwnerOrConsumer: (a) => `Only vehicle #${a[0]}'s owner or the consumer can revoke this grant.`,
  AccessNoGrant: (a) => `There is no grant of vehicle #${a[0]} to ${shortAddress(a[1] as string)} (already revoked?).`,
  AccessInvalidGrant: () => "Choose at least one data type and an expiry in the future.",
  AccessZeroAddress: () => "The consumer cannot be the zero address.",
  AccessNotAccepted: (a) =>
    `The consumer ${shortAddress(a[1] as string)} has not accepted grants from you: ask it for a signed offer ` +
    "for this vehicle, or to accept your grants on chain. Nothing was granted.",
  AccessCapacityNotSet: () => "Grants are not enabled on this network yet (no staking contract is set).",
  StakingInsufficientStake: (a) =>
    `The consumer's stake is exhausted: ${formatAmount(a[1] as bigint)} DIMO staked, ` +
    `${formatAmount(a[2] as bigint)} DIMO needed to cover one more vehicle. Nothing was granted.`,
  StakingFrozen: (a) =>
    `The consumer ${shortAddress(a[0] as string)} is frozen until ${new Date(Number(a[1]) * 1000).toLocaleString()} ` +
    "pending a DAO vote: it cannot receive grants. Nothing was granted.",
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
    const parsed = interfaces.map((i) => i.parseError(data)).find((p) => p);
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
