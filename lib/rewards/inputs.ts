/**
 * Reading the weekly inputs from files, for `rewards:compute` and `rewards:verify`: every file is parsed and
 * validated before anything is computed or written, and its SHA-256 is recorded in the output.
 */
import fs from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { InputError } from "../errors";
import { parseRegistrySnapshot } from "../registry-snapshot";
import { parseDimo } from "../units";
import { type SnapshotVehicle, readActivityFile } from "./activity";
import type { Credit, WeekInputs } from "./compute";
import { type DataUseFile, dataUseCredits, parseDataUseFile } from "./data-use";
import { type Distribution, inputFileHash, readDistribution } from "./distribution";
import { parsePolicy, type RewardsPolicy } from "./policy";

export const CREDITS_HEADER = ["account", "amount_wei", "reason"] as const;

export interface WeekFiles {
  week: number;
  snapshot: string;
  activity: string;
  policy: string;
  previous?: string;
  credits?: string;
  /** Data-use files (`rewards:data-use`): their allocations are credits of reason `data-use:<w>`. */
  dataUse?: readonly string[];
  /** Total DIMO the DAO has funded for referrals (decimal DIMO). */
  referralBudget?: string;
}

function readText(file: string, what: string): string {
  if (!fs.existsSync(file)) throw new InputError(file, "(file)", `${what} file not found`);
  return fs.readFileSync(file, "utf8");
}

/** The registry snapshot (the `registry:snapshot` CSV) as the rewards computation reads it. */
export function readSnapshotFile(file: string): SnapshotVehicle[] {
  return parseRegistrySnapshot(readText(file, "snapshot"), path.basename(file)).map((r) => ({
    vehicleId: r.vehicleId,
    owner: r.owner,
    powertrain: r.powertrain,
    pairedDevice: r.pairedDevice === null ? null : Number(r.pairedDevice),
    connectionKinds: r.connectionKinds,
  }));
}

/** Credits CSV (`account,amount_wei,reason`): extra amounts such as slashing compensation. */
export function parseCredits(text: string, source: string): Credit[] {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true }) as string[][];
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new InputError(source, "(csv)", err.message, err.lines);
  }
  if (records.length === 0 || records[0].join(",") !== CREDITS_HEADER.join(",")) {
    throw new InputError(source, "header", `expected "${CREDITS_HEADER.join(",")}"`, 1);
  }
  return records.slice(1).map((r, i) => {
    const line = i + 2;
    const [account, amount, reason] = r;
    if (!/^0x[0-9a-fA-F]{40}$/.test(account ?? "")) {
      throw new InputError(source, "account", `expected a 0x address, got "${account ?? ""}"`, line);
    }
    if (!/^[1-9]\d*$/.test(amount ?? "")) {
      throw new InputError(source, "amount_wei", `expected a positive integer (wei), got "${amount ?? ""}"`, line);
    }
    if (!reason) throw new InputError(source, "reason", "must not be empty", line);
    return { account, amountWei: BigInt(amount), reason };
  });
}

/** Parses every input file of a week; throws an InputError naming the file, line and field on the first problem. */
export function readWeekInputs(
  files: WeekFiles,
  chain: { chainId: number; network: string },
): WeekInputs & {
  policy: RewardsPolicy;
  previous: (Distribution & { contentHash: string }) | null;
  dataUse: DataUseFile[];
} {
  const policy = parsePolicy(readText(files.policy, "policy"), path.basename(files.policy));
  const snapshot = readSnapshotFile(files.snapshot);
  const known = new Set(snapshot.map((v) => String(v.vehicleId)));
  if (!fs.existsSync(files.activity)) throw new InputError(files.activity, "(file)", "activity file not found");
  const activity = readActivityFile(files.activity, known);
  const previous = files.previous ? readDistribution(files.previous) : null;
  const credits = files.credits ? parseCredits(readText(files.credits, "credits"), path.basename(files.credits)) : [];
  const dataUse = (files.dataUse ?? []).map((f) => {
    const parsed = parseDataUseFile(readText(f, "data-use"), path.basename(f));
    if (parsed.chainId !== chain.chainId) {
      throw new InputError(
        path.basename(f),
        "chainId",
        `${parsed.chainId}, but the week is computed for chain ${chain.chainId}`,
      );
    }
    return { file: f, parsed };
  });
  const weeks = new Set<number>();
  for (const d of dataUse) {
    if (weeks.has(d.parsed.week)) {
      throw new InputError(path.basename(d.file), "week", `settlement week ${d.parsed.week} is given twice`);
    }
    weeks.add(d.parsed.week);
    credits.push(...dataUseCredits(d.parsed));
  }
  const referralBudgetWei = parseDimo(files.referralBudget ?? "0", { source: "rewards", field: "--referral-budget" });
  const inputFiles: WeekInputs["inputFiles"] = {
    activity: inputFileHash(files.activity),
    policy: inputFileHash(files.policy),
    snapshot: inputFileHash(files.snapshot),
  };
  if (files.credits) inputFiles.credits = inputFileHash(files.credits);
  for (const d of dataUse) inputFiles[`dataUse:${d.parsed.week}`] = inputFileHash(d.file);
  return {
    chainId: chain.chainId,
    network: chain.network,
    week: files.week,
    policy,
    snapshot,
    activity,
    previous,
    referralBudgetWei,
    credits,
    dataUse: dataUse.map((d) => d.parsed),
    inputFiles,
    sources: {
      snapshot: path.basename(files.snapshot),
      activity: path.basename(files.activity),
      previous: files.previous ? path.basename(files.previous) : undefined,
      credits: files.credits ? path.basename(files.credits) : undefined,
    },
  };
}
