/**
 * Pure helpers of the staking and governance tasks (no Hardhat, no chain I/O): argument parsing (vote
 * support, slash remainder, proposal ids, evidence URIs), the slash proposal (checks, calldata and its
 * deterministic description), Governor proposal-state names, and the "what must happen first" message for
 * a step taken out of order, derived from the proposal's state and timestamps alone. The consumer-position
 * checks (what an unstake must leave, when a withdrawal is possible) live here too, because the slash and
 * the position share their rules.
 *
 * Times are unix seconds (the Governor and the token use a timestamp clock, ERC-6372 `mode=timestamp`).
 */
import { getAddress, Interface, keccak256, toUtf8Bytes } from "ethers";
import { InputError } from "./errors";
import { formatDimo, parseDimo } from "./units";
import { isoOf, type Where } from "./registry-args";

/** The chain is not in the state a step needs; the message says what must happen first. */
export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateError";
  }
}

function fail(where: Where, problem: string): never {
  throw new InputError(where.source, where.field, problem, where.line);
}

// ------------------------------------------------------------------------------------------------ amounts

/** Wei as DIMO with thousands separators and every significant decimal ("100,000", "10,000.5"). */
export function formatDimoGrouped(wei: bigint): string {
  const [whole, frac] = formatDimo(wei).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** Seconds as days, hours, minutes and seconds ("14 d", "1 d 2 h", "45 s"). */
export function formatDuration(seconds: bigint | number): string {
  let s = BigInt(seconds);
  if (s === 0n) return "0 s";
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86_400n],
    ["h", 3_600n],
    ["min", 60n],
    ["s", 1n],
  ] as const) {
    if (s >= size) {
      parts.push(`${s / size} ${unit}`);
      s %= size;
    }
  }
  return parts.join(" ");
}

/** `formatDimoGrouped` + " DIMO". */
export function dimoText(wei: bigint): string {
  return `${formatDimoGrouped(wei)} DIMO`;
}

// ------------------------------------------------------------------------------------------------ staking

/** `ConsumerStaking.stakeParameters()`, wei and seconds. */
export interface StakeParameters {
  baseStake: bigint;
  perVehicleStake: bigint;
}

/** `baseStake + perVehicleStake · vehicles` (ConsumerStaking.requiredStake). */
export function requiredStake(params: StakeParameters, vehicles: bigint | number): bigint {
  return params.baseStake + params.perVehicleStake * BigInt(vehicles);
}

/**
 * How many vehicles `staked` covers in all (`requiredStake(n) ≤ staked`); undefined when unlimited (no
 * per-vehicle stake and the base is covered).
 */
export function vehiclesCovered(params: StakeParameters, staked: bigint): bigint | undefined {
  if (staked < params.baseStake) return 0n;
  if (params.perVehicleStake === 0n) return undefined;
  return (staked - params.baseStake) / params.perVehicleStake;
}

/**
 * Why unstaking `amount` must not be sent: above the active stake, or what stays would not cover the
 * `vehiclesAccessed` grant records (ConsumerStaking.requestUnstake's rule). Undefined when it may.
 */
export function unstakeProblem(
  position: { staked: bigint; unbonding: bigint; vehiclesAccessed: bigint },
  amount: bigint,
  params: StakeParameters,
): string | undefined {
  if (amount > position.staked) {
    return `only ${dimoText(position.staked)} is staked (${dimoText(position.unbonding)} already unbonding)`;
  }
  if (position.vehiclesAccessed === 0n) return undefined;
  const remaining = position.staked - amount;
  const required = requiredStake(params, position.vehiclesAccessed);
  if (remaining >= required) return undefined;
  const n = position.vehiclesAccessed;
  const most = position.staked > required ? position.staked - required : 0n;
  return (
    `what would remain (${dimoText(remaining)}) does not cover the current grants: ${n} vehicle${n === 1n ? "" : "s"} ` +
    `require ${dimoText(required)}; at most ${dimoText(most)} can be unstaked now (or have grants revoked first)`
  );
}

/** Why a withdrawal must not be sent now (ConsumerStaking.withdraw's order of checks). Undefined when it may. */
export function withdrawProblem(
  position: { staked: bigint; unbonding: bigint; releaseAt: bigint; frozenUntil: bigint },
  now: number | bigint,
): string | undefined {
  const t = BigInt(now);
  if (position.unbonding === 0n) {
    return `nothing is unbonding (staked ${dimoText(position.staked)}): request an unstake first (staking:unstake)`;
  }
  if (t < position.releaseAt) {
    return `${dimoText(position.unbonding)} is unbonding until ${isoOf(position.releaseAt)}`;
  }
  if (t < position.frozenUntil) return `the stake is frozen until ${isoOf(position.frozenUntil)}`;
  return undefined;
}

// ------------------------------------------------------------------------------------------------ arguments

/** GovernorCountingSimple vote types. */
export const VOTE_SUPPORT = { against: 0, for: 1, abstain: 2 } as const;
export type SupportName = keyof typeof VOTE_SUPPORT;

/** "for" | "against" | "abstain" (case-insensitive) → the Governor's support value. */
export function parseSupport(value: string | undefined, where: Where): { name: SupportName; value: number } {
  const name = (value ?? "").trim().toLowerCase();
  if (!Object.hasOwn(VOTE_SUPPORT, name)) {
    fail(where, `expected for, against or abstain, got "${value ?? ""}"`);
  }
  return { name: name as SupportName, value: VOTE_SUPPORT[name as SupportName] };
}

/** `IConsumerStaking.Remainder`. */
export const REMAINDER = { burn: 0, treasury: 1 } as const;
export type RemainderName = keyof typeof REMAINDER;

/** "burn" | "treasury" (case-insensitive) → `IConsumerStaking.Remainder`. */
export function parseRemainder(value: string | undefined, where: Where): { name: RemainderName; value: number } {
  const name = (value ?? "").trim().toLowerCase();
  if (!Object.hasOwn(REMAINDER, name)) fail(where, `expected burn or treasury, got "${value ?? ""}"`);
  return { name: name as RemainderName, value: REMAINDER[name as RemainderName] };
}

const MAX_UINT256 = 2n ** 256n - 1n;

/** A proposal id: a decimal uint256 as the tasks print it (or 0x hex). */
export function parseProposalId(value: string | number | undefined, where: Where): bigint {
  const text = String(value ?? "").trim();
  let id: bigint | undefined;
  if (/^[1-9]\d{0,77}$/.test(text)) id = BigInt(text);
  else if (/^0x[0-9a-fA-F]{1,64}$/.test(text)) id = BigInt(text);
  if (id === undefined || id === 0n || id > MAX_UINT256) {
    fail(where, `expected a proposal id (the decimal number gov:propose-slash printed), got "${value ?? ""}"`);
  }
  return id;
}

/** A strictly positive DIMO amount ("12000", "0.5"), in wei. */
export function parsePositiveDimo(value: string | undefined, where: Where): bigint {
  const wei = parseDimo(value ?? "", where);
  if (wei === 0n) fail(where, "must be more than 0");
  return wei;
}

/** Longest evidence URI, bytes (it is stored in the proposal description and the Slashed event). */
export const EVIDENCE_URI_MAX_BYTES = 1024;

/** Where the evidence is: printable ASCII without spaces (URIs percent-encode the rest), 1-1024 bytes. */
export function parseEvidenceUri(value: string | undefined, where: Where): string {
  const text = (value ?? "").trim();
  if (text === "") fail(where, "must not be empty (where the evidence is, e.g. ipfs://…)");
  if (text.length > EVIDENCE_URI_MAX_BYTES) fail(where, `at most ${EVIDENCE_URI_MAX_BYTES} bytes, got ${text.length}`);
  const bad = [...text].find((ch) => ch.charCodeAt(0) <= 0x20 || ch.charCodeAt(0) > 0x7e);
  if (bad !== undefined) {
    fail(where, `character ${JSON.stringify(bad)} is not allowed (a URI is printable ASCII without spaces)`);
  }
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text))
    fail(where, `expected a URI with a scheme (ipfs://, https://), got "${text}"`);
  return text;
}

/** keccak256 of the evidence: the file's bytes, or the URI's UTF-8 text when there is no file. */
export function evidenceHashOf(evidence: Uint8Array | string): string {
  return keccak256(typeof evidence === "string" ? toUtf8Bytes(evidence) : evidence);
}

// ------------------------------------------------------------------------------------------------ slash proposals

/** `IConsumerStaking.slash`, human-readable (the tests check it against the compiled ABI). */
export const SLASH_SIGNATURE =
  "function slash(address consumer, uint256 amount, uint256 compensation, uint8 remainderTo, uint64 affectedAsOf, bytes32 evidenceHash, string evidenceURI) returns (uint256 slashId)";
const SLASH_INTERFACE = new Interface([SLASH_SIGNATURE]);

/** The arguments of one `ConsumerStaking.slash` call. */
export interface SlashPlan {
  consumer: string;
  amount: bigint;
  compensation: bigint;
  remainder: RemainderName;
  /** 0: the freeze time (the consumer was frozen); else the time the proposal is made. */
  affectedAsOf: bigint;
  evidenceHash: string;
  evidenceURI: string;
  /** The consumer's `frozenAt` when the plan was made (0 when never frozen); only for the description. */
  frozenAt: bigint;
}

/**
 * Checks a slash against the consumer's position and fixes `affectedAsOf` (ConsumerStaking.slash's rules):
 * 0 < amount ≤ staked + unbonding, compensation ≤ amount (default: the whole amount), and affectedAsOf 0
 * (the freeze time) when the consumer was frozen, else `now`. `where(field)` names the argument for errors.
 */
export function planSlash(
  input: {
    consumer: string;
    amount: bigint;
    compensation?: bigint;
    remainder: RemainderName;
    evidenceHash: string;
    evidenceURI: string;
    position: { staked: bigint; unbonding: bigint };
    frozenAt: bigint;
    now: number | bigint;
  },
  where: (field: string) => Where,
): SlashPlan {
  const { staked, unbonding } = input.position;
  const slashable = staked + unbonding;
  if (input.amount === 0n) fail(where("--amount"), "must be more than 0");
  if (input.amount > slashable) {
    fail(
      where("--amount"),
      `${dimoText(input.amount)} exceeds what ${input.consumer} can be slashed: staked ${dimoText(staked)} + unbonding ${dimoText(unbonding)} = ${dimoText(slashable)}`,
    );
  }
  const compensation = input.compensation ?? input.amount;
  if (compensation > input.amount) {
    fail(where("--compensation"), `${dimoText(compensation)} exceeds the slashed amount ${dimoText(input.amount)}`);
  }
  return {
    consumer: getAddress(input.consumer),
    amount: input.amount,
    compensation,
    remainder: input.remainder,
    affectedAsOf: input.frozenAt > 0n ? 0n : BigInt(input.now),
    evidenceHash: input.evidenceHash,
    evidenceURI: input.evidenceURI,
    frozenAt: input.frozenAt,
  };
}

/** Calldata of `ConsumerStaking.slash(plan)`. */
export function slashCalldata(plan: SlashPlan): string {
  return SLASH_INTERFACE.encodeFunctionData("slash", [
    plan.consumer,
    plan.amount,
    plan.compensation,
    REMAINDER[plan.remainder],
    plan.affectedAsOf,
    plan.evidenceHash,
    plan.evidenceURI,
  ]);
}

/** Decodes `ConsumerStaking.slash` calldata (undefined for any other call). */
export function decodeSlashCalldata(data: string): Omit<SlashPlan, "frozenAt"> | undefined {
  const tx = SLASH_INTERFACE.parseTransaction({ data });
  if (!tx) return undefined;
  const [consumer, amount, compensation, remainderTo, affectedAsOf, evidenceHash, evidenceURI] = tx.args;
  const remainder = (Object.keys(REMAINDER) as RemainderName[]).find((k) => BigInt(REMAINDER[k]) === remainderTo);
  if (remainder === undefined) return undefined;
  return {
    consumer: consumer as string,
    amount: amount as bigint,
    compensation: compensation as bigint,
    remainder,
    affectedAsOf: affectedAsOf as bigint,
    evidenceHash: evidenceHash as string,
    evidenceURI: evidenceURI as string,
  };
}

/** One line saying what a slash does ("Slash 0x… 8,000 DIMO (compensation …, remainder … burned)"). */
export function slashSummary(plan: Omit<SlashPlan, "frozenAt">): string {
  const rest = plan.amount - plan.compensation;
  const remainder =
    rest === 0n
      ? "no remainder"
      : `remainder ${formatDimo(rest)} DIMO ${plan.remainder === "burn" ? "burned" : "to the treasury"}`;
  return `Slash ${plan.consumer} ${formatDimo(plan.amount)} DIMO (compensation ${formatDimo(plan.compensation)} DIMO, ${remainder})`;
}

/**
 * The proposal description: the same plan always gives the same text (so the same proposal id), amounts
 * exact in DIMO, times in UTC. The first line is the title voting interfaces show.
 */
export function slashDescription(plan: SlashPlan): string {
  const asOf =
    plan.affectedAsOf === 0n
      ? `as of the guardian's freeze (${isoOf(plan.frozenAt)})`
      : `as of ${isoOf(plan.affectedAsOf)} (the consumer was not frozen)`;
  return [
    `${slashSummary(plan)}: ${plan.evidenceURI}`,
    "",
    `The compensation goes to the reward distributor for the owners of the vehicles the consumer could read ${asOf}.`,
    `Evidence keccak256: ${plan.evidenceHash}`,
  ].join("\n");
}

/** The Governor proposal for a slash: one call to the staking contract, no value. */
export function slashProposal(
  plan: SlashPlan,
  stakingAddress: string,
): { targets: string[]; values: bigint[]; calldatas: string[]; description: string; descriptionHash: string } {
  const description = slashDescription(plan);
  return {
    targets: [getAddress(stakingAddress)],
    values: [0n],
    calldatas: [slashCalldata(plan)],
    description,
    descriptionHash: keccak256(toUtf8Bytes(description)),
  };
}

// ------------------------------------------------------------------------------------------------ proposal states

/** `IGovernor.ProposalState`, in enum order. */
export const PROPOSAL_STATES = [
  "Pending",
  "Active",
  "Canceled",
  "Defeated",
  "Succeeded",
  "Queued",
  "Expired",
  "Executed",
] as const;
export type ProposalStateName = (typeof PROPOSAL_STATES)[number];

export function stateName(value: number | bigint): ProposalStateName {
  const name = PROPOSAL_STATES[Number(value)];
  if (name === undefined) throw new Error(`unknown proposal state ${value}`);
  return name;
}

/** A proposal's timepoints (unix seconds): `proposalSnapshot`, `proposalDeadline`, `proposalEta` (0 until queued). */
export interface ProposalTimes {
  snapshot: bigint;
  deadline: bigint;
  eta: bigint;
}

/** `proposalVotes` and the quorum at the snapshot, wei. */
export interface ProposalTally {
  against: bigint;
  for: bigint;
  abstain: bigint;
  quorum: bigint;
}

/** GovernorCountingSimple: for + abstain votes reach the quorum. */
export function quorumReached(t: ProposalTally): boolean {
  return t.for + t.abstain >= t.quorum;
}

/** GovernorCountingSimple: strictly more for than against. */
export function voteSucceeded(t: ProposalTally): boolean {
  return t.for > t.against;
}

/** First second votes count (the Governor is Active once the clock is past the snapshot). */
export function votingOpensAt(times: ProposalTimes): bigint {
  return times.snapshot + 1n;
}

export function tallyText(t: ProposalTally): string {
  return `for ${formatDimoGrouped(t.for)}, against ${formatDimoGrouped(t.against)}, abstain ${formatDimoGrouped(t.abstain)}, quorum ${formatDimoGrouped(t.quorum)}`;
}

function defeatedText(t: ProposalTally): string {
  const why = !quorumReached(t)
    ? `for + abstain (${formatDimoGrouped(t.for + t.abstain)}) did not reach the quorum`
    : "for did not exceed against";
  return `the proposal was defeated: for ${formatDimoGrouped(t.for)}, against ${formatDimoGrouped(t.against)}, quorum ${formatDimoGrouped(t.quorum)} (${why}); it cannot be queued or executed`;
}

/** What happened to a proposal that can no longer move (undefined while it still can). */
function finalText(state: ProposalStateName, tally: ProposalTally): string | undefined {
  switch (state) {
    case "Defeated":
      return defeatedText(tally);
    case "Canceled":
      return "the proposal was canceled; it cannot be voted on, queued or executed";
    case "Expired":
      return "the proposal expired; it cannot be executed";
    case "Executed":
      return "the proposal was already executed";
    default:
      return undefined;
  }
}

/** A proposal step a person asks for. */
export type ProposalStep = "vote" | "queue" | "execute";

/**
 * Why `step` cannot be taken in `state` and what must happen first; undefined when it can. `now` is the
 * latest block's time (the Governor's view of the clock).
 */
export function stepBlocker(
  step: ProposalStep,
  state: ProposalStateName,
  times: ProposalTimes,
  tally: ProposalTally,
  now: number | bigint,
): string | undefined {
  const opens = isoOf(votingOpensAt(times));
  const ends = isoOf(times.deadline);
  const final = finalText(state, tally);
  if (final !== undefined) return final;
  switch (step) {
    case "vote":
      if (state === "Pending") return `voting opens at ${opens} (and ends at ${ends})`;
      if (state === "Active") return undefined;
      if (state === "Succeeded") return `voting ended at ${ends}; the proposal passed: queue it (gov:queue)`;
      return `voting ended at ${ends}; the proposal is queued until ${isoOf(times.eta)}`;
    case "queue":
      if (state === "Pending")
        return `voting opens at ${opens} and ends at ${ends}; it can be queued after that if it passes`;
      if (state === "Active")
        return `voting ends at ${ends}; it can be queued after that if it passes (${tallyText(tally)} so far)`;
      if (state === "Succeeded") return undefined;
      return `already queued; it can be executed from ${isoOf(times.eta)} (gov:execute)`;
    case "execute":
      if (state === "Pending")
        return `voting opens at ${opens} and ends at ${ends}; then queue it (gov:queue) and wait for the timelock delay`;
      if (state === "Active")
        return `voting ends at ${ends}; then queue it (gov:queue) and wait for the timelock delay`;
      if (state === "Succeeded") return "queue it first (gov:queue)";
      if (BigInt(now) < times.eta) return `queued until ${isoOf(times.eta)}`;
      return undefined;
  }
}

/** What comes next for a proposal (gov:status), given the latest block time. */
export function nextStep(
  state: ProposalStateName,
  times: ProposalTimes,
  tally: ProposalTally,
  now: number | bigint,
  timelockDelay: bigint,
): string {
  if (state === "Executed") return "nothing: the proposal was executed";
  const final = finalText(state, tally);
  if (final !== undefined) return final;
  switch (state) {
    case "Pending":
      return `voting opens at ${isoOf(votingOpensAt(times))} (gov:vote) and ends at ${isoOf(times.deadline)}`;
    case "Active": {
      const outcome =
        quorumReached(tally) && voteSucceeded(tally)
          ? "it would pass as things stand"
          : !quorumReached(tally)
            ? `it needs ${formatDimoGrouped(tally.quorum - tally.for - tally.abstain)} more for/abstain votes to reach the quorum`
            : "it would be defeated as things stand (for does not exceed against)";
      return `voting ends at ${isoOf(times.deadline)} (gov:vote); ${outcome}`;
    }
    case "Succeeded":
      return `queue it (gov:queue); the timelock delay (${formatDuration(timelockDelay)}) then runs: executable from ${isoOf(BigInt(now) + 1n + timelockDelay)} at the earliest`;
    case "Queued":
      return BigInt(now) < times.eta
        ? `queued until ${isoOf(times.eta)}; then execute it (gov:execute)`
        : "ready: execute it (gov:execute)";
    default:
      return state;
  }
}

// ------------------------------------------------------------------------------------------------ unfreeze

const UNFREEZE_INTERFACE = new Interface(["function unfreeze(address consumer)"]);

/** The DAO's proposal lifting a consumer's freeze: one `ConsumerStaking.unfreeze(consumer)` call. */
export function unfreezeProposal(
  consumer: string,
  reason: string,
  stakingAddress: string,
): { targets: string[]; values: bigint[]; calldatas: string[]; description: string; descriptionHash: string } {
  const description = `Unfreeze data consumer ${getAddress(consumer)}: ${reason}`;
  return {
    targets: [getAddress(stakingAddress)],
    values: [0n],
    calldatas: [UNFREEZE_INTERFACE.encodeFunctionData("unfreeze", [getAddress(consumer)])],
    description,
    descriptionHash: keccak256(toUtf8Bytes(description)),
  };
}

/** Why `unfreeze` would revert for this position now, or undefined: it needs a freeze in force or a spent one. */
export function unfreezeProblem(
  p: { frozenUntil: bigint; guardianFreezeSpent: boolean },
  now: number,
): string | undefined {
  if (p.frozenUntil > BigInt(now) || p.guardianFreezeSpent) return undefined;
  return "is not frozen and the guardian's freeze is not spent: there is nothing to unfreeze";
}

/** Why the guardian's `freeze` would revert for this position now, or undefined. */
export function freezeProblem(
  p: { frozenUntil: bigint; guardianFreezeSpent: boolean },
  now: number,
): string | undefined {
  if (p.guardianFreezeSpent) {
    return p.frozenUntil > BigInt(now)
      ? `is already frozen until ${isoOf(p.frozenUntil)}`
      : "was frozen once already and the DAO has not acted (unfreeze or slash) since: the guardian freezes a consumer only once until then";
  }
  return undefined;
}
