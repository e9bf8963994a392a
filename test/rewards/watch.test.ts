/**
 * rewards:watch on the in-process Hardhat network: an honest root is left alone; a rogue root (an oracle moving one
 * driver's DIMO to another account, with a self-consistent file and tree) is revoked by the guardian key inside its
 * window and never becomes claimable; without a key the watcher alerts and exits non-zero; a restart never acts
 * twice. Without a guardian key but with a disputer's (DIMO_DISPUTER_KEY), it disputes the rogue root with the
 * bond, which holds its activation until the guardian or the DAO decides.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatNetworkHDAccountsConfig } from "hardhat/types";
import { deploySuite } from "../../scripts/deploy-suite";
import { DEPLOYMENTS_DIR_ENV } from "../../scripts/registry-context";
import { readDistribution, withTree, writeDistribution } from "../../lib/rewards/distribution";
import { buildTree } from "../../lib/rewards/merkle";
import { DISPUTER_KEY_ENV, GUARDIAN_KEY_ENV } from "../../tasks/rewards";
import type { RewardDistributor, VehicleRegistry } from "../../typechain-types";
import { rejects } from "../helpers/rejects";
import { runQuietly as run } from "../helpers/tasks";

const WEEK = 604_800;
const DAY = 86_400;

describe("rewards:watch", function () {
  this.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-watch-test-"));
  const published = path.join(dir, "published"); // what the oracle serves
  const honest = path.join(dir, "honest"); // what an honest oracle computes
  const saved = process.env[DEPLOYMENTS_DIR_ENV];
  let snapshotId: string;
  let distributor: RewardDistributor;
  let vehicles: VehicleRegistry;
  let genesis: number;
  let guardianKey: string;
  let alice: string;
  let bob: string;

  before(async function () {
    snapshotId = await ethers.provider.send("evm_snapshot", []);
    process.env[DEPLOYMENTS_DIR_ENV] = dir;
    const { record } = await deploySuite(hre, {
      recordPath: path.join(dir, "hardhat.json"),
      reset: true,
      log: () => undefined,
    });
    distributor = await ethers.getContractAt("RewardDistributor", record.contracts.RewardDistributor.address);
    vehicles = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
    genesis = record.genesis;
    const accounts = hre.network.config.accounts as HardhatNetworkHDAccountsConfig;
    guardianKey = ethers.HDNodeWallet.fromPhrase(accounts.mnemonic, undefined, `${accounts.path}/1`).privateKey;
    expect(
      await distributor.hasRole(await distributor.GUARDIAN_ROLE(), new ethers.Wallet(guardianKey).address),
    ).to.equal(true);
    const signers = await ethers.getSigners();
    [alice, bob] = [signers[10].address, signers[11].address];
    for (const [i, who] of [10, 11].entries()) {
      await vehicles
        .connect(signers[who])
        .mintVehicle({ make: "Make", model: "M", year: 2022, powertrain: 0, vinCommitment: ethers.id(`watch-${i}`) });
      await run("connection:attest", { vehicle: String(i + 1), ownerAccount: String(who) });
    }
    fs.mkdirSync(published, { recursive: true });
  });

  after(async function () {
    await ethers.provider.send("evm_revert", [snapshotId]);
    if (saved === undefined) delete process.env[DEPLOYMENTS_DIR_ENV];
    else process.env[DEPLOYMENTS_DIR_ENV] = saved;
    delete process.env[GUARDIAN_KEY_ENV];
    delete process.env[DISPUTER_KEY_ENV];
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Computes week `week` honestly; its inputs are published in the watcher's layout. Returns the honest file. */
  async function computeHonest(week: number): Promise<string> {
    await time.increaseTo(genesis + (week + 1) * WEEK + 60);
    const inputs = path.join(published, `week-${week}`);
    fs.mkdirSync(inputs, { recursive: true });
    const snapshot = path.join(inputs, "snapshot.csv");
    await run("registry:snapshot", { out: snapshot });
    const activity = path.join(inputs, "activity.csv");
    fs.writeFileSync(
      activity,
      "vehicle_id,active,km_driven,data_types,referral_code\n1,true,10,location,\n2,true,5,,\n",
    );
    const out = path.join(honest, `week-${week}.json`);
    const previous = week === 0 ? undefined : path.join(published, `week-${week - 1}.json`);
    await run("rewards:compute", { week: String(week), activity, snapshot, previous, out });
    return out;
  }

  /** Puts a distribution file (and its tree) where the watcher fetches them. */
  function serve(file: string): void {
    const week = readDistribution(file).week;
    for (const ext of [".json", ".tree"])
      fs.copyFileSync(file.replace(/\.json$/, ext), path.join(published, `week-${week}${ext}`));
  }

  /** The oracle's forgery: `amount` moved from bob to alice, the tree rebuilt, the totals kept (passes publish). */
  async function forge(file: string, amount: bigint): Promise<string> {
    const { root: _r, tree: _t, cachedLayer: _c, ...d } = readDistribution(file);
    d.accounts.find((a) => a.account === alice)!.cumulativeWei += amount;
    d.accounts.find((a) => a.account === bob)!.cumulativeWei -= amount;
    const tree = await buildTree(d.accounts);
    return writeDistribution(path.join(dir, "forged"), withTree(d, tree), tree).jsonPath;
  }

  it("leaves an honest root alone, revokes a rogue one in its window, then verifies the corrected root", async function () {
    const state = path.join(dir, "state.json");
    process.env[GUARDIAN_KEY_ENV] = guardianKey;
    // Week 0, honest.
    const week0 = await computeHonest(0);
    serve(week0);
    await run("rewards:publish", { week: "0", file: week0, yes: true });
    const root0 = (await distributor.pendingRoot()).root;
    expect(await run("rewards:watch", { files: published, once: true, state })).to.deep.equal(["verified"]);
    expect((await distributor.pendingRoot()).root).to.equal(root0);
    await time.increase(DAY);
    await run("rewards:activate", {});
    // Week 1: the oracle publishes a forgery (and serves it).
    const week1 = await computeHonest(1);
    const forged = await forge(week1, 10n ** 18n);
    serve(forged);
    await run("rewards:publish", { week: "1", file: forged, yes: true });
    const rogue = (await distributor.pendingRoot()).root;
    expect(await run("rewards:watch", { files: published, once: true, state })).to.deep.equal(["revoked"]);
    expect((await distributor.pendingRoot()).root).to.equal(ethers.ZeroHash);
    expect(await distributor.nextWeek()).to.equal(1n);
    const revoked = await distributor.queryFilter(distributor.filters.RootRevoked(1n, rogue));
    expect(revoked.length).to.equal(1);
    // Never claimable: after the window, nothing to activate; the active root is still week 0's.
    await time.increase(DAY);
    await rejects(run("rewards:activate", {}), /no pending root/);
    expect((await distributor.activeRoot()).root).to.equal(root0);
    await rejects(run("rewards:claim", { file: forged, account: alice }), /not the active one/);
    // The corrected root is published and verified; it activates and pays.
    serve(week1);
    await run("rewards:publish", { week: "1", file: week1, yes: true });
    expect(await run("rewards:watch", { files: published, once: true, state })).to.deep.equal(["verified"]);
    await time.increase(DAY);
    await run("rewards:activate", {});
    const entry = readDistribution(week1).accounts.find((a) => a.account === bob)!;
    await run("rewards:claim", { file: week1, account: bob });
    expect(await distributor.claimed(bob)).to.equal(entry.cumulativeWei);
    // Restarted on the same state, nothing is pending any more: nothing to do.
    expect(await run("rewards:watch", { files: published, once: true, state })).to.deep.equal([]);
  });

  it("without a key, alerts and exits non-zero (nothing sent); restarted with one, revokes; never acts twice on a root", async function () {
    delete process.env[GUARDIAN_KEY_ENV];
    const state = path.join(dir, "state-alert.json");
    const week2 = await computeHonest(2);
    const forged = await forge(week2, 1n);
    serve(forged);
    await run("rewards:publish", { week: "2", file: forged, yes: true });
    const block = await ethers.provider.getBlockNumber();
    await rejects(
      run("rewards:watch", { files: published, once: true, state }),
      /week 2's pending root 0x[0-9a-f]{64} does not verify and no DIMO_GUARDIAN_KEY or DIMO_DISPUTER_KEY was given/,
    );
    expect(await ethers.provider.getBlockNumber()).to.equal(block);
    // Restarted with the guardian key, it revokes; restarted again, it never acts twice (the root is handled).
    process.env[GUARDIAN_KEY_ENV] = guardianKey;
    expect(await run("rewards:watch", { files: published, once: true, state })).to.deep.equal(["revoked"]);
    const entries = JSON.parse(fs.readFileSync(state, "utf8")).map((e: { action: string }) => e.action);
    expect(entries).to.deep.equal(["alerted", "revoked"]);
    const after = await ethers.provider.getBlockNumber();
    serve(week2);
    await run("rewards:publish", { week: "2", file: week2, yes: true });
    expect(await run("rewards:watch", { files: published, once: true, state })).to.deep.equal(["verified"]);
    expect(await run("rewards:watch", { files: published, once: true, state })).to.deep.equal([]);
    expect(await ethers.provider.getBlockNumber()).to.equal(after + 1); // only the publish was mined
  });

  it("treats a pending root whose files are not published as bad", async function () {
    process.env[GUARDIAN_KEY_ENV] = guardianKey;
    const week3 = await computeHonest(3);
    await run("rewards:publish", { week: "3", file: week3, yes: true });
    const state = path.join(dir, "state-missing.json");
    const empty = fs.mkdtempSync(path.join(dir, "empty-"));
    expect(await run("rewards:watch", { files: empty, once: true, state })).to.deep.equal(["revoked"]);
    expect((await distributor.pendingRoot()).root).to.equal(ethers.ZeroHash);
  });

  it("with only a disputer's key, disputes a rogue root with the bond: activation is held until the guardian upholds it", async function () {
    delete process.env[GUARDIAN_KEY_ENV];
    const accounts = hre.network.config.accounts as HardhatNetworkHDAccountsConfig;
    const member = ethers.HDNodeWallet.fromPhrase(accounts.mnemonic, undefined, `${accounts.path}/2`); // holds DIMO
    process.env[DISPUTER_KEY_ENV] = member.privateKey;
    const token = await ethers.getContractAt("DimoToken", await distributor.token());
    const bond = await distributor.disputeBond();
    // Week 3 was revoked above; the oracle now publishes a forgery of it.
    const forged = await forge(path.join(honest, "week-3.json"), 10n ** 18n);
    serve(forged);
    await run("rewards:publish", { week: "3", file: forged, yes: true });
    const rogue = await distributor.pendingRoot();
    const before = await token.balanceOf(member.address);
    const state = path.join(dir, "state-dispute.json");
    expect(await run("rewards:watch", { files: published, once: true, state })).to.deep.equal(["disputed"]);
    const dispute = await distributor.pendingDispute();
    expect(dispute.disputer).to.equal(member.address);
    expect(dispute.bond).to.equal(bond);
    expect(before - (await token.balanceOf(member.address))).to.equal(bond);
    // Restarted, it does not dispute twice; past the challenge window the root is still held.
    expect(await run("rewards:watch", { files: published, once: true, state })).to.deep.equal([]);
    await time.increaseTo(rogue.activatesAt);
    await expect(distributor.activateRoot()).to.be.revertedWithCustomError(distributor, "RewardsRootDisputed");
    // The guardian upholds the dispute: the root is revoked, the bond returned; it never became claimable.
    const guardian = new ethers.Wallet(guardianKey, ethers.provider);
    await expect(distributor.connect(guardian).resolveDispute(true))
      .to.emit(distributor, "DisputeResolved")
      .withArgs(3, rogue.root, true, guardian.address);
    expect(await token.balanceOf(member.address)).to.equal(before);
    expect((await distributor.pendingRoot()).root).to.equal(ethers.ZeroHash);
    expect((await distributor.activeRoot()).root).not.to.equal(rogue.root);
  });
});
