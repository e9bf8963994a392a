import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { deploySuite } from "../../scripts/deploy-suite";
import { DEPLOYMENTS_DIR_ENV } from "../../scripts/registry-context";
import { readDistribution } from "../../lib/rewards/distribution";
import type { DimoToken, IssuanceVault, RewardDistributor, VehicleRegistry } from "../../typechain-types";
import { rejects } from "../helpers/rejects";

const WEEK = 604_800;
const DAY = 86_400;

/** Runs a task in process with its printing silenced. */
async function run(name: string, args: Record<string, unknown>): Promise<unknown> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await hre.run(name, args);
  } finally {
    console.log = log;
  }
}

describe("weekly rewards end to end (three weeks)", function () {
  this.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-rewards-e2e-"));
  const saved = process.env[DEPLOYMENTS_DIR_ENV];
  let snapshotId: string;
  let token: DimoToken;
  let vault: IssuanceVault;
  let distributor: RewardDistributor;
  let vehicles: VehicleRegistry;
  let genesis: number;
  let weekly: string; // claims every week
  let once: string; // claims once at the end
  let never: string; // never claims
  const files: string[] = [];

  before(async function () {
    snapshotId = await ethers.provider.send("evm_snapshot", []);
    process.env[DEPLOYMENTS_DIR_ENV] = dir;
    const { record } = await deploySuite(hre, {
      recordPath: path.join(dir, "hardhat.json"),
      reset: true,
      log: () => undefined,
    });
    token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
    vault = await ethers.getContractAt("IssuanceVault", record.contracts.IssuanceVault.address);
    distributor = await ethers.getContractAt("RewardDistributor", record.contracts.RewardDistributor.address);
    vehicles = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
    genesis = record.genesis;
    const signers = await ethers.getSigners();
    [weekly, once, never] = [signers[10].address, signers[11].address, signers[12].address];
    const fleet: [number, string, number][] = [
      [10, "Model 3", 3], // BEV
      [10, "Golf", 0], // ICE
      [11, "Outlander", 2], // PHEV
      [11, "Prius", 1], // HEV
      [12, "Leaf", 3], // BEV
    ];
    for (const [i, [who, model, powertrain]] of fleet.entries()) {
      await vehicles.connect(signers[who]).mintVehicle({
        make: "Make",
        model,
        year: 2022,
        powertrain,
        vinCommitment: ethers.id(`e2e-vin-${i}`),
      });
    }
    // Vehicle 5 gets a hardware device (key: local account 13), vehicle 3 a software connection.
    await run("device:mint", { key: signers[13].address, serial: "AP-1", hwRevision: "7", to: "12" });
    await run("device:pair", { vehicle: "5", device: "1", ownerAccount: "12", deviceAccount: "13" });
    await run("connection:attest", { vehicle: "3", ownerAccount: "11" });
  });

  after(async function () {
    await ethers.provider.send("evm_revert", [snapshotId]);
    if (saved === undefined) delete process.env[DEPLOYMENTS_DIR_ENV];
    else process.env[DEPLOYMENTS_DIR_ENV] = saved;
  });

  const ACTIVITY = [
    // week 0: everyone active; vehicle 5 was referred by the weekly driver
    [
      "1,true,20,location;odometer,",
      "2,true,5,location,",
      "3,true,40,fuel_level,",
      "4,true,12,,",
      `5,true,30,location;dtc,WEEKLY`,
    ],
    // week 1: vehicle 2 stays home
    ["1,true,18,location;odometer,", "2,false,0,,", "3,true,8,fuel_level,", "4,true,50,,", "5,true,16,location;dtc,"],
    // week 2
    [
      "1,true,25,location;odometer;tire_pressure,",
      "2,true,3,location,",
      "3,true,16,fuel_level,",
      "4,true,9,,",
      "5,false,0,,",
    ],
  ];

  async function computeWeek(week: number): Promise<string> {
    await time.increaseTo(genesis + (week + 1) * WEEK + 60);
    const snapshot = path.join(dir, `vehicles-${week}.csv`);
    await run("registry:snapshot", { out: snapshot });
    const activity = path.join(dir, `activity-${week}.csv`);
    const rows = ACTIVITY[week].map((r) => r.replace("WEEKLY", weekly));
    fs.writeFileSync(activity, ["vehicle_id,active,km_driven,data_types,referral_code", ...rows].join("\n") + "\n");
    const out = path.join(dir, "distributions", `week-${week}.json`);
    const previous = week === 0 ? undefined : files[week - 1];
    await run("rewards:compute", { week: String(week), activity, snapshot, previous, out });
    await run("rewards:verify", { file: out, activity, snapshot, previous });
    files.push(out);
    return out;
  }

  async function publishAndActivate(week: number, file: string, layer?: string): Promise<void> {
    await run("rewards:publish", { week: String(week), file, yes: true, ...(layer ? { layer } : {}) });
    await rejects(run("rewards:claim", { file, account: weekly }), /still in its challenge window/);
    await time.increase(DAY);
    await run("rewards:activate", {});
  }

  it("computes, verifies, publishes and activates three weeks; drivers claim weekly or once", async function () {
    for (let week = 0; week < 3; week++) {
      const file = await computeWeek(week);
      // A dry run sends nothing.
      await run("rewards:publish", { week: String(week), file, yes: false });
      expect(await distributor.nextWeek()).to.equal(week);
      // Week 0 by the default (auto: no claims yet, so no layer), week 1 with the layer, week 2 without.
      await publishAndActivate(week, file, [undefined, "always", "never"][week]);
      const [store] = await distributor.cachedLayerStores(readDistribution(file).root);
      expect((await ethers.provider.getCode(store)) !== "0x").to.equal(week === 1);
      await rejects(run("rewards:publish", { week: String(week), file, yes: true }), /already published/);
      const d = readDistribution(file);
      const entry = d.accounts.find((a) => a.account === weekly)!;
      const before = await token.balanceOf(weekly);
      await run("rewards:claim", { file, account: weekly, from: 5 });
      expect((await token.balanceOf(weekly)) - before).to.equal(entry.weekWei);
      expect(await token.balanceOf(weekly)).to.equal(entry.cumulativeWei);
    }
    const last = readDistribution(files[2]);
    const onceEntry = last.accounts.find((a) => a.account === once)!;
    const perWeek = files.map((f) => readDistribution(f).accounts.find((a) => a.account === once)?.weekWei ?? 0n);
    await run("rewards:claim", { file: files[2], account: once });
    expect(await token.balanceOf(once)).to.equal(onceEntry.cumulativeWei);
    expect(onceEntry.cumulativeWei).to.equal(perWeek[0] + perWeek[1] + perWeek[2]);
    expect(perWeek.every((w) => w > 0n)).to.equal(true);
    // Claiming again pays nothing.
    expect(await run("rewards:claim", { file: files[2], account: once })).to.equal(0n);
  });

  it("reconciles issuance released, claimed, unclaimed and carried remainders to the wei", async function () {
    const issued = await vault.amountOfWeeks(0, 3);
    expect(await distributor.totalFunded()).to.equal(issued);
    expect(await vault.totalReleased()).to.equal(issued);
    const weeks = files.map((f) => readDistribution(f));
    let carriedIn = 0n;
    for (const d of weeks) {
      const { core, green } = d.pools;
      // Each week: what the pools paid plus what they carry out equals the week's issuance plus what came in.
      expect(core.paidWei + green.paidWei + core.carryOutWei + green.carryOutWei).to.equal(
        d.issuance.weekWei + carriedIn,
      );
      carriedIn = core.carryOutWei + green.carryOutWei;
    }
    const last = weeks[2];
    expect(last.cumulativeTotalWei + carriedIn).to.equal(issued); // no referral payouts or credits yet
    const claimed = (await token.balanceOf(weekly)) + (await token.balanceOf(once)) + (await token.balanceOf(never));
    expect(await token.balanceOf(distributor)).to.equal(issued - claimed);
    const unclaimed = last.accounts.reduce((s, a) => s + a.cumulativeWei, 0n) - claimed;
    expect(unclaimed).to.equal(last.accounts.find((a) => a.account === never)!.cumulativeWei);
    expect(await token.balanceOf(distributor)).to.equal(unclaimed + carriedIn);
    const status = (await run("rewards:status", {})) as { claimed: bigint; funded: bigint; balance: bigint };
    expect(status.claimed).to.equal(claimed);
    expect(status.funded - status.claimed).to.equal(status.balance);
  });

  it("refuses an unknown --layer before reading anything", async function () {
    await rejects(run("rewards:publish", { week: "3", file: files[2], layer: "sometimes", yes: false }), /--layer/);
  });

  it("refuses a tampered file at verify and at publish", async function () {
    const tampered = path.join(dir, "tampered", "week-2.json");
    fs.mkdirSync(path.dirname(tampered), { recursive: true });
    fs.copyFileSync(files[2].replace(/\.json$/, ".tree"), tampered.replace(/\.json$/, ".tree"));
    const text = fs.readFileSync(files[2], "utf8");
    const entry = readDistribution(files[2]).accounts.find((a) => a.account === never)!;
    fs.writeFileSync(tampered, text.replace(`"${entry.cumulativeWei}"`, `"${entry.cumulativeWei + 1n}"`));
    await rejects(run("rewards:publish", { week: "3", file: tampered, yes: false }), /week-2\.json/);
    await rejects(
      run("rewards:verify", {
        file: tampered,
        activity: path.join(dir, "activity-2.csv"),
        snapshot: path.join(dir, "vehicles-2.csv"),
        previous: files[1],
      }),
      /week-2\.json/,
    );
  });
});
