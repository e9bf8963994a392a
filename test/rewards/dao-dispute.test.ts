import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, DIMO, GOVERNANCE_CYCLE, passProposal, stakingFixture } from "../staking/fixtures";
import { TestTree } from "./tree";
import { parsePolicy, policyHash } from "../../lib/rewards/policy";

const WEEK = 7 * DAY;
const DISPUTE_PERIOD = 14 * DAY;
const POLICY_FILE = path.join(__dirname, "../../config/rewards-policy.json");

/**
 * The deployed suite (deploySuite wiring) with week 0's root pending: a bad root the DAO wants stopped. The
 * guardian (account 1) does nothing; DAO member B disputes it with the default 10,000 DIMO bond.
 */
async function disputedSuiteFixture() {
  const f = await stakingFixture();
  const genesis = Number(
    await (await ethers.getContractAt("IssuanceVault", f.record.contracts.IssuanceVault.address)).genesis(),
  );
  await time.increaseTo(genesis + WEEK);
  await f.distributor.pullIssuance();
  const tree = new TestTree([{ account: f.outsider.address, amount: DIMO(100_000) }]); // the bad root
  const policy = await f.distributor.policyHash();
  await f.distributor.connect(f.publisher).publishRoot(0, tree.root, tree.total, ethers.id("week-0"), policy, "0x");
  const bond = await f.distributor.disputeBond();
  await f.token.connect(f.memberB).approve(f.distributor, bond);
  await f.distributor.connect(f.memberB).disputePendingRoot(ethers.id("the week-0 file does not verify"));
  const dispute = await f.distributor.pendingDispute();
  return { ...f, tree, bond, dispute, policy };
}

describe("RewardDistributor in the deployed suite: the DAO acts inside the challenge window", function () {
  it("deploys with the default policy's hash and a 10,000 DIMO dispute bond", async function () {
    const f = await loadFixture(disputedSuiteFixture);
    const expected = policyHash(parsePolicy(fs.readFileSync(POLICY_FILE, "utf8"), "rewards-policy.json"));
    expect(f.policy).to.equal(expected);
    expect(f.bond).to.equal(DIMO(10_000));
    expect(await f.distributor.treasury()).to.equal(f.record.contracts.DimoTimelock.address);
  });

  it("a member's dispute holds the root past its window for a whole governance cycle; the DAO upholds it", async function () {
    const f = await loadFixture(disputedSuiteFixture);
    expect(GOVERNANCE_CYCLE).to.be.lessThan(DISPUTE_PERIOD);
    const { activatesAt } = await f.distributor.pendingRoot();
    await time.increaseTo(activatesAt);
    await expect(f.distributor.activateRoot())
      .to.be.revertedWithCustomError(f.distributor, "RewardsRootDisputed")
      .withArgs(0, f.dispute.resolvesBy);
    const data = f.distributor.interface.encodeFunctionData("resolveDispute", [true]);
    const before = await f.token.balanceOf(f.memberB);
    const tx = await passProposal(
      f,
      [{ target: await f.distributor.getAddress(), data }],
      "Uphold the dispute of week 0's root",
    );
    await expect(tx)
      .to.emit(f.distributor, "DisputeResolved")
      .withArgs(0, f.tree.root, true, f.record.contracts.DimoTimelock.address);
    expect(BigInt(await time.latest())).to.be.lessThan(f.dispute.resolvesBy);
    expect((await f.token.balanceOf(f.memberB)) - before).to.equal(f.bond);
    expect((await f.distributor.pendingRoot()).root).to.equal(ethers.ZeroHash);
    expect((await f.distributor.activeRoot()).root).to.equal(ethers.ZeroHash); // never claimable
    expect(await f.distributor.nextWeek()).to.equal(0);
  });

  it("the hold is bounded: unresolved, the root activates exactly DISPUTE_PERIOD after the dispute", async function () {
    const f = await loadFixture(disputedSuiteFixture);
    await time.setNextBlockTimestamp(f.dispute.resolvesBy - 1n);
    await expect(f.distributor.activateRoot()).to.be.revertedWithCustomError(f.distributor, "RewardsRootDisputed");
    await time.setNextBlockTimestamp(f.dispute.resolvesBy);
    await expect(f.distributor.activateRoot())
      .to.emit(f.distributor, "DisputeLapsed")
      .withArgs(0, f.tree.root, f.memberB.address, f.bond);
  });
});
