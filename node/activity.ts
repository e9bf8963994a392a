/**
 * Writes week N's activity from the stored signed batches (docs/telemetry.md "Activity derivation"): the
 * activity CSV `rewards:compute` reads, every counted batch as one signed-batch JSON line (the files a third
 * party downloads), and a summary with the commitment root. The rules are `lib/telemetry/activity.ts`'s.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../lib/errors";
import { ACTIVITY_HEADER } from "../lib/rewards/activity";
import {
  WeekActivityBuilder,
  batchLeafHex,
  keccak,
  merkleRootOfHexLeaves,
  metersToKm,
} from "../lib/telemetry/activity";
import type { TelemetryStore } from "./store";

export interface WeekActivityOptions {
  store: TelemetryStore;
  week: number;
  weekStart: number;
  weekEnd: number;
  outDir: string;
  /** When given, one row per snapshot vehicle (inactive without batches); batches of other vehicles are left out. */
  snapshotVehicleIds?: ReadonlySet<string>;
  /**
   * The `referral_code` column, vehicle id → the referrer's address (docs/rewards-spec.md §2). Not telemetry: the
   * oracle's input, written as given into the rows of the vehicles named (every row has one, active or not), hashed
   * with the file, and not re-derived by `rewards:verify`. Absent: every `referral_code` is empty.
   */
  referralCodes?: ReadonlyMap<string, string>;
}

export interface WeekActivitySummary {
  week: number;
  weekStart: number;
  weekEnd: number;
  batches: number;
  vehicles: number;
  activeVehicles: number;
  /** Vehicles with batches that are not in the snapshot (left out), when a snapshot was given. */
  notInSnapshot: number;
  commitmentRoot: string;
  files: { activity: string; batches: string; summary: string };
}

export async function writeWeekActivity(o: WeekActivityOptions): Promise<WeekActivitySummary> {
  const builder = new WeekActivityBuilder(o.weekStart, o.weekEnd);
  const h = await keccak();
  const leaves: string[] = [];
  const leftOut = new Set<string>();
  fs.mkdirSync(o.outDir, { recursive: true });
  const files = {
    activity: path.join(o.outDir, `activity-week-${o.week}.csv`),
    batches: path.join(o.outDir, `telemetry-week-${o.week}.jsonl`),
    summary: path.join(o.outDir, `telemetry-week-${o.week}.json`),
  };
  // Written to temporary names and renamed at the end: a failed run leaves no partial file.
  const tmp = (f: string) => `${f}.partial`;

  // One pass over the week's batches in (start time, id) order: summaries, leaves, and the published lines.
  const batchHash = createHash("sha256");
  const fd = fs.openSync(tmp(files.batches), "w");
  try {
    for await (const page of o.store.batchesStartingIn(o.weekStart, o.weekEnd, { withJson: true, pageSize: 1_000 })) {
      const lines: string[] = [];
      for (const row of page) {
        if (o.snapshotVehicleIds && !o.snapshotVehicleIds.has(row.summary.vehicleId)) {
          leftOut.add(row.summary.vehicleId);
          continue;
        }
        builder.add(row.summary);
        leaves.push(batchLeafHex(h, row.digest, row.signature));
        lines.push(row.signedJson!);
      }
      if (lines.length) {
        const text = lines.join("\n") + "\n";
        batchHash.update(text);
        fs.writeSync(fd, text);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  const batchCount = leaves.length;
  const root = merkleRootOfHexLeaves(h, leaves);
  const activity = builder.result();

  const byId = new Map(activity.map((a) => [a.vehicleId, a]));
  const ids = o.snapshotVehicleIds
    ? [...o.snapshotVehicleIds].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0))
    : activity.map((a) => a.vehicleId);
  const rowIds = new Set(ids);
  const rowless = [...(o.referralCodes?.keys() ?? [])].find((id) => !rowIds.has(id));
  if (rowless !== undefined) {
    fs.rmSync(tmp(files.batches), { force: true });
    throw new InputError(
      "referral codes",
      `vehicle ${rowless}`,
      o.snapshotVehicleIds ? "is not in the snapshot: it has no activity row" : "has no batch in the week: no row",
    );
  }
  const csv: string[] = [ACTIVITY_HEADER.join(",")];
  for (const id of ids) {
    const a = byId.get(id);
    const ref = o.referralCodes?.get(id) ?? "";
    csv.push(a ? `${id},${a.active},${metersToKm(a.meters)},${a.dataTypes.join(";")},${ref}` : `${id},false,0,,${ref}`);
  }
  fs.writeFileSync(tmp(files.activity), csv.join("\n") + "\n");

  const activityHash = createHash("sha256")
    .update(fs.readFileSync(tmp(files.activity)))
    .digest("hex");
  const summary = {
    week: o.week,
    weekStart: o.weekStart,
    weekEnd: o.weekEnd,
    batches: batchCount,
    commitmentRoot: root,
    rules: "docs/telemetry.md#activity-derivation",
    files: {
      activity: { name: path.basename(files.activity), sha256: activityHash },
      batches: { name: path.basename(files.batches), sha256: batchHash.digest("hex") },
    },
    vehicles: activity.map((a) => ({
      vehicleId: a.vehicleId,
      batches: a.batches,
      connectedSeconds: a.connectedSeconds,
      meters: a.meters,
      dataTypes: a.dataTypes,
    })),
  };
  fs.writeFileSync(tmp(files.summary), JSON.stringify(summary, null, 1) + "\n");
  for (const f of Object.values(files)) fs.renameSync(tmp(f), f);
  return {
    week: o.week,
    weekStart: o.weekStart,
    weekEnd: o.weekEnd,
    batches: batchCount,
    vehicles: ids.length,
    activeVehicles: activity.filter((a) => a.active).length,
    notInSnapshot: leftOut.size,
    commitmentRoot: root,
    files,
  };
}
