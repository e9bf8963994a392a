import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { InputError } from "../../lib/errors";
import { parseDeployConfig } from "../../lib/deploy-config";
import { deploySuite } from "../../scripts/deploy-suite";
import {
  DAY,
  DEFAULT_ADMIN_ROLE,
  DIMO,
  EVIDENCE_HASH,
  EVIDENCE_URI,
  FREEZE_DURATION,
  GOVERNANCE_CYCLE,
  ProposalState,
  Remainder,
  UNBONDING_PERIOD,
  asDao,
  asTimelock,
  delegateMembers,
  executeWhenReady,
  grant,
  grantAll,
  passProposal,
  propose,
  proposal,
  requiredStake,
  stake,
  stakingFixture,
  voteAndQueue,
  type StakingContext,
} from "./fixtures";

/** How a data consumer (or a rogue guardian) might try to get around staking, and why each attempt fails. */

/** Consumer B staked 50,000 DIMO; consumer A exactly enough for two vehicles and holds both grants. */
async function attackFixture() {
  const f = await stakingFixture();
  await stake(f, f.consumerB, DIMO(50_000));
  await stake(f, f.consumerA, requiredStake(2));
  await grantAll(f, [0, 1], f.consumerA);
  await delegateMembers(f);
  return f;
}

function slashCall(f: StakingContext, consumer: string, amount: bigint, compensation: bigint, affectedAsOf: number) {
  return {
    target: f.stakingAddress,
    data: f.staking.interface.encodeFunctionData("slash", [
      consumer,
      amount,
      compensation,
      Remainder.Burn,
      affectedAsOf,
      EVIDENCE_HASH,
      EVIDENCE_URI,
    ]),
  };
}

describe("ConsumerStaking attacks", function () {
  describe("withdraw before the slash lands", function () {
    it("unbonding (14 d) outlasts the governance cycle (10 d): the slash executes first and takes the unbonding stake", async function () {
      const f = await loadFixture(attackFixture);
      const consumer = f.consumerB;
      // Misuse is reported; the DAO proposes to slash everything, counting vehicles as of now. No guardian freeze.
      const reportedAt = await time.latest();
      const p = await proposal(
        f,
        [slashCall(f, consumer.address, DIMO(50_000), DIMO(40_000), reportedAt)],
        "Slash consumer B for reselling data",
      );
      const proposed = await (await propose(f, p)).wait();
      const proposedAt = (await ethers.provider.getBlock(proposed!.blockNumber))!.timestamp;
      // The consumer sees the proposal and pulls everything out at once.
      const requested = await (await f.staking.connect(consumer).requestUnstake(DIMO(50_000))).wait();
      const requestedAt = (await ethers.provider.getBlock(requested!.blockNumber))!.timestamp;
      const { releaseAt } = await f.staking.position(consumer.address);
      expect(releaseAt).to.equal(BigInt(requestedAt + UNBONDING_PERIOD));
      expect(releaseAt - BigInt(proposedAt)).to.be.greaterThan(BigInt(GOVERNANCE_CYCLE));

      // Throughout the vote and the timelock delay the unbonding stake cannot leave.
      await expect(f.staking.connect(consumer).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingStillUnbonding")
        .withArgs(consumer.address, releaseAt);
      await voteAndQueue(f, p);
      const eta = await f.governor.proposalEta(p.proposalId);
      expect(eta - BigInt(proposedAt)).to.be.lessThan(BigInt(GOVERNANCE_CYCLE + 60));
      expect(eta).to.be.lessThan(releaseAt);
      await time.increaseTo(eta - 1n);
      await expect(f.staking.connect(consumer).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingStillUnbonding")
        .withArgs(consumer.address, releaseAt);

      const supply = await f.token.totalSupply();
      await expect(executeWhenReady(f, p))
        .to.emit(f.staking, "Slashed")
        .withArgs(
          consumer.address,
          1,
          DIMO(50_000),
          DIMO(40_000),
          DIMO(10_000),
          Remainder.Burn,
          reportedAt,
          EVIDENCE_HASH,
          EVIDENCE_URI,
        );
      const after = await f.staking.position(consumer.address);
      expect([after.staked, after.unbonding]).to.deep.equal([0n, 0n]);
      expect(await f.token.totalSupply()).to.equal(supply - DIMO(10_000));
      await time.increaseTo(releaseAt);
      await expect(f.staking.connect(consumer).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingNothingToWithdraw")
        .withArgs(consumer.address);
    });

    it("a partial slash takes unbonding stake first; only what is left can be withdrawn at releaseAt", async function () {
      const f = await loadFixture(attackFixture);
      const consumer = f.consumerB;
      const p = await proposal(
        f,
        [slashCall(f, consumer.address, DIMO(30_000), DIMO(30_000), await time.latest())],
        "Slash consumer B by 30,000 DIMO",
      );
      await propose(f, p);
      await f.staking.connect(consumer).requestUnstake(DIMO(40_000));
      await voteAndQueue(f, p);
      await (await executeWhenReady(f, p)).wait();
      const after = await f.staking.position(consumer.address);
      expect([after.staked, after.unbonding]).to.deep.equal([DIMO(10_000), DIMO(10_000)]);
      await time.increaseTo(after.releaseAt);
      await expect(f.staking.connect(consumer).withdraw()).to.changeTokenBalances(
        f.token,
        [consumer, f.staking],
        [DIMO(10_000), -DIMO(10_000)],
      );
    });

    it("a consumer whose unbonding ends during the vote withdraws first, but the slash sized on the old stake still takes everything left", async function () {
      const f = await loadFixture(attackFixture);
      const consumer = f.consumerB;
      // The consumer had asked to unstake 20,000 DIMO ten days before the report; nobody froze it.
      await f.staking.connect(consumer).requestUnstake(DIMO(20_000));
      await time.increase(10 * DAY);
      const reportedAt = await time.latest();
      const p = await proposal(
        f,
        [slashCall(f, consumer.address, DIMO(50_000), DIMO(50_000), reportedAt)],
        "Slash all of consumer B",
      );
      await propose(f, p);
      await voteAndQueue(f, p);
      // While the vote runs its unbonding ends: it takes the 20,000 out.
      await expect(f.staking.connect(consumer).withdraw()).to.emit(f.staking, "Withdrawn");
      // The proposal asks for more than is left: the 30,000 left are slashed, and all of it compensates.
      const supply = await f.token.totalSupply();
      const tx = executeWhenReady(f, p);
      await expect(tx)
        .to.emit(f.staking, "Slashed")
        .withArgs(
          consumer.address,
          1,
          DIMO(30_000),
          DIMO(30_000),
          0,
          Remainder.Burn,
          reportedAt,
          EVIDENCE_HASH,
          EVIDENCE_URI,
        );
      await expect(tx).to.emit(f.distributor, "Funded").withArgs(f.stakingAddress, DIMO(30_000), anyValue);
      const after = await f.staking.position(consumer.address);
      expect([after.staked, after.unbonding]).to.deep.equal([0n, 0n]);
      expect(await f.token.totalSupply()).to.equal(supply);
      expect(await f.governor.state(p.proposalId)).to.equal(ProposalState.Executed);
    });
  });

  describe("withdraw while frozen", function () {
    it("the guardian's freeze holds unbonded stake past releaseAt until the slash vote has executed", async function () {
      const f = await loadFixture(attackFixture);
      const consumer = f.consumerB;
      await f.staking.connect(consumer).requestUnstake(DIMO(50_000));
      const { releaseAt } = await f.staking.position(consumer.address);
      // Just before the unbonding ends, misuse is reported: the guardian freezes at once.
      await time.increaseTo(releaseAt - 60n);
      await f.staking.connect(f.guardian).freeze(consumer.address);
      const { frozenUntil } = await f.staking.position(consumer.address);
      expect(frozenUntil - releaseAt).to.be.greaterThan(BigInt(GOVERNANCE_CYCLE));
      await time.increaseTo(releaseAt);
      await expect(f.staking.connect(consumer).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(consumer.address, frozenUntil);

      // Slash through a real vote, counting the vehicles as of the freeze (affectedAsOf 0).
      const execute = await passProposal(
        f,
        [slashCall(f, consumer.address, DIMO(20_000), DIMO(20_000), 0)],
        "Slash consumer B (frozen)",
      );
      await expect(execute).to.emit(f.staking, "Slashed");
      expect(BigInt(await time.latest())).to.be.lessThan(frozenUntil);
      await expect(f.staking.connect(consumer).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(consumer.address, frozenUntil);
      // When the freeze ends, what the slash left can go.
      await time.increaseTo(frozenUntil);
      await expect(f.staking.connect(consumer).withdraw())
        .to.emit(f.staking, "Withdrawn")
        .withArgs(consumer.address, DIMO(30_000));
    });

    it("a new unstake request while frozen does not unlock anything", async function () {
      const f = await loadFixture(attackFixture);
      await f.staking.connect(f.guardian).freeze(f.consumerB.address);
      await f.staking.connect(f.consumerB).requestUnstake(DIMO(1));
      const { releaseAt, frozenUntil } = await f.staking.position(f.consumerB.address);
      await time.increaseTo(releaseAt);
      await expect(f.staking.connect(f.consumerB).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(f.consumerB.address, frozenUntil);
    });
  });

  describe("slash by anyone but the Timelock", function () {
    it("every account, the guardian, the DAO members and the Governor itself are refused", async function () {
      const f = await loadFixture(attackFixture);
      const args = [f.consumerB.address, DIMO(1), 0n, Remainder.Treasury, 1, EVIDENCE_HASH, EVIDENCE_URI] as const;
      for (const who of f.signers) {
        await expect(f.staking.connect(who).slash(...args))
          .to.be.revertedWithCustomError(f.staking, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, DEFAULT_ADMIN_ROLE);
      }
      const governor = await f.governor.getAddress();
      await asTimelock(governor, async (g) => {
        await expect(f.staking.connect(g).slash(...args))
          .to.be.revertedWithCustomError(f.staking, "AccessControlUnauthorizedAccount")
          .withArgs(governor, DEFAULT_ADMIN_ROLE);
      });
    });

    it("the guardian cannot schedule on the Timelock, and nobody can relay through the Governor without a vote", async function () {
      const f = await loadFixture(attackFixture);
      const call = slashCall(f, f.consumerB.address, DIMO(1), 0n, 1);
      const PROPOSER = await f.timelock.PROPOSER_ROLE();
      await expect(
        f.timelock.connect(f.guardian).schedule(call.target, 0, call.data, ethers.ZeroHash, ethers.ZeroHash, 2 * DAY),
      )
        .to.be.revertedWithCustomError(f.timelock, "AccessControlUnauthorizedAccount")
        .withArgs(f.guardian.address, PROPOSER);
      await expect(f.governor.connect(f.memberA).relay(call.target, 0, call.data))
        .to.be.revertedWithCustomError(f.governor, "GovernorOnlyExecutor")
        .withArgs(f.memberA.address);
    });

    it("a proposal that has not passed cannot be executed", async function () {
      const f = await loadFixture(attackFixture);
      const p = await proposal(f, [slashCall(f, f.consumerB.address, DIMO(1), 0n, 1)], "Slash early");
      await propose(f, p);
      await expect(
        f.governor.execute(p.targets, p.values, p.calldatas, p.descriptionHash),
      ).to.be.revertedWithCustomError(f.governor, "GovernorUnexpectedProposalState");
      expect((await f.staking.position(f.consumerB.address)).staked).to.equal(DIMO(50_000));
    });
  });

  describe("slash above stake", function () {
    it("a slash takes at most staked + unbonding, its compensation is at most the slash, and another consumer's stake is never reachable", async function () {
      const f = await loadFixture(attackFixture);
      await f.staking.connect(f.consumerB).requestUnstake(DIMO(10_000));
      await asDao(f, async (tl) => {
        const slash = (amount: bigint, compensation: bigint) =>
          f.staking
            .connect(tl)
            .slash(f.consumerB.address, amount, compensation, Remainder.Burn, 1, EVIDENCE_HASH, EVIDENCE_URI);
        await expect(slash(DIMO(10), DIMO(10) + 1n))
          .to.be.revertedWithCustomError(f.staking, "StakingInvalidSlash")
          .withArgs(DIMO(10), DIMO(10) + 1n, DIMO(50_000));
        // Another consumer's stake is never reachable.
        await expect(
          f.staking.connect(tl).slash(f.consumerC.address, 1n, 0n, Remainder.Burn, 1, EVIDENCE_HASH, EVIDENCE_URI),
        )
          .to.be.revertedWithCustomError(f.staking, "StakingInvalidSlash")
          .withArgs(1n, 0n, 0n);
        await expect(slash(DIMO(50_000) + 1n, 0n))
          .to.emit(f.staking, "Slashed")
          .withArgs(
            f.consumerB.address,
            1,
            DIMO(50_000),
            0,
            DIMO(50_000),
            Remainder.Burn,
            1,
            EVIDENCE_HASH,
            EVIDENCE_URI,
          );
        // Emptied: nothing more to slash.
        await expect(slash(1n, 0n))
          .to.be.revertedWithCustomError(f.staking, "StakingInvalidSlash")
          .withArgs(1n, 0n, 0n);
      });
      expect(await f.staking.totals()).to.deep.equal([requiredStake(2), 0n]);
      expect(await f.token.balanceOf(f.stakingAddress)).to.equal(requiredStake(2));
    });

    it("a proposal asking more than staked executes and takes exactly staked + unbonding", async function () {
      const f = await loadFixture(attackFixture);
      const supply = await f.token.totalSupply();
      await expect(
        passProposal(
          f,
          [slashCall(f, f.consumerB.address, DIMO(50_001), 0n, await time.latest())],
          "Slash more than staked",
        ),
      )
        .to.emit(f.staking, "Slashed")
        .withArgs(
          f.consumerB.address,
          1,
          DIMO(50_000),
          0,
          DIMO(50_000),
          Remainder.Burn,
          anyValue,
          EVIDENCE_HASH,
          EVIDENCE_URI,
        );
      expect(await f.token.totalSupply()).to.equal(supply - DIMO(50_000));
      expect(await f.token.balanceOf(f.stakingAddress)).to.equal(requiredStake(2));
    });

    it("a proposal cannot count the affected vehicles as of a time after the slash executes", async function () {
      const f = await loadFixture(attackFixture);
      const future = (await time.latest()) + 30 * DAY;
      await expect(
        passProposal(
          f,
          [slashCall(f, f.consumerB.address, DIMO(1), 0n, future)],
          "Slash, counting the vehicles a month from now",
        ),
      )
        .to.be.revertedWithCustomError(f.staking, "StakingInvalidParameter")
        .withArgs("affectedAsOf", future);
    });
  });

  describe("a grant above capacity", function () {
    it("the grant past requiredStake(n + 1) is refused with the stake and the requirement", async function () {
      const f = await loadFixture(attackFixture);
      await expect(grant(f, 2, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, requiredStake(2), requiredStake(3));
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(2n);
    });

    it("the consumer cannot reserve or release capacity itself, bypassing DataAccess", async function () {
      const f = await loadFixture(attackFixture);
      await expect(f.staking.connect(f.consumerA).reserveAccess(f.consumerA.address))
        .to.be.revertedWithCustomError(f.staking, "StakingNotAccessRegistry")
        .withArgs(f.consumerA.address);
      await expect(f.staking.connect(f.consumerA).releaseAccess(f.consumerA.address))
        .to.be.revertedWithCustomError(f.staking, "StakingNotAccessRegistry")
        .withArgs(f.consumerA.address);
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).releaseAccess(f.consumerA.address))
          .to.be.revertedWithCustomError(f.staking, "StakingNotAccessRegistry")
          .withArgs(f.timelockAddress);
      });
    });

    it("the consumer cannot pull out the stake behind its grants, nor count unbonding stake as cover", async function () {
      const f = await loadFixture(attackFixture);
      await expect(f.staking.connect(f.consumerA).requestUnstake(1))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, requiredStake(2) - 1n, requiredStake(2));
      // Topping up and unstaking again: the top-up is what may leave, and unbonding no longer covers a grant.
      await stake(f, f.consumerA, DIMO(10));
      await f.staking.connect(f.consumerA).requestUnstake(DIMO(10));
      await expect(grant(f, 2, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, requiredStake(2), requiredStake(3));
    });

    it("a frozen consumer gets no new grant even with stake to spare", async function () {
      const f = await loadFixture(attackFixture);
      await f.staking.connect(f.guardian).freeze(f.consumerB.address);
      const { frozenUntil } = await f.staking.position(f.consumerB.address);
      await expect(grant(f, 3, f.consumerB))
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(f.consumerB.address, frozenUntil);
    });
  });

  describe("a guardian freezing forever", function () {
    it("a second guardian freeze is refused; the first expires after 21 days and the consumer can then withdraw", async function () {
      const f = await loadFixture(attackFixture);
      const consumer = f.consumerB;
      await f.staking.connect(consumer).requestUnstake(DIMO(50_000));
      await f.staking.connect(f.guardian).freeze(consumer.address);
      const frozenAt = await f.staking.frozenAt(consumer.address);
      const { frozenUntil, releaseAt } = await f.staking.position(consumer.address);
      expect(frozenUntil).to.equal(frozenAt + BigInt(FREEZE_DURATION));
      await expect(f.staking.connect(f.guardian).freeze(consumer.address))
        .to.be.revertedWithCustomError(f.staking, "StakingFreezeSpent")
        .withArgs(consumer.address);
      // The guardian cannot stretch the freeze either.
      await expect(f.staking.connect(f.guardian).extendFreeze(consumer.address, frozenUntil + BigInt(DAY)))
        .to.be.revertedWithCustomError(f.staking, "AccessControlUnauthorizedAccount")
        .withArgs(f.guardian.address, DEFAULT_ADMIN_ROLE);
      // Just before the end it still holds; once over, neither a re-freeze nor the freeze stops the withdrawal.
      expect(releaseAt).to.be.lessThan(frozenUntil);
      await time.setNextBlockTimestamp(frozenUntil - 1n);
      await expect(f.staking.connect(consumer).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(consumer.address, frozenUntil);
      await time.setNextBlockTimestamp(frozenUntil);
      await expect(f.staking.connect(f.guardian).freeze(consumer.address))
        .to.be.revertedWithCustomError(f.staking, "StakingFreezeSpent")
        .withArgs(consumer.address);
      await expect(f.staking.connect(consumer).withdraw()).to.changeTokenBalances(
        f.token,
        [consumer, f.staking],
        [DIMO(50_000), -DIMO(50_000)],
      );
    });

    it("a DAO extension does not hand the guardian a fresh freeze to chain after it", async function () {
      const f = await loadFixture(attackFixture);
      await f.staking.connect(f.guardian).freeze(f.consumerB.address);
      const { frozenUntil } = await f.staking.position(f.consumerB.address);
      await asDao(f, (tl) => f.staking.connect(tl).extendFreeze(f.consumerB.address, frozenUntil + BigInt(DAY)));
      await time.increaseTo(frozenUntil + BigInt(DAY));
      await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address))
        .to.be.revertedWithCustomError(f.staking, "StakingFreezeSpent")
        .withArgs(f.consumerB.address);
    });

    it("even holding the role twice over (a second guardian account) does not renew the freeze", async function () {
      const f = await loadFixture(attackFixture);
      const GUARDIAN = await f.staking.GUARDIAN_ROLE();
      await asDao(f, (tl) => f.staking.connect(tl).grantRole(GUARDIAN, f.outsider.address));
      await f.staking.connect(f.guardian).freeze(f.consumerB.address);
      await expect(f.staking.connect(f.outsider).freeze(f.consumerB.address))
        .to.be.revertedWithCustomError(f.staking, "StakingFreezeSpent")
        .withArgs(f.consumerB.address);
    });
  });

  describe("a freeze shorter than a governance cycle", function () {
    it("the setter refuses it, even through a passed vote", async function () {
      const f = await loadFixture(attackFixture);
      const data = f.staking.interface.encodeFunctionData("setFreezeDuration", [DAY]);
      await expect(passProposal(f, [{ target: f.stakingAddress, data }], "Freeze of one day"))
        .to.be.revertedWithCustomError(f.staking, "StakingFreezeTooShort")
        .withArgs(DAY, GOVERNANCE_CYCLE);
    });
  });

  describe("reading beyond the stake", function () {
    it("a consumer slashed below its grants cannot read any of them, and cannot add one", async function () {
      const f = await loadFixture(attackFixture);
      await asDao(f, (tl) =>
        f.staking
          .connect(tl)
          .slash(f.consumerA.address, DIMO(1), DIMO(1), Remainder.Burn, 1, EVIDENCE_HASH, EVIDENCE_URI),
      );
      for (const i of [0, 1]) {
        for (let t = 0; t < 3; t++)
          expect(await f.access.canRead(f.consumerA.address, f.vehicleIds[i], t)).to.equal(false);
      }
      await expect(grant(f, 2, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, requiredStake(2) - DIMO(1), requiredStake(3));
      // Renewing a grant it holds is refused too (L-1: every record write runs the capacity check), exactly
      // as short as the stake is.
      await expect(grant(f, 0, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, requiredStake(2) - DIMO(1), requiredStake(2));
      expect(await f.access.canRead(f.consumerA.address, f.vehicleIds[0], 0)).to.equal(false);
    });
  });

  describe("unbonding shorter than a governance cycle", function () {
    it("the setter refuses it, even through a passed vote", async function () {
      const f = await loadFixture(attackFixture);
      await asDao(f, async (tl) => {
        for (const period of [DAY, GOVERNANCE_CYCLE]) {
          await expect(f.staking.connect(tl).setUnbondingPeriod(period))
            .to.be.revertedWithCustomError(f.staking, "StakingUnbondingTooShort")
            .withArgs(period, GOVERNANCE_CYCLE);
        }
      });
      const data = f.staking.interface.encodeFunctionData("setUnbondingPeriod", [DAY]);
      await expect(passProposal(f, [{ target: f.stakingAddress, data }], "Unbonding of one day"))
        .to.be.revertedWithCustomError(f.staking, "StakingUnbondingTooShort")
        .withArgs(DAY, GOVERNANCE_CYCLE);
    });

    it("the deploy config refuses it (lib/deploy-config.ts), also when the governance in the config grows", async function () {
      const text = fs.readFileSync(path.join(hre.config.paths.root, "config/deploy/hardhat.json"), "utf8");
      const config = JSON.parse(text);
      expect(() => parseDeployConfig(text, "hardhat.json")).not.to.throw();
      const tooShort = { ...config, staking: { ...config.staking, unbondingPeriodSeconds: GOVERNANCE_CYCLE } };
      expect(() => parseDeployConfig(JSON.stringify(tooShort), "hardhat.json"))
        .to.throw(InputError)
        .with.property("field", "staking.unbondingPeriodSeconds");
      const longVote = { ...config, governance: { ...config.governance, votingPeriodSeconds: 14 * DAY } };
      expect(() => parseDeployConfig(JSON.stringify(longVote), "hardhat.json")).to.throw(
        InputError,
        /staking\.unbondingPeriodSeconds: 1209600 s must be longer than a governance cycle .* = 1468800 s/,
      );
    });

    it("deploySuite stops on such a config before sending any transaction", async function () {
      const f = await loadFixture(stakingFixture);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-staking-config-"));
      const config = JSON.parse(
        fs.readFileSync(path.join(hre.config.paths.root, "config/deploy/hardhat.json"), "utf8"),
      );
      config.staking.unbondingPeriodSeconds = GOVERNANCE_CYCLE - 1;
      const configPath = path.join(dir, "hardhat.json");
      fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
      const nonce = await f.deployer.getNonce();
      let error: unknown;
      try {
        await deploySuite(hre, {
          configPath,
          recordPath: path.join(dir, "record.json"),
          reset: true,
          log: () => undefined,
        });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(InputError);
      expect((error as InputError).field).to.equal("staking.unbondingPeriodSeconds");
      expect(await f.deployer.getNonce()).to.equal(nonce);
      expect(fs.existsSync(path.join(dir, "record.json"))).to.equal(false);
    });

    it("the constructor refuses it too", async function () {
      const f = await loadFixture(stakingFixture);
      const factory = await ethers.getContractFactory("ConsumerStaking");
      await expect(
        factory.deploy(
          {
            token: await f.token.getAddress(),
            governor: await f.governor.getAddress(),
            timelock: f.timelockAddress,
            distributor: await f.distributor.getAddress(),
            guardian: f.guardian.address,
            baseStake: DIMO(10_000),
            perVehicleStake: DIMO(10),
            unbondingPeriod: GOVERNANCE_CYCLE - 1,
            freezeDuration: FREEZE_DURATION,
            minGrantAge: 7 * DAY,
          },
          f.deployer.address,
        ),
      )
        .to.be.revertedWithCustomError(factory, "StakingUnbondingTooShort")
        .withArgs(GOVERNANCE_CYCLE - 1, GOVERNANCE_CYCLE);
    });
  });
});
