import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { mintVehicle, vehicleInfo } from "../registry/fixtures";
import {
  DAY,
  DIMO,
  GOVERNANCE_CYCLE,
  CYCLE_MARGIN,
  PERMISSIONS,
  UNBONDING_PERIOD,
  asDao,
  consentFor,
  grant,
  grantAll,
  requiredStake,
  stake,
  stakingFixture,
} from "./fixtures";

/**
 * Issue 11's attacks on grants and unbonding (M-2a, L-1, I-2, expired grants), against the suite as deploySuite
 * wires it (DataAccess's capacity is ConsumerStaking).
 */

/** Consumer A staked enough for three vehicles and 100 DIMO more, and holds grants on vehicles 0 and 1. */
async function consumerFixture() {
  const f = await stakingFixture();
  await stake(f, f.consumerA, requiredStake(3) + DIMO(100));
  await grantAll(f, [0, 1], f.consumerA);
  return f;
}

describe("ConsumerStaking and DataAccess attacks (issue 11)", function () {
  describe("M-2(a): an outsider fills a consumer's capacity with vehicles it minted", function () {
    it("every grant of the outsider's vehicles is refused; a real driver's grant still succeeds and the consumer can still unstake", async function () {
      const f = await loadFixture(consumerFixture);
      const N = 5;
      const minted: bigint[] = [];
      for (let i = 0; i < N; i++) {
        minted.push(await mintVehicle(f.vehicles, f.outsider, vehicleInfo({}, `OUTSIDER-${i}`)));
      }
      const expiresAt = BigInt((await time.latest()) + 365 * DAY);
      // A grant without the consumer's acceptance.
      for (const id of minted) {
        await expect(f.access.connect(f.outsider).grant(id, f.consumerA.address, PERMISSIONS, expiresAt))
          .to.be.revertedWithCustomError(f.access, "AccessNotAccepted")
          .withArgs(id, f.consumerA.address, f.outsider.address);
      }
      // An offer the outsider signed itself, and a real driver's offer copied from the mempool.
      const own = await consentFor(f.access, f.outsider, minted[0], f.outsider.address, PERMISSIONS, expiresAt);
      const driver = f.vehicleOwners[2];
      const real = await consentFor(f.access, f.consumerA, f.vehicleIds[2], driver.address, PERMISSIONS, expiresAt);
      for (const c of [own, real]) {
        await expect(
          f.access
            .connect(f.outsider)
            .grantWithConsent(minted[0], f.consumerA.address, PERMISSIONS, expiresAt, c.nonce, c.deadline, c.signature),
        )
          .to.be.revertedWithCustomError(f.access, "AccessInvalidConsent")
          .withArgs(f.consumerA.address);
      }
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(2n);
      // The real driver's grant succeeds with the consumer's offer, and the consumer unstakes what is over.
      await expect(
        f.access
          .connect(driver)
          .grantWithConsent(
            f.vehicleIds[2],
            f.consumerA.address,
            PERMISSIONS,
            expiresAt,
            real.nonce,
            real.deadline,
            real.signature,
          ),
      ).to.emit(f.access, "AccessGranted");
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(3n);
      await expect(f.staking.connect(f.consumerA).requestUnstake(DIMO(100) + 1n))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, requiredStake(3) - 1n, requiredStake(3));
      await expect(f.staking.connect(f.consumerA).requestUnstake(DIMO(100))).to.emit(f.staking, "UnstakeRequested");
    });
  });

  describe("L-1: a frozen consumer gets grants by updating an existing record", function () {
    /** Consumer A's grant on vehicle 0 expires in a day; then the guardian freezes A. */
    async function frozenWithExpiringGrant() {
      const f = await stakingFixture();
      await stake(f, f.consumerA, requiredStake(3));
      const owner = f.vehicleOwners[0];
      const expiresAt = BigInt((await time.latest()) + DAY);
      const c = await consentFor(f.access, f.consumerA, f.vehicleIds[0], owner.address, PERMISSIONS, expiresAt);
      await f.access
        .connect(owner)
        .grantWithConsent(
          f.vehicleIds[0],
          f.consumerA.address,
          PERMISSIONS,
          expiresAt,
          c.nonce,
          c.deadline,
          c.signature,
        );
      await f.staking.connect(f.guardian).freeze(f.consumerA.address);
      const { frozenUntil } = await f.staking.position(f.consumerA.address);
      return { ...f, expiresAt, frozenUntil };
    }

    it("renewing the expired record is refused with StakingFrozen", async function () {
      const f = await loadFixture(frozenWithExpiringGrant);
      await time.increaseTo(f.expiresAt);
      await expect(grant(f, 0, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(f.consumerA.address, f.frozenUntil);
    });

    it("the new owner's grant over the stale record (after a sale) is refused with StakingFrozen", async function () {
      const f = await loadFixture(frozenWithExpiringGrant);
      const seller = f.vehicleOwners[0];
      await f.vehicles.connect(seller).transferFrom(seller.address, f.outsider.address, f.vehicleIds[0]);
      const sold = { ...f, vehicleOwners: [f.outsider, ...f.vehicleOwners.slice(1)] };
      await expect(grant(sold, 0, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(f.consumerA.address, f.frozenUntil);
    });

    it("is refused one second before the freeze ends and allowed exactly at its end", async function () {
      const f = await loadFixture(frozenWithExpiringGrant);
      await time.increaseTo(f.frozenUntil - 2n);
      await time.setNextBlockTimestamp(f.frozenUntil - 1n);
      await expect(grant(f, 0, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(f.consumerA.address, f.frozenUntil);
      await time.setNextBlockTimestamp(f.frozenUntil);
      await expect(grant(f, 0, f.consumerA)).to.emit(f.access, "AccessGranted");
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(1n);
    });

    it("a new record is refused one second before the freeze ends and allowed exactly at its end", async function () {
      const f = await loadFixture(frozenWithExpiringGrant);
      await time.increaseTo(f.frozenUntil - 2n);
      await time.setNextBlockTimestamp(f.frozenUntil - 1n);
      await expect(grant(f, 1, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(f.consumerA.address, f.frozenUntil);
      await time.setNextBlockTimestamp(f.frozenUntil);
      await expect(grant(f, 1, f.consumerA)).to.emit(f.access, "AccessGranted");
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(2n);
    });

    it("renewal needs the records held covered: exactly covered passes, 1 wei short is refused", async function () {
      const f = await stakingFixture();
      await stake(f, f.consumerA, requiredStake(1));
      await grantAll(f, [0], f.consumerA);
      await expect(grant(f, 0, f.consumerA)).to.emit(f.access, "AccessGranted");
      await asDao(f, (tl) => f.staking.connect(tl).setStakeParameters(requiredStake(1) - DIMO(10) + 1n, DIMO(10)));
      await expect(grant(f, 0, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, requiredStake(1), requiredStake(1) + 1n);
    });
  });

  describe("I-2: a 1-wei request after the DAO shortens the unbonding period", function () {
    it("does not move the release of stake already unbonding forward", async function () {
      const f = await stakingFixture();
      await stake(f, f.consumerB, DIMO(50_000));
      await f.staking.connect(f.consumerB).requestUnstake(DIMO(20_000));
      const { releaseAt } = await f.staking.position(f.consumerB.address);
      await asDao(f, (tl) => f.staking.connect(tl).setUnbondingPeriod(GOVERNANCE_CYCLE + 1));
      await time.increase(DAY);
      await expect(f.staking.connect(f.consumerB).requestUnstake(1n))
        .to.emit(f.staking, "UnstakeRequested")
        .withArgs(f.consumerB.address, 1n, releaseAt);
      expect((await f.staking.position(f.consumerB.address)).releaseAt).to.equal(releaseAt);
      await time.setNextBlockTimestamp(releaseAt - 1n);
      await expect(f.staking.connect(f.consumerB).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingStillUnbonding")
        .withArgs(f.consumerB.address, releaseAt);
      await time.setNextBlockTimestamp(releaseAt);
      await expect(f.staking.connect(f.consumerB).withdraw())
        .to.emit(f.staking, "Withdrawn")
        .withArgs(f.consumerB.address, DIMO(20_000) + 1n);
    });

    it("a request whose own release is exactly the current one leaves it in place; one a second later moves it", async function () {
      const f = await stakingFixture();
      await stake(f, f.consumerB, DIMO(50_000));
      await f.staking.connect(f.consumerB).requestUnstake(DIMO(1));
      const { releaseAt } = await f.staking.position(f.consumerB.address);
      await asDao(f, (tl) => f.staking.connect(tl).setUnbondingPeriod(UNBONDING_PERIOD - DAY));
      await time.setNextBlockTimestamp(releaseAt - BigInt(UNBONDING_PERIOD - DAY));
      await expect(f.staking.connect(f.consumerB).requestUnstake(DIMO(1)))
        .to.emit(f.staking, "UnstakeRequested")
        .withArgs(f.consumerB.address, DIMO(1), releaseAt);
      await time.setNextBlockTimestamp(releaseAt - BigInt(UNBONDING_PERIOD - DAY) + 1n);
      await expect(f.staking.connect(f.consumerB).requestUnstake(DIMO(1)))
        .to.emit(f.staking, "UnstakeRequested")
        .withArgs(f.consumerB.address, DIMO(1), releaseAt + 1n);
    });
  });

  describe("existing unbonding when the governance cycle grows (documented, IConsumerStaking)", function () {
    it("keeps its release time; a freeze made before it follows the new cycle and holds the stake until a slash can execute", async function () {
      const f = await stakingFixture();
      await stake(f, f.consumerB, DIMO(50_000));
      await f.staking.connect(f.consumerB).requestUnstake(DIMO(20_000));
      const { releaseAt } = await f.staking.position(f.consumerB.address);
      // The DAO lengthens the timelock delay from 2 to 12 days: the cycle grows from 10 to 20 days.
      const grown = GOVERNANCE_CYCLE + 10 * DAY;
      await asDao(f, (tl) => f.timelock.connect(tl).updateDelay(12 * DAY));
      expect(await f.staking.governanceCycle()).to.equal(grown);
      // Not extended (documented): the release stays as requested, shorter than the new cycle.
      expect((await f.staking.position(f.consumerB.address)).releaseAt).to.equal(releaseAt);
      expect(await f.staking.effectiveUnbondingPeriod()).to.equal(grown + CYCLE_MARGIN);
      // Misuse found a second before the release: the guardian's freeze lasts the new cycle + a day.
      await time.setNextBlockTimestamp(releaseAt - 1n);
      await f.staking.connect(f.guardian).freeze(f.consumerB.address);
      const { frozenUntil } = await f.staking.position(f.consumerB.address);
      expect(frozenUntil).to.equal(releaseAt - 1n + BigInt(grown + CYCLE_MARGIN));
      await time.setNextBlockTimestamp(frozenUntil - 1n);
      await expect(f.staking.connect(f.consumerB).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(f.consumerB.address, frozenUntil);
    });
  });

  describe("expired grants blocking unstaking forever", function () {
    it("anyone prunes them (pruneMany) exactly at expiry, and the consumer can then unstake everything", async function () {
      const f = await stakingFixture();
      await stake(f, f.consumerA, requiredStake(2));
      const expiresAt = BigInt((await time.latest()) + 30 * DAY);
      for (const i of [0, 1]) {
        const owner = f.vehicleOwners[i];
        const c = await consentFor(f.access, f.consumerA, f.vehicleIds[i], owner.address, PERMISSIONS, expiresAt);
        await f.access
          .connect(owner)
          .grantWithConsent(
            f.vehicleIds[i],
            f.consumerA.address,
            PERMISSIONS,
            expiresAt,
            c.nonce,
            c.deadline,
            c.signature,
          );
      }
      await expect(f.staking.connect(f.consumerA).requestUnstake(requiredStake(2)))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, 0n, requiredStake(2));
      await time.setNextBlockTimestamp(expiresAt - 1n);
      await expect(f.access.connect(f.outsider).pruneMany(f.consumerA.address, f.vehicleIds.slice(0, 2))).to.not.emit(
        f.access,
        "AccessRevoked",
      );
      await time.setNextBlockTimestamp(expiresAt);
      await expect(f.access.connect(f.outsider).pruneMany(f.consumerA.address, f.vehicleIds.slice(0, 2)))
        .to.emit(f.access, "AccessRevoked")
        .withArgs(f.vehicleIds[1], f.consumerA.address, f.outsider.address);
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(0n);
      await expect(f.staking.connect(f.consumerA).requestUnstake(requiredStake(2))).to.emit(
        f.staking,
        "UnstakeRequested",
      );
    });
  });
});
