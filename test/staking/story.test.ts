import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import {
  DIMO,
  EVIDENCE_HASH,
  EVIDENCE_URI,
  FREEZE_DURATION,
  ProposalState,
  Remainder,
  TIMELOCK_DELAY,
  VOTING_DELAY,
  VOTING_PERIOD,
  VoteType,
  compensationReason,
  grant,
  proposal,
  requiredStake,
  stakingFixture,
  vehiclesGrantedAsOf,
  type Proposal,
  type StakingContext,
} from "./fixtures";

/**
 * The whole story on chain, through real governance (Governor + Timelock as deploySuite wires them):
 *
 *   consumer A stakes → drivers grant it access to vehicles 0–4 → driver of vehicle 4 revokes → the guardian
 *   freezes consumer A (misuse reported) → the driver of vehicle 1 revokes after the freeze, a new grant is
 *   refused → the consumer moves its spare stake into unbonding → both DAO members delegate → member A proposes
 *   `slash(consumerA, 8,000, 6,000, Burn, 0, evidenceHash, uri)` on the staking contract → both vote for →
 *   queue → execute after the timelock delay → Slashed and Funded → the 4,000 DIMO left do not cover its three
 *   grants, so it reads none of them → it tops up to requiredStake(3) and reads them again (still frozen).
 *
 * Affected vehicles (who is compensated): the vehicles consumer A held a grant for as of the freeze, re-derived
 * from DataAccess's AccessGranted / AccessRevoked events up to the freeze block: vehicles 0, 1, 2 and 3 (ids 1–4;
 * owners drivers 0, 1, 2, 3). Vehicle 4 (revoked before the freeze) and vehicle 5 (refused after it) are not
 * affected; vehicle 1 is, although revoked after the freeze. Paying them through the next rewards root is the
 * rewards pipeline's job (another engineer); this story stops at the funded distributor.
 *
 * The `it`s below are the steps of one story and run in order on one chain state.
 */
describe("ConsumerStaking story: stake, grant, freeze, DAO slash, compensation funded", function () {
  const STAKE = DIMO(12_000);
  const SPARE = DIMO(1_960); // what is left above requiredStake(3) = 10,030 after the post-freeze revoke, minus 10
  const SLASH = DIMO(8_000);
  const COMPENSATION = DIMO(6_000);
  const BURNED = SLASH - COMPENSATION;
  const GRANTED = [0, 1, 2, 3, 4];
  const AFFECTED = [0, 1, 2, 3];
  /** Grants left after the post-freeze revoke of vehicle 1. */
  const REMAINING = [0, 2, 3];

  let f: StakingContext;
  let consumer: string;
  let freezeBlock: number;
  let frozenAt: number;
  let slash: Proposal;
  let start: { supply: bigint; funded: bigint; distributor: bigint; position: bigint; timelock: bigint };

  before(async function () {
    f = await loadFixture(stakingFixture);
    consumer = f.consumerA.address;
  });

  it("1. the consumer stakes 12,000 DIMO (enough for 200 vehicles)", async function () {
    await f.token.connect(f.consumerA).approve(f.stakingAddress, STAKE);
    await expect(f.staking.connect(f.consumerA).stake(STAKE))
      .to.emit(f.staking, "Staked")
      .withArgs(consumer, STAKE, STAKE);
    expect(await f.staking.coversOneMore(consumer)).to.equal(true);
  });

  it("2. drivers grant it access to vehicles 0–4; each grant reserves capacity", async function () {
    for (const i of GRANTED) {
      await expect(grant(f, i, f.consumerA))
        .to.emit(f.access, "AccessGranted")
        .withArgs(f.vehicleIds[i], consumer, f.vehicleOwners[i].address, anyValue, anyValue, 0);
    }
    expect(await f.staking.vehiclesAccessed(consumer)).to.equal(5n);
    expect(await f.access.canRead(consumer, f.vehicleIds[2], 1)).to.equal(true);
  });

  it("3. the owner of vehicle 4 revokes before anything happens", async function () {
    await expect(f.access.connect(f.vehicleOwners[4]).revoke(f.vehicleIds[4], consumer))
      .to.emit(f.access, "AccessRevoked")
      .withArgs(f.vehicleIds[4], consumer, f.vehicleOwners[4].address);
    expect(await f.staking.vehiclesAccessed(consumer)).to.equal(4n);
  });

  it("4. misuse is reported: the guardian freezes the consumer at once, for 21 days", async function () {
    const tx = await f.staking.connect(f.guardian).freeze(consumer);
    const receipt = (await tx.wait())!;
    freezeBlock = receipt.blockNumber;
    frozenAt = (await ethers.provider.getBlock(freezeBlock))!.timestamp;
    await expect(tx)
      .to.emit(f.staking, "Frozen")
      .withArgs(consumer, frozenAt + FREEZE_DURATION, f.guardian.address);
    expect(await f.staking.frozenAt(consumer)).to.equal(frozenAt);
  });

  it("5. after the freeze: vehicle 1's owner revokes, and a new grant (vehicle 5) is refused", async function () {
    await f.access.connect(f.vehicleOwners[1]).revoke(f.vehicleIds[1], consumer);
    await expect(grant(f, 5, f.consumerA))
      .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
      .withArgs(consumer, frozenAt + FREEZE_DURATION);
    expect(await f.staking.vehiclesAccessed(consumer)).to.equal(3n);
  });

  it("6. the consumer moves its spare stake into unbonding (it stays slashable)", async function () {
    await expect(f.staking.connect(f.consumerA).requestUnstake(SPARE)).to.emit(f.staking, "UnstakeRequested");
    const p = await f.staking.position(consumer);
    expect([p.staked, p.unbonding]).to.deep.equal([STAKE - SPARE, SPARE]);
    expect(p.staked).to.be.at.least(requiredStake(3));
  });

  it("7. both DAO members delegate their votes to themselves", async function () {
    await f.token.connect(f.memberA).delegate(f.memberA.address);
    await f.token.connect(f.memberB).delegate(f.memberB.address);
    await time.increase(1);
    expect(await f.token.getVotes(f.memberA.address)).to.equal(await f.token.balanceOf(f.memberA.address));
    expect(await f.token.getVotes(f.memberB.address)).to.equal(DIMO(20_000_000) - DIMO(100_000));
  });

  it("8. member A proposes slash(consumer, 8,000, 6,000, Burn, 0, evidenceHash, uri) on the staking contract", async function () {
    slash = await proposal(
      f,
      [
        {
          target: f.stakingAddress,
          data: f.staking.interface.encodeFunctionData("slash", [
            consumer,
            SLASH,
            COMPENSATION,
            Remainder.Burn,
            0, // the vehicles as of the freeze
            EVIDENCE_HASH,
            EVIDENCE_URI,
          ]),
        },
      ],
      `Slash consumer ${consumer}: 8,000 DIMO, 6,000 to the affected drivers, the rest burned. Evidence: ${EVIDENCE_URI}`,
    );
    await expect(f.governor.connect(f.memberA).propose(slash.targets, slash.values, slash.calldatas, slash.description))
      .to.emit(f.governor, "ProposalCreated")
      .withArgs(
        slash.proposalId,
        f.memberA.address,
        slash.targets,
        slash.values,
        [""],
        slash.calldatas,
        anyValue,
        anyValue,
        slash.description,
      );
    expect(await f.governor.state(slash.proposalId)).to.equal(ProposalState.Pending);
  });

  it("9. after the 1-day voting delay both members vote for", async function () {
    await time.increase(VOTING_DELAY + 1);
    expect(await f.governor.state(slash.proposalId)).to.equal(ProposalState.Active);
    await expect(f.governor.connect(f.memberA).castVote(slash.proposalId, VoteType.For)).to.emit(
      f.governor,
      "VoteCast",
    );
    await expect(f.governor.connect(f.memberB).castVote(slash.proposalId, VoteType.For)).to.emit(
      f.governor,
      "VoteCast",
    );
    // Still frozen, and nothing can leave meanwhile.
    await expect(f.staking.connect(f.consumerA).withdraw()).to.be.revertedWithCustomError(
      f.staking,
      "StakingStillUnbonding",
    );
  });

  it("10. after the 7-day voting period it has succeeded and is queued on the Timelock", async function () {
    await time.increase(VOTING_PERIOD);
    expect(await f.governor.state(slash.proposalId)).to.equal(ProposalState.Succeeded);
    await expect(f.governor.queue(slash.targets, slash.values, slash.calldatas, slash.descriptionHash)).to.emit(
      f.governor,
      "ProposalQueued",
    );
    expect(await f.governor.state(slash.proposalId)).to.equal(ProposalState.Queued);
  });

  it("11. after the 2-day timelock delay it executes: Slashed and Funded", async function () {
    await time.increase(TIMELOCK_DELAY);
    start = {
      supply: await f.token.totalSupply(),
      funded: await f.distributor.totalFunded(),
      distributor: await f.token.balanceOf(await f.distributor.getAddress()),
      position: STAKE,
      timelock: await f.token.balanceOf(f.timelockAddress),
    };
    const tx = f.governor.execute(slash.targets, slash.values, slash.calldatas, slash.descriptionHash);
    await expect(tx)
      .to.emit(f.staking, "Slashed")
      .withArgs(consumer, 1, SLASH, COMPENSATION, BURNED, Remainder.Burn, frozenAt, EVIDENCE_HASH, EVIDENCE_URI);
    await expect(tx).to.emit(f.distributor, "Funded").withArgs(f.stakingAddress, COMPENSATION, compensationReason(1));
    expect(await f.governor.state(slash.proposalId)).to.equal(ProposalState.Executed);
    // The freeze (21 days) outlasted the whole cycle (10 days).
    expect(await time.latest()).to.be.lessThan(frozenAt + FREEZE_DURATION);
  });

  it("12. the distributor's totalFunded grew by the compensation and holds it", async function () {
    expect(await f.distributor.totalFunded()).to.equal(start.funded + COMPENSATION);
    expect(await f.token.balanceOf(await f.distributor.getAddress())).to.equal(start.distributor + COMPENSATION);
  });

  it("13. the supply shrank by exactly the burned remainder; the treasury got nothing", async function () {
    expect(await f.token.totalSupply()).to.equal(start.supply - BURNED);
    expect(await f.token.balanceOf(f.timelockAddress)).to.equal(start.timelock);
  });

  it("14. the consumer's position shrank by the slash, unbonding stake first", async function () {
    const p = await f.staking.position(consumer);
    expect(p.staked + p.unbonding).to.equal(start.position - SLASH);
    expect([p.staked, p.unbonding]).to.deep.equal([STAKE - SLASH, 0n]);
    expect(await f.staking.totals()).to.deep.equal([STAKE - SLASH, 0n]);
    expect(await f.token.balanceOf(f.stakingAddress)).to.equal(STAKE - SLASH);
    expect(await f.staking.slashCount()).to.equal(1n);
    // The DAO has acted: the guardian may freeze this consumer again.
    expect(p.guardianFreezeSpent).to.equal(false);
  });

  it("15. 4,000 DIMO no longer cover its three grants: the records stay, but it can read none of them", async function () {
    const p = await f.staking.position(consumer);
    expect([p.staked, p.vehiclesAccessed]).to.deep.equal([DIMO(4_000), 3n]);
    expect(p.staked).to.be.lessThan(requiredStake(3));
    expect(await f.staking.isCovered(consumer)).to.equal(false);
    for (const i of REMAINING) {
      expect((await f.access.grantOf(f.vehicleIds[i], consumer)).permissions).to.not.equal(0n);
      expect(await f.access.canRead(consumer, f.vehicleIds[i], 0)).to.equal(false);
      expect(await f.access.canRead(consumer, f.vehicleIds[i], 1)).to.equal(false);
    }
  });

  it("16. the affected vehicles, re-derived from the DataAccess events up to the freeze, are the ones granted then", async function () {
    const affected = await vehiclesGrantedAsOf(f, consumer, freezeBlock);
    expect(affected).to.deep.equal(AFFECTED.map((i) => f.vehicleIds[i]));
    // Their owners are the drivers to compensate in the next root.
    const owners = AFFECTED.map((i) => f.vehicleOwners[i].address);
    expect(owners).to.deep.equal(f.drivers.map((d) => d.address));
    // Today's records differ (vehicle 1 was revoked after the freeze): the freeze block is what counts.
    expect(await vehiclesGrantedAsOf(f, consumer, await ethers.provider.getBlockNumber())).to.deep.equal(
      REMAINING.map((i) => f.vehicleIds[i]),
    );
  });

  it("17. the consumer tops up to requiredStake(3): its three grants count again, although it is still frozen", async function () {
    const topUp = requiredStake(3) - DIMO(4_000);
    await f.token.connect(f.consumerA).approve(f.stakingAddress, topUp);
    await expect(f.staking.connect(f.consumerA).stake(topUp))
      .to.emit(f.staking, "Staked")
      .withArgs(consumer, topUp, requiredStake(3));
    expect(await f.staking.isCovered(consumer)).to.equal(true);
    for (const i of REMAINING) expect(await f.access.canRead(consumer, f.vehicleIds[i], 0)).to.equal(true);
    expect(await time.latest()).to.be.lessThan(frozenAt + FREEZE_DURATION);
    // No room for a fourth, and no new grant while frozen anyway.
    expect(await f.staking.coversOneMore(consumer)).to.equal(false);
  });
});
