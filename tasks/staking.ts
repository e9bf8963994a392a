/**
 * Data-consumer staking tasks: thin wrappers over lib/governance (checks and messages) and the network's
 * deployment record.
 *
 *   staking:stake   staking:unstake   staking:withdraw   staking:freeze   staking:status
 *
 * Every task validates its arguments and checks the chain state it depends on before it sends anything; a
 * bad value stops it with `<task> --<argument>: <problem>`, a step that must wait with what must happen
 * first, both as one line and a non-zero exit. On a non-local network a sending task is a dry run unless
 * `--yes` is given; `--dry-run` always stops before sending.
 *
 * The suite context, the CLI wrapper and the send helpers are shared with tasks/governance.ts.
 */
import { task } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { type ContractTransactionReceipt, Signature } from "ethers";
import { InputError } from "../lib/errors";
import { isoOf, type Where } from "../lib/registry-args";
import {
  dimoText,
  formatDuration,
  freezeProblem,
  parsePositiveDimo,
  requiredStake,
  type StakeParameters,
  StateError,
  unstakeProblem,
  vehiclesCovered,
  withdrawProblem,
} from "../lib/governance";
import type { DeploymentRecord } from "../scripts/deploy-suite";
import { loadDeploymentRecord } from "../scripts/registry-context";
import type { ConsumerStaking, DimoGovernor, DimoTimelock, DimoToken } from "../typechain-types";

/** Lifetime of the EIP-2612 permit staking:stake --permit signs and submits at once, seconds. */
const PERMIT_TTL = 3600;

// ------------------------------------------------------------------------------------------------ shared

/** The contracts the staking and governance tasks use, from the network's deployment record. */
export interface SuiteContext {
  network: string;
  chainId: bigint;
  record: DeploymentRecord;
  recordFile: string;
  token: DimoToken;
  staking: ConsumerStaking;
  governor: DimoGovernor;
  timelock: DimoTimelock;
  /** Block of the Governor's deployment: where proposal-event searches start. */
  governorDeployBlock: number;
  signers: HardhatEthersSigner[];
}

const SUITE_CONTRACTS = ["DimoToken", "ConsumerStaking", "DimoGovernor", "DimoTimelock"] as const;

/** Loads and checks the network's record (`DIMO_DEPLOYMENTS_DIR` may point elsewhere) and its contracts. */
export async function loadSuiteContext(hre: HardhatRuntimeEnvironment): Promise<SuiteContext> {
  const { ethers, network } = hre;
  const { record, recordFile, chainId } = await loadDeploymentRecord(hre, SUITE_CONTRACTS);
  const at = (name: (typeof SUITE_CONTRACTS)[number]) => record.contracts[name].address;
  return {
    network: network.name,
    chainId,
    record,
    recordFile,
    token: await ethers.getContractAt("DimoToken", at("DimoToken")),
    staking: await ethers.getContractAt("ConsumerStaking", at("ConsumerStaking")),
    governor: await ethers.getContractAt("DimoGovernor", at("DimoGovernor")),
    timelock: await ethers.getContractAt("DimoTimelock", at("DimoTimelock")),
    governorDeployBlock: record.contracts.DimoGovernor.blockNumber,
    signers: await ethers.getSigners(),
  };
}

export { addressArg, arg, chainNow, describeAccount, eventOf, maySend, say, sent, type SendFlags } from "./kit";
import {
  addressArg,
  arg,
  chainNow,
  cli as kitCli,
  describeAccount,
  eventOf,
  localAccountArg,
  maySend,
  say,
  sent,
  type SendFlags,
  table,
} from "./kit";
import { PERMIT_TYPES } from "../lib/typed-data";

/** The staking and governance tasks' error rule (see `cli` in ./kit). */
export function cli<A extends object, R>(plugin: string, fn: (args: A, hre: HardhatRuntimeEnvironment) => Promise<R>) {
  return kitCli(plugin, fn);
}

/** `--from <index|address>` (default 0): a local account, because it signs. */
export function fromArg(ctx: SuiteContext, value: string | undefined, where: Where): HardhatEthersSigner {
  return localAccountArg(ctx, value ?? "0", where, "it signs");
}

async function stakeParameters(ctx: SuiteContext): Promise<StakeParameters> {
  const [baseStake, perVehicleStake] = await ctx.staking.stakeParameters();
  return { baseStake, perVehicleStake };
}

function coveredText(params: StakeParameters, staked: bigint): string {
  const n = vehiclesCovered(params, staked);
  if (n === undefined) return "any number of vehicles";
  if (staked < params.baseStake) return `no vehicle (the base stake is ${dimoText(params.baseStake)})`;
  return `${n} vehicle${n === 1n ? "" : "s"}`;
}

// ------------------------------------------------------------------------------------------------ stake

const PLUGIN = "dimo-staking";

interface StakeArgs extends SendFlags {
  amount: string;
  from?: string;
  permit: boolean;
}

task("staking:stake", "Stakes DIMO as a data consumer (approve + stake, or one stakeWithPermit transaction)")
  .addParam("amount", "DIMO to stake, e.g. 12000 or 0.5")
  .addOptionalParam("from", "The consumer: a local account index or address (default 0)")
  .addFlag("permit", "Sign an EIP-2612 permit locally and stake in one transaction (stakeWithPermit)")
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(PLUGIN, async (args: StakeArgs, hre) => {
      const T = "staking:stake";
      const w = arg(T);
      const amount = parsePositiveDimo(args.amount, w("amount"));
      const ctx = await loadSuiteContext(hre);
      const from = fromArg(ctx, args.from, w("from"));
      const stakingAddress = await ctx.staking.getAddress();
      const balance = await ctx.token.balanceOf(from.address);
      if (balance < amount) {
        throw new InputError(
          T,
          "--amount",
          `${dimoText(amount)} is more than ${describeAccount(ctx, from.address)} holds (${dimoText(balance)})`,
        );
      }
      const params = await stakeParameters(ctx);
      const before = await ctx.staking.position(from.address);
      const allowance = await ctx.token.allowance(from.address, stakingAddress);
      const needsApprove = !args.permit && allowance < amount;
      say(
        `Staking ${dimoText(amount)} from ${describeAccount(ctx, from.address)}: staked ${dimoText(before.staked)} → ${dimoText(before.staked + amount)}, covering ${coveredText(params, before.staked + amount)}`,
      );
      const how = args.permit
        ? "stakeWithPermit (EIP-2612 permit signed locally)"
        : needsApprove
          ? "approve + stake"
          : "stake (the allowance already covers it)";
      if (!maySend(hre, args, how)) return { dryRun: true as const, amount };

      const receipts: ContractTransactionReceipt[] = [];
      if (args.permit) {
        const domain = await ctx.token.eip712Domain();
        const deadline = BigInt((await chainNow(hre)) + PERMIT_TTL);
        const signature = await from.signTypedData(
          {
            name: domain.name,
            version: domain.version,
            chainId: domain.chainId,
            verifyingContract: domain.verifyingContract,
          },
          PERMIT_TYPES,
          {
            owner: from.address,
            spender: stakingAddress,
            value: amount,
            nonce: await ctx.token.nonces(from.address),
            deadline,
          },
        );
        const { v, r, s } = Signature.from(signature);
        receipts.push(
          await sent("stakeWithPermit", ctx.staking.connect(from).stakeWithPermit(amount, deadline, v, r, s)),
        );
      } else {
        if (needsApprove) {
          receipts.push(await sent("approve", ctx.token.connect(from).approve(stakingAddress, amount)));
        }
        receipts.push(await sent("stake", ctx.staking.connect(from).stake(amount)));
      }
      const staked = eventOf(receipts[receipts.length - 1], ctx.staking, "Staked").staked as bigint;
      say(`Staked ${dimoText(amount)}; ${from.address} now has ${dimoText(staked)} staked`);
      return {
        dryRun: false as const,
        amount,
        staked,
        txHashes: receipts.map((r) => r.hash),
        gasUsed: receipts.reduce((sum, r) => sum + r.gasUsed, 0n),
      };
    }),
  );

// ------------------------------------------------------------------------------------------------ unstake

interface UnstakeArgs extends SendFlags {
  amount: string;
  from?: string;
}

task("staking:unstake", "Moves active stake into unbonding (still slashable until withdrawn)")
  .addParam("amount", "DIMO to unstake")
  .addOptionalParam("from", "The consumer: a local account index or address (default 0)")
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(PLUGIN, async (args: UnstakeArgs, hre) => {
      const T = "staking:unstake";
      const w = arg(T);
      const amount = parsePositiveDimo(args.amount, w("amount"));
      const ctx = await loadSuiteContext(hre);
      const from = fromArg(ctx, args.from, w("from"));
      const p = await ctx.staking.position(from.address);
      const problem = unstakeProblem(
        { staked: p.staked, unbonding: p.unbonding, vehiclesAccessed: p.vehiclesAccessed },
        amount,
        await stakeParameters(ctx),
      );
      if (problem) {
        // Expired and stale grant records hold capacity until pruned (anyone may prune them).
        const hint = problem.includes("does not cover the current grants")
          ? ` (expired or stale grants count until pruned: access:prune --consumer ${from.address})`
          : "";
        throw new InputError(T, "--amount", problem + hint);
      }
      const period = await ctx.staking.effectiveUnbondingPeriod();
      const requested = BigInt(await chainNow(hre)) + period;
      // The release only moves later: stake already unbonding keeps at least its time.
      const releaseAt = p.unbonding > 0n && p.releaseAt > requested ? p.releaseAt : requested;
      say(
        `Unstaking ${dimoText(amount)} of ${describeAccount(ctx, from.address)}'s ${dimoText(p.staked)}: unbonding for ${formatDuration(period)}, withdrawable from about ${isoOf(releaseAt)}`,
      );
      if (p.unbonding > 0n) {
        say(
          `  note: the ${dimoText(p.unbonding)} already unbonding (until ${isoOf(p.releaseAt)}) will be released with it, at the later of the two times`,
        );
      }
      if (!maySend(hre, args, `requestUnstake from ${describeAccount(ctx, from.address)}`)) {
        return { dryRun: true as const, amount };
      }
      const receipt = await sent("requestUnstake", ctx.staking.connect(from).requestUnstake(amount));
      const at = eventOf(receipt, ctx.staking, "UnstakeRequested").releaseAt as bigint;
      say(`${dimoText(p.unbonding + amount)} unbonding until ${isoOf(at)} (staking:withdraw after that)`);
      return { dryRun: false as const, amount, releaseAt: at, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );

// ------------------------------------------------------------------------------------------------ withdraw

interface WithdrawArgs extends SendFlags {
  from?: string;
}

task("staking:withdraw", "Withdraws the unbonding stake once its period has ended and the consumer is not frozen")
  .addOptionalParam("from", "The consumer: a local account index or address (default 0)")
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(PLUGIN, async (args: WithdrawArgs, hre) => {
      const T = "staking:withdraw";
      const ctx = await loadSuiteContext(hre);
      const from = fromArg(ctx, args.from, arg(T)("from"));
      const p = await ctx.staking.position(from.address);
      const problem = withdrawProblem(p, await chainNow(hre));
      if (problem) throw new StateError(`${T}: ${describeAccount(ctx, from.address)}: ${problem}`);
      say(`Withdrawing ${dimoText(p.unbonding)} to ${describeAccount(ctx, from.address)}`);
      if (!maySend(hre, args, `withdraw from ${describeAccount(ctx, from.address)}`)) {
        return { dryRun: true as const, amount: p.unbonding };
      }
      const receipt = await sent("withdraw", ctx.staking.connect(from).withdraw());
      const amount = eventOf(receipt, ctx.staking, "Withdrawn").amount as bigint;
      say(`Withdrew ${dimoText(amount)}`);
      return { dryRun: false as const, amount, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );

// ------------------------------------------------------------------------------------------------ freeze

interface FreezeArgs extends SendFlags {
  consumer: string;
  from?: string;
}

task("staking:freeze", "The guardian freezes a consumer at once (no withdrawal, no new grant), once until the DAO acts")
  .addParam("consumer", "The consumer: a local account index or an address")
  .addOptionalParam("from", "The guardian: a local account index or address (default: the record's guardian)")
  .addFlag("dryRun", "Validate and print, send nothing")
  .addFlag("yes", "Required to send on a non-local network")
  .setAction(
    cli(PLUGIN, async (args: FreezeArgs, hre) => {
      const T = "staking:freeze";
      const w = arg(T);
      const ctx = await loadSuiteContext(hre);
      const consumer = addressArg(ctx, args.consumer, w("consumer"));
      const from = localAccountArg(ctx, args.from ?? ctx.record.guardian, w("from"), "it signs the freeze");
      const guardianRole = await ctx.staking.GUARDIAN_ROLE();
      const isTimelock = from.address.toLowerCase() === String(ctx.timelock.target).toLowerCase();
      if (!isTimelock && !(await ctx.staking.hasRole(guardianRole, from.address))) {
        throw new InputError(
          T,
          "--from",
          `${describeAccount(ctx, from.address)} is not the guardian (the record's guardian is ${ctx.record.guardian})`,
        );
      }
      const p = await ctx.staking.position(consumer);
      const problem = freezeProblem(p, await chainNow(hre));
      if (problem) throw new StateError(`${T}: ${describeAccount(ctx, consumer)} ${problem}`);
      const duration = await ctx.staking.effectiveFreezeDuration();
      say(
        `Freezing ${describeAccount(ctx, consumer)} for ${formatDuration(duration)} (staked ${dimoText(p.staked)}, unbonding ${dimoText(p.unbonding)}); only the DAO can unfreeze or slash`,
      );
      if (!maySend(hre, args, `freeze from ${describeAccount(ctx, from.address)}`)) {
        return { dryRun: true as const, consumer };
      }
      const receipt = await sent("freeze", ctx.staking.connect(from).freeze(consumer));
      const until = eventOf(receipt, ctx.staking, "Frozen").frozenUntil as bigint;
      say(
        `${consumer} frozen until ${isoOf(until)}; next: gov:propose-slash --consumer ${consumer} … or gov:propose-unfreeze --consumer ${consumer} --reason …`,
      );
      return { dryRun: false as const, consumer, frozenUntil: until, txHash: receipt.hash, gasUsed: receipt.gasUsed };
    }),
  );

// ------------------------------------------------------------------------------------------------ status

task("staking:status", "A consumer's position and the staking contract's totals, parameters and governance cycle")
  .addOptionalParam("consumer", "A local account index or an address (default 0)")
  .setAction(
    cli(PLUGIN, async (args: { consumer?: string }, hre) => {
      const T = "staking:status";
      const ctx = await loadSuiteContext(hre);
      const consumer = addressArg(ctx, args.consumer, arg(T)("consumer"));
      const now = await chainNow(hre);
      const p = await ctx.staking.position(consumer);
      const [baseStake, perVehicleStake, unbondingPeriod, freezeDuration] = await ctx.staking.stakeParameters();
      const params = { baseStake, perVehicleStake };
      const frozenAt = await ctx.staking.frozenAt(consumer);
      const requiredNow = p.vehiclesAccessed === 0n ? 0n : requiredStake(params, p.vehiclesAccessed);
      const requiredOneMore = requiredStake(params, p.vehiclesAccessed + 1n);
      // What the stake must cover for the grants held (a slash or a rise of the formula can leave it short).
      const coversGrants = p.staked >= requiredNow;
      const coversOneMore = await ctx.staking.coversOneMore(consumer);
      const [totalStaked, totalUnbonding] = await ctx.staking.totals();
      const votingDelay = await ctx.governor.votingDelay();
      const votingPeriod = await ctx.governor.votingPeriod();
      const timelockDelay = await ctx.timelock.getMinDelay();
      const cycle = await ctx.staking.governanceCycle();
      const effectiveUnbonding = await ctx.staking.effectiveUnbondingPeriod();
      const frozen = BigInt(now) < p.frozenUntil;
      const time = (t: bigint) => (t === 0n ? "-" : `${isoOf(t)}${t <= BigInt(now) ? " (passed)" : ""}`);

      say(`Consumer ${describeAccount(ctx, consumer)} on ${ctx.network} at ${isoOf(now)}`);
      table([
        ["staked", dimoText(p.staked)],
        ["unbonding", dimoText(p.unbonding)],
        ["releaseAt", p.unbonding === 0n ? "-" : time(p.releaseAt)],
        ["frozenUntil", `${time(p.frozenUntil)}${frozen ? " (frozen)" : ""}`],
        ["frozenAt", frozenAt === 0n ? "never frozen" : isoOf(frozenAt)],
        ["guardian freeze spent", p.guardianFreezeSpent ? "yes (until the DAO acts)" : "no"],
        ["vehicles accessed", String(p.vehiclesAccessed)],
        [
          `required for ${p.vehiclesAccessed}`,
          p.vehiclesAccessed === 0n ? "nothing (no grants)" : dimoText(requiredNow),
        ],
        [
          "covers its grants",
          p.vehiclesAccessed === 0n
            ? "-"
            : coversGrants
              ? "yes"
              : `no (short by ${dimoText(requiredNow - p.staked)}: reads stop until it tops up or grants go)`,
        ],
        [`required for ${p.vehiclesAccessed + 1n}`, dimoText(requiredOneMore)],
        [
          "covers one more",
          coversOneMore ? "yes" : frozen ? "no (frozen)" : `no (short by ${dimoText(requiredOneMore - p.staked)})`,
        ],
      ]);
      say(`Staking contract ${await ctx.staking.getAddress()}`);
      table([
        ["total staked", dimoText(totalStaked)],
        ["total unbonding", dimoText(totalUnbonding)],
        ["required stake", `${dimoText(baseStake)} + ${dimoText(perVehicleStake)} per vehicle`],
        [
          "unbonding period",
          `${formatDuration(unbondingPeriod)} configured, ${formatDuration(effectiveUnbonding)} for a request now`,
        ],
        ["guardian freeze", formatDuration(freezeDuration)],
        ["slashes so far", String(await ctx.staking.slashCount())],
        [
          "governance cycle",
          `${formatDuration(cycle)} (voting delay ${formatDuration(votingDelay)} + voting period ${formatDuration(votingPeriod)} + timelock ${formatDuration(timelockDelay)})`,
        ],
      ]);
      return {
        consumer,
        now,
        position: {
          staked: p.staked,
          unbonding: p.unbonding,
          releaseAt: p.releaseAt,
          frozenUntil: p.frozenUntil,
          frozenAt,
          vehiclesAccessed: p.vehiclesAccessed,
          guardianFreezeSpent: p.guardianFreezeSpent,
        },
        requiredStake: requiredNow,
        coversGrants,
        requiredStakeOneMore: requiredOneMore,
        coversOneMore,
        totals: { staked: totalStaked, unbonding: totalUnbonding },
        parameters: {
          baseStake,
          perVehicleStake,
          unbondingPeriod,
          effectiveUnbondingPeriod: effectiveUnbonding,
          freezeDuration,
        },
        governanceCycle: { votingDelay, votingPeriod, timelockDelay, total: cycle },
      };
    }),
  );
