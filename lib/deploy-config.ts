import { z } from "zod";
import { InputError } from "./errors";
import { lineOfPath, parseJsonFile } from "./json-file";
import { parseTree } from "jsonc-parser";
import {
  DEFAULT_SCHEDULE_PARAMS,
  nextMonday0500Utc,
  scheduleFromParams,
  scheduleTotal,
  type Schedule,
} from "./issuance";
import { formatDimo, parseDimo } from "./units";

export const TOTAL_SUPPLY_WEI = 1_000_000_000n * 10n ** 18n;

/** Dispute bond when the config sets none, in DIMO. */
export const DEFAULT_DISPUTE_BOND = "10000";
/** RewardDistributor.DISPUTE_PERIOD: how long an unresolved dispute holds a root (seconds). */
export const REWARDS_DISPUTE_PERIOD_SECONDS = 14 * 86400;

const dimoAmount = z
  .string()
  .regex(/^\d+(\.\d{1,18})?$/, 'expected a decimal DIMO amount as a string, e.g. "450000000"');
const recipient = z
  .string()
  .regex(
    /^(issuanceVault|treasury|account:\d+|env:[A-Z_][A-Z0-9_]*|0x[0-9a-fA-F]{40})$/,
    'expected "issuanceVault", "treasury", "account:<index>", "env:<VAR>" or a 0x address',
  );
const intIn = (min: number, max: number) => z.number().int().min(min).max(max);

export const deployConfigSchema = z
  .object({
    $comment: z.string().optional(),
    genesisAllocation: z
      .array(z.object({ recipient, amount: dimoAmount, note: z.string().optional() }).strict())
      .min(1),
    issuance: z
      .object({
        pool: dimoAmount.optional(),
        firstWeekly: dimoAmount.optional(),
        weeksPerYear: intIn(1, 1000),
        years: intIn(1, 1000),
        decayBps: intIn(0, 9999),
        genesis: z.union([
          z.literal("next-monday-0500-utc"),
          z
            .string()
            .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, "expected an ISO-8601 UTC time like 2026-11-30T05:00:00Z"),
        ]),
      })
      .strict(),
    governance: z
      .object({
        votingDelaySeconds: intIn(0, 2 ** 48 - 1),
        votingPeriodSeconds: intIn(1, 2 ** 32 - 1),
        quorumPercent: intIn(0, 100),
        proposalThreshold: dimoAmount,
        timelockDelaySeconds: intIn(0, 365 * 86400),
      })
      .strict(),
    guardian: recipient,
    staking: z
      .object({
        baseStake: dimoAmount,
        perVehicleStake: dimoAmount,
        unbondingPeriodSeconds: intIn(1, 365 * 86400),
        freezeDurationSeconds: intIn(1, 60 * 86400),
        /** ConsumerStaking.minGrantAge: 1-90 days (the contract's bounds), 7 days when omitted. */
        minGrantAgeSeconds: intIn(86400, 90 * 86400).default(7 * 86400),
      })
      .strict(),
    rewards: z
      .object({
        publisher: recipient,
        challengeWindowSeconds: intIn(3600, 7 * 86400),
        /** DIMO bond of a dispute of a pending root (RewardDistributor.disputeBond). */
        disputeBond: dimoAmount.default(DEFAULT_DISPUTE_BOND),
      })
      .strict(),
    registry: z
      .object({
        manufacturers: z.array(recipient),
        softwareIntegrations: z.array(recipient),
        oemIntegrations: z.array(recipient),
      })
      .strict()
      .default({ manufacturers: [], softwareIntegrations: [], oemIntegrations: [] }),
  })
  .strict();

export type DeployConfigFile = z.infer<typeof deployConfigSchema>;

/** A validated deploy configuration with amounts in wei and symbolic recipients still unresolved. */
export interface DeployConfig {
  source: string;
  allocation: { recipient: string; amount: bigint; note?: string }[];
  schedule: Schedule;
  /** The on-chain `IssuanceSchedule.Params`: pool XOR firstWeekly. */
  scheduleParams: { pool: bigint; firstWeekly: bigint; weeksPerYear: number; yearCount: number; decayBps: number };
  genesis: "next-monday-0500-utc" | number;
  governance: {
    votingDelay: number;
    votingPeriod: number;
    quorumPercent: number;
    proposalThreshold: bigint;
    timelockDelay: number;
  };
  guardian: string;
  /** Genesis approvals granted at deploy time (later ones go through a DAO vote). */
  registry: { manufacturers: string[]; softwareIntegrations: string[]; oemIntegrations: string[] };
  /** Data-consumer staking: requiredStake(n) = baseStake + perVehicleStake * n (wei), periods in seconds. */
  staking: {
    baseStake: bigint;
    perVehicleStake: bigint;
    unbondingPeriodSeconds: number;
    freezeDurationSeconds: number;
    /** How long before a freeze a grant must have counted for its vehicle to share a slash's compensation. */
    minGrantAgeSeconds: number;
  };
  /** The rewards oracle that publishes weekly roots, the challenge window of each root, the dispute bond (wei). */
  rewards: { publisher: string; challengeWindowSeconds: number; disputeBond: bigint };
  /** Lines of the fields checked after address resolution (`checkRoleAccounts`), for error messages. */
  lines: { guardian: number; publisher: number };
}

/**
 * The quorum at genesis, wei: `quorumPercent`% of the supply, rounded down as GovernorVotesQuorumFraction
 * rounds it (`totalSupply * numerator / 100`); a proposal passes when for + abstain votes reach it.
 */
export function genesisQuorumWei(quorumPercent: number): bigint {
  return (TOTAL_SUPPLY_WEI * BigInt(quorumPercent)) / 100n;
}

/**
 * DIMO that can vote at genesis, wei: every allocation but the issuance vault's and the treasury's. The vault
 * never delegates, and the Timelock's tokens could only be delegated by a passed proposal, which needs the
 * quorum first; every other recipient can delegate (itself or to someone) in one transaction.
 */
export function genesisVotableWei(allocation: { recipient: string; amount: bigint }[]): bigint {
  return allocation
    .filter((a) => a.recipient !== "issuanceVault" && a.recipient !== "treasury")
    .reduce((sum, a) => sum + a.amount, 0n);
}

/**
 * Parses and checks a deploy config. Fails (InputError naming file, line, field) when the genesis
 * allocation does not sum to exactly 1,000,000,000 DIMO, when it has no single issuanceVault and treasury
 * entry, when the vault's amount differs from the issuance schedule's total, or when the votes that can exist
 * at genesis (`genesisVotableWei`) are below the quorum or the proposal threshold.
 */
export function parseDeployConfig(text: string, source: string): DeployConfig {
  const file = parseJsonFile(text, source, deployConfigSchema);
  const where = (field: string) => ({ source, field });
  const allocation = file.genesisAllocation.map((a, i) => ({
    recipient: a.recipient,
    amount: parseDimo(a.amount, where(`genesisAllocation[${i}].amount`)),
    note: a.note,
  }));
  allocation.forEach((a, i) => {
    if (a.amount === 0n) throw new InputError(source, `genesisAllocation[${i}].amount`, "must be greater than zero");
  });
  const sum = allocation.reduce((s, a) => s + a.amount, 0n);
  if (sum !== TOTAL_SUPPLY_WEI) {
    throw new InputError(
      source,
      "genesisAllocation",
      `amounts sum to ${formatDimo(sum)} DIMO but must sum to exactly ${formatDimo(TOTAL_SUPPLY_WEI)} DIMO (${sum > TOTAL_SUPPLY_WEI ? "over" : "short"} by ${formatDimo(sum > TOTAL_SUPPLY_WEI ? sum - TOTAL_SUPPLY_WEI : TOTAL_SUPPLY_WEI - sum)})`,
    );
  }
  for (const name of ["issuanceVault", "treasury"]) {
    const n = allocation.filter((a) => a.recipient === name).length;
    if (n !== 1) throw new InputError(source, "genesisAllocation", `must have exactly one "${name}" entry, found ${n}`);
  }
  const seen = new Set<string>();
  allocation.forEach((a, i) => {
    const key = a.recipient.toLowerCase();
    if (seen.has(key))
      throw new InputError(source, `genesisAllocation[${i}].recipient`, `duplicate recipient "${a.recipient}"`);
    seen.add(key);
  });

  const iss = file.issuance;
  if ((iss.pool === undefined) === (iss.firstWeekly === undefined)) {
    throw new InputError(source, "issuance", 'set exactly one of "pool" and "firstWeekly"');
  }
  const pool = iss.pool === undefined ? 0n : parseDimo(iss.pool, where("issuance.pool"));
  const firstWeekly =
    iss.firstWeekly === undefined ? undefined : parseDimo(iss.firstWeekly, where("issuance.firstWeekly"));
  const schedule = scheduleFromParams({
    pool,
    firstWeekly,
    weeksPerYear: iss.weeksPerYear,
    years: iss.years,
    decayBps: iss.decayBps,
  });
  const vaultAmount = allocation.find((a) => a.recipient === "issuanceVault")!.amount;
  const total = scheduleTotal(schedule);
  if (vaultAmount !== total) {
    throw new InputError(
      source,
      "genesisAllocation.issuanceVault",
      `the vault gets ${formatDimo(vaultAmount)} DIMO but the issuance schedule releases ${formatDimo(total)} DIMO; they must be equal`,
    );
  }
  const genesis = iss.genesis === "next-monday-0500-utc" ? iss.genesis : Date.parse(iss.genesis) / 1000;
  if (typeof genesis === "number" && !Number.isFinite(genesis)) {
    throw new InputError(source, "issuance.genesis", `not a valid date: "${iss.genesis}"`);
  }
  const g = file.governance;
  const cycle = g.votingDelaySeconds + g.votingPeriodSeconds + g.timelockDelaySeconds;
  if (file.staking.unbondingPeriodSeconds <= cycle) {
    throw new InputError(
      source,
      "staking.unbondingPeriodSeconds",
      `${file.staking.unbondingPeriodSeconds} s must be longer than a governance cycle (voting delay + voting period + timelock delay = ${cycle} s)`,
    );
  }
  if (file.staking.freezeDurationSeconds <= cycle) {
    throw new InputError(
      source,
      "staking.freezeDurationSeconds",
      `${file.staking.freezeDurationSeconds} s must be longer than a governance cycle (${cycle} s) so a slash vote can land during a freeze`,
    );
  }
  const tree = parseTree(text)!;
  const lineOf = (path: (string | number)[]) => lineOfPath(text, tree, path);
  const proposalThreshold = parseDimo(g.proposalThreshold, where("governance.proposalThreshold"));
  // I-1: a governance that can act from day one. Votes that can exist at genesis must reach the quorum, and a
  // proposer must be able to gather the threshold, or no proposal could ever pass (nor slash, unfreeze, revoke).
  const votable = genesisVotableWei(allocation);
  const quorum = genesisQuorumWei(g.quorumPercent);
  if (votable < quorum) {
    throw new InputError(
      source,
      "genesisAllocation",
      `only ${formatDimo(votable)} DIMO can vote at genesis (every allocation but the issuance vault and the treasury, which cannot vote) but the quorum is ${g.quorumPercent}% of the supply = ${formatDimo(quorum)} DIMO, so no proposal could ever pass; allocate at least ${formatDimo(quorum - votable)} DIMO more to accounts that delegate (e.g. a community pool) or lower governance.quorumPercent`,
      lineOf(["genesisAllocation"]),
    );
  }
  if (votable < proposalThreshold) {
    throw new InputError(
      source,
      "governance.proposalThreshold",
      `${formatDimo(proposalThreshold)} DIMO but only ${formatDimo(votable)} DIMO can vote at genesis, so nobody could ever propose`,
      lineOf(["governance", "proposalThreshold"]),
    );
  }
  if (cycle >= REWARDS_DISPUTE_PERIOD_SECONDS) {
    throw new InputError(
      source,
      "governance",
      `a governance cycle of ${cycle} s must be shorter than the distributor's dispute period (${REWARDS_DISPUTE_PERIOD_SECONDS} s), or the DAO cannot decide a disputed root before it activates`,
      lineOf(["governance"]),
    );
  }
  if (parseDimo(file.rewards.disputeBond, where("rewards.disputeBond")) === 0n) {
    throw new InputError(
      source,
      "rewards.disputeBond",
      "must be greater than zero",
      lineOf(["rewards", "disputeBond"]),
    );
  }
  return {
    source,
    allocation,
    schedule,
    scheduleParams: {
      pool,
      firstWeekly: firstWeekly ?? 0n,
      weeksPerYear: iss.weeksPerYear,
      yearCount: iss.years,
      decayBps: iss.decayBps,
    },
    genesis,
    governance: {
      votingDelay: g.votingDelaySeconds,
      votingPeriod: g.votingPeriodSeconds,
      quorumPercent: g.quorumPercent,
      proposalThreshold,
      timelockDelay: g.timelockDelaySeconds,
    },
    guardian: file.guardian,
    registry: file.registry,
    rewards: {
      publisher: file.rewards.publisher,
      challengeWindowSeconds: file.rewards.challengeWindowSeconds,
      disputeBond: parseDimo(file.rewards.disputeBond, where("rewards.disputeBond")),
    },
    staking: {
      baseStake: parseDimo(file.staking.baseStake, where("staking.baseStake")),
      perVehicleStake: parseDimo(file.staking.perVehicleStake, where("staking.perVehicleStake")),
      unbondingPeriodSeconds: file.staking.unbondingPeriodSeconds,
      freezeDurationSeconds: file.staking.freezeDurationSeconds,
      minGrantAgeSeconds: file.staking.minGrantAgeSeconds,
    },
    lines: { guardian: lineOf(["guardian"]), publisher: lineOf(["rewards", "publisher"]) },
  };
}

const ZERO_ADDRESS = /^0x0{40}$/;

/**
 * Resolves "account:N", "env:VAR" and literal addresses; symbolic contract names are left to the caller. The
 * zero address is refused: it can hold no role, and tokens sent there are lost.
 */
export function resolveAddress(
  value: string,
  field: string,
  source: string,
  ctx: { accounts: string[]; env: Record<string, string | undefined> },
): string {
  const account = /^account:(\d+)$/.exec(value);
  if (account) {
    const i = Number(account[1]);
    if (i >= ctx.accounts.length) {
      throw new InputError(source, field, `"${value}" but the network has only ${ctx.accounts.length} local accounts`);
    }
    return ctx.accounts[i];
  }
  const env = /^env:([A-Z_][A-Z0-9_]*)$/.exec(value);
  if (env) {
    const v = ctx.env[env[1]];
    if (!v || !/^0x[0-9a-fA-F]{40}$/.test(v)) {
      throw new InputError(source, field, `environment variable ${env[1]} must hold a 0x address, got "${v ?? ""}"`);
    }
    if (ZERO_ADDRESS.test(v))
      throw new InputError(source, field, `environment variable ${env[1]} holds the zero address`);
    return v;
  }
  if (ZERO_ADDRESS.test(value)) throw new InputError(source, field, "the zero address cannot hold a role or tokens");
  if (/^0x[0-9a-fA-F]{40}$/.test(value)) return value;
  throw new InputError(source, field, `cannot resolve "${value}" to an address`);
}

/**
 * Refuses a guardian or rewards publisher that is the deployer (resolved addresses): the deployer's key is a
 * hot deployment key that renounces every power at the end of the deploy, and an emergency or oracle role
 * left on it would survive that renunciation.
 */
export function checkRoleAccounts(
  config: Pick<DeployConfig, "source" | "lines">,
  accounts: { deployer: string; guardian: string; publisher: string },
): void {
  const deployer = accounts.deployer.toLowerCase();
  for (const [field, address, line] of [
    ["guardian", accounts.guardian, config.lines.guardian],
    ["rewards.publisher", accounts.publisher, config.lines.publisher],
  ] as const) {
    if (address.toLowerCase() === deployer) {
      throw new InputError(
        config.source,
        field,
        `${address} is the deployer, which must keep no power after the deploy; use a separate account`,
        line,
      );
    }
  }
}

/** The config's accounts resolved to addresses (the vault and the treasury stay symbolic in `recipients`). */
export interface DeployAccounts {
  guardian: string;
  rewardsPublisher: string;
  recipients: string[];
  registryApprovals: { manufacturers: string[]; softwareIntegrations: string[]; oemIntegrations: string[] };
}

/**
 * Resolves every account of the config (`resolveAddress`: no zero address) and refuses a guardian or publisher
 * equal to the deployer (`checkRoleAccounts`): the deploy and its dry run call it before sending anything.
 */
export function resolveDeployAccounts(
  config: DeployConfig,
  ctx: { deployer: string; accounts: string[]; env: Record<string, string | undefined> },
): DeployAccounts {
  const resolve = (value: string, field: string) => resolveAddress(value, field, config.source, ctx);
  const guardian = resolve(config.guardian, "guardian");
  const recipients = config.allocation.map((a, i) =>
    a.recipient === "issuanceVault" || a.recipient === "treasury"
      ? a.recipient
      : resolve(a.recipient, `genesisAllocation[${i}].recipient`),
  );
  const list = (values: string[], field: string) => values.map((v, i) => resolve(v, `${field}[${i}]`));
  const registryApprovals = {
    manufacturers: list(config.registry.manufacturers, "registry.manufacturers"),
    softwareIntegrations: list(config.registry.softwareIntegrations, "registry.softwareIntegrations"),
    oemIntegrations: list(config.registry.oemIntegrations, "registry.oemIntegrations"),
  };
  const rewardsPublisher = resolve(config.rewards.publisher, "rewards.publisher");
  checkRoleAccounts(config, { deployer: ctx.deployer, guardian, publisher: rewardsPublisher });
  return { guardian, rewardsPublisher, recipients, registryApprovals };
}

/** Genesis timestamp: explicit, or the first Monday 05:00 UTC at or after `now`. */
export function resolveGenesis(genesis: DeployConfig["genesis"], now: number): number {
  return genesis === "next-monday-0500-utc" ? nextMonday0500Utc(now) : genesis;
}

export { DEFAULT_SCHEDULE_PARAMS };
