import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { deploySuite } from "../../scripts/deploy-suite";
import { DEPLOYMENTS_DIR_ENV } from "../../scripts/registry-context";
import { readDistribution } from "../../lib/rewards/distribution";
import { runQuietly as run } from "../helpers/tasks";

const DAY = 86_400;
const WEEK = 7 * DAY;

/**
 * The whole story through the project's own tasks: stake → grants → guardian freeze → slash proposal → vote →
 * queue → execute → compensation in the next root → the affected drivers claim it.
 */
describe("slashing compensation, from the freeze to the drivers' claims", function () {
  this.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-compensation-"));
  const saved = process.env[DEPLOYMENTS_DIR_ENV];
  let snapshotId: string;

  before(async function () {
    snapshotId = await ethers.provider.send("evm_snapshot", []);
    process.env[DEPLOYMENTS_DIR_ENV] = dir;
  });

  after(async function () {
    await ethers.provider.send("evm_revert", [snapshotId]);
    if (saved === undefined) delete process.env[DEPLOYMENTS_DIR_ENV];
    else process.env[DEPLOYMENTS_DIR_ENV] = saved;
  });

  it("pays the slashed consumer's compensation to the drivers whose vehicles it could read, none to its sybils (M-2b)", async function () {
    // Genesis 20 days out, so that week 0 ends after the grants have aged and the slash vote has run.
    const now = (await ethers.provider.getBlock("latest"))!.timestamp;
    const config = JSON.parse(fs.readFileSync(path.join(__dirname, "../../config/deploy/hardhat.json"), "utf8"));
    config.issuance.genesis = new Date((now + 20 * DAY) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const configPath = path.join(dir, "config.json");
    fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
    const { record } = await deploySuite(hre, {
      recordPath: path.join(dir, "hardhat.json"),
      configPath,
      reset: true,
      log: () => undefined,
    });
    const signers = await ethers.getSigners();
    const [guardian, memberA, consumer] = [signers[1], signers[2], signers[8]];
    const drivers = [signers[10], signers[11], signers[12]];
    // The consumer's second address: it mints vehicles and grants them to the consumer before the freeze.
    const sybil = signers[13];
    const token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
    const staking = await ethers.getContractAt("ConsumerStaking", record.contracts.ConsumerStaking.address);
    const vehicles = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
    const distributor = await ethers.getContractAt("RewardDistributor", record.contracts.RewardDistributor.address);
    const mint = async (owner: (typeof signers)[number], tag: string) =>
      vehicles.connect(owner).mintVehicle({
        make: "Make",
        model: "M",
        year: 2023,
        powertrain: 3,
        vinCommitment: ethers.id(`story-${tag}`),
      });

    // Three drivers, one vehicle each, connected through the approved software integration (account 5); the
    // consumer stakes and two drivers grant it access (the consumer, a local account, signs their offers).
    for (const [i, d] of drivers.entries()) await mint(d, `driver-${i}`);
    for (const vehicle of ["1", "2", "3"]) await run("connection:attest", { vehicle });
    await token.connect(memberA).transfer(consumer.address, ethers.parseEther("50000"));
    await run("staking:stake", { amount: "30000", from: "8" });
    await run("access:grant", {
      vehicle: "1",
      consumer: consumer.address,
      types: "location,odometer",
      expires: "+90d",
      ownerAccount: "10",
    });
    await run("access:grant", {
      vehicle: "2",
      consumer: consumer.address,
      types: "location",
      expires: "+90d",
      ownerAccount: "11",
    });
    expect(await staking.minGrantAge()).to.equal(7n * BigInt(DAY));

    // The attack (measured before the fix: 13,636 of 15,000 DIMO to the sybil, 682 to each driver): one sybil
    // vehicle granted early (but never paired or connected), twenty minted and granted the day before the freeze.
    await mint(sybil, "sybil-0");
    await run("access:grant", {
      vehicle: "4",
      consumer: consumer.address,
      types: "location",
      expires: "+90d",
      ownerAccount: "13",
    });
    await time.increase(7 * DAY);
    for (let i = 1; i <= 20; i++) {
      await mint(sybil, `sybil-${i}`);
      await run("access:grant", {
        vehicle: String(4 + i),
        consumer: consumer.address,
        types: "location",
        expires: "+90d",
        ownerAccount: "13",
      });
    }
    // The third driver's vehicle is connected but granted only now, a day before the freeze: too young.
    await run("access:grant", {
      vehicle: "3",
      consumer: consumer.address,
      types: "location",
      expires: "+90d",
      ownerAccount: "12",
    });
    expect(await staking.vehiclesAccessed(consumer.address)).to.equal(24n);
    await time.increase(DAY - 60);

    // The guardian freezes at once; the DAO proposes, votes, queues and executes the slash.
    await staking.connect(guardian).freeze(consumer.address);
    await run("gov:delegate", { to: "self", from: "2" });
    await run("gov:delegate", { to: "self", from: "3" });
    await time.increase(60);
    const proposed = await run<{ proposalId: bigint }>("gov:propose-slash", {
      consumer: consumer.address,
      amount: "20000",
      compensation: "15000",
      remainder: "burn",
      evidence: "ipfs://evidence-of-misuse",
      from: "2",
    });
    const proposal = proposed.proposalId.toString();
    await time.increase(DAY + 1);
    await run("gov:vote", { proposal, support: "for", from: "2" });
    await run("gov:vote", { proposal, support: "for", from: "3" });
    await time.increase(WEEK);
    await run("gov:queue", { proposal });
    await time.increase(2 * DAY + 1);
    const supply = await token.totalSupply();
    await run("gov:execute", { proposal });
    expect(await token.totalSupply()).to.equal(supply - ethers.parseEther("5000"));
    expect(await distributor.totalFunded()).to.equal(ethers.parseEther("15000"));

    // Compensation credits: the two drivers who granted access, 7,500 DIMO each; the sybil's 21 vehicles nothing.
    const credits = path.join(dir, "credits.csv");
    const compensation = await run<{ vehicles: unknown[]; excluded: { vehicleId: bigint; reason: string }[] }>(
      "staking:compensation",
      { slash: "1", out: credits },
    );
    expect(compensation.vehicles).to.have.length(2);
    expect(compensation.excluded).to.deep.equal([
      { vehicleId: 3n, reason: "granted-too-late" },
      { vehicleId: 4n, reason: "not-readable" },
      ...Array.from({ length: 20 }, (_, i) => ({ vehicleId: BigInt(5 + i), reason: "not-readable" })),
    ]);
    expect(fs.readFileSync(credits, "utf8")).to.equal(
      [
        "account,amount_wei,reason",
        ...[drivers[0].address, drivers[1].address]
          .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))
          .map((a) => `${a},${ethers.parseEther("7500")},slash:1`),
        "",
      ].join("\n"),
    );

    // The next weekly root carries the credits; the affected drivers claim them with their rewards.
    await time.increaseTo(record.genesis + WEEK + 60);
    const snapshot = path.join(dir, "vehicles.csv");
    await run("registry:snapshot", { out: snapshot });
    const activity = path.join(dir, "activity.csv");
    fs.writeFileSync(
      activity,
      "vehicle_id,active,km_driven,data_types,referral_code\n1,true,20,location,\n2,false,0,,\n3,true,10,,\n",
    );
    const out = path.join(dir, "distributions", "week-0.json");
    await run("rewards:compute", { week: "0", activity, snapshot, credits, out });
    await run("rewards:publish", { week: "0", file: out, yes: true });
    await time.increase(DAY);
    await run("rewards:activate", {});
    const d = readDistribution(out);
    for (const driver of drivers.slice(0, 2)) {
      const entry = d.accounts.find((a) => a.account.toLowerCase() === driver.address.toLowerCase())!;
      expect(entry.credits).to.deep.equal([{ amountWei: ethers.parseEther("7500"), reason: "slash:1" }]);
      await run("rewards:claim", { file: out, account: driver.address });
      expect(await token.balanceOf(driver.address)).to.equal(entry.cumulativeWei);
      expect(entry.cumulativeWei >= ethers.parseEther("7500")).to.equal(true);
    }
    // The same compensation cannot be paid twice: the next week refuses the same credits.
    await time.increaseTo(record.genesis + 2 * WEEK + 60);
    await run("registry:snapshot", { out: snapshot });
    let refused: unknown;
    try {
      await run("rewards:compute", {
        week: "1",
        activity,
        snapshot,
        credits,
        previous: out,
        out: path.join(dir, "distributions", "week-1.json"),
      });
    } catch (e) {
      refused = e;
    }
    expect((refused as Error)?.message).to.match(/--credits: "slash:1" was already paid in week 0/);
    expect(fs.existsSync(path.join(dir, "distributions", "week-1.json"))).to.equal(false);
    // The third driver's grant was too young: no compensation credit.
    const third = d.accounts.find((a) => a.account.toLowerCase() === drivers[2].address.toLowerCase());
    expect(third?.credits ?? []).to.deep.equal([]);
  });
});
