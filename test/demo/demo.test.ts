import { expect } from "chai";
import fs from "node:fs";
import hre, { ethers } from "hardhat";
import { runDemo } from "../../scripts/demo";
import { demoOptions, makeFleet, weekPlans } from "../../lib/demo/fleet";

describe("demo (npm run demo), smoke run", function () {
  this.timeout(120_000);
  let snapshotId: string;

  before(async function () {
    snapshotId = await ethers.provider.send("evm_snapshot", []);
  });

  after(async function () {
    await ethers.provider.send("evm_revert", [snapshotId]);
  });

  it("parses options from argv, then env, then defaults", function () {
    expect(demoOptions([], {})).to.deep.include({ vehicles: 500, weeks: 8, seed: 1 });
    expect(demoOptions([], {}).owners).to.be.at.least(200);
    expect(demoOptions(["--vehicles", "2000", "--weeks=12", "--seed", "7"], { DEMO_VEHICLES: "50" })).to.deep.include({
      vehicles: 2000,
      weeks: 12,
      seed: 7,
    });
    expect(demoOptions([], { DEMO_VEHICLES: "60", DEMO_WEEKS: "4" })).to.deep.include({ vehicles: 60, weeks: 4 });
    expect(() => demoOptions(["--weeks", "x"], {})).to.throw(/--weeks/);
  });

  it("generates the same fleet and weeks from the same seed", function () {
    const o = { vehicles: 100, owners: 40, weeks: 6, seed: 3 };
    expect(makeFleet(o)).to.deep.equal(makeFleet(o));
    expect(makeFleet(o)).to.not.deep.equal(makeFleet({ ...o, seed: 4 }));
    const f = makeFleet(o);
    expect(weekPlans(f, 2, 6, 3)).to.deep.equal(weekPlans(f, 2, 6, 3));
    expect(weekPlans(f, 2, 6, 3)).to.not.deep.equal(weekPlans(f, 3, 6, 3));
    expect(new Set(f.map((v) => v.owner)).size).to.equal(40);
  });

  it("runs 40 vehicles × 3 weeks end to end and reconciles every total to the wei", async function () {
    const r = await runDemo(hre, { vehicles: 40, owners: 16, weeks: 3, seed: 5, verbose: false });
    expect(r.mismatches).to.deep.equal([]);
    expect(r.ok).to.equal(true);
    expect(r.gas.mintVehicle.count).to.equal(40);
    expect(r.gas["claimToWithSig (relayer)"]?.count).to.equal(1);
    expect(r.tamperedWeekCaught).to.equal(true); // week 1's tampered root revoked by the watcher, then corrected
    expect(r.seconds).to.be.below(60);
    // Fifteen named checks, every one held; the claimed sub-lines add up to the claimed total.
    expect(r.checks.map((k) => k.what)).to.have.length(15);
    expect(r.checks.filter((k) => k.left !== k.right)).to.deep.equal([]);
    expect(r.checks.map((k) => k.what)).to.include(
      "claimed = weekly + data-use earners + once at the end + relayed + batched",
    );
    expect(r.checks.map((k) => k.what)).to.include("total supply = at deployment − slash burn − data-use burn");
    const line = (k: string) => r.summary.find(([key]) => key === k)?.[1];
    expect(line("  relayed (claimToWithSig)")).to.match(/^[\d,.]+ DIMO$/);
    expect(line("  batched (claimMany)")).to.match(/^[\d,.]+ DIMO$/);
    // Every week's root came from signed batches through the node: the devices' batches accepted, the faulty ones
    // refused by reason, the accepted ones counted into the activity, committed to in the distribution header, and
    // re-checked by rewards:verify from the published batches.
    expect(r.telemetry.map((t) => t.week)).to.deep.equal([0, 1, 2]);
    for (const t of r.telemetry) {
      const w = `week ${t.week}`;
      expect(t.accepted, `${w}: batches accepted`).to.be.above(20);
      expect(t.refused, `${w}: one fault of each kind`).to.deep.equal({
        bad_signature: 1,
        device_not_paired: 1,
        sequence_replayed: 1,
        value_out_of_range: 1,
      });
      expect(t.counted, `${w}: the activity counts what the node accepted`).to.equal(t.accepted);
      expect(t.activeVehicles, `${w}: active vehicles`).to.be.above(10).and.below(t.vehicles);
      expect(t.header, `${w}: the header's telemetry commitment`).to.deep.include({
        commitmentRoot: t.commitmentRoot,
        batches: t.counted,
      });
      expect(t.header!.batchesFile.name).to.equal(`telemetry-week-${t.week}.jsonl`);
      expect(t.header!.activityFile.name).to.equal(`activity-week-${t.week}.csv`);
      expect(t.verified, `${w}: rewards:verify`).to.include(
        `its activity is what the ${t.counted} published signed batches give (commitment ${t.commitmentRoot})`,
      );
    }
    expect(line("signed batches accepted / refused")).to.equal(
      `${r.telemetry.reduce((n, t) => n + t.accepted, 0)} / 12 ` +
        "(bad_signature 3, device_not_paired 3, sequence_replayed 3, value_out_of_range 3)",
    );
    // The staked consumer read its granted vehicles through the SDK and was refused exactly where consent ends;
    // its access log became the slash proposal's evidence.
    expect(r.reads, "consumer reads").to.not.equal(null);
    expect(r.reads!.refusals.map((x) => [x.expected, x.got])).to.deep.equal(
      ["NO_GRANT", "DATA_TYPE_NOT_GRANTED", "GRANT_REVOKED", "CONSUMER_FROZEN"].map((c) => [c, c]),
    );
    expect(r.reads!.served).to.be.above(3);
    expect(r.reads!.evidence, "evidence").to.deep.include({ reads: r.reads!.served, logEntries: r.reads!.served });
    expect(r.reads!.evidence!.hash).to.match(/^0x[0-9a-f]{64}$/);
    expect(line("consumer reads served / refused")).to.equal(
      `${r.reads!.served} (${r.reads!.rows} values) / 4 (NO_GRANT, DATA_TYPE_NOT_GRANTED, GRANT_REVOKED, CONSUMER_FROZEN)`,
    );
    // The consumer paid for those reads: redeemed in week 2, settled (75% burned, 5% to the treasury, 20% to the
    // drivers), paid in week 2's root to the owners of the vehicles read, claimed; the reconciliation covers it.
    const u = r.dataUse!;
    expect(u, "data use").to.not.equal(null);
    expect(u.week).to.equal(2);
    expect(u.loggedCredits).to.equal(BigInt(r.reads!.rows));
    expect(u.charged).to.equal(u.loggedCredits * u.pricePerCredit);
    expect(u.burned).to.equal((u.charged * 7_500n) / 10_000n);
    expect(u.toTreasury).to.equal((u.charged * 500n) / 10_000n);
    expect(u.allocations.length).to.be.at.least(2);
    expect(u.allocations.reduce((n, a) => n + a.amountWei, 0n)).to.equal(u.toDrivers);
    expect(r.checks.filter((k) => k.what.startsWith("data use, week 2:"))).to.have.length(5);
    expect(line("  data-use earners via rewards:claim (all they had earned)")).to.match(/^[\d,.]+ DIMO$/);
    expect(fs.existsSync(r.dir), "the work folder was left behind").to.equal(false);
  });
});
