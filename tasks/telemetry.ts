/**
 * `rewards:activity --week N`: week N's activity from the node's stored signed batches (node/activity.ts;
 * rules in docs/telemetry.md "Activity derivation"). The week's time range comes from the issuance vault of
 * the deployment record (or --week-start/--week-end); the store is DATABASE_URL or the SQLite file the node
 * uses (`data/node/<network>.sqlite`, or --db).
 */
import path from "node:path";
import { task, types } from "hardhat/config";
import { InputError } from "../lib/errors";
import { parseReferralCodes, parseSnapshotCsv } from "../lib/rewards/activity";
import fs from "node:fs";

task("rewards:activity", "Derives week N's activity file from the node's stored signed telemetry")
  .addParam("week", "week number", undefined, types.string)
  .addOptionalParam("db", "SQLite file of the node (default data/node/<network>.sqlite; DATABASE_URL wins)")
  .addOptionalParam("snapshot", "registry snapshot CSV: one row per snapshot vehicle, others left out")
  .addOptionalParam(
    "referralCodes",
    "CSV vehicle_id,referral_code: the referrer's address written into each named vehicle's row (not telemetry)",
  )
  .addOptionalParam("outDir", "output directory (default distributions/<network>)")
  .addOptionalParam("weekStart", "unix seconds of the week's start, instead of the vault's weekStart(N)")
  .addOptionalParam("weekEnd", "unix seconds of the week's end, instead of the vault's weekStart(N + 1)")
  .setAction(
    async (
      args: {
        week: string;
        db?: string;
        snapshot?: string;
        referralCodes?: string;
        outDir?: string;
        weekStart?: string;
        weekEnd?: string;
      },
      hre,
    ) => {
      if (!/^\d+$/.test(args.week))
        throw new InputError("rewards:activity", "--week", `expected a week number, got "${args.week}"`);
      const week = Number(args.week);
      const seconds = (v: string | undefined, field: string) => {
        if (v === undefined) return undefined;
        if (!/^\d+$/.test(v)) throw new InputError("rewards:activity", field, `expected unix seconds, got "${v}"`);
        return Number(v);
      };
      let weekStart = seconds(args.weekStart, "--week-start");
      let weekEnd = seconds(args.weekEnd, "--week-end");
      if (weekStart === undefined || weekEnd === undefined) {
        const { loadRewardsContext } = await import("./rewards");
        const { vault } = await loadRewardsContext(hre);
        weekStart ??= Number(await vault.weekStart(week));
        weekEnd ??= Number(await vault.weekStart(week + 1));
      }
      if (weekEnd <= weekStart)
        throw new InputError("rewards:activity", "--week-end", `${weekEnd} is not after the week's start ${weekStart}`);
      let snapshotVehicleIds: Set<string> | undefined;
      if (args.snapshot) {
        if (!fs.existsSync(args.snapshot)) throw new InputError(args.snapshot, "--snapshot", "no such file");
        snapshotVehicleIds = new Set(
          parseSnapshotCsv(fs.readFileSync(args.snapshot), path.basename(args.snapshot)).map((v) =>
            String(v.vehicleId),
          ),
        );
      }
      let referralCodes: Map<string, string> | undefined;
      if (args.referralCodes) {
        if (!fs.existsSync(args.referralCodes))
          throw new InputError(args.referralCodes, "--referral-codes", "no such file");
        referralCodes = parseReferralCodes(fs.readFileSync(args.referralCodes), path.basename(args.referralCodes));
      }
      const { openStore } = await import("../node/store");
      const { writeWeekActivity } = await import("../node/activity");
      const store = await openStore({
        databaseUrl: process.env.DATABASE_URL,
        sqliteFile: args.db ?? path.join("data", "node", `${hre.network.name}.sqlite`),
      });
      try {
        const r = await writeWeekActivity({
          store,
          week,
          weekStart,
          weekEnd,
          outDir: args.outDir ?? path.join("distributions", hre.network.name),
          snapshotVehicleIds,
          referralCodes,
        });
        console.log(
          `week ${week} [${new Date(weekStart * 1000).toISOString()}, ${new Date(weekEnd * 1000).toISOString()}): ${r.batches} signed batches, ${r.activeVehicles}/${r.vehicles} vehicles active` +
            (r.notInSnapshot ? `, ${r.notInSnapshot} vehicles with batches not in the snapshot left out` : ""),
        );
        console.log(`commitment root ${r.commitmentRoot}`);
        for (const f of Object.values(r.files)) console.log(`  wrote ${f}`);
        return r;
      } finally {
        await store.close();
      }
    },
  );
