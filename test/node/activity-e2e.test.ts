/**
 * End to end on the in-process Hardhat network: a device pairs, streams signed batches through the node,
 * `rewards:activity` derives the week from them; a forged batch and a batch of an unpaired device are
 * refused and counted nowhere. The published batches re-derive the same activity and root.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { getAddress } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import hre from "hardhat";
import { parseActivityCsv } from "../../lib/rewards/activity";
import { WeekActivityBuilder, batchCommitmentRoot, summarizeBatch } from "../../lib/telemetry/activity";
import { batchDigest, integrationOf, parseSignedBatch, recoverSigner } from "../../lib/telemetry/format";
import { InputError } from "../../lib/errors";
import { writeWeekActivity } from "../../node/activity";
import { openStore } from "../../node/store";
import { freshSqliteFile } from "../helpers/telemetry-db";
import { deviceKey } from "../registry/fixtures";
import { drivingBatch, nodeOver, signed, telemetryRegistryFixture } from "./telemetry-fixture";

describe("telemetry end to end: device → node → weekly activity", function () {
  it("derives the week's activity and commitment from the accepted batches only", async function () {
    const reg = await loadFixture(telemetryRegistryFixture);
    const sqliteFile = freshSqliteFile();
    const store = await openStore({ sqliteFile });
    const now = await time.latest();
    const { app } = await nodeOver(reg, store, () => now);
    const weekStart = reg.pairedAt;
    const weekEnd = weekStart + 7 * 86_400;
    const post = async (b: unknown) =>
      (await app.inject({ method: "POST", url: "/v1/batches", payload: b as object })).json();

    // Two 10-minute trips at 50 km/h (8,333 m each), 20 minutes apart, with an odometer that moved 5 km between
    // them (a plausible step: counted).
    const t1 = now - 3000;
    const trip1 = drivingBatch({ vehicleId: reg.v1, deviceId: reg.d1, sequence: 1, start: t1, odo0: 1_000_000 });
    const trip2 = drivingBatch({ vehicleId: reg.v1, deviceId: reg.d1, sequence: 2, start: t1 + 1200, odo0: 1_013_333 });
    expect((await post(await signed(reg.k1, reg, trip1))).signer).to.equal(reg.k1.address);
    expect((await post(await signed(reg.k1, reg, trip2))).signer).to.equal(reg.k1.address);
    // Refused: forged (another key signs for device d1, claiming 500 km) and an unpaired device (d2) for v1.
    const forged = drivingBatch({
      vehicleId: reg.v1,
      deviceId: reg.d1,
      sequence: 3,
      start: t1 + 2400,
      odo0: 1_600_000,
    });
    expect((await post(await signed(deviceKey(66), reg, forged))).code).to.equal("bad_signature");
    const unpaired = drivingBatch({ vehicleId: reg.v2, deviceId: reg.d2, sequence: 1, start: t1 });
    expect((await post(await signed(reg.k2, reg, unpaired))).code).to.equal("device_not_paired");
    await app.close();
    await store.close();

    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-activity-"));
    const snapshot = path.join(outDir, "vehicles.csv");
    fs.writeFileSync(
      snapshot,
      `vehicle_id,owner,powertrain,make,model,year,paired_device,connection_kinds\n${reg.v1},${reg.alice.address},BEV,Tesla,3,2020,${reg.d1},software\n${reg.v2},${reg.bob.address},ICE,Honda,Civic,2003,${reg.d3},\n`,
    );
    const r = await hre.run("rewards:activity", {
      week: "0",
      db: sqliteFile,
      snapshot,
      outDir,
      weekStart: String(weekStart),
      weekEnd: String(weekEnd),
    });
    expect(r.batches).to.equal(2);
    const rows = parseActivityCsv(fs.readFileSync(r.files.activity), "activity.csv", new Set([reg.v1, reg.v2]));
    const trips = 2 * Math.round((600 * 50_000) / 3600); // 8,333 m per trip
    const between = 1_013_333 - (1_000_000 + Math.round((600 * 50_000) / 3600)); // 5,000 m in 600 s: plausible
    expect(rows.map((x) => [x.vehicleId, x.active, x.kmMeters, x.dataTypes.join(";")])).to.deep.equal([
      [reg.v1, true, trips + between, "location,odometer,speed,fuel_level,tire_pressure".replaceAll(",", ";")],
      [reg.v2, false, 0, ""],
    ]);
    const summary = JSON.parse(fs.readFileSync(r.files.summary, "utf8"));
    expect(summary.vehicles).to.deep.equal([
      {
        vehicleId: reg.v1,
        batches: 2,
        connectedSeconds: 1200,
        meters: trips + between,
        dataTypes: ["location", "odometer", "speed", "fuel_level", "tire_pressure"],
      },
    ]);

    // A third party re-derives everything from the published batches and the chain's keys.
    const lines = fs.readFileSync(r.files.batches, "utf8").trim().split("\n");
    expect(lines).to.have.length(2);
    const rebuilt = new WeekActivityBuilder(weekStart, weekEnd);
    const items = [];
    for (const line of lines) {
      const p = parseSignedBatch(JSON.parse(line));
      if (!p.ok) throw new Error(p.problem.message);
      const digest = batchDigest(p.value.batch, p.value.chainId, p.value.registry);
      const signer = recoverSigner(digest, p.value.signature)!;
      expect(integrationOf(p.value.batch)).to.equal(null);
      expect(signer).to.equal(await reg.devices.deviceKeyOf(p.value.batch.deviceId));
      rebuilt.add(summarizeBatch(p.value.batch, signer));
      items.push({ digest, signature: p.value.signature });
    }
    expect(await batchCommitmentRoot(items))
      .to.equal(r.commitmentRoot)
      .and.equal(summary.commitmentRoot);
    expect(rebuilt.result()[0]).to.deep.include({ meters: trips + between, connectedSeconds: 1200 });
  });

  it("writes the oracle's referral codes into their rows, under the file's hash; refuses one without a row", async function () {
    const store = await openStore({ sqliteFile: freshSqliteFile() });
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-activity-"));
    const referrer = getAddress("0x00000000000000000000000000000000000000aa");
    const week = { store, week: 0, weekStart: 1_796_000_000, weekEnd: 1_796_604_800, outDir };
    try {
      const snapshotVehicleIds = new Set(["1", "2"]);
      const r = await writeWeekActivity({ ...week, snapshotVehicleIds, referralCodes: new Map([["2", referrer]]) });
      const csv = fs.readFileSync(r.files.activity, "utf8");
      expect(csv.trim().split("\n").slice(1)).to.deep.equal(["1,false,0,,", `2,false,0,,${referrer}`]);
      const summary = JSON.parse(fs.readFileSync(r.files.summary, "utf8"));
      expect(summary.files.activity.sha256).to.equal(createHash("sha256").update(csv).digest("hex"));
      const rows = parseActivityCsv(Buffer.from(csv), "activity.csv", snapshotVehicleIds);
      expect(rows.map((x) => x.referralCode)).to.deep.equal([null, referrer]);

      // A code for a vehicle the file has no row for is refused, and nothing of the week is (re)written.
      const other = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-activity-"));
      let refused: unknown;
      try {
        await writeWeekActivity({
          ...week,
          outDir: other,
          snapshotVehicleIds,
          referralCodes: new Map([["3", referrer]]),
        });
      } catch (e) {
        refused = e;
      }
      expect(refused).to.be.instanceOf(InputError);
      expect((refused as Error).message).to.equal(
        "referral codes vehicle 3: is not in the snapshot: it has no activity row",
      );
      expect(fs.readdirSync(other)).to.deep.equal([]);
      fs.rmSync(other, { recursive: true, force: true });
    } finally {
      await store.close();
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});
