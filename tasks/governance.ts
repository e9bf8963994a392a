/**
 * Governance tasks: delegate votes, propose a slash, vote, queue, execute and inspect proposals through the
 * DIMO Governor (OpenZeppelin Governor + TimelockController). Thin wrappers over lib/governance (arguments,
 * the slash proposal and its description, the "what must happen first" messages) and the deployment record.
 *
 *   gov:delegate   gov:propose-slash   gov:propose-unfreeze   gov:vote   gov:queue   gov:execute   gov:status
 *
 * A step out of order (voting on a pending proposal, queueing an active or defeated one, executing before
 * the timelock delay…) stops before sending with what must happen first. gov:queue and gov:execute read the
 * proposal's calls and description from the Governor's ProposalCreated event, searched page by page from the
 * Governor's deployment block. Sending follows the registry tasks' rule: `--dry-run` never sends, and a
 * non-local network needs `--yes`.
 */
import fs from "node:fs";
import path from "node:path";
import { task } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { keccak256, toUtf8Bytes, ZeroAddress, ZeroHash } from "ethers";
import { InputError } from "../lib/errors";
import { parseDimo } from "../lib/units";
import { isoOf } from "../lib/registry-args";
import {
  decodeSlashCalldata,
  dimoText,
  evidenceHashOf,
  formatDimoGrouped,
  formatDuration,
  nextStep,
  parseEvidenceUri,
  parsePositiveDimo,
  parseProposalId,
  parseRemainder,
  parseSupport,
  planSlash,
  type ProposalStateName,
  type ProposalStep,
  type ProposalTally,
  type ProposalTimes,
  quorumReached,
  slashProposal,
  slashSummary,
  stateName,
  StateError,
  stepBlocker,
  tallyText,
  unfreezeProblem,
  unfreezeProposal,
  voteSucceeded,
  votingOpensAt,
} from "../lib/governance";
import {
  addressArg,
  arg,
  chainNow,
  cli,
  describeAccount,
  eventOf,
  fromArg,
  loadSuiteContext,
  maySend,
  say,
  type SendFlags,
  sent,
  type SuiteContext,
} from "./staking";
import { DEFAULT_PAGE_SIZE, pageSizeArg, table } from "./kit";

const PLUGIN = "dimo-governance";

// ------------------------------------------------------------------------------------------------ helpers

interface ProposalInfo {
  id: bigint;
  state: ProposalStateName;
  times: ProposalTimes;
  tally: ProposalTally;
  /** The quorum is projected from the current supply: the snapshot is not reached yet. */
  quorumProjected: boolean;
  proposer: string;
  now: number;
}

/** The proposal's state, times and votes; an unknown id is an error on `--proposal`. */
async function proposalInfo(
  hre: HardhatRuntimeEnvironment,
  ctx: SuiteContext,
  id: bigint,
  taskName: string,
): Promise<ProposalInfo> {
  const snapshot = await ctx.governor.proposalSnapshot(id);
  if (snapshot === 0n) {
    throw new InputError(
      taskName,
      "--proposal",
      `no proposal ${id} on the Governor ${await ctx.governor.getAddress()} (${ctx.network})`,
    );
  }
  const now = await chainNow(hre);
  const [state, deadline, eta, proposer, votes] = await Promise.all([
    ctx.governor.state(id),
    ctx.governor.proposalDeadline(id),
    ctx.governor.proposalEta(id),
    ctx.governor.proposalProposer(id),
    ctx.governor.proposalVotes(id),
  ]);
  // The quorum is fixed at the snapshot; before it, the supply (constant: nothing mints after genesis) gives it.
  const quorumProjected = snapshot >= BigInt(now);
  const quorum = quorumProjected
    ? ((await ctx.token.totalSupply()) * (await ctx.governor["quorumNumerator()"]())) /
      (await ctx.governor.quorumDenominator())
    : await ctx.governor.quorum(snapshot);
  return {
    id,
    state: stateName(state),
    times: { snapshot, deadline, eta },
    tally: { against: votes.againstVotes, for: votes.forVotes, abstain: votes.abstainVotes, quorum },
    quorumProjected,
    proposer,
    now,
  };
}

/** Stops a step the proposal's state does not allow, saying what must happen first. */
function requireStep(taskName: string, step: ProposalStep, p: ProposalInfo): void {
  const blocker = stepBlocker(step, p.state, p.times, p.tally, p.now);
  if (blocker !== undefined) throw new StateError(`${taskName}: proposal ${p.id} is ${p.state}: ${blocker}`);
}

interface ProposalCalls {
  targets: string[];
  values: bigint[];
  calldatas: string[];
  description: string;
  descriptionHash: string;
  blockNumber: number;
}

/**
 * The proposal's calls and description from its ProposalCreated event (the Governor keeps only their
 * hash), read in windows of `pageSize` blocks from the Governor's deployment block to the latest.
 */
async function proposalCalls(
  hre: HardhatRuntimeEnvironment,
  ctx: SuiteContext,
  id: bigint,
  pageSize: number,
): Promise<ProposalCalls> {
  const latest = await hre.ethers.provider.getBlockNumber();
  const filter = ctx.governor.filters.ProposalCreated();
  for (let from = ctx.governorDeployBlock; from <= latest; from += pageSize) {
    const to = Math.min(latest, from + pageSize - 1);
    for (const log of await ctx.governor.queryFilter(filter, from, to)) {
      if (log.args.proposalId !== id) continue;
      const calls = {
        targets: [...log.args.targets],
        values: [...log.args[3]],
        calldatas: [...log.args.calldatas],
        description: log.args.description,
        descriptionHash: keccak256(toUtf8Bytes(log.args.description)),
        blockNumber: log.blockNumber,
      };
      const check = await ctx.governor.hashProposal(
        calls.targets,
        calls.values,
        calls.calldatas,
        calls.descriptionHash,
      );
      if (check !== id) throw new Error(`ProposalCreated at block ${log.blockNumber} does not hash to proposal ${id}`);
      return calls;
    }
  }
  throw new StateError(
    `no ProposalCreated event for proposal ${id} in blocks ${ctx.governorDeployBlock}-${latest} (is the Governor's blockNumber in ${ctx.recordFile} right?)`,
  );
}

/** One line per call: slashes in words, anything else as target and selector. */
function describeCalls(ctx: SuiteContext, calls: ProposalCalls): string[] {
  const stakingAddress = String(ctx.staking.target).toLowerCase();
  return calls.targets.map((target, i) => {
    const slash = target.toLowerCase() === stakingAddress ? decodeSlashCalldata(calls.calldatas[i]) : undefined;
    if (slash) {
      const asOf = slash.affectedAsOf === 0n ? "the freeze" : isoOf(slash.affectedAsOf);
      return `${slashSummary(slash)}; affected as of ${asOf}; evidence ${slash.evidenceURI} (keccak256 ${slash.evidenceHash})`;
    }
    for (const c of [ctx.staking, ctx.governor, ctx.timelock, ctx.token]) {
      if (target.toLowerCase() !== String(c.target).toLowerCase()) continue;
      const parsed = c.interface.parseTransaction({ data: calls.calldatas[i], value: calls.values[i] });
      if (parsed) return `${target}.${parsed.signature} (${parsed.args.map(String).join(", ")})`;
    }
    return `${target} value ${calls.values[i]} data ${calls.calldatas[i].slice(0, 10)}…`;
  });
}

/** A revert's custom error in words, decoded against the suite's contracts. */
function revertText(ctx: SuiteContext, e: unknown): string {
  const err = e as { data?: unknown; shortMessage?: string; message?: string };
  if (typeof err.data === "string" && err.data.length >= 10) {
    for (const c of [ctx.staking, ctx.governor, ctx.timelock, ctx.token]) {
      try {
        const parsed = c.interface.parseError(err.data);
        if (parsed) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
      } catch {
        // not this contract's error
      }
    }
  }
  return err.shortMessage ?? err.message ?? String(e);
}

// ------------------------------------------------------------------------------------------------ delegate

interface DelegateArgs extends SendFlags {
  to?: string;
  from?: string;
}

task("gov:delegate", "Delegates the votes of an account's DIMO (to itself by default); needed to propose and vote")
  .addOptionalParam("to", "Delegate: self (default), a local account index or an address")
  .addOptionalParam("from", "The DIMO holder: a local account index or address (default 0)")
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(PLUGIN, async (args: DelegateArgs, hre) => {
      const T = "gov:delegate";
      const w = arg(T);
      const ctx = await loadSuiteContext(hre);
      const from = fromArg(ctx, args.from, w("from"));
      const self = args.to === undefined || args.to.trim().toLowerCase() === "self";
      const to = self ? from.address : addressArg(ctx, args.to, w("to"));
      const [current, balance] = await Promise.all([
        ctx.token.delegates(from.address),
        ctx.token.balanceOf(from.address),
      ]);
      if (current === to) {
        say(
          `${describeAccount(ctx, from.address)} already delegates to ${to === from.address ? "itself" : describeAccount(ctx, to)}, which has ${formatDimoGrouped(await ctx.token.getVotes(to))} votes: nothing to send`,
        );
        return { dryRun: false as const, sent: false, delegate: to, votes: await ctx.token.getVotes(to) };
      }
      say(
        `Delegating the votes of ${describeAccount(ctx, from.address)} (${dimoText(balance)}) to ${to === from.address ? "itself" : describeAccount(ctx, to)}${current === ZeroAddress ? "" : ` (instead of ${describeAccount(ctx, current)})`}`,
      );
      if (balance === 0n) say("  note: the account holds no DIMO, so no votes move");
      if (!maySend(hre, args, `delegate from ${describeAccount(ctx, from.address)}`)) {
        return { dryRun: true as const, delegate: to };
      }
      const receipt = await sent("delegate", ctx.token.connect(from).delegate(to));
      const votes = await ctx.token.getVotes(to);
      const block = (await hre.ethers.provider.getBlock(receipt.blockNumber))!;
      say(
        `${describeAccount(ctx, to)} now has ${formatDimoGrouped(votes)} votes; they count for proposals made after ${isoOf(block.timestamp)}`,
      );
      return {
        dryRun: false as const,
        sent: true,
        delegate: to,
        votes,
        txHash: receipt.hash,
        gasUsed: receipt.gasUsed,
      };
    }),
  );

// ------------------------------------------------------------------------------------------------ propose a slash

interface ProposeSlashArgs extends SendFlags {
  consumer: string;
  amount: string;
  evidence: string;
  evidenceFile?: string;
  compensation?: string;
  remainder?: string;
  from?: string;
}

task("gov:propose-slash", "Proposes to the DAO to slash a data consumer (ConsumerStaking.slash through the Timelock)")
  .addParam("consumer", "The consumer: a local account index or an address")
  .addParam("amount", "DIMO to slash (at most staked + unbonding)")
  .addParam("evidence", "Evidence URI (ipfs://…, https://…)")
  .addOptionalParam("evidenceFile", "Evidence file: its keccak256 is the evidence hash (default: keccak256 of the URI)")
  .addOptionalParam("compensation", "DIMO sent to the distributor for the affected drivers (default: the whole amount)")
  .addOptionalParam("remainder", "What happens to amount - compensation: burn (default) or treasury")
  .addOptionalParam("from", "The proposer: a local account index or address with enough votes (default 0)")
  .addFlag("dryRun", "Validate and print the proposal, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(PLUGIN, async (args: ProposeSlashArgs, hre) => {
      const T = "gov:propose-slash";
      const w = arg(T);
      const amount = parsePositiveDimo(args.amount, w("amount"));
      const compensation =
        args.compensation === undefined ? undefined : parseDimo(args.compensation, w("compensation"));
      const remainder = parseRemainder(args.remainder ?? "burn", w("remainder"));
      const evidenceURI = parseEvidenceUri(args.evidence, w("evidence"));
      let evidenceHash = evidenceHashOf(evidenceURI);
      if (args.evidenceFile !== undefined) {
        const file = path.resolve(args.evidenceFile);
        if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
          throw new InputError(T, "--evidence-file", `file not found: ${args.evidenceFile}`);
        }
        evidenceHash = evidenceHashOf(fs.readFileSync(file));
      }
      const ctx = await loadSuiteContext(hre);
      const consumer = addressArg(ctx, args.consumer, w("consumer"));
      const proposer = fromArg(ctx, args.from, w("from"));
      const now = await chainNow(hre);
      const [position, frozenAt] = await Promise.all([ctx.staking.position(consumer), ctx.staking.frozenAt(consumer)]);
      const plan = planSlash(
        {
          consumer,
          amount,
          compensation,
          remainder: remainder.name,
          evidenceHash,
          evidenceURI,
          position,
          frozenAt,
          now,
        },
        (field) => w(field.replace(/^--/, "")),
      );
      const [threshold, votes] = await Promise.all([
        ctx.governor.proposalThreshold(),
        ctx.token.getVotes(proposer.address),
      ]);
      if (votes < threshold) {
        const index = ctx.signers.indexOf(proposer);
        throw new InputError(
          T,
          "--from",
          `delegate first: you have ${formatDimoGrouped(votes)} votes, need ${formatDimoGrouped(threshold)} (${describeAccount(ctx, proposer.address)} holds ${dimoText(await ctx.token.balanceOf(proposer.address))}; gov:delegate --from ${index})`,
        );
      }
      const stakingAddress = await ctx.staking.getAddress();
      const timelockAddress = await ctx.timelock.getAddress();
      if (!(await ctx.staking.hasRole(ZeroHash, timelockAddress))) {
        throw new StateError(
          `${T}: the Timelock ${timelockAddress} is not the staking contract's admin, so the slash could not execute`,
        );
      }
      const p = slashProposal(plan, stakingAddress);
      const id = await ctx.governor.hashProposal(p.targets, p.values, p.calldatas, p.descriptionHash);
      if ((await ctx.governor.proposalSnapshot(id)) !== 0n) {
        throw new StateError(
          `${T}: this exact slash was already proposed: proposal ${id} is ${stateName(await ctx.governor.state(id))} (gov:status --proposal ${id})`,
        );
      }

      const [votingDelay, votingPeriod, timelockDelay] = await Promise.all([
        ctx.governor.votingDelay(),
        ctx.governor.votingPeriod(),
        ctx.timelock.getMinDelay(),
      ]);
      const earliest = BigInt(now) + 1n + votingDelay + votingPeriod + 1n + timelockDelay;
      say(`Proposing from ${describeAccount(ctx, proposer.address)} (${formatDimoGrouped(votes)} votes):`);
      for (const line of p.description.split("\n")) say(`  | ${line}`);
      table([
        ["consumer position", `staked ${dimoText(position.staked)}, unbonding ${dimoText(position.unbonding)}`],
        ["affectedAsOf", plan.affectedAsOf === 0n ? `0 (the freeze at ${isoOf(frozenAt)})` : isoOf(plan.affectedAsOf)],
        ["evidence hash", `${evidenceHash} (${args.evidenceFile === undefined ? "of the URI text" : "of the file"})`],
        ["proposal id", String(id)],
        ["earliest execution", `${isoOf(earliest)} (voting delay + period + timelock delay)`],
      ]);
      if (BigInt(now) >= position.frozenUntil) {
        say(
          "  note: the consumer is not frozen; it can still withdraw unbonding stake, which the slash then cannot take (the guardian can freeze it)",
        );
      } else if (position.frozenUntil < earliest && position.unbonding > 0n) {
        say(
          `  note: the freeze ends at ${isoOf(position.frozenUntil)}, before the earliest execution; unbonding stake may be withdrawn by then`,
        );
      }
      if (!maySend(hre, args, `propose from ${describeAccount(ctx, proposer.address)}`)) {
        return { dryRun: true as const, proposalId: id, description: p.description, plan };
      }
      const receipt = await sent(
        "propose",
        ctx.governor.connect(proposer).propose(p.targets, p.values, p.calldatas, p.description),
      );
      const created = eventOf(receipt, ctx.governor, "ProposalCreated");
      const proposalId = created.proposalId as bigint;
      const voteStart = created.voteStart as bigint;
      const voteEnd = created.voteEnd as bigint;
      say(`Proposal ${proposalId}`);
      say(`  vote start ${isoOf(voteStart)} (votes count from ${isoOf(voteStart + 1n)}), vote end ${isoOf(voteEnd)}`);
      say(
        `  next: npx hardhat gov:vote --network ${ctx.network} --proposal ${proposalId} --support for --from <index>`,
      );
      return {
        dryRun: false as const,
        proposalId,
        voteStart,
        voteEnd,
        description: p.description,
        plan,
        txHash: receipt.hash,
        gasUsed: receipt.gasUsed,
      };
    }),
  );

// ------------------------------------------------------------------------------------------------ propose-unfreeze

interface ProposeUnfreezeArgs extends SendFlags {
  consumer: string;
  reason: string;
  from?: string;
}

task(
  "gov:propose-unfreeze",
  "Proposes to the DAO to lift a consumer's freeze (ConsumerStaking.unfreeze via the Timelock)",
)
  .addParam("consumer", "The consumer: a local account index or an address")
  .addParam("reason", "Why, in words (it is the proposal's description)")
  .addOptionalParam("from", "The proposer: a local account index or address with enough votes (default 0)")
  .addFlag("dryRun", "Validate and print the proposal, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(PLUGIN, async (args: ProposeUnfreezeArgs, hre) => {
      const T = "gov:propose-unfreeze";
      const w = arg(T);
      const reason = args.reason.trim();
      if (reason === "" || reason.includes("\n")) throw new InputError(T, "--reason", "expected one line of text");
      const ctx = await loadSuiteContext(hre);
      const consumer = addressArg(ctx, args.consumer, w("consumer"));
      const proposer = fromArg(ctx, args.from, w("from"));
      const now = await chainNow(hre);
      const position = await ctx.staking.position(consumer);
      const problem = unfreezeProblem(position, now);
      if (problem) throw new StateError(`${T}: ${describeAccount(ctx, consumer)} ${problem}`);
      const [threshold, votes] = await Promise.all([
        ctx.governor.proposalThreshold(),
        ctx.token.getVotes(proposer.address),
      ]);
      if (votes < threshold) {
        throw new InputError(
          T,
          "--from",
          `delegate first: you have ${formatDimoGrouped(votes)} votes, need ${formatDimoGrouped(threshold)} (gov:delegate --from ${ctx.signers.indexOf(proposer)})`,
        );
      }
      const p = unfreezeProposal(consumer, reason, await ctx.staking.getAddress());
      const id = await ctx.governor.hashProposal(p.targets, p.values, p.calldatas, p.descriptionHash);
      if ((await ctx.governor.proposalSnapshot(id)) !== 0n) {
        throw new StateError(
          `${T}: this exact proposal exists: proposal ${id} is ${stateName(await ctx.governor.state(id))} (gov:status --proposal ${id})`,
        );
      }
      say(`Proposing from ${describeAccount(ctx, proposer.address)} (${formatDimoGrouped(votes)} votes):`);
      say(`  | ${p.description}`);
      table([
        ["frozen until", position.frozenUntil > BigInt(now) ? isoOf(position.frozenUntil) : "no longer frozen"],
        ["proposal id", String(id)],
      ]);
      if (!maySend(hre, args, `propose from ${describeAccount(ctx, proposer.address)}`)) {
        return { dryRun: true as const, proposalId: id, description: p.description };
      }
      const receipt = await sent(
        "propose",
        ctx.governor.connect(proposer).propose(p.targets, p.values, p.calldatas, p.description),
      );
      const proposalId = eventOf(receipt, ctx.governor, "ProposalCreated").proposalId as bigint;
      say(`Proposal ${proposalId}`);
      say(
        `  next: npx hardhat gov:vote --network ${ctx.network} --proposal ${proposalId} --support for --from <index>`,
      );
      return { dryRun: false as const, proposalId, description: p.description, txHash: receipt.hash };
    }),
  );

// ------------------------------------------------------------------------------------------------ vote

interface VoteArgs extends SendFlags {
  proposal: string;
  support: string;
  from?: string;
}

task("gov:vote", "Votes on an active proposal with the votes delegated to the account at its snapshot")
  .addParam("proposal", "Proposal id")
  .addParam("support", "for | against | abstain")
  .addOptionalParam("from", "The voter: a local account index or address (default 0)")
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(PLUGIN, async (args: VoteArgs, hre) => {
      const T = "gov:vote";
      const w = arg(T);
      const id = parseProposalId(args.proposal, w("proposal"));
      const support = parseSupport(args.support, w("support"));
      const ctx = await loadSuiteContext(hre);
      const voter = fromArg(ctx, args.from, w("from"));
      const p = await proposalInfo(hre, ctx, id, T);
      requireStep(T, "vote", p);
      if (await ctx.governor.hasVoted(id, voter.address)) {
        throw new StateError(`${T}: ${describeAccount(ctx, voter.address)} already voted on proposal ${id}`);
      }
      const weight = await ctx.governor.getVotes(voter.address, p.times.snapshot);
      if (weight === 0n) {
        throw new StateError(
          `${T}: ${describeAccount(ctx, voter.address)} had no votes at the proposal's snapshot (${isoOf(p.times.snapshot)}): votes count only when delegated (gov:delegate) before a proposal is made`,
        );
      }
      say(
        `Voting ${support.name} on proposal ${id} with ${formatDimoGrouped(weight)} votes of ${describeAccount(ctx, voter.address)}; voting ends at ${isoOf(p.times.deadline)}`,
      );
      if (!maySend(hre, args, `castVote from ${describeAccount(ctx, voter.address)}`)) {
        return { dryRun: true as const, support: support.name, weight };
      }
      const receipt = await sent("castVote", ctx.governor.connect(voter).castVote(id, support.value));
      const after = await proposalInfo(hre, ctx, id, T);
      say(`  now ${tallyText(after.tally)}`);
      return {
        dryRun: false as const,
        support: support.name,
        weight,
        tally: after.tally,
        txHash: receipt.hash,
        gasUsed: receipt.gasUsed,
      };
    }),
  );

// ------------------------------------------------------------------------------------------------ queue and execute

interface StepArgs extends SendFlags {
  proposal: string;
  from?: string;
  pageSize?: string;
}

/**
 * What gov:queue and gov:execute start with: `--proposal`, `--page-size`, the sender `--from`, the proposal
 * (stopped unless its state allows `step`) and its calls from ProposalCreated.
 */
async function proposalStep(
  hre: HardhatRuntimeEnvironment,
  args: StepArgs,
  taskName: string,
  step: Exclude<ProposalStep, "vote">,
) {
  const w = arg(taskName);
  const id = parseProposalId(args.proposal, w("proposal"));
  const pageSize = pageSizeArg(args.pageSize, taskName);
  const ctx = await loadSuiteContext(hre);
  const from = fromArg(ctx, args.from, w("from"));
  const p = await proposalInfo(hre, ctx, id, taskName);
  requireStep(taskName, step, p);
  const calls = await proposalCalls(hre, ctx, id, pageSize);
  return { id, ctx, from, p, calls };
}

task("gov:queue", "Queues a succeeded proposal in the Timelock (its calls are read from ProposalCreated)")
  .addParam("proposal", "Proposal id")
  .addOptionalParam("from", "Sender: a local account index or address (default 0; anyone may queue)")
  .addOptionalParam("pageSize", `Blocks per eth_getLogs window (default ${DEFAULT_PAGE_SIZE})`)
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(PLUGIN, async (args: StepArgs, hre) => {
      const { id, ctx, from, p, calls } = await proposalStep(hre, args, "gov:queue", "queue");
      say(`Queueing proposal ${id} (${tallyText(p.tally)}):`);
      for (const line of describeCalls(ctx, calls)) say(`  - ${line}`);
      if (!maySend(hre, args, `queue from ${describeAccount(ctx, from.address)}`)) return { dryRun: true as const };
      const receipt = await sent(
        "queue",
        ctx.governor.connect(from).queue(calls.targets, calls.values, calls.calldatas, calls.descriptionHash),
      );
      const eta = await ctx.governor.proposalEta(id);
      say(`Queued; executable from ${isoOf(eta)} (gov:execute --proposal ${id})`);
      return { dryRun: false as const, eta, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );

task("gov:execute", "Executes a queued proposal once the timelock delay has passed")
  .addParam("proposal", "Proposal id")
  .addOptionalParam("from", "Sender: a local account index or address (default 0; anyone may execute)")
  .addOptionalParam("pageSize", `Blocks per eth_getLogs window (default ${DEFAULT_PAGE_SIZE})`)
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(PLUGIN, async (args: StepArgs, hre) => {
      const T = "gov:execute";
      const { id, ctx, from, calls } = await proposalStep(hre, args, T, "execute");
      const governor = ctx.governor.connect(from);
      try {
        await governor.execute.staticCall(calls.targets, calls.values, calls.calldatas, calls.descriptionHash);
      } catch (e) {
        throw new StateError(`${T}: proposal ${id} would revert if executed now: ${revertText(ctx, e)}`);
      }
      say(`Executing proposal ${id}:`);
      for (const line of describeCalls(ctx, calls)) say(`  - ${line}`);
      if (!maySend(hre, args, `execute from ${describeAccount(ctx, from.address)}`)) return { dryRun: true as const };
      const receipt = await sent(
        "execute",
        governor.execute(calls.targets, calls.values, calls.calldatas, calls.descriptionHash),
      );
      const slashes: { consumer: string; slashId: bigint; amount: bigint; compensation: bigint; remainder: bigint }[] =
        [];
      const stakingAddress = String(ctx.staking.target).toLowerCase();
      for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== stakingAddress) continue;
        const parsed = ctx.staking.interface.parseLog(log);
        if (parsed?.name !== "Slashed") continue;
        const a = parsed.args;
        slashes.push({
          consumer: a.consumer,
          slashId: a.slashId,
          amount: a.amount,
          compensation: a.compensation,
          remainder: a.remainder,
        });
        say(
          `  slash #${a.slashId}: ${a.consumer} lost ${dimoText(a.amount)}; ${dimoText(a.compensation)} to the distributor, ${dimoText(a.remainder)} ${Number(a.remainderTo) === 0 ? "burned" : "to the treasury"}`,
        );
      }
      say(`Executed proposal ${id}`);
      return { dryRun: false as const, slashes, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );

// ------------------------------------------------------------------------------------------------ status

task("gov:status", "A proposal's state, votes, quorum, times and what comes next")
  .addParam("proposal", "Proposal id")
  .addOptionalParam("pageSize", `Blocks per eth_getLogs window (default ${DEFAULT_PAGE_SIZE})`)
  .setAction(
    cli(PLUGIN, async (args: { proposal: string; pageSize?: string }, hre) => {
      const T = "gov:status";
      const id = parseProposalId(args.proposal, arg(T)("proposal"));
      const pageSize = pageSizeArg(args.pageSize, T);
      const ctx = await loadSuiteContext(hre);
      const p = await proposalInfo(hre, ctx, id, T);
      const calls = await proposalCalls(hre, ctx, id, pageSize);
      const timelockDelay = await ctx.timelock.getMinDelay();
      const reached = quorumReached(p.tally);
      const next = nextStep(p.state, p.times, p.tally, p.now, timelockDelay);
      say(`Proposal ${id} on ${ctx.network} at ${isoOf(p.now)}: ${calls.description.split("\n")[0]}`);
      table([
        ["state", p.state],
        ["proposer", describeAccount(ctx, p.proposer)],
        ["for", formatDimoGrouped(p.tally.for)],
        ["against", formatDimoGrouped(p.tally.against)],
        ["abstain", formatDimoGrouped(p.tally.abstain)],
        [
          "quorum at the snapshot",
          `${formatDimoGrouped(p.tally.quorum)}${p.quorumProjected ? " (projected: the snapshot is ahead)" : ""}; ${reached ? "reached" : "not reached"} (for + abstain ${formatDimoGrouped(p.tally.for + p.tally.abstain)})`,
        ],
        ["for > against", voteSucceeded(p.tally) ? "yes" : "no"],
        ["vote start", `${isoOf(p.times.snapshot)} (votes count from ${isoOf(votingOpensAt(p.times))})`],
        ["vote end", isoOf(p.times.deadline)],
        ["eta", p.times.eta === 0n ? "- (not queued)" : isoOf(p.times.eta)],
        ["timelock delay", formatDuration(timelockDelay)],
        ["next", next],
      ]);
      say("  calls:");
      for (const line of describeCalls(ctx, calls)) say(`  - ${line}`);
      return {
        id,
        state: p.state,
        votes: { for: p.tally.for, against: p.tally.against, abstain: p.tally.abstain },
        quorum: p.tally.quorum,
        quorumProjected: p.quorumProjected,
        quorumReached: reached,
        voteStart: p.times.snapshot,
        voteEnd: p.times.deadline,
        eta: p.times.eta,
        proposer: p.proposer,
        description: calls.description,
        next,
      };
    }),
  );
