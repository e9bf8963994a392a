import { z } from "zod";
import { InputError } from "./errors";
import { parseJsonFile } from "./json-file";
import {
  DEFAULT_SCHEDULE_PARAMS,
  nextMonday0500Utc,
  scheduleFromParams,
  scheduleTotal,
  type Schedule,
} from "./issuance";
import { formatDimo, parseDimo } from "./units";

export const TOTAL_SUPPLY_WEI = 1_000_000_000n * 10n ** 18n;

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
  /** The rewards oracle that publishes weekly roots, and the challenge window of each root. */
  rewards: { publisher: string; challengeWindowSeconds: number };
}

/**
 * Parses and checks a deploy config. Fails (InputError naming file, line, field) when the genesis
 * allocation does not sum to exactly 1,000,000,000 DIMO, when it has no single issuanceVault and treasury
 * entry, or when the vault's amount differs from the issuance schedule's total.
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
      proposalThreshold: parseDimo(g.proposalThreshold, where("governance.proposalThreshold")),
      timelockDelay: g.timelockDelaySeconds,
    },
    guardian: file.guardian,
    registry: file.registry,
    rewards: file.rewards,
    staking: {
      baseStake: parseDimo(file.staking.baseStake, where("staking.baseStake")),
      perVehicleStake: parseDimo(file.staking.perVehicleStake, where("staking.perVehicleStake")),
      unbondingPeriodSeconds: file.staking.unbondingPeriodSeconds,
      freezeDurationSeconds: file.staking.freezeDurationSeconds,
      minGrantAgeSeconds: file.staking.minGrantAgeSeconds,
    },
  };
}

/** Resolves "account:N", "env:VAR" and literal addresses; symbolic contract names are left to the caller. */
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
    return v;
  }
  if (/^0x[0-9a-fA-F]{40}$/.test(value)) return value;
  throw new InputError(source, field, `cannot resolve "${value}" to an address`);
}

/** Genesis timestamp: explicit, or the first Monday 05:00 UTC at or after `now`. */
export function resolveGenesis(genesis: DeployConfig["genesis"], now: number): number {
  return genesis === "next-monday-0500-utc" ? nextMonday0500Utc(now) : genesis;
}

export { DEFAULT_SCHEDULE_PARAMS };
