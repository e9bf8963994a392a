import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ConsumerStaking } from "../../typechain-types";
import {
  BASE_STAKE,
  CONSUMER_FUNDS,
  CYCLE_MARGIN,
  DAY,
  DEFAULT_ADMIN_ROLE,
  DIMO,
  EVIDENCE_HASH,
  EVIDENCE_URI,
  FREEZE_DURATION,
  GOVERNANCE_CYCLE,
  GUARDIAN_ROLE,
  MAX_FREEZE_DURATION,
  MAX_STAKE_PARAMETER,
  MAX_UNBONDING_PERIOD,
  MAX_MIN_GRANT_AGE,
  MIN_GRANT_AGE,
  MIN_MIN_GRANT_AGE,
  PER_VEHICLE_STAKE,
  PERMISSIONS,
  Remainder,
  TIMELOCK_DELAY,
  UNBONDING_PERIOD,
  VOTING_DELAY,
  asDao,
  asTimelock,
  compensationReason,
  grant,
  grantAll,
  passProposal,
  requiredStake,
  signPermit,
  stake,
  stakingFixture,
  type StakingContext,
} from "./fixtures";

/** Consumer A has staked exactly enough for two vehicles; consumer B 50,000 DIMO; nobody holds a grant. */
async function stakedFixture() {
  const f = await stakingFixture();
  await stake(f, f.consumerA, requiredStake(2));
  await stake(f, f.consumerB, DIMO(50_000));
  return f;
}

/** stakedFixture + consumer A holds grants for vehicles 0 and 1 (its whole capacity). */
async function grantedFixture() {
  const f = await stakedFixture();
  await grantAll(f, [0, 1], f.consumerA);
  return f;
}

/** stakedFixture + consumer B moved 20,000 DIMO into unbonding (30,000 DIMO stay staked). */
async function unbondingFixture() {
  const f = await stakedFixture();
  await f.staking.connect(f.consumerB).requestUnstake(DIMO(20_000));
  return f;
}

/** unbondingFixture + the guardian froze consumer B. */
async function frozenFixture() {
  const f = await unbondingFixture();
  await f.staking.connect(f.guardian).freeze(f.consumerB.address);
  return f;
}

/** Every signer but `except`, plus the Governor contract (which is not the Timelock). */
async function everyoneBut(f: StakingContext, ...except: HardhatEthersSigner[]): Promise<string[]> {
  const skip = new Set(except.map((s) => s.address));
  return [...f.signers.map((s) => s.address).filter((a) => !skip.has(a)), await f.governor.getAddress()];
}

/** Runs `fn` as `address`: a local signer, or a contract impersonated with some ETH for gas. */
async function as<T>(address: string, fn: (signer: HardhatEthersSigner) => Promise<T>): Promise<T> {
  const local = (await ethers.getSigners()).find((s) => s.address === address);
  return local === undefined ? asTimelock(address, fn) : fn(local);
}

/**
 * `call`, sent by every signer but `except` and by the Governor, is refused with
 * AccessControlUnauthorizedAccount(caller, role).
 */
async function expectOnlyRole(
  f: StakingContext,
  role: string,
  call: (staking: ConsumerStaking, caller: string) => Promise<unknown>,
  ...except: HardhatEthersSigner[]
): Promise<void> {
  for (const who of await everyoneBut(f, ...except)) {
    await as(who, async (signer) => {
      await expect(call(f.staking.connect(signer), who))
        .to.be.revertedWithCustomError(f.staking, "AccessControlUnauthorizedAccount")
        .withArgs(who, role);
    });
  }
}

/** ConsumerStaking's constructor parameters, as the deploy sets them. */
async function params(f: StakingContext) {
  return {
    token: await f.token.getAddress(),
    governor: await f.governor.getAddress(),
    timelock: f.timelockAddress,
    distributor: await f.distributor.getAddress(),
    guardian: f.guardian.address,
    baseStake: BASE_STAKE,
    perVehicleStake: PER_VEHICLE_STAKE,
    unbondingPeriod: UNBONDING_PERIOD,
    freezeDuration: FREEZE_DURATION,
    minGrantAge: MIN_GRANT_AGE,
  };
}

async function position(f: StakingContext, who: HardhatEthersSigner) {
  const p = await f.staking.position(who.address);
  return {
    staked: p.staked,
    unbonding: p.unbonding,
    releaseAt: p.releaseAt,
    frozenUntil: p.frozenUntil,
    vehiclesAccessed: p.vehiclesAccessed,
    guardianFreezeSpent: p.guardianFreezeSpent,
  };
}

/** The contract's DIMO balance equals the totals it keeps. */
async function expectBalanceMatchesTotals(f: StakingContext): Promise<void> {
  const [staked, unbonding] = await f.staking.totals();
  expect(await f.token.balanceOf(f.stakingAddress)).to.equal(staked + unbonding);
}

function slashArgs(
  consumer: string,
  amount: bigint,
  compensation: bigint,
  remainderTo: number = Remainder.Burn,
  affectedAsOf: number | bigint = 0,
) {
  return [consumer, amount, compensation, remainderTo, affectedAsOf, EVIDENCE_HASH, EVIDENCE_URI] as const;
}

describe("ConsumerStaking", function () {
  describe("deployment (deploySuite)", function () {
    it("is DataAccess's capacity provider and DataAccess is its access registry", async function () {
      const f = await loadFixture(stakingFixture);
      expect(await f.staking.accessRegistry()).to.equal(await f.access.getAddress());
      expect(await f.access.capacity()).to.equal(f.stakingAddress);
      expect(await f.staking.token()).to.equal(await f.token.getAddress());
    });

    it("uses the config's stake formula, unbonding period and freeze duration", async function () {
      const f = await loadFixture(stakingFixture);
      expect(await f.staking.stakeParameters()).to.deep.equal([
        BASE_STAKE,
        PER_VEHICLE_STAKE,
        BigInt(UNBONDING_PERIOD),
        BigInt(FREEZE_DURATION),
      ]);
      expect(await f.staking.requiredStake(0)).to.equal(DIMO(10_000));
      expect(await f.staking.requiredStake(1)).to.equal(DIMO(10_010));
      expect(await f.staking.requiredStake(1_000_000)).to.equal(DIMO(10_010_000));
      // 21 days is longer than the governance cycle + a day (11 days): freezes last 21 days.
      expect(await f.staking.effectiveFreezeDuration()).to.equal(FREEZE_DURATION);
    });

    it("gives the Timelock the admin role and the guardian the guardian role, and the deployer nothing", async function () {
      const f = await loadFixture(stakingFixture);
      expect(await f.staking.hasRole(DEFAULT_ADMIN_ROLE, f.timelockAddress)).to.equal(true);
      expect(await f.staking.hasRole(DEFAULT_ADMIN_ROLE, f.deployer.address)).to.equal(false);
      expect(await f.staking.hasRole(GUARDIAN_ROLE, f.guardian.address)).to.equal(true);
      expect(await f.staking.GUARDIAN_ROLE()).to.equal(GUARDIAN_ROLE);
    });

    it("starts empty: no totals, no slash, the constants as documented", async function () {
      const f = await loadFixture(stakingFixture);
      expect(await f.staking.totals()).to.deep.equal([0n, 0n]);
      expect(await f.staking.slashCount()).to.equal(0n);
      expect(await f.staking.MAX_FREEZE_DURATION()).to.equal(MAX_FREEZE_DURATION);
      expect(await f.staking.MAX_UNBONDING_PERIOD()).to.equal(MAX_UNBONDING_PERIOD);
      expect(await f.staking.CYCLE_MARGIN()).to.equal(CYCLE_MARGIN);
      expect(await f.staking.MAX_STAKE_PARAMETER()).to.equal(MAX_STAKE_PARAMETER);
      expect(await f.staking.frozenAt(f.consumerA.address)).to.equal(0n);
      expect(await position(f, f.consumerA)).to.deep.equal({
        staked: 0n,
        unbonding: 0n,
        releaseAt: 0n,
        frozenUntil: 0n,
        vehiclesAccessed: 0n,
        guardianFreezeSpent: false,
      });
    });
  });

  describe("constructor", function () {
    for (const field of ["token", "governor", "timelock", "distributor", "guardian"] as const) {
      it(`refuses a zero ${field} address`, async function () {
        const f = await loadFixture(stakingFixture);
        const factory = await ethers.getContractFactory("ConsumerStaking");
        await expect(
          factory.deploy({ ...(await params(f)), [field]: ethers.ZeroAddress }, f.deployer.address),
        ).to.be.revertedWithCustomError(factory, "StakingZeroAddress");
      });
    }

    it("refuses a zero admin", async function () {
      const f = await loadFixture(stakingFixture);
      const factory = await ethers.getContractFactory("ConsumerStaking");
      await expect(factory.deploy(await params(f), ethers.ZeroAddress)).to.be.revertedWithCustomError(
        factory,
        "StakingZeroAddress",
      );
    });

    it("refuses an unbonding period not longer than the governance cycle, or longer than a year", async function () {
      const f = await loadFixture(stakingFixture);
      const factory = await ethers.getContractFactory("ConsumerStaking");
      await expect(factory.deploy({ ...(await params(f)), unbondingPeriod: GOVERNANCE_CYCLE }, f.deployer.address))
        .to.be.revertedWithCustomError(factory, "StakingUnbondingTooShort")
        .withArgs(GOVERNANCE_CYCLE, GOVERNANCE_CYCLE);
      await expect(
        factory.deploy({ ...(await params(f)), unbondingPeriod: MAX_UNBONDING_PERIOD + 1 }, f.deployer.address),
      )
        .to.be.revertedWithCustomError(factory, "StakingInvalidParameter")
        .withArgs("unbondingPeriod", MAX_UNBONDING_PERIOD + 1);
    });

    it("refuses a freeze duration not longer than the governance cycle, or longer than 60 days", async function () {
      const f = await loadFixture(stakingFixture);
      const factory = await ethers.getContractFactory("ConsumerStaking");
      for (const freezeDuration of [0, GOVERNANCE_CYCLE]) {
        await expect(factory.deploy({ ...(await params(f)), freezeDuration }, f.deployer.address))
          .to.be.revertedWithCustomError(factory, "StakingFreezeTooShort")
          .withArgs(freezeDuration, GOVERNANCE_CYCLE);
      }
      await expect(
        factory.deploy({ ...(await params(f)), freezeDuration: MAX_FREEZE_DURATION + 1 }, f.deployer.address),
      )
        .to.be.revertedWithCustomError(factory, "StakingInvalidParameter")
        .withArgs("freezeDuration", MAX_FREEZE_DURATION + 1);
    });

    it("refuses a zero per-vehicle stake, or a stake parameter above the DIMO supply", async function () {
      const f = await loadFixture(stakingFixture);
      const factory = await ethers.getContractFactory("ConsumerStaking");
      const cases = [
        { baseStake: BASE_STAKE, perVehicleStake: 0n, name: "perVehicleStake", value: 0n },
        {
          baseStake: BASE_STAKE,
          perVehicleStake: MAX_STAKE_PARAMETER + 1n,
          name: "perVehicleStake",
          value: MAX_STAKE_PARAMETER + 1n,
        },
        {
          baseStake: MAX_STAKE_PARAMETER + 1n,
          perVehicleStake: 1n,
          name: "baseStake",
          value: MAX_STAKE_PARAMETER + 1n,
        },
      ];
      for (const { baseStake, perVehicleStake, name, value } of cases) {
        await expect(factory.deploy({ ...(await params(f)), baseStake, perVehicleStake }, f.deployer.address))
          .to.be.revertedWithCustomError(factory, "StakingInvalidParameter")
          .withArgs(name, value);
      }
    });

    it("emits the initial parameters and leaves the access registry unset", async function () {
      const f = await loadFixture(stakingFixture);
      const fresh = await ethers.deployContract("ConsumerStaking", [await params(f), f.deployer.address]);
      const tx = fresh.deploymentTransaction()!;
      await expect(tx).to.emit(fresh, "StakeParametersSet").withArgs(BASE_STAKE, PER_VEHICLE_STAKE);
      await expect(tx).to.emit(fresh, "UnbondingPeriodSet").withArgs(UNBONDING_PERIOD);
      await expect(tx).to.emit(fresh, "FreezeDurationSet").withArgs(FREEZE_DURATION);
      await expect(tx).to.emit(fresh, "MinGrantAgeSet").withArgs(MIN_GRANT_AGE);
      expect(await fresh.minGrantAge()).to.equal(MIN_GRANT_AGE);
      expect(await fresh.accessRegistry()).to.equal(ethers.ZeroAddress);
    });

    it("refuses a minimum grant age under a day or over 90 days", async function () {
      const f = await loadFixture(stakingFixture);
      const factory = await ethers.getContractFactory("ConsumerStaking");
      for (const minGrantAge of [0, MIN_MIN_GRANT_AGE - 1, MAX_MIN_GRANT_AGE + 1]) {
        await expect(factory.deploy({ ...(await params(f)), minGrantAge }, f.deployer.address))
          .to.be.revertedWithCustomError(factory, "StakingInvalidParameter")
          .withArgs("minGrantAge", minGrantAge);
      }
    });
  });

  describe("setAccessRegistry", function () {
    async function freshFixture() {
      const f = await stakingFixture();
      const fresh = (await ethers.deployContract("ConsumerStaking", [
        await params(f),
        f.deployer.address,
      ])) as unknown as ConsumerStaking;
      return { ...f, fresh };
    }

    it("cannot be set again once the deploy wired DataAccess, not even by the Timelock", async function () {
      const f = await loadFixture(stakingFixture);
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).setAccessRegistry(f.outsider.address))
          .to.be.revertedWithCustomError(f.staking, "StakingAccessRegistryAlreadySet")
          .withArgs(await f.access.getAddress());
      });
    });

    it("is only for the admin", async function () {
      const f = await loadFixture(freshFixture);
      for (const who of [f.guardian, f.memberA, f.consumerA, f.outsider]) {
        await expect(f.fresh.connect(who).setAccessRegistry(f.outsider.address))
          .to.be.revertedWithCustomError(f.fresh, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, DEFAULT_ADMIN_ROLE);
      }
    });

    it("refuses the zero address", async function () {
      const f = await loadFixture(freshFixture);
      await expect(f.fresh.setAccessRegistry(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        f.fresh,
        "StakingZeroAddress",
      );
    });

    it("is set once, with AccessRegistrySet, then refused with the registry in force", async function () {
      const f = await loadFixture(freshFixture);
      await expect(f.fresh.setAccessRegistry(f.outsider.address))
        .to.emit(f.fresh, "AccessRegistrySet")
        .withArgs(f.outsider.address);
      expect(await f.fresh.accessRegistry()).to.equal(f.outsider.address);
      await expect(f.fresh.setAccessRegistry(f.consumerA.address))
        .to.be.revertedWithCustomError(f.fresh, "StakingAccessRegistryAlreadySet")
        .withArgs(f.outsider.address);
    });
  });

  describe("stake", function () {
    it("refuses zero with StakingInvalidAmount(0, 0)", async function () {
      const f = await loadFixture(stakingFixture);
      await expect(f.staking.connect(f.consumerA).stake(0))
        .to.be.revertedWithCustomError(f.staking, "StakingInvalidAmount")
        .withArgs(0, 0);
    });

    it("is allowed while frozen", async function () {
      const f = await loadFixture(stakingFixture);
      await f.staking.connect(f.guardian).freeze(f.consumerA.address);
      await f.token.connect(f.consumerA).approve(f.stakingAddress, DIMO(1));
      await expect(f.staking.connect(f.consumerA).stake(DIMO(1)))
        .to.emit(f.staking, "Staked")
        .withArgs(f.consumerA.address, DIMO(1), DIMO(1));
    });

    it("pulls the DIMO, adds to the position and the totals, and emits Staked with the new stake", async function () {
      const f = await loadFixture(stakingFixture);
      await f.token.connect(f.consumerA).approve(f.stakingAddress, DIMO(15_000));
      const tx = f.staking.connect(f.consumerA).stake(DIMO(10_000));
      await expect(tx).to.emit(f.staking, "Staked").withArgs(f.consumerA.address, DIMO(10_000), DIMO(10_000));
      await expect(tx).to.changeTokenBalances(f.token, [f.consumerA, f.staking], [-DIMO(10_000), DIMO(10_000)]);
      await expect(f.staking.connect(f.consumerA).stake(DIMO(5_000)))
        .to.emit(f.staking, "Staked")
        .withArgs(f.consumerA.address, DIMO(5_000), DIMO(15_000));
      expect((await position(f, f.consumerA)).staked).to.equal(DIMO(15_000));
      expect(await f.staking.totals()).to.deep.equal([DIMO(15_000), 0n]);
      await expectBalanceMatchesTotals(f);
    });

    it("needs an allowance", async function () {
      const f = await loadFixture(stakingFixture);
      await expect(f.staking.connect(f.consumerA).stake(DIMO(1)))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(f.stakingAddress, 0, DIMO(1));
    });

    it("cannot stake more than the consumer holds", async function () {
      const f = await loadFixture(stakingFixture);
      await f.token.connect(f.consumerA).approve(f.stakingAddress, ethers.MaxUint256);
      await expect(f.staking.connect(f.consumerA).stake(CONSUMER_FUNDS + 1n))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientBalance")
        .withArgs(f.consumerA.address, CONSUMER_FUNDS, CONSUMER_FUNDS + 1n);
    });
  });

  describe("stakeWithPermit", function () {
    it("stakes in one transaction with a valid permit, using it up", async function () {
      const f = await loadFixture(stakingFixture);
      const deadline = BigInt((await time.latest()) + 3_600);
      const { v, r, s } = await signPermit(f, f.consumerA, f.stakingAddress, DIMO(12_000), deadline);
      const tx = f.staking.connect(f.consumerA).stakeWithPermit(DIMO(12_000), deadline, v, r, s);
      await expect(tx).to.emit(f.staking, "Staked").withArgs(f.consumerA.address, DIMO(12_000), DIMO(12_000));
      await expect(tx).to.changeTokenBalances(f.token, [f.consumerA, f.staking], [-DIMO(12_000), DIMO(12_000)]);
      expect(await f.token.nonces(f.consumerA.address)).to.equal(1n);
      expect(await f.token.allowance(f.consumerA.address, f.stakingAddress)).to.equal(0n);
    });

    it("still stakes when someone front-ran the permit (the allowance it set is there)", async function () {
      const f = await loadFixture(stakingFixture);
      const deadline = BigInt((await time.latest()) + 3_600);
      const { v, r, s } = await signPermit(f, f.consumerA, f.stakingAddress, DIMO(12_000), deadline);
      await f.token.connect(f.outsider).permit(f.consumerA.address, f.stakingAddress, DIMO(12_000), deadline, v, r, s);
      await expect(f.staking.connect(f.consumerA).stakeWithPermit(DIMO(12_000), deadline, v, r, s))
        .to.emit(f.staking, "Staked")
        .withArgs(f.consumerA.address, DIMO(12_000), DIMO(12_000));
    });

    it("reverts on a bad permit when there is no allowance (wrong signer, expired, used)", async function () {
      const f = await loadFixture(stakingFixture);
      const deadline = BigInt((await time.latest()) + 3_600);
      // Signed by someone else than the staker.
      const forged = await signPermit(f, f.outsider, f.stakingAddress, DIMO(12_000), deadline);
      await expect(f.staking.connect(f.consumerA).stakeWithPermit(DIMO(12_000), deadline, forged.v, forged.r, forged.s))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(f.stakingAddress, 0, DIMO(12_000));
      // Past its deadline.
      const old = BigInt(await time.latest());
      const expired = await signPermit(f, f.consumerA, f.stakingAddress, DIMO(12_000), old);
      await expect(f.staking.connect(f.consumerA).stakeWithPermit(DIMO(12_000), old, expired.v, expired.r, expired.s))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(f.stakingAddress, 0, DIMO(12_000));
      // For another amount than the one staked.
      const other = await signPermit(f, f.consumerA, f.stakingAddress, DIMO(1), deadline);
      await expect(f.staking.connect(f.consumerA).stakeWithPermit(DIMO(12_000), deadline, other.v, other.r, other.s))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(f.stakingAddress, 0, DIMO(12_000));
    });

    it("refuses zero like stake", async function () {
      const f = await loadFixture(stakingFixture);
      const deadline = BigInt((await time.latest()) + 3_600);
      const { v, r, s } = await signPermit(f, f.consumerA, f.stakingAddress, 0n, deadline);
      await expect(f.staking.connect(f.consumerA).stakeWithPermit(0, deadline, v, r, s))
        .to.be.revertedWithCustomError(f.staking, "StakingInvalidAmount")
        .withArgs(0, 0);
    });
  });

  describe("requestUnstake", function () {
    it("refuses zero and more than the active stake", async function () {
      const f = await loadFixture(stakedFixture);
      await expect(f.staking.connect(f.consumerB).requestUnstake(0))
        .to.be.revertedWithCustomError(f.staking, "StakingInvalidAmount")
        .withArgs(0, DIMO(50_000));
      await expect(f.staking.connect(f.consumerB).requestUnstake(DIMO(50_000) + 1n))
        .to.be.revertedWithCustomError(f.staking, "StakingInvalidAmount")
        .withArgs(DIMO(50_000) + 1n, DIMO(50_000));
      await expect(f.staking.connect(f.consumerC).requestUnstake(1))
        .to.be.revertedWithCustomError(f.staking, "StakingInvalidAmount")
        .withArgs(1, 0);
    });

    it("moves stake into unbonding until now + 14 days, with UnstakeRequested", async function () {
      const f = await loadFixture(stakedFixture);
      const t = (await time.latest()) + 10;
      await time.setNextBlockTimestamp(t);
      const tx = f.staking.connect(f.consumerB).requestUnstake(DIMO(20_000));
      await expect(tx)
        .to.emit(f.staking, "UnstakeRequested")
        .withArgs(f.consumerB.address, DIMO(20_000), t + UNBONDING_PERIOD);
      await expect(tx).to.changeTokenBalances(f.token, [f.consumerB, f.staking], [0, 0]);
      const p = await position(f, f.consumerB);
      expect([p.staked, p.unbonding, p.releaseAt]).to.deep.equal([
        DIMO(30_000),
        DIMO(20_000),
        BigInt(t + UNBONDING_PERIOD),
      ]);
      expect(await f.staking.totals()).to.deep.equal([requiredStake(2) + DIMO(30_000), DIMO(20_000)]);
      await expectBalanceMatchesTotals(f);
    });

    it("allows unstaking everything when the consumer holds no grant", async function () {
      const f = await loadFixture(stakedFixture);
      await f.staking.connect(f.consumerA).requestUnstake(requiredStake(2));
      expect((await position(f, f.consumerA)).staked).to.equal(0n);
    });

    it("refuses to leave less than requiredStake(vehiclesAccessed), with the remaining and required stake", async function () {
      const f = await loadFixture(grantedFixture);
      await f.token.connect(f.consumerA).approve(f.stakingAddress, DIMO(100));
      await f.staking.connect(f.consumerA).stake(DIMO(100));
      // Staked: requiredStake(2) + 100; holds 2 grants: 100 DIMO may go, not one wei more.
      await expect(f.staking.connect(f.consumerA).requestUnstake(DIMO(100) + 1n))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, requiredStake(2) - 1n, requiredStake(2));
      await expect(f.staking.connect(f.consumerA).requestUnstake(DIMO(100))).to.emit(f.staking, "UnstakeRequested");
      expect((await position(f, f.consumerA)).staked).to.equal(requiredStake(2));
    });

    it("allows unstaking everything once every grant is revoked", async function () {
      const f = await loadFixture(grantedFixture);
      await f.access.connect(f.consumerA).revoke(f.vehicleIds[0], f.consumerA.address);
      await f.access.connect(f.vehicleOwners[1]).revoke(f.vehicleIds[1], f.consumerA.address);
      await expect(f.staking.connect(f.consumerA).requestUnstake(requiredStake(2)))
        .to.emit(f.staking, "UnstakeRequested")
        .withArgs(f.consumerA.address, requiredStake(2), anyTimestamp());
    });

    it("moves the one releaseAt of everything already unbonding later when a later request comes", async function () {
      const f = await loadFixture(unbondingFixture);
      const first = (await position(f, f.consumerB)).releaseAt;
      await time.increase(10 * DAY);
      await f.staking.connect(f.consumerB).requestUnstake(DIMO(1));
      const p = await position(f, f.consumerB);
      expect(p.unbonding).to.equal(DIMO(20_001));
      expect(p.releaseAt).to.equal(BigInt((await time.latest()) + UNBONDING_PERIOD));
      expect(p.releaseAt - first).to.be.greaterThan(BigInt(9 * DAY));
    });

    it("is allowed while frozen (the unbonding stake stays slashable)", async function () {
      const f = await loadFixture(frozenFixture);
      await expect(f.staking.connect(f.consumerB).requestUnstake(DIMO(30_000))).to.emit(f.staking, "UnstakeRequested");
      expect((await position(f, f.consumerB)).unbonding).to.equal(DIMO(50_000));
    });
  });

  describe("withdraw", function () {
    it("refuses when nothing is unbonding", async function () {
      const f = await loadFixture(stakedFixture);
      await expect(f.staking.connect(f.consumerA).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingNothingToWithdraw")
        .withArgs(f.consumerA.address);
    });

    it("refuses before releaseAt, to the second, then pays the unbonding stake at releaseAt", async function () {
      const f = await loadFixture(unbondingFixture);
      const { releaseAt } = await position(f, f.consumerB);
      await time.setNextBlockTimestamp(releaseAt - 1n);
      await expect(f.staking.connect(f.consumerB).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingStillUnbonding")
        .withArgs(f.consumerB.address, releaseAt);
      await time.setNextBlockTimestamp(releaseAt);
      const tx = f.staking.connect(f.consumerB).withdraw();
      await expect(tx).to.emit(f.staking, "Withdrawn").withArgs(f.consumerB.address, DIMO(20_000));
      await expect(tx).to.changeTokenBalances(f.token, [f.consumerB, f.staking], [DIMO(20_000), -DIMO(20_000)]);
      const p = await position(f, f.consumerB);
      expect([p.staked, p.unbonding]).to.deep.equal([DIMO(30_000), 0n]);
      expect(await f.staking.totals()).to.deep.equal([requiredStake(2) + DIMO(30_000), 0n]);
      await expectBalanceMatchesTotals(f);
      await expect(f.staking.connect(f.consumerB).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingNothingToWithdraw")
        .withArgs(f.consumerB.address);
    });

    it("returns the amount withdrawn", async function () {
      const f = await loadFixture(unbondingFixture);
      await time.increaseTo((await position(f, f.consumerB)).releaseAt);
      expect(await f.staking.connect(f.consumerB).withdraw.staticCall()).to.equal(DIMO(20_000));
    });

    it("refuses while frozen, even after releaseAt", async function () {
      const f = await loadFixture(frozenFixture);
      const { releaseAt, frozenUntil } = await position(f, f.consumerB);
      expect(frozenUntil).to.be.greaterThan(releaseAt);
      await time.increaseTo(releaseAt);
      await expect(f.staking.connect(f.consumerB).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(f.consumerB.address, frozenUntil);
    });

    it("reports the unbonding period first when both still apply", async function () {
      const f = await loadFixture(frozenFixture);
      const { releaseAt } = await position(f, f.consumerB);
      await expect(f.staking.connect(f.consumerB).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingStillUnbonding")
        .withArgs(f.consumerB.address, releaseAt);
    });
  });

  describe("capacity (reserveAccess / releaseAccess, through DataAccess.grant / revoke)", function () {
    it("reserveAccess and releaseAccess accept only DataAccess", async function () {
      const f = await loadFixture(grantedFixture);
      for (const who of [...(await everyoneBut(f)), f.timelockAddress]) {
        await as(who, async (signer) => {
          await expect(f.staking.connect(signer).reserveAccess(f.consumerA.address))
            .to.be.revertedWithCustomError(f.staking, "StakingNotAccessRegistry")
            .withArgs(who);
          await expect(f.staking.connect(signer).releaseAccess(f.consumerA.address))
            .to.be.revertedWithCustomError(f.staking, "StakingNotAccessRegistry")
            .withArgs(who);
        });
      }
    });

    it("grants succeed exactly while staked ≥ requiredStake(n + 1), else StakingInsufficientStake(consumer, staked, required)", async function () {
      const f = await loadFixture(stakedFixture);
      // requiredStake(2) = 10,020 DIMO staked: vehicles 1 and 2 fit, the third does not.
      await expect(grant(f, 0, f.consumerA)).to.emit(f.access, "AccessGranted");
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(1n);
      await expect(grant(f, 1, f.consumerA)).to.emit(f.access, "AccessGranted");
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(2n);
      await expect(grant(f, 2, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, requiredStake(2), requiredStake(3));
      // Ten more DIMO cover the third.
      await f.token.connect(f.consumerA).approve(f.stakingAddress, PER_VEHICLE_STAKE);
      await f.staking.connect(f.consumerA).stake(PER_VEHICLE_STAKE);
      await expect(grant(f, 2, f.consumerA)).to.emit(f.access, "AccessGranted");
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(3n);
    });

    it("refuses the first grant to a consumer one wei short of requiredStake(1), or with no stake", async function () {
      const f = await loadFixture(stakingFixture);
      await expect(grant(f, 0, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, 0, requiredStake(1));
      await stake(f, f.consumerA, requiredStake(1) - 1n);
      await expect(grant(f, 0, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, requiredStake(1) - 1n, requiredStake(1));
      await stake(f, f.consumerA, 1n);
      await expect(grant(f, 0, f.consumerA)).to.emit(f.access, "AccessGranted");
    });

    it("does not count unbonding stake as cover", async function () {
      const f = await loadFixture(stakedFixture);
      await f.staking.connect(f.consumerA).requestUnstake(DIMO(11));
      await expect(grant(f, 0, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
        .withArgs(f.consumerA.address, requiredStake(2) - DIMO(11), requiredStake(1));
    });

    it("updating an existing grant reserves nothing more", async function () {
      const f = await loadFixture(grantedFixture);
      await expect(grant(f, 0, f.consumerA)).to.emit(f.access, "AccessGranted");
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(2n);
    });

    it("a revoke (by owner or consumer) releases one vehicle, making room for another grant", async function () {
      const f = await loadFixture(grantedFixture);
      await f.access.connect(f.vehicleOwners[0]).revoke(f.vehicleIds[0], f.consumerA.address);
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(1n);
      await expect(grant(f, 2, f.consumerA)).to.emit(f.access, "AccessGranted");
      await f.access.connect(f.consumerA).revoke(f.vehicleIds[1], f.consumerA.address);
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(1n);
    });

    it("a vehicle transfer leaves the record reserved until it is pruned", async function () {
      const f = await loadFixture(grantedFixture);
      const seller = f.vehicleOwners[0];
      await f.vehicles.connect(seller).transferFrom(seller.address, f.outsider.address, f.vehicleIds[0]);
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(2n);
      await f.access.connect(f.outsider).prune(f.vehicleIds[0], f.consumerA.address);
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(1n);
    });

    it("refuses grants while the consumer is frozen, with StakingFrozen(consumer, frozenUntil), and allows them after", async function () {
      const f = await loadFixture(stakedFixture);
      await f.staking.connect(f.guardian).freeze(f.consumerA.address);
      const { frozenUntil } = await position(f, f.consumerA);
      await expect(grant(f, 0, f.consumerA))
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(f.consumerA.address, frozenUntil);
      await time.increaseTo(frozenUntil);
      await expect(grant(f, 0, f.consumerA)).to.emit(f.access, "AccessGranted");
    });

    it("a revoke while frozen still releases", async function () {
      const f = await loadFixture(grantedFixture);
      await f.staking.connect(f.guardian).freeze(f.consumerA.address);
      await f.access.connect(f.consumerA).revoke(f.vehicleIds[0], f.consumerA.address);
      expect(await f.staking.vehiclesAccessed(f.consumerA.address)).to.equal(1n);
    });
  });

  describe("coversOneMore", function () {
    it("follows the stake, the grants held and the freeze", async function () {
      const f = await loadFixture(stakedFixture);
      const covers = () => f.staking.coversOneMore(f.consumerA.address);
      expect(await f.staking.coversOneMore(f.consumerC.address)).to.equal(false); // no stake
      expect(await covers()).to.equal(true);
      await grantAll(f, [0], f.consumerA);
      expect(await covers()).to.equal(true);
      await grantAll(f, [1], f.consumerA);
      expect(await covers()).to.equal(false); // at the limit
      await f.access.connect(f.consumerA).revoke(f.vehicleIds[1], f.consumerA.address);
      expect(await covers()).to.equal(true);
      await f.staking.connect(f.guardian).freeze(f.consumerA.address);
      expect(await covers()).to.equal(false); // covered but frozen
      await time.increaseTo((await position(f, f.consumerA)).frozenUntil);
      expect(await covers()).to.equal(true); // the freeze ended by itself
    });
  });

  describe("isCovered", function () {
    it("is staked ≥ requiredStake(vehiclesAccessed), to the wei", async function () {
      const f = await loadFixture(stakingFixture);
      expect(await f.staking.isCovered(f.consumerA.address)).to.equal(false); // no stake: below the base stake
      await stake(f, f.consumerA, requiredStake(1) - 1n);
      expect(await f.staking.isCovered(f.consumerA.address)).to.equal(true); // requiredStake(0) covered
      await stake(f, f.consumerA, 1n);
      await grantAll(f, [0], f.consumerA);
      expect(await f.staking.isCovered(f.consumerA.address)).to.equal(true); // exactly requiredStake(1)
      await asDao(f, (tl) => f.staking.connect(tl).setStakeParameters(BASE_STAKE, PER_VEHICLE_STAKE + 1n));
      expect(await f.staking.isCovered(f.consumerA.address)).to.equal(false); // one wei short
    });

    it("does not count unbonding stake", async function () {
      const f = await loadFixture(grantedFixture);
      await stake(f, f.consumerA, DIMO(5));
      await f.staking.connect(f.consumerA).requestUnstake(DIMO(5));
      expect(await f.staking.isCovered(f.consumerA.address)).to.equal(true);
      // 2 grants now need 2 DIMO more: staked + unbonding would cover them, staked alone does not.
      await asDao(f, (tl) => f.staking.connect(tl).setStakeParameters(BASE_STAKE, PER_VEHICLE_STAKE + DIMO(1)));
      const p = await position(f, f.consumerA);
      expect(p.staked + p.unbonding).to.be.greaterThan(await f.staking.requiredStake(2));
      expect(await f.staking.isCovered(f.consumerA.address)).to.equal(false);
    });

    it("stays true while frozen: a freeze blocks withdrawals and new grants, not reads", async function () {
      const f = await loadFixture(grantedFixture);
      await f.staking.connect(f.guardian).freeze(f.consumerA.address);
      expect(await f.staking.isCovered(f.consumerA.address)).to.equal(true);
      expect(await f.staking.coversOneMore(f.consumerA.address)).to.equal(false);
      expect(await f.access.canRead(f.consumerA.address, f.vehicleIds[0], 0)).to.equal(true);
    });
  });

  describe("freeze", function () {
    it("by the guardian: frozen for 21 days from now, frozenAt recorded, the guardian's freeze spent", async function () {
      const f = await loadFixture(unbondingFixture);
      const t = (await time.latest()) + 5;
      await time.setNextBlockTimestamp(t);
      await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address))
        .to.emit(f.staking, "Frozen")
        .withArgs(f.consumerB.address, t + FREEZE_DURATION, f.guardian.address);
      const p = await position(f, f.consumerB);
      expect([p.frozenUntil, p.guardianFreezeSpent]).to.deep.equal([BigInt(t + FREEZE_DURATION), true]);
      expect(await f.staking.frozenAt(f.consumerB.address)).to.equal(t);
    });

    it("the guardian freezes a consumer only once until the DAO acts: StakingFreezeSpent", async function () {
      const f = await loadFixture(frozenFixture);
      await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address))
        .to.be.revertedWithCustomError(f.staking, "StakingFreezeSpent")
        .withArgs(f.consumerB.address);
      // Other consumers are not affected.
      await expect(f.staking.connect(f.guardian).freeze(f.consumerA.address)).to.emit(f.staking, "Frozen");
    });

    it("by the Timelock: does not spend the guardian's freeze", async function () {
      const f = await loadFixture(unbondingFixture);
      const t = (await time.latest()) + 5;
      await asDao(f, async (tl) => {
        await time.setNextBlockTimestamp(t);
        await expect(f.staking.connect(tl).freeze(f.consumerB.address))
          .to.emit(f.staking, "Frozen")
          .withArgs(f.consumerB.address, t + FREEZE_DURATION, f.timelockAddress);
      });
      expect((await position(f, f.consumerB)).guardianFreezeSpent).to.equal(false);
      await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address)).to.emit(f.staking, "Frozen");
      expect((await position(f, f.consumerB)).guardianFreezeSpent).to.equal(true);
    });

    it("by anyone else: AccessControlUnauthorizedAccount(caller, GUARDIAN_ROLE)", async function () {
      const f = await loadFixture(unbondingFixture);
      await expectOnlyRole(f, GUARDIAN_ROLE, (staking) => staking.freeze(f.consumerB.address), f.guardian);
    });

    it("expires after 21 days by itself: refused one second before, the withdrawal passes at frozenUntil", async function () {
      const f = await loadFixture(frozenFixture);
      const { frozenUntil } = await position(f, f.consumerB);
      await time.setNextBlockTimestamp(frozenUntil - 1n);
      await expect(f.staking.connect(f.consumerB).withdraw())
        .to.be.revertedWithCustomError(f.staking, "StakingFrozen")
        .withArgs(f.consumerB.address, frozenUntil);
      await time.setNextBlockTimestamp(frozenUntil);
      await expect(f.staking.connect(f.consumerB).withdraw())
        .to.emit(f.staking, "Withdrawn")
        .withArgs(f.consumerB.address, DIMO(20_000));
    });

    it("never shortens a longer freeze; the event carries the freeze end in force", async function () {
      const f = await loadFixture(frozenFixture);
      const until = BigInt((await time.latest()) + 50 * DAY);
      await asDao(f, async (tl) => {
        await f.staking.connect(tl).extendFreeze(f.consumerB.address, until);
        await expect(f.staking.connect(tl).freeze(f.consumerB.address))
          .to.emit(f.staking, "Frozen")
          .withArgs(f.consumerB.address, until, f.timelockAddress);
      });
      expect((await position(f, f.consumerB)).frozenUntil).to.equal(until);
    });

    it("after the DAO lifts the freeze, the guardian may freeze again", async function () {
      const f = await loadFixture(frozenFixture);
      await asDao(f, (tl) => f.staking.connect(tl).unfreeze(f.consumerB.address));
      await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address)).to.emit(f.staking, "Frozen");
    });

    it("after a slash, the guardian may freeze again", async function () {
      const f = await loadFixture(frozenFixture);
      await asDao(f, (tl) => f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(1), 0n)));
      expect((await position(f, f.consumerB)).guardianFreezeSpent).to.equal(false);
      await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address)).to.emit(f.staking, "Frozen");
    });

    it("a freeze during a freeze leaves frozenAt at the start of the episode, so a slash with affectedAsOf 0 counts the vehicles as of the first freeze", async function () {
      const f = await loadFixture(grantedFixture);
      await f.staking.connect(f.guardian).freeze(f.consumerA.address);
      const first = await f.staking.frozenAt(f.consumerA.address);
      // A driver revokes after the first freeze (their vehicle was readable when the misuse was reported).
      await f.access.connect(f.vehicleOwners[0]).revoke(f.vehicleIds[0], f.consumerA.address);
      await time.increase(DAY);
      // The DAO freezes again and extends; the episode still starts at the guardian's freeze.
      await asDao(f, async (tl) => {
        await f.staking.connect(tl).freeze(f.consumerA.address);
        await f.staking.connect(tl).extendFreeze(f.consumerA.address, first + BigInt(40 * DAY));
        await f.staking.connect(tl).freeze(f.consumerA.address);
      });
      expect(await f.staking.frozenAt(f.consumerA.address)).to.equal(first);
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).slash(...slashArgs(f.consumerA.address, DIMO(1), DIMO(1))))
          .to.emit(f.staking, "Slashed")
          .withArgs(f.consumerA.address, 1, DIMO(1), DIMO(1), 0, Remainder.Burn, first, EVIDENCE_HASH, EVIDENCE_URI);
      });
    });

    it("a freeze once the last one ended (or was lifted) starts a new episode: frozenAt moves", async function () {
      const f = await loadFixture(frozenFixture);
      const first = await f.staking.frozenAt(f.consumerB.address);
      await time.increaseTo((await position(f, f.consumerB)).frozenUntil);
      const second = BigInt((await time.latest()) + 1);
      await time.setNextBlockTimestamp(second);
      await asDao(f, (tl) => f.staking.connect(tl).freeze(f.consumerB.address));
      expect(await f.staking.frozenAt(f.consumerB.address)).to.equal(second);
      expect(second).to.be.greaterThan(first + BigInt(FREEZE_DURATION - 1));
      await asDao(f, (tl) => f.staking.connect(tl).unfreeze(f.consumerB.address));
      const third = second + 10n;
      await time.setNextBlockTimestamp(third);
      await f.staking.connect(f.guardian).freeze(f.consumerB.address);
      expect(await f.staking.frozenAt(f.consumerB.address)).to.equal(third);
    });

    it("lasts the governance cycle + 1 day when governance has grown past the configured duration", async function () {
      const f = await loadFixture(unbondingFixture);
      // Voting period 7 → 25 days: cycle = 1 + 25 + 2 = 28 days > the 21-day freeze duration.
      await passProposal(
        f,
        [
          {
            target: await f.governor.getAddress(),
            data: f.governor.interface.encodeFunctionData("setVotingPeriod", [25 * DAY]),
          },
        ],
        "Voting period of 25 days",
      ).then((tx) => tx.wait());
      const cycle = VOTING_DELAY + 25 * DAY + TIMELOCK_DELAY;
      expect(await f.staking.governanceCycle()).to.equal(cycle);
      expect(await f.staking.effectiveFreezeDuration()).to.equal(cycle + CYCLE_MARGIN);
      expect((await f.staking.stakeParameters()).freezeDuration).to.equal(FREEZE_DURATION);
      const t = (await time.latest()) + 1;
      await time.setNextBlockTimestamp(t);
      await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address))
        .to.emit(f.staking, "Frozen")
        .withArgs(f.consumerB.address, t + cycle + CYCLE_MARGIN, f.guardian.address);
    });

    it("can freeze a consumer with no stake at all", async function () {
      const f = await loadFixture(stakingFixture);
      await expect(f.staking.connect(f.guardian).freeze(f.consumerC.address)).to.emit(f.staking, "Frozen");
    });
  });

  describe("extendFreeze", function () {
    it("is only for the Timelock", async function () {
      const f = await loadFixture(frozenFixture);
      const until = BigInt((await time.latest()) + 40 * DAY);
      await expectOnlyRole(f, DEFAULT_ADMIN_ROLE, (staking) => staking.extendFreeze(f.consumerB.address, until));
    });

    it("refuses a consumer never frozen, or whose freeze ended: StakingNotFrozen", async function () {
      const f = await loadFixture(frozenFixture);
      const until = BigInt((await time.latest()) + 40 * DAY);
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).extendFreeze(f.consumerA.address, until))
          .to.be.revertedWithCustomError(f.staking, "StakingNotFrozen")
          .withArgs(f.consumerA.address);
      });
      await time.increaseTo((await position(f, f.consumerB)).frozenUntil);
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).extendFreeze(f.consumerB.address, until))
          .to.be.revertedWithCustomError(f.staking, "StakingNotFrozen")
          .withArgs(f.consumerB.address);
      });
    });

    it('refuses an end not in the future: StakingInvalidParameter("until", until)', async function () {
      const f = await loadFixture(frozenFixture);
      await asDao(f, async (tl) => {
        const now = BigInt((await time.latest()) + 1);
        await time.setNextBlockTimestamp(now);
        await expect(f.staking.connect(tl).extendFreeze(f.consumerB.address, now))
          .to.be.revertedWithCustomError(f.staking, "StakingInvalidParameter")
          .withArgs("until", now);
      });
    });

    it("sets the freeze end (longer or shorter) and emits Frozen by the Timelock", async function () {
      const f = await loadFixture(frozenFixture);
      const longer = BigInt((await time.latest()) + 90 * DAY);
      const shorter = BigInt((await time.latest()) + 2 * DAY);
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).extendFreeze(f.consumerB.address, longer))
          .to.emit(f.staking, "Frozen")
          .withArgs(f.consumerB.address, longer, f.timelockAddress);
        expect((await position(f, f.consumerB)).frozenUntil).to.equal(longer);
        await expect(f.staking.connect(tl).extendFreeze(f.consumerB.address, shorter))
          .to.emit(f.staking, "Frozen")
          .withArgs(f.consumerB.address, shorter, f.timelockAddress);
      });
      expect((await position(f, f.consumerB)).frozenUntil).to.equal(shorter);
    });

    it("does not give the guardian its freeze back (it is not an unfreeze or a slash)", async function () {
      const f = await loadFixture(frozenFixture);
      const until = BigInt((await time.latest()) + 40 * DAY);
      await asDao(f, (tl) => f.staking.connect(tl).extendFreeze(f.consumerB.address, until));
      expect((await position(f, f.consumerB)).guardianFreezeSpent).to.equal(true);
      await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address))
        .to.be.revertedWithCustomError(f.staking, "StakingFreezeSpent")
        .withArgs(f.consumerB.address);
      // Still spent after the extended freeze ended: only the DAO's answer restores it.
      await time.increaseTo(until);
      await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address))
        .to.be.revertedWithCustomError(f.staking, "StakingFreezeSpent")
        .withArgs(f.consumerB.address);
    });
  });

  describe("unfreeze", function () {
    it("is only for the Timelock", async function () {
      const f = await loadFixture(frozenFixture);
      await expectOnlyRole(f, DEFAULT_ADMIN_ROLE, (staking) => staking.unfreeze(f.consumerB.address));
    });

    it("refuses a consumer never frozen, or whose Timelock freeze ended: StakingNotFrozen", async function () {
      const f = await loadFixture(frozenFixture);
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).unfreeze(f.consumerA.address))
          .to.be.revertedWithCustomError(f.staking, "StakingNotFrozen")
          .withArgs(f.consumerA.address);
        await f.staking.connect(tl).freeze(f.consumerA.address);
      });
      await time.increaseTo((await position(f, f.consumerA)).frozenUntil);
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).unfreeze(f.consumerA.address))
          .to.be.revertedWithCustomError(f.staking, "StakingNotFrozen")
          .withArgs(f.consumerA.address);
      });
    });

    it("answers a guardian freeze that lapsed unanswered: Unfrozen, and the guardian has its freeze back (once)", async function () {
      const f = await loadFixture(frozenFixture);
      await time.increaseTo((await position(f, f.consumerB)).frozenUntil);
      await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address))
        .to.be.revertedWithCustomError(f.staking, "StakingFreezeSpent")
        .withArgs(f.consumerB.address);
      await asDao(f, async (tl) => {
        // extendFreeze still needs a freeze in force.
        await expect(f.staking.connect(tl).extendFreeze(f.consumerB.address, BigInt((await time.latest()) + DAY)))
          .to.be.revertedWithCustomError(f.staking, "StakingNotFrozen")
          .withArgs(f.consumerB.address);
        await expect(f.staking.connect(tl).unfreeze(f.consumerB.address))
          .to.emit(f.staking, "Unfrozen")
          .withArgs(f.consumerB.address);
        // Answered: a second unfreeze has nothing to act on.
        await expect(f.staking.connect(tl).unfreeze(f.consumerB.address))
          .to.be.revertedWithCustomError(f.staking, "StakingNotFrozen")
          .withArgs(f.consumerB.address);
      });
      const p = await position(f, f.consumerB);
      expect([p.frozenUntil, p.guardianFreezeSpent]).to.deep.equal([0n, false]);
      await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address)).to.emit(f.staking, "Frozen");
    });

    it("lifts the freeze at once (withdrawals and grants work again) and emits Unfrozen", async function () {
      const f = await loadFixture(frozenFixture);
      await time.increaseTo((await position(f, f.consumerB)).releaseAt);
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).unfreeze(f.consumerB.address))
          .to.emit(f.staking, "Unfrozen")
          .withArgs(f.consumerB.address);
      });
      const p = await position(f, f.consumerB);
      expect([p.frozenUntil, p.guardianFreezeSpent]).to.deep.equal([0n, false]);
      expect(await f.staking.frozenAt(f.consumerB.address)).to.not.equal(0n); // history stays
      await expect(f.staking.connect(f.consumerB).withdraw()).to.emit(f.staking, "Withdrawn");
      await expect(grant(f, 3, f.consumerB)).to.emit(f.access, "AccessGranted");
    });
  });

  describe("slash", function () {
    it("is only for the Timelock: every other account, the guardian, DAO members and the Governor are refused", async function () {
      const f = await loadFixture(frozenFixture);
      await expectOnlyRole(f, DEFAULT_ADMIN_ROLE, (staking) =>
        staking.slash(...slashArgs(f.consumerB.address, DIMO(1), 0n)),
      );
    });

    it("refuses zero, a compensation above the amount (as proposed), and a consumer with nothing slashable: StakingInvalidSlash", async function () {
      const f = await loadFixture(frozenFixture);
      const slashable = DIMO(50_000);
      await asDao(f, async (tl) => {
        for (const [amount, compensation] of [
          [0n, 0n],
          [DIMO(100), DIMO(100) + 1n],
          [slashable + 2n, slashable + 3n], // compared with the amount proposed, before any cap
        ]) {
          await expect(f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, amount, compensation)))
            .to.be.revertedWithCustomError(f.staking, "StakingInvalidSlash")
            .withArgs(amount, compensation, slashable);
        }
        await expect(f.staking.connect(tl).slash(...slashArgs(f.consumerC.address, 1n, 0n, Remainder.Burn, 1)))
          .to.be.revertedWithCustomError(f.staking, "StakingInvalidSlash")
          .withArgs(1n, 0n, 0n);
      });
    });

    it("takes the whole stake + unbonding at most", async function () {
      const f = await loadFixture(frozenFixture);
      await asDao(f, (tl) =>
        f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(50_000), DIMO(50_000))),
      );
      const p = await position(f, f.consumerB);
      expect([p.staked, p.unbonding]).to.deep.equal([0n, 0n]);
      await expectBalanceMatchesTotals(f);
    });

    it("caps an amount above staked + unbonding at what is there, and the compensation at that; Slashed reports what moved", async function () {
      const f = await loadFixture(frozenFixture);
      const frozenAt = await f.staking.frozenAt(f.consumerB.address);
      const supply = await f.token.totalSupply();
      const funded = await f.distributor.totalFunded();
      await asDao(f, async (tl) => {
        expect(
          await f.staking.connect(tl).slash.staticCall(...slashArgs(f.consumerB.address, DIMO(80_000), DIMO(60_000))),
        ).to.equal(1n);
        const tx = f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(80_000), DIMO(60_000)));
        await expect(tx)
          .to.emit(f.staking, "Slashed")
          .withArgs(
            f.consumerB.address,
            1,
            DIMO(50_000),
            DIMO(50_000),
            0,
            Remainder.Burn,
            frozenAt,
            EVIDENCE_HASH,
            EVIDENCE_URI,
          );
        await expect(tx)
          .to.emit(f.distributor, "Funded")
          .withArgs(f.stakingAddress, DIMO(50_000), compensationReason(1));
        await expect(tx).to.changeTokenBalances(f.token, [f.stakingAddress], [-DIMO(50_000)]);
      });
      expect(await f.token.totalSupply()).to.equal(supply);
      expect(await f.distributor.totalFunded()).to.equal(funded + DIMO(50_000));
      const p = await position(f, f.consumerB);
      expect([p.staked, p.unbonding]).to.deep.equal([0n, 0n]);
      await expectBalanceMatchesTotals(f);
    });

    it("keeps a compensation below the capped amount, the rest going to the remainder", async function () {
      const f = await loadFixture(frozenFixture);
      await asDao(f, async (tl) => {
        const tx = f.staking
          .connect(tl)
          .slash(...slashArgs(f.consumerB.address, DIMO(70_000), DIMO(30_000), Remainder.Treasury));
        await expect(tx)
          .to.emit(f.staking, "Slashed")
          .withArgs(
            f.consumerB.address,
            1,
            DIMO(50_000),
            DIMO(30_000),
            DIMO(20_000),
            Remainder.Treasury,
            anyTimestamp(),
            EVIDENCE_HASH,
            EVIDENCE_URI,
          );
        await expect(tx).to.changeTokenBalances(f.token, [f.timelockAddress], [DIMO(20_000)]);
      });
    });

    it('refuses an affectedAsOf in the future: StakingInvalidParameter("affectedAsOf", value); now is accepted', async function () {
      const f = await loadFixture(unbondingFixture);
      await asDao(f, async (tl) => {
        const now = BigInt((await time.latest()) + 1);
        await time.setNextBlockTimestamp(now);
        await expect(
          f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(1), 0n, Remainder.Burn, now + 1n)),
        )
          .to.be.revertedWithCustomError(f.staking, "StakingInvalidParameter")
          .withArgs("affectedAsOf", now + 1n);
        await time.setNextBlockTimestamp(now + 1n);
        await expect(
          f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(1), 0n, Remainder.Burn, now + 1n)),
        )
          .to.emit(f.staking, "Slashed")
          .withArgs(f.consumerB.address, 1, DIMO(1), 0, DIMO(1), Remainder.Burn, now + 1n, EVIDENCE_HASH, EVIDENCE_URI);
      });
    });

    it('affectedAsOf 0 means the freeze start; refused with StakingInvalidParameter("affectedAsOf", 0) when never frozen', async function () {
      const f = await loadFixture(frozenFixture);
      const frozenAt = await f.staking.frozenAt(f.consumerB.address);
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).slash(...slashArgs(f.consumerA.address, DIMO(1), 0n)))
          .to.be.revertedWithCustomError(f.staking, "StakingInvalidParameter")
          .withArgs("affectedAsOf", 0);
        await expect(f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(1), 0n)))
          .to.emit(f.staking, "Slashed")
          .withArgs(f.consumerB.address, 1, DIMO(1), 0, DIMO(1), Remainder.Burn, frozenAt, EVIDENCE_HASH, EVIDENCE_URI);
      });
    });

    it("uses an explicit affectedAsOf as given (a consumer never frozen can be slashed with one)", async function () {
      const f = await loadFixture(unbondingFixture);
      const asOf = (await time.latest()) - 100;
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(1), 0n, Remainder.Burn, asOf)))
          .to.emit(f.staking, "Slashed")
          .withArgs(f.consumerB.address, 1, DIMO(1), 0, DIMO(1), Remainder.Burn, asOf, EVIDENCE_HASH, EVIDENCE_URI);
      });
    });

    it("takes unbonding stake first, then active stake", async function () {
      const f = await loadFixture(frozenFixture);
      await asDao(f, (tl) => f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(15_000), 0n)));
      let p = await position(f, f.consumerB);
      expect([p.staked, p.unbonding]).to.deep.equal([DIMO(30_000), DIMO(5_000)]);
      await asDao(f, (tl) => f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(8_000), 0n)));
      p = await position(f, f.consumerB);
      expect([p.staked, p.unbonding]).to.deep.equal([DIMO(27_000), 0n]);
      expect(await f.staking.totals()).to.deep.equal([requiredStake(2) + DIMO(27_000), 0n]);
      await expectBalanceMatchesTotals(f);
    });

    it("sends the compensation to the distributor (Funded, totalFunded) and burns the remainder exactly", async function () {
      const f = await loadFixture(frozenFixture);
      const distributor = await f.distributor.getAddress();
      const funded = await f.distributor.totalFunded();
      const supply = await f.token.totalSupply();
      const frozenAt = await f.staking.frozenAt(f.consumerB.address);
      await asDao(f, async (tl) => {
        const tx = f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(25_000), DIMO(18_000)));
        await expect(tx)
          .to.emit(f.staking, "Slashed")
          .withArgs(
            f.consumerB.address,
            1,
            DIMO(25_000),
            DIMO(18_000),
            DIMO(7_000),
            Remainder.Burn,
            frozenAt,
            EVIDENCE_HASH,
            EVIDENCE_URI,
          );
        await expect(tx)
          .to.emit(f.distributor, "Funded")
          .withArgs(f.stakingAddress, DIMO(18_000), compensationReason(1));
        await expect(tx).to.changeTokenBalances(
          f.token,
          [f.stakingAddress, distributor, f.timelockAddress],
          [-DIMO(25_000), DIMO(18_000), 0],
        );
      });
      expect(await f.distributor.totalFunded()).to.equal(funded + DIMO(18_000));
      expect(await f.token.totalSupply()).to.equal(supply - DIMO(7_000));
      expect(await f.staking.slashCount()).to.equal(1n);
      await expectBalanceMatchesTotals(f);
    });

    it("sends the remainder to the Timelock treasury when the proposal says so", async function () {
      const f = await loadFixture(frozenFixture);
      const distributor = await f.distributor.getAddress();
      const supply = await f.token.totalSupply();
      await asDao(f, async (tl) => {
        const tx = f.staking
          .connect(tl)
          .slash(...slashArgs(f.consumerB.address, DIMO(25_000), DIMO(5_000), Remainder.Treasury));
        await expect(tx)
          .to.emit(f.staking, "Slashed")
          .withArgs(
            f.consumerB.address,
            1,
            DIMO(25_000),
            DIMO(5_000),
            DIMO(20_000),
            Remainder.Treasury,
            anyTimestamp(),
            EVIDENCE_HASH,
            EVIDENCE_URI,
          );
        await expect(tx).to.changeTokenBalances(
          f.token,
          [f.stakingAddress, distributor, f.timelockAddress],
          [-DIMO(25_000), DIMO(5_000), DIMO(20_000)],
        );
      });
      expect(await f.token.totalSupply()).to.equal(supply);
    });

    it("with full compensation, burns and sends nothing else; with none, funds nothing", async function () {
      const f = await loadFixture(frozenFixture);
      const supply = await f.token.totalSupply();
      const funded = await f.distributor.totalFunded();
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(3_000), DIMO(3_000))))
          .to.emit(f.distributor, "Funded")
          .withArgs(f.stakingAddress, DIMO(3_000), compensationReason(1));
        expect(await f.token.totalSupply()).to.equal(supply);
        const tx = f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(2_000), 0n, Remainder.Treasury));
        await expect(tx).not.to.emit(f.distributor, "Funded");
        await expect(tx).to.changeTokenBalances(f.token, [f.timelockAddress], [DIMO(2_000)]);
      });
      expect(await f.distributor.totalFunded()).to.equal(funded + DIMO(3_000));
    });

    it("numbers slashes 1, 2, … (returned, slashCount) and tags each compensation with its id", async function () {
      const f = await loadFixture(frozenFixture);
      await asDao(f, async (tl) => {
        for (const id of [1, 2, 3]) {
          expect(
            await f.staking.connect(tl).slash.staticCall(...slashArgs(f.consumerB.address, DIMO(10), DIMO(1))),
          ).to.equal(BigInt(id));
          await expect(f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(10), DIMO(1))))
            .to.emit(f.distributor, "Funded")
            .withArgs(f.stakingAddress, DIMO(1), compensationReason(id));
          expect(await f.staking.slashCount()).to.equal(BigInt(id));
        }
      });
    });

    it("does not lift the freeze", async function () {
      const f = await loadFixture(frozenFixture);
      const { frozenUntil } = await position(f, f.consumerB);
      await asDao(f, (tl) => f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(1), 0n)));
      expect((await position(f, f.consumerB)).frozenUntil).to.equal(frozenUntil);
    });

    describe("when what stays no longer covers the consumer's grants", function () {
      /** Consumer A staked requiredStake(3) and reads vehicles 0, 1 and 2; frozen, then slashed by 20 DIMO. */
      async function slashedFixture() {
        const f = await stakingFixture();
        await stake(f, f.consumerA, requiredStake(3));
        await grantAll(f, [0, 1, 2], f.consumerA);
        await f.staking.connect(f.guardian).freeze(f.consumerA.address);
        await asDao(f, (tl) => f.staking.connect(tl).slash(...slashArgs(f.consumerA.address, DIMO(20), DIMO(20))));
        return f;
      }
      const readable = async (f: StakingContext, indexes: number[]) =>
        Promise.all(indexes.map((i) => f.access.canRead(f.consumerA.address, f.vehicleIds[i], 0)));

      it("keeps the grant records but stops every read: 10,010 DIMO does not cover 3 vehicles", async function () {
        const f = await loadFixture(slashedFixture);
        const p = await position(f, f.consumerA);
        expect([p.staked, p.vehiclesAccessed]).to.deep.equal([requiredStake(1), 3n]);
        expect(await f.staking.isCovered(f.consumerA.address)).to.equal(false);
        expect(await readable(f, [0, 1, 2])).to.deep.equal([false, false, false]);
        // The records are still there (and still hold capacity).
        expect((await f.access.grantOf(f.vehicleIds[0], f.consumerA.address)).permissions).to.equal(PERMISSIONS);
      });

      it("a top-up to requiredStake(3) restores every read, while still frozen", async function () {
        const f = await loadFixture(slashedFixture);
        await stake(f, f.consumerA, DIMO(20) - 1n);
        expect(await readable(f, [0, 1, 2])).to.deep.equal([false, false, false]); // one wei short
        await stake(f, f.consumerA, 1n);
        expect(await f.staking.isCovered(f.consumerA.address)).to.equal(true);
        expect(await readable(f, [0, 1, 2])).to.deep.equal([true, true, true]);
        expect(BigInt(await time.latest())).to.be.lessThan((await position(f, f.consumerA)).frozenUntil);
      });

      it("revoking grants down to what the stake covers restores the reads of those left", async function () {
        const f = await loadFixture(slashedFixture);
        await f.access.connect(f.consumerA).revoke(f.vehicleIds[0], f.consumerA.address);
        expect(await readable(f, [1, 2])).to.deep.equal([false, false]); // 2 records, stake for 1
        await f.access.connect(f.vehicleOwners[1]).revoke(f.vehicleIds[1], f.consumerA.address);
        expect(await f.staking.isCovered(f.consumerA.address)).to.equal(true);
        expect(await readable(f, [2])).to.deep.equal([true]);
      });
    });
  });

  describe("parameters", function () {
    describe("setStakeParameters", function () {
      it("is only for the Timelock", async function () {
        const f = await loadFixture(stakingFixture);
        await expectOnlyRole(f, DEFAULT_ADMIN_ROLE, (staking) => staking.setStakeParameters(DIMO(1), DIMO(1)));
      });

      it("changes the formula for new grants and for unstaking, with StakeParametersSet", async function () {
        const f = await loadFixture(grantedFixture);
        await asDao(f, async (tl) => {
          await expect(f.staking.connect(tl).setStakeParameters(DIMO(5_000), DIMO(1_000)))
            .to.emit(f.staking, "StakeParametersSet")
            .withArgs(DIMO(5_000), DIMO(1_000));
        });
        expect(await f.staking.requiredStake(3)).to.equal(DIMO(8_000));
        expect(await f.staking.stakeParameters()).to.deep.equal([
          DIMO(5_000),
          DIMO(1_000),
          BigInt(UNBONDING_PERIOD),
          BigInt(FREEZE_DURATION),
        ]);
        await expect(grant(f, 2, f.consumerA)).to.emit(f.access, "AccessGranted");
        // Staked 10,020 against 3 grants × 1,000 + 5,000 = 8,000: 2,020 may go, not a wei more.
        await expect(f.staking.connect(f.consumerA).requestUnstake(DIMO(2_020) + 1n))
          .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
          .withArgs(f.consumerA.address, DIMO(8_000) - 1n, DIMO(8_000));
      });

      it('refuses a zero per-vehicle stake (grants are never free): StakingInvalidParameter("perVehicleStake", 0); a zero base stake is accepted', async function () {
        const f = await loadFixture(stakingFixture);
        await asDao(f, async (tl) => {
          await expect(f.staking.connect(tl).setStakeParameters(0, 0))
            .to.be.revertedWithCustomError(f.staking, "StakingInvalidParameter")
            .withArgs("perVehicleStake", 0);
          await expect(f.staking.connect(tl).setStakeParameters(0, 1))
            .to.emit(f.staking, "StakeParametersSet")
            .withArgs(0, 1);
        });
        expect(await f.staking.coversOneMore(f.consumerC.address)).to.equal(false);
        await expect(grant(f, 0, f.consumerC))
          .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
          .withArgs(f.consumerC.address, 0, 1);
      });

      it("refuses a base or per-vehicle stake above the DIMO supply; at the bound nothing overflows", async function () {
        const f = await loadFixture(grantedFixture);
        await asDao(f, async (tl) => {
          await expect(f.staking.connect(tl).setStakeParameters(MAX_STAKE_PARAMETER + 1n, PER_VEHICLE_STAKE))
            .to.be.revertedWithCustomError(f.staking, "StakingInvalidParameter")
            .withArgs("baseStake", MAX_STAKE_PARAMETER + 1n);
          await expect(f.staking.connect(tl).setStakeParameters(BASE_STAKE, MAX_STAKE_PARAMETER + 1n))
            .to.be.revertedWithCustomError(f.staking, "StakingInvalidParameter")
            .withArgs("perVehicleStake", MAX_STAKE_PARAMETER + 1n);
          await expect(f.staking.connect(tl).setStakeParameters(MAX_STAKE_PARAMETER, MAX_STAKE_PARAMETER))
            .to.emit(f.staking, "StakeParametersSet")
            .withArgs(MAX_STAKE_PARAMETER, MAX_STAKE_PARAMETER);
        });
        // The largest count a position can hold (2^64 − 1) still gives a number, not a panic.
        expect(await f.staking.requiredStake(2n ** 64n - 1n)).to.equal(MAX_STAKE_PARAMETER * 2n ** 64n);
        await expect(grant(f, 2, f.consumerA))
          .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
          .withArgs(f.consumerA.address, requiredStake(2), MAX_STAKE_PARAMETER * 4n);
        await expect(f.staking.connect(f.consumerA).requestUnstake(1))
          .to.be.revertedWithCustomError(f.staking, "StakingInsufficientStake")
          .withArgs(f.consumerA.address, requiredStake(2) - 1n, MAX_STAKE_PARAMETER * 3n);
        expect(await f.staking.coversOneMore(f.consumerA.address)).to.equal(false);
        expect(await f.staking.isCovered(f.consumerA.address)).to.equal(false);
      });

      it("a rise applies to the grants already held: their reads stop until the consumer tops up", async function () {
        const f = await loadFixture(grantedFixture);
        expect(await f.access.canRead(f.consumerA.address, f.vehicleIds[0], 0)).to.equal(true);
        await asDao(f, (tl) => f.staking.connect(tl).setStakeParameters(BASE_STAKE, DIMO(100)));
        // 2 grants now need 10,200 DIMO; 10,020 are staked.
        expect(await f.staking.isCovered(f.consumerA.address)).to.equal(false);
        for (const i of [0, 1]) expect(await f.access.canRead(f.consumerA.address, f.vehicleIds[i], 0)).to.equal(false);
        await stake(f, f.consumerA, DIMO(180));
        for (const i of [0, 1]) expect(await f.access.canRead(f.consumerA.address, f.vehicleIds[i], 0)).to.equal(true);
      });
    });

    /**
     * What setUnbondingPeriod and setFreezeDuration share: only the Timelock may call `set`, and the new value
     * must be longer than the governance cycle (else `tooShort`) and at most `max` (else StakingInvalidParameter).
     */
    function itBoundsTheDuration(setter: {
      set: (staking: ConsumerStaking, seconds: number) => Promise<unknown>;
      noun: string;
      tooShort: string;
      parameter: string;
      max: number;
      maxInWords: string;
    }) {
      const { set, noun, tooShort, parameter, max, maxInWords } = setter;

      it("is only for the Timelock", async function () {
        const f = await loadFixture(stakingFixture);
        await expectOnlyRole(f, DEFAULT_ADMIN_ROLE, (staking) => set(staking, 30 * DAY));
      });

      it(`refuses a ${noun} not longer than the governance cycle: ${tooShort}(${noun}, 864,000)`, async function () {
        const f = await loadFixture(stakingFixture);
        await asDao(f, async (tl) => {
          for (const seconds of [0, DAY, GOVERNANCE_CYCLE - 1, GOVERNANCE_CYCLE]) {
            await expect(set(f.staking.connect(tl), seconds))
              .to.be.revertedWithCustomError(f.staking, tooShort)
              .withArgs(seconds, GOVERNANCE_CYCLE);
          }
        });
      });

      it(`refuses more than ${maxInWords}`, async function () {
        const f = await loadFixture(stakingFixture);
        await asDao(f, async (tl) => {
          await expect(set(f.staking.connect(tl), max + 1))
            .to.be.revertedWithCustomError(f.staking, "StakingInvalidParameter")
            .withArgs(parameter, max + 1);
        });
      });
    }

    describe("setUnbondingPeriod", function () {
      itBoundsTheDuration({
        set: (staking, seconds) => staking.setUnbondingPeriod(seconds),
        noun: "period",
        tooShort: "StakingUnbondingTooShort",
        parameter: "unbondingPeriod",
        max: MAX_UNBONDING_PERIOD,
        maxInWords: "a year",
      });

      it("accepts the bounds (one second over the cycle, a year), emits UnbondingPeriodSet, new requests get it", async function () {
        const f = await loadFixture(stakedFixture);
        await asDao(f, async (tl) => {
          await expect(f.staking.connect(tl).setUnbondingPeriod(MAX_UNBONDING_PERIOD))
            .to.emit(f.staking, "UnbondingPeriodSet")
            .withArgs(MAX_UNBONDING_PERIOD);
          await expect(f.staking.connect(tl).setUnbondingPeriod(GOVERNANCE_CYCLE + 1))
            .to.emit(f.staking, "UnbondingPeriodSet")
            .withArgs(GOVERNANCE_CYCLE + 1);
        });
        expect(await f.staking.effectiveUnbondingPeriod()).to.equal(GOVERNANCE_CYCLE + 1);
        const t = (await time.latest()) + 1;
        await time.setNextBlockTimestamp(t);
        await expect(f.staking.connect(f.consumerB).requestUnstake(DIMO(1)))
          .to.emit(f.staking, "UnstakeRequested")
          .withArgs(f.consumerB.address, DIMO(1), t + GOVERNANCE_CYCLE + 1);
      });
    });

    describe("setMinGrantAge", function () {
      it("is only for the Timelock", async function () {
        const f = await loadFixture(stakingFixture);
        await expectOnlyRole(f, DEFAULT_ADMIN_ROLE, (staking) => staking.setMinGrantAge(30 * DAY));
      });

      it("is 7 days as deployed (config/deploy/hardhat.json)", async function () {
        const f = await loadFixture(stakingFixture);
        expect(await f.staking.minGrantAge()).to.equal(MIN_GRANT_AGE);
      });

      it("accepts exactly a day and exactly 90 days, emitting MinGrantAgeSet", async function () {
        const f = await loadFixture(stakingFixture);
        await asDao(f, async (tl) => {
          for (const seconds of [MIN_MIN_GRANT_AGE, MAX_MIN_GRANT_AGE]) {
            await expect(f.staking.connect(tl).setMinGrantAge(seconds))
              .to.emit(f.staking, "MinGrantAgeSet")
              .withArgs(seconds);
            expect(await f.staking.minGrantAge()).to.equal(seconds);
          }
        });
      });

      it("refuses a second under a day and a second over 90 days", async function () {
        const f = await loadFixture(stakingFixture);
        await asDao(f, async (tl) => {
          for (const seconds of [0, MIN_MIN_GRANT_AGE - 1, MAX_MIN_GRANT_AGE + 1]) {
            await expect(f.staking.connect(tl).setMinGrantAge(seconds))
              .to.be.revertedWithCustomError(f.staking, "StakingInvalidParameter")
              .withArgs("minGrantAge", seconds);
          }
        });
      });
    });

    describe("setFreezeDuration", function () {
      itBoundsTheDuration({
        set: (staking, seconds) => staking.setFreezeDuration(seconds),
        noun: "duration",
        tooShort: "StakingFreezeTooShort",
        parameter: "freezeDuration",
        max: MAX_FREEZE_DURATION,
        maxInWords: "60 days",
      });

      it("accepts 60 days, emits FreezeDurationSet, and the next freeze lasts that long", async function () {
        const f = await loadFixture(stakedFixture);
        await asDao(f, async (tl) => {
          await expect(f.staking.connect(tl).setFreezeDuration(MAX_FREEZE_DURATION))
            .to.emit(f.staking, "FreezeDurationSet")
            .withArgs(MAX_FREEZE_DURATION);
        });
        const t = (await time.latest()) + 1;
        await time.setNextBlockTimestamp(t);
        await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address))
          .to.emit(f.staking, "Frozen")
          .withArgs(f.consumerB.address, t + MAX_FREEZE_DURATION, f.guardian.address);
      });

      it("accepts one second over the cycle, and a freeze then lasts the cycle + 1 day, so a slash vote started at the freeze executes before it ends", async function () {
        const f = await loadFixture(stakedFixture);
        await asDao(f, async (tl) => {
          await expect(f.staking.connect(tl).setFreezeDuration(GOVERNANCE_CYCLE + 1))
            .to.emit(f.staking, "FreezeDurationSet")
            .withArgs(GOVERNANCE_CYCLE + 1);
        });
        expect(await f.staking.effectiveFreezeDuration()).to.equal(GOVERNANCE_CYCLE + CYCLE_MARGIN);
        const t = (await time.latest()) + 1;
        await time.setNextBlockTimestamp(t);
        await expect(f.staking.connect(f.guardian).freeze(f.consumerB.address))
          .to.emit(f.staking, "Frozen")
          .withArgs(f.consumerB.address, t + GOVERNANCE_CYCLE + CYCLE_MARGIN, f.guardian.address);
      });
    });
  });

  describe("governanceCycle and effectiveUnbondingPeriod", function () {
    it("the cycle is voting delay + voting period + timelock delay, read live (864,000 s)", async function () {
      const f = await loadFixture(stakingFixture);
      expect(await f.staking.governanceCycle()).to.equal(
        (await f.governor.votingDelay()) + (await f.governor.votingPeriod()) + (await f.timelock.getMinDelay()),
      );
      expect(await f.staking.governanceCycle()).to.equal(GOVERNANCE_CYCLE);
      expect(await f.staking.effectiveUnbondingPeriod()).to.equal(UNBONDING_PERIOD);
    });

    it("when the DAO raises the voting period to 14 days, unbonding becomes cycle + 1 day for new requests only", async function () {
      const f = await loadFixture(unbondingFixture);
      const before = (await position(f, f.consumerB)).releaseAt;
      const newPeriod = 14 * DAY;
      const execute = await passProposal(
        f,
        [
          {
            target: await f.governor.getAddress(),
            data: f.governor.interface.encodeFunctionData("setVotingPeriod", [newPeriod]),
          },
        ],
        "Raise the voting period to 14 days",
      );
      await expect(execute)
        .to.emit(f.governor, "VotingPeriodSet")
        .withArgs(7 * DAY, newPeriod);
      const cycle = VOTING_DELAY + newPeriod + TIMELOCK_DELAY; // 17 days
      expect(await f.staking.governanceCycle()).to.equal(cycle);
      expect(await f.staking.effectiveUnbondingPeriod()).to.equal(cycle + CYCLE_MARGIN);
      // The configured period is untouched; the request already unbonding keeps its release time.
      expect((await f.staking.stakeParameters()).unbondingPeriod).to.equal(UNBONDING_PERIOD);
      expect((await position(f, f.consumerA)).releaseAt).to.equal(0n);
      expect((await position(f, f.consumerB)).releaseAt).to.equal(before);
      // A new request gets 18 days.
      const t = (await time.latest()) + 1;
      await time.setNextBlockTimestamp(t);
      await expect(f.staking.connect(f.consumerA).requestUnstake(DIMO(1)))
        .to.emit(f.staking, "UnstakeRequested")
        .withArgs(f.consumerA.address, DIMO(1), t + cycle + CYCLE_MARGIN);
      // The old period is now too short to be set again; a longer one takes over again.
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).setUnbondingPeriod(UNBONDING_PERIOD))
          .to.be.revertedWithCustomError(f.staking, "StakingUnbondingTooShort")
          .withArgs(UNBONDING_PERIOD, cycle);
        await f.staking.connect(tl).setUnbondingPeriod(30 * DAY);
      });
      expect(await f.staking.effectiveUnbondingPeriod()).to.equal(30 * DAY);
    });

    it("when the cycle grows to exactly the configured period, the margin applies", async function () {
      const f = await loadFixture(stakingFixture);
      // Timelock delay 2 → 6 days: cycle = 1 + 7 + 6 = 14 days = the unbonding period.
      const timelock = await f.timelock.getAddress();
      await passProposal(
        f,
        [{ target: timelock, data: f.timelock.interface.encodeFunctionData("updateDelay", [6 * DAY]) }],
        "Timelock delay to 6 days",
      ).then((tx) => tx.wait());
      expect(await f.staking.governanceCycle()).to.equal(UNBONDING_PERIOD);
      expect(await f.staking.effectiveUnbondingPeriod()).to.equal(UNBONDING_PERIOD + CYCLE_MARGIN);
    });
  });

  describe("sweepExcess (DIMO sent straight to the contract)", function () {
    /** stakedFixture + consumer B unbonding 20,000; consumer C sent 1,000 DIMO to the contract by mistake. */
    async function excessFixture() {
      const f = await unbondingFixture();
      await f.token.connect(f.consumerC).transfer(f.stakingAddress, DIMO(1_000));
      return f;
    }

    it("such DIMO is not stake: nobody's position, and the balance exceeds the totals by it", async function () {
      const f = await loadFixture(excessFixture);
      const [staked, unbonding] = await f.staking.totals();
      expect(await f.token.balanceOf(f.stakingAddress)).to.equal(staked + unbonding + DIMO(1_000));
      expect((await position(f, f.consumerC)).staked).to.equal(0n);
    });

    it("the Timelock sends exactly the excess (returned, ExcessSwept), never stake or unbonding stake", async function () {
      const f = await loadFixture(excessFixture);
      const totals = await f.staking.totals();
      await asDao(f, async (tl) => {
        expect(await f.staking.connect(tl).sweepExcess.staticCall(f.consumerC.address)).to.equal(DIMO(1_000));
        const tx = f.staking.connect(tl).sweepExcess(f.consumerC.address);
        await expect(tx).to.emit(f.staking, "ExcessSwept").withArgs(f.consumerC.address, DIMO(1_000));
        await expect(tx).to.changeTokenBalances(f.token, [f.stakingAddress, f.consumerC], [-DIMO(1_000), DIMO(1_000)]);
      });
      expect(await f.staking.totals()).to.deep.equal(totals);
      await expectBalanceMatchesTotals(f);
      // Everyone can still take out what they own.
      await time.increaseTo((await position(f, f.consumerB)).releaseAt);
      await expect(f.staking.connect(f.consumerB).withdraw())
        .to.emit(f.staking, "Withdrawn")
        .withArgs(f.consumerB.address, DIMO(20_000));
    });

    it("refuses when there is no excess: StakingNoExcess(balance, owed)", async function () {
      const f = await loadFixture(unbondingFixture);
      const owed = requiredStake(2) + DIMO(50_000);
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).sweepExcess(f.timelockAddress))
          .to.be.revertedWithCustomError(f.staking, "StakingNoExcess")
          .withArgs(owed, owed);
      });
    });

    it("after a slash, the remaining balance still equals the totals: nothing to sweep", async function () {
      const f = await loadFixture(frozenFixture);
      await asDao(f, async (tl) => {
        await f.staking.connect(tl).slash(...slashArgs(f.consumerB.address, DIMO(25_000), DIMO(5_000)));
        const [staked, unbonding] = await f.staking.totals();
        await expect(f.staking.connect(tl).sweepExcess(f.timelockAddress))
          .to.be.revertedWithCustomError(f.staking, "StakingNoExcess")
          .withArgs(staked + unbonding, staked + unbonding);
      });
    });

    it("refuses the zero address", async function () {
      const f = await loadFixture(excessFixture);
      await asDao(f, async (tl) => {
        await expect(f.staking.connect(tl).sweepExcess(ethers.ZeroAddress)).to.be.revertedWithCustomError(
          f.staking,
          "StakingZeroAddress",
        );
      });
    });

    it("is only for the Timelock: the guardian, DAO members, the consumers and the Governor are refused", async function () {
      const f = await loadFixture(excessFixture);
      await expectOnlyRole(f, DEFAULT_ADMIN_ROLE, (staking, who) => staking.sweepExcess(who));
    });
  });
});

/** A matcher for a timestamp argument whose exact value another assertion pins. */
function anyTimestamp() {
  return (v: bigint) => typeof v === "bigint" && v > 0n;
}
