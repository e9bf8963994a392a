/**
 * Comparing a published distribution with the one its inputs give, field by field, and checking the invariants
 * every published week must hold whatever its inputs (docs/rewards-spec.md, "Verifying a week").
 *
 * Pure: no chain access. The task (`rewards:verify`) recomputes the week, then reports every difference this module
 * finds — not only the first — so that an auditor sees at once which input or which account is off.
 */
import { type AccountEntry, type Distribution, headerJson, type VehicleState } from "./distribution";

/** One difference between what the inputs give (`expected`) and what the file says (`found`). */
export interface Difference {
  /** `header`, an account address, `vehicle <id>`, or `file` (bytes). */
  where: string;
  field: string;
  expected: string;
  found: string;
  /** A plain-words hint naming the input that differs, when one can be named. */
  hint?: string;
}

/** Input names (the keys of a distribution's `inputs`) and what a difference in each means. */
const INPUT_HINTS: Record<string, string> = {
  activity: "the activity file given is not the one the published week was computed from",
  snapshot: "the registry snapshot given is not the one the published week was computed from",
  policy: "the policy file given is not the one the published week was computed from",
  credits: "the credits given are not the ones the published week was computed from",
};

function flatten(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, JSON.stringify(value) ?? "undefined");
  }
}

function hintFor(field: string): string | undefined {
  const input = /^inputs\.([a-z]+)\./.exec(field)?.[1];
  if (input) return INPUT_HINTS[input] ?? `input "${input}" differs`;
  if (field.startsWith("inputs.")) return "the set of inputs differs (an input given or missing)";
  if (field.startsWith("previous.")) return "the previous week's file given is not the one this week built on";
  if (field.startsWith("referrals.budgetWei")) return "the referral budget given differs from the one used";
  if (field.startsWith("policyHash")) return "the policy given differs from the one used";
  if (field === "snapshotBlock")
    return "the file does not record the last block before the week's end as its snapshot block";
  if (field.startsWith("credits.")) return "the credits given differ from the ones recorded in the file";
  return undefined;
}

const MISSING = "(absent)";

function accountFields(a: AccountEntry | undefined): Map<string, string> {
  const m = new Map<string, string>();
  if (!a) return m;
  m.set("index", String(a.index));
  m.set("cumulativeWei", a.cumulativeWei.toString());
  m.set("weekWei", a.weekWei.toString());
  for (const v of a.vehicles) {
    const p = v.points;
    m.set(`vehicles[${v.vehicleId}].core`, v.core.toString());
    m.set(`vehicles[${v.vehicleId}].green`, v.green.toString());
    m.set(`vehicles[${v.vehicleId}].points`, `${p.connection}/${p.streak}/${p.dataTypes}/${p.green}`);
    if (v.referral) m.set(`vehicles[${v.vehicleId}].referral`, `${v.referral.role} ${v.referral.amountWei}`);
  }
  for (const c of a.credits ?? []) m.set(`credits[${c.reason}]`, c.amountWei.toString());
  return m;
}

function vehicleFields(v: VehicleState | undefined): Map<string, string> {
  const m = new Map<string, string>();
  if (!v) return m;
  m.set("streak", String(v.streak));
  m.set("missed", String(v.missed));
  m.set("best", String(v.best));
  if (v.referral) m.set("referral", JSON.stringify(v.referral));
  return m;
}

function compareMaps(where: string, expected: Map<string, string>, found: Map<string, string>, out: Difference[]) {
  const keys = new Set([...expected.keys(), ...found.keys()]);
  for (const field of [...keys].sort()) {
    const e = expected.get(field) ?? MISSING;
    const f = found.get(field) ?? MISSING;
    if (e !== f) {
      const hint = where === "header" ? hintFor(field) : field.startsWith("credits[") ? hintFor("credits.") : undefined;
      out.push({ where, field, expected: e, found: f, ...(hint ? { hint } : {}) });
    }
  }
}

function byKey<T>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  return new Map(items.map((t) => [key(t), t]));
}

/**
 * Every difference between the distribution the inputs give (`expected`) and the published one (`found`): header
 * fields (dotted paths), then accounts (by address), then vehicle states (by id). Empty when they agree.
 */
export function diffDistributions(expected: Distribution, found: Distribution): Difference[] {
  const out: Difference[] = [];
  const eh = new Map<string, string>();
  const fh = new Map<string, string>();
  flatten(headerJson(expected), "", eh);
  flatten(headerJson(found), "", fh);
  compareMaps("header", eh, fh, out);
  const ea = byKey(expected.accounts, (a) => a.account.toLowerCase());
  const fa = byKey(found.accounts, (a) => a.account.toLowerCase());
  for (const account of [...new Set([...ea.keys(), ...fa.keys()])].sort()) {
    const e = ea.get(account);
    const f = fa.get(account);
    if (!e || !f) {
      out.push({
        where: account,
        field: "(account)",
        expected: e ? "present" : MISSING,
        found: f ? "present" : MISSING,
      });
      continue;
    }
    compareMaps(e.account, accountFields(e), accountFields(f), out);
  }
  const ev = byKey(expected.vehicles, (v) => v.vehicleId);
  const fv = byKey(found.vehicles, (v) => v.vehicleId);
  for (const id of [...new Set([...ev.keys(), ...fv.keys()])].sort((x, y) => Number(x) - Number(y))) {
    const e = ev.get(id);
    const f = fv.get(id);
    if (!e || !f) {
      out.push({
        where: `vehicle ${id}`,
        field: "(state)",
        expected: e ? "present" : MISSING,
        found: f ? "present" : MISSING,
      });
      continue;
    }
    compareMaps(`vehicle ${id}`, vehicleFields(e), vehicleFields(f), out);
  }
  return out;
}

/** First differing byte of two buffers, or -1 when they are equal. */
export function firstDifferentByte(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/**
 * The invariants of a published week that hold whatever its inputs (docs/rewards-spec.md, "Invariants"):
 * Σ of the leaves' amounts equals the declared cumulative total, the previous totals chain, and no account's
 * cumulative amount is below what the previous week's root gave it (an account of the previous week is never
 * dropped). Returns the violations as differences (empty when all hold).
 */
export function checkInvariants(d: Distribution, previous: Distribution | null): Difference[] {
  const out: Difference[] = [];
  const sum = d.accounts.reduce((s, a) => s + a.cumulativeWei, 0n);
  if (sum !== d.cumulativeTotalWei) {
    out.push({
      where: "header",
      field: "cumulativeTotalWei",
      expected: `${sum} (Σ of the leaves)`,
      found: d.cumulativeTotalWei.toString(),
      hint: "the leaves do not sum to the declared cumulative total",
    });
  }
  for (const a of d.accounts) {
    if (a.cumulativeWei < a.weekWei) {
      out.push({
        where: a.account,
        field: "cumulativeWei",
        expected: `≥ weekWei ${a.weekWei}`,
        found: a.cumulativeWei.toString(),
      });
    }
  }
  if (previous === null) return out;
  if (d.previous?.cumulativeTotalWei !== previous.cumulativeTotalWei || d.previous?.root !== previous.root) {
    out.push({
      where: "header",
      field: "previous",
      expected: `root ${previous.root}, cumulative ${previous.cumulativeTotalWei}`,
      found: d.previous ? `root ${d.previous.root}, cumulative ${d.previous.cumulativeTotalWei}` : "null",
      hint: "the previous week's file given is not the one this week built on",
    });
  }
  const now = byKey(d.accounts, (a) => a.account.toLowerCase());
  for (const p of previous.accounts) {
    const a = now.get(p.account.toLowerCase());
    const found = a?.cumulativeWei ?? 0n;
    if (found < p.cumulativeWei) {
      out.push({
        where: p.account,
        field: "cumulativeWei",
        expected: `≥ ${p.cumulativeWei} (week ${previous.week}'s)`,
        found: a ? found.toString() : MISSING,
        hint: "an account's cumulative amount fell below the previous root's",
      });
    } else if (a && found - a.weekWei !== p.cumulativeWei) {
      out.push({
        where: p.account,
        field: "weekWei",
        expected: `${found - p.cumulativeWei} (cumulative − week ${previous.week}'s)`,
        found: a.weekWei.toString(),
      });
    }
  }
  return out;
}

/** One line per difference: `account field: expected X, found Y (hint)`. */
export function formatDifference(d: Difference): string {
  return `${d.where} ${d.field}: expected ${d.expected}, found ${d.found}${d.hint ? ` (${d.hint})` : ""}`;
}
