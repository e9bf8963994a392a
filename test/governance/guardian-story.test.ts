import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  DAY,
  DIMO,
  delegateMembers,
  executeWhenReady,
  proposal,
  propose,
  stakingFixture,
  voteAndQueue,
} from "../staking/fixtures";
import { TestTree } from "../rewards/tree";

const WEEK = 7 * DAY;
const MAX_GUARDIAN_REVOCATIONS = 3;

/**
 * Issue 11's DAO story on the deployed suite (deploySuite wiring): a rogue guardian tries to stop rewards for
 * good by revoking every root, week after week, and to cancel the DAO's vote that removes it. Its revocations
 * are bounded, its cancel is refused, the DAO removes it, and the rewards flow.
 */
async function rogueGuardianFixture() {
  const f = await stakingFixture();
  const vault = await ethers.getContractAt("IssuanceVault", f.record.contracts.IssuanceVault.address);
  const genesis = Number(await vault.genesis());
  const driver = f.drivers[0];
  const policy = await f.distributor.policyHash();
  /** Week `week`'s (cumulative) root: the driver is owed `amount`. */
  const rootOf = (amount: bigint) => new TestTree([{ account: driver.address, amount }]);
  return { ...f, genesis, driver, policy, rootOf };
}

type Story = Awaited<ReturnType<typeof rogueGuardianFixture>>;

/** The publisher posts `week`'s root (no cached layer); returns the tree. */
async function publish(f: Story, week: number, tree: TestTree): Promise<void> {
  await f.distributor
    .connect(f.publisher)
    .publishRoot(week, tree.root, tree.total, ethers.id(`week-${week}`), f.policy, "0x");
}

/** The guardian revokes each republication of `week` until its bound; the last publication stands. */
async function guardianRevokesUntilBound(f: Story, week: number, tree: TestTree): Promise<void> {
  for (let i = 0; i < MAX_GUARDIAN_REVOCATIONS; i++) {
    await publish(f, week, tree);
    await expect(f.distributor.connect(f.guardian).revokePendingRoot())
      .to.emit(f.distributor, "RootRevoked")
      .withArgs(week, tree.root, f.guardian.address);
  }
  await publish(f, week, tree);
  await expect(f.distributor.connect(f.guardian).revokePendingRoot())
    .to.be.revertedWithCustomError(f.distributor, "RewardsGuardianRevocationLimit")
    .withArgs(MAX_GUARDIAN_REVOCATIONS, MAX_GUARDIAN_REVOCATIONS);
}

describe("DAO story: a rogue guardian can neither stop rewards nor keep its roles", function () {
  it("revokes every root it may for weeks, fails to cancel its removal; the DAO removes it and rewards flow", async function () {
    const f = await loadFixture(rogueGuardianFixture);
    const distributorAddress = await f.distributor.getAddress();
    const paid: bigint[] = [];

    // Weeks 0 and 1: each week the guardian revokes the publisher's root three times; the fourth stands,
    // activates after its challenge window, and the driver is paid the week's cumulative amount.
    for (const week of [0, 1]) {
      await time.increaseTo(f.genesis + (week + 1) * WEEK);
      await f.distributor.pullIssuance();
      const tree = f.rootOf(DIMO(1_000 * (week + 1)));
      await guardianRevokesUntilBound(f, week, tree);
      const { activatesAt } = await f.distributor.pendingRoot();
      await time.increaseTo(activatesAt);
      await expect(f.distributor.activateRoot())
        .to.emit(f.distributor, "RootActivated")
        .withArgs(week, tree.root, tree.total);
      const before = await f.token.balanceOf(f.driver.address);
      await f.distributor.claim(f.driver.address, tree.total, 0, tree.proof(f.driver.address));
      paid.push((await f.token.balanceOf(f.driver.address)) - before);
    }
    expect(paid).to.deep.equal([DIMO(1_000), DIMO(1_000)]);

    // The DAO votes to remove the guardian from all three contracts.
    const calls = [
      {
        target: f.timelockAddress,
        data: f.timelock.interface.encodeFunctionData("revokeRole", [
          await f.timelock.CANCELLER_ROLE(),
          f.guardian.address,
        ]),
      },
      {
        target: distributorAddress,
        data: f.distributor.interface.encodeFunctionData("revokeRole", [
          await f.distributor.GUARDIAN_ROLE(),
          f.guardian.address,
        ]),
      },
      {
        target: f.stakingAddress,
        data: f.staking.interface.encodeFunctionData("revokeRole", [
          await f.staking.GUARDIAN_ROLE(),
          f.guardian.address,
        ]),
      },
    ];
    const p = await proposal(f, calls, "Remove the rogue guardian");
    await delegateMembers(f);
    await (await propose(f, p)).wait();
    await voteAndQueue(f, p);
    const [removal] = await f.timelock.queryFilter(f.timelock.filters.RemovalScheduled(undefined, f.guardian.address));
    const id = removal.args.id;
    expect(await f.timelock.isOperationPending(id)).to.equal(true);
    await expect(f.timelock.connect(f.guardian).cancel(id))
      .to.be.revertedWithCustomError(f.timelock, "TimelockCannotCancelOwnRemoval")
      .withArgs(id, f.guardian.address);

    // Meanwhile week 2 has ended: the guardian still revokes up to its bound (the removal is queued, not executed).
    expect(await time.latest()).to.be.greaterThan(f.genesis + 3 * WEEK);
    await f.distributor.pullIssuance();
    const week2 = f.rootOf(DIMO(3_000));
    await guardianRevokesUntilBound(f, 2, week2);

    await (await executeWhenReady(f, p)).wait();
    expect(await f.timelock.hasRole(await f.timelock.CANCELLER_ROLE(), f.guardian.address)).to.equal(false);
    expect(await f.distributor.hasRole(await f.distributor.GUARDIAN_ROLE(), f.guardian.address)).to.equal(false);
    expect(await f.staking.hasRole(await f.staking.GUARDIAN_ROLE(), f.guardian.address)).to.equal(false);

    // Removed, it cannot revoke at all; week 2's root (matured while the removal waited out the timelock) pays.
    await expect(f.distributor.connect(f.guardian).revokePendingRoot())
      .to.be.revertedWithCustomError(f.distributor, "RewardsNotRevoker")
      .withArgs(f.guardian.address);
    await f.distributor.activateRoot();
    let before = await f.token.balanceOf(f.driver.address);
    await f.distributor.claim(f.driver.address, week2.total, 0, week2.proof(f.driver.address));
    expect((await f.token.balanceOf(f.driver.address)) - before).to.equal(DIMO(1_000));

    // Week 3, after the removal: published once, nobody can revoke it, claimable after its window.
    await time.increaseTo(f.genesis + 4 * WEEK);
    await f.distributor.pullIssuance();
    const week3 = f.rootOf(DIMO(4_000));
    await publish(f, 3, week3);
    await expect(f.distributor.connect(f.guardian).revokePendingRoot())
      .to.be.revertedWithCustomError(f.distributor, "RewardsNotRevoker")
      .withArgs(f.guardian.address);
    await time.increaseTo((await f.distributor.pendingRoot()).activatesAt);
    await f.distributor.activateRoot();
    before = await f.token.balanceOf(f.driver.address);
    await f.distributor.claim(f.driver.address, week3.total, 0, week3.proof(f.driver.address));
    expect((await f.token.balanceOf(f.driver.address)) - before).to.equal(DIMO(1_000));
    expect(await f.distributor.claimed(f.driver.address)).to.equal(DIMO(4_000));
  });
});
