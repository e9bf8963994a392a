/**
 * A week's published files, as `rewards:watch` fetches them from a local folder or an HTTP(S) base URL, and the
 * watcher's record of what it already did (so that a restart never acts twice on the same root).
 *
 * Layout under the base (docs/rewards-spec.md, "Publishing a week"):
 *   week-<N>.json, week-<N>.tree              the distribution and its tree
 *   week-<N>/<file>                           each input under the name the distribution's `inputs.<name>.file`
 *                                             gives it (activity, snapshot, credits when any, policy — absent:
 *                                             the caller's default policy file)
 *                                             and each data-use file (`inputs.dataUse:<w>`)
 *   week-<N>/referral-budget.txt              total DIMO funded for referrals (decimal DIMO; absent: 0)
 *   week-<N>/<batches file>                   the signed batches the activity was derived from, under the name the
 *                                             distribution's `telemetry.batchesFile.name` gives (when it has one)
 * Week N − 1's `week-<N−1>.json` and `.tree` are the previous distribution.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../errors";
import { readDistribution } from "./distribution";

export interface WeekFilesOnDisk {
  file: string;
  activity: string;
  snapshot: string;
  previous?: string;
  credits?: string;
  /** The data-use files the week paid (comma-separated, as `rewards:verify --data-use` takes them). */
  dataUse?: string;
  policy?: string;
  referralBudget: string;
  /** The folder holding the published batch file, when the distribution records a telemetry commitment. */
  telemetryDir?: string;
}

const isUrl = (base: string) => /^https?:\/\//i.test(base);

/** Fetches `rel` from `base` into `dir` (same relative path); false when it does not exist (404 or no file). */
async function fetchOne(base: string, rel: string, dir: string): Promise<boolean> {
  const target = path.join(dir, rel);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (!isUrl(base)) {
    const src = path.join(base, rel);
    if (!fs.existsSync(src)) return false;
    fs.copyFileSync(src, target);
    return true;
  }
  const url = `${base.replace(/\/+$/, "")}/${rel}`;
  const res = await fetch(url);
  if (res.status === 404) return false;
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  fs.writeFileSync(target, Buffer.from(await res.arrayBuffer()));
  return true;
}

/**
 * Copies (or downloads) week `week`'s published files into `dir`. Throws an InputError naming the first required
 * file that is missing; transport errors (HTTP 5xx, connection refused) are thrown as plain Errors, to be retried.
 */
export async function fetchPublishedWeek(base: string, week: number, dir: string): Promise<WeekFilesOnDisk> {
  const need = async (rel: string) => {
    if (!(await fetchOne(base, rel, dir))) throw new InputError(base, rel, "not published (missing)");
    return path.join(dir, rel);
  };
  const optional = async (rel: string) => ((await fetchOne(base, rel, dir)) ? path.join(dir, rel) : undefined);
  const file = await need(`week-${week}.json`);
  await need(`week-${week}.tree`);
  let previous: string | undefined;
  if (week > 0) {
    previous = await need(`week-${week - 1}.json`);
    await need(`week-${week - 1}.tree`);
  }
  const budgetFile = await optional(`week-${week}/referral-budget.txt`);
  // The distribution names its inputs (`inputs.<name>.file`): they are published under those names.
  const { inputs, telemetry } = readDistribution(file, { keepEarnings: false });
  if (telemetry) await need(`week-${week}/${telemetry.batchesFile.name}`);
  const named = (name: string) => inputs[name]?.file;
  const input = async (name: string, required: boolean) => {
    const f = named(name);
    if (f === undefined || path.basename(f) !== f) {
      if (required) throw new InputError(path.basename(file), `inputs.${name}`, "missing or not a plain file name");
      return undefined;
    }
    return required ? need(`week-${week}/${f}`) : optional(`week-${week}/${f}`);
  };
  // Data-use files (`inputs.dataUse:<w>`, docs/rewards-spec.md §15), each required when named.
  const dataUseInputs = async () => {
    const names = Object.keys(inputs)
      .filter((k) => /^dataUse:\d+$/.test(k))
      .sort();
    if (names.length === 0) return {};
    const files: string[] = [];
    for (const n of names) files.push((await input(n, true))!);
    return { dataUse: files.join(",") };
  };
  return {
    file,
    previous,
    activity: (await input("activity", true))!,
    snapshot: (await input("snapshot", true))!,
    credits: named("credits") === undefined ? undefined : await input("credits", true),
    ...(await dataUseInputs()),
    policy: await input("policy", false),
    referralBudget: budgetFile ? fs.readFileSync(budgetFile, "utf8").trim() : "0",
    ...(telemetry ? { telemetryDir: path.join(dir, `week-${week}`) } : {}),
  };
}

/** What the watcher did about one published root. */
export interface WatchAction {
  week: number;
  root: string;
  action: "verified" | "revoked" | "disputed" | "alerted";
  at: string;
  detail?: string;
}

/** The watcher's state file: one entry per (week, root) it handled. */
export class WatchState {
  private readonly entries: WatchAction[];

  constructor(private readonly file: string | undefined) {
    this.entries = file && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as WatchAction[]) : [];
    if (!Array.isArray(this.entries)) throw new InputError(file ?? "state", "(file)", "expected a JSON array");
  }

  /** The final action on (week, root): verified, revoked or disputed. An alert is not final: a restart re-checks. */
  handled(week: number, root: string): WatchAction | undefined {
    return this.entries.find(
      (e) => e.week === week && e.root.toLowerCase() === root.toLowerCase() && e.action !== "alerted",
    );
  }

  record(entry: WatchAction): void {
    this.entries.push(entry);
    if (!this.file) return;
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.entries, null, 2) + "\n");
    fs.renameSync(tmp, this.file);
  }
}
