import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { impersonateAccount, loadFixture, setBalance, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  DEFAULT_SCHEDULE_PARAMS,
  amountOfWeek,
  amountOfWeeks,
  scheduleFromParams,
  weeksEnded as tsWeeksEnded,
  yearlyWeeklyAmounts,
} from "../lib/issuance";
import { DEFAULT_VAULT_PARAMS, DIMO, POOL, TOTAL_SUPPLY, WEEK, foundationFixture } from "./helpers/fixtures";

const SCHEDULE = scheduleFromParams(DEFAULT_SCHEDULE_PARAMS);
const DISTRIBUTOR_ROLE = ethers.id("DISTRIBUTOR_ROLE");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;

/**
 * Gas ceiling for `release`, whatever the number of weeks (the cost is O(years), not O(weeks)). Under
 * solidity-coverage the contracts are instrumented and compiled without the optimizer, so the ceiling is
 * relaxed there; the figure that matters is the one measured with `npx hardhat test`.
 */
const COVERAGE = (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
const RELEASE_GAS_CEILING = COVERAGE ? 1_000_000n : 200_000n;

const gasFigures: Record<string, bigint> = {};

/** The foundation plus the Timelock as an impersonated signer. */
async function vaultFixture() {
  const f = await foundationFixture();
  const timelockAddress = await f.timelock.getAddress();
  await impersonateAccount(timelockAddress);
  await setBalance(timelockAddress, DIMO(10));
  const timelockSigner = await ethers.getSigner(timelockAddress);
  return { ...f, timelockSigner };
}

/** A vault with the default schedule but only 1,000 DIMO in it (the rest of the supply stays with the deployer). */
async function underfundedVaultFixture() {
  const [deployer, , distributor] = await ethers.getSigners();
  const token = await ethers.deployContract("DimoToken", [[deployer.address], [TOTAL_SUPPLY]]);
  const genesis = (await time.latest()) + 1_000;
  const vault = await ethers.deployContract("IssuanceVault", [
    await token.getAddress(),
    genesis,
    DEFAULT_VAULT_PARAMS,
    deployer.address,
  ]);
  await vault.grantRole(DISTRIBUTOR_ROLE, distributor.address);
  await token.transfer(await vault.getAddress(), DIMO(1_000));
  return { deployer, distributor, token, vault, genesis };
}

async function blockTimestampOf(tx: { wait(): Promise<{ blockNumber: number } | null> }): Promise<number> {
  const receipt = await tx.wait();
  return (await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp;
}

describe("IssuanceVault", function () {
  after(function () {
    const figures = Object.entries(gasFigures)
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ");
    if (figures) console.log(`      release gas${COVERAGE ? " (coverage build)" : ""}: ${figures}`);
  });

  describe("constructor", function () {
    it("stores the token and the genesis timestamp", async function () {
      const { token, vault, genesis } = await loadFixture(vaultFixture);
      expect(await vault.token()).to.equal(await token.getAddress());
      expect(await vault.genesis()).to.equal(BigInt(genesis));
    });

    it("derives on chain the same schedule as lib/issuance.ts", async function () {
      const { vault } = await loadFixture(vaultFixture);
      expect(await vault.schedule()).to.deep.equal([SCHEDULE.firstWeekly, SCHEDULE.remainder, 52n, 40n, 1_500n]);
    });

    it("grants DEFAULT_ADMIN_ROLE to the admin given", async function () {
      const [deployer, , , alice] = await ethers.getSigners();
      const { token } = await loadFixture(vaultFixture);
      const vault = await ethers.deployContract("IssuanceVault", [
        await token.getAddress(),
        0,
        DEFAULT_VAULT_PARAMS,
        alice.address,
      ]);
      await expect(vault.deploymentTransaction())
        .to.emit(vault, "RoleGranted")
        .withArgs(DEFAULT_ADMIN_ROLE, alice.address, deployer.address);
      expect(await vault.hasRole(DEFAULT_ADMIN_ROLE, deployer.address)).to.equal(false);
    });

    describe("when the token is the zero address", function () {
      it("reverts with IssuanceZeroAddress", async function () {
        const [deployer] = await ethers.getSigners();
        const factory = await ethers.getContractFactory("IssuanceVault");
        await expect(
          factory.deploy(ethers.ZeroAddress, 0, DEFAULT_VAULT_PARAMS, deployer.address),
        ).to.be.revertedWithCustomError(factory, "IssuanceZeroAddress");
      });
    });

    describe("when the admin is the zero address", function () {
      it("reverts with IssuanceZeroAddress", async function () {
        const { token } = await loadFixture(vaultFixture);
        const factory = await ethers.getContractFactory("IssuanceVault");
        await expect(
          factory.deploy(await token.getAddress(), 0, DEFAULT_VAULT_PARAMS, ethers.ZeroAddress),
        ).to.be.revertedWithCustomError(factory, "IssuanceZeroAddress");
      });
    });

    describe("when the schedule parameters are invalid", function () {
      it("reverts with IssuanceInvalidParameters(weeksPerYear, yearCount, decayBps)", async function () {
        const [deployer] = await ethers.getSigners();
        const { token } = await loadFixture(vaultFixture);
        const factory = await ethers.getContractFactory("IssuanceVault");
        await expect(
          factory.deploy(await token.getAddress(), 0, { ...DEFAULT_VAULT_PARAMS, decayBps: 10_000n }, deployer.address),
        )
          .to.be.revertedWithCustomError(factory, "IssuanceInvalidParameters")
          .withArgs(52n, 40n, 10_000n);
      });
    });

    describe("when both a pool and a first weekly amount are given", function () {
      it("reverts with IssuanceAmbiguousParameters(pool, firstWeekly)", async function () {
        const [deployer] = await ethers.getSigners();
        const { token } = await loadFixture(vaultFixture);
        const factory = await ethers.getContractFactory("IssuanceVault");
        await expect(
          factory.deploy(
            await token.getAddress(),
            0,
            { ...DEFAULT_VAULT_PARAMS, firstWeekly: DIMO(1_105_000) },
            deployer.address,
          ),
        )
          .to.be.revertedWithCustomError(factory, "IssuanceAmbiguousParameters")
          .withArgs(POOL, DIMO(1_105_000));
      });
    });
  });

  describe("roles as deployed", function () {
    it('names DISTRIBUTOR_ROLE keccak256("DISTRIBUTOR_ROLE")', async function () {
      const { vault } = await loadFixture(vaultFixture);
      expect(await vault.DISTRIBUTOR_ROLE()).to.equal(DISTRIBUTOR_ROLE);
    });

    it("makes the Timelock the admin", async function () {
      const { vault, timelock } = await loadFixture(vaultFixture);
      expect(await vault.hasRole(DEFAULT_ADMIN_ROLE, await timelock.getAddress())).to.equal(true);
    });

    it("makes DEFAULT_ADMIN_ROLE the admin of DISTRIBUTOR_ROLE", async function () {
      const { vault } = await loadFixture(vaultFixture);
      expect(await vault.getRoleAdmin(DISTRIBUTOR_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
    });

    it("leaves the deployer with no role", async function () {
      const { vault, deployer } = await loadFixture(vaultFixture);
      expect(await vault.hasRole(DEFAULT_ADMIN_ROLE, deployer.address)).to.equal(false);
      expect(await vault.hasRole(DISTRIBUTOR_ROLE, deployer.address)).to.equal(false);
    });

    it("gives the guardian no role", async function () {
      const { vault, guardian } = await loadFixture(vaultFixture);
      expect(await vault.hasRole(DEFAULT_ADMIN_ROLE, guardian.address)).to.equal(false);
      expect(await vault.hasRole(DISTRIBUTOR_ROLE, guardian.address)).to.equal(false);
    });

    it("gives the distributor DISTRIBUTOR_ROLE only", async function () {
      const { vault, distributor } = await loadFixture(vaultFixture);
      expect(await vault.hasRole(DISTRIBUTOR_ROLE, distributor.address)).to.equal(true);
      expect(await vault.hasRole(DEFAULT_ADMIN_ROLE, distributor.address)).to.equal(false);
    });

    it("supports the ERC-165 and IAccessControl interfaces", async function () {
      const { vault } = await loadFixture(vaultFixture);
      expect(await vault.supportsInterface("0x01ffc9a7")).to.equal(true);
      expect(await vault.supportsInterface("0x7965db0b")).to.equal(true);
      expect(await vault.supportsInterface("0xffffffff")).to.equal(false);
    });

    describe("when the deployer tries to appoint a distributor", function () {
      it("reverts with AccessControlUnauthorizedAccount(deployer, DEFAULT_ADMIN_ROLE)", async function () {
        const { vault, deployer, outsider } = await loadFixture(vaultFixture);
        await expect(vault.connect(deployer).grantRole(DISTRIBUTOR_ROLE, outsider.address))
          .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
          .withArgs(deployer.address, DEFAULT_ADMIN_ROLE);
      });
    });

    describe("when the Timelock appoints a new distributor", function () {
      it("lets the new distributor release ended weeks to itself", async function () {
        const { vault, token, timelockSigner, outsider, genesis } = await loadFixture(vaultFixture);
        await vault.connect(timelockSigner).grantRole(DISTRIBUTOR_ROLE, outsider.address);
        await time.increaseTo(genesis + WEEK);
        await expect(vault.connect(outsider).release()).to.changeTokenBalances(
          token,
          [vault, outsider],
          [-amountOfWeek(SCHEDULE, 0), amountOfWeek(SCHEDULE, 0)],
        );
      });
    });

    describe("when the Timelock revokes the distributor", function () {
      it("stops the former distributor from releasing", async function () {
        const { vault, timelockSigner, distributor, genesis } = await loadFixture(vaultFixture);
        await vault.connect(timelockSigner).revokeRole(DISTRIBUTOR_ROLE, distributor.address);
        await time.increaseTo(genesis + WEEK);
        await expect(vault.connect(distributor).release())
          .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
          .withArgs(distributor.address, DISTRIBUTOR_ROLE);
      });
    });
  });

  describe("release", function () {
    describe("before genesis", function () {
      it("reverts with IssuanceNothingToRelease(0, 0)", async function () {
        const { vault, distributor } = await loadFixture(vaultFixture);
        await expect(vault.connect(distributor).release())
          .to.be.revertedWithCustomError(vault, "IssuanceNothingToRelease")
          .withArgs(0n, 0n);
      });
    });

    describe("at the last second of week 0", function () {
      it("reverts with IssuanceNothingToRelease(0, 0)", async function () {
        const { vault, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + WEEK - 1);
        await expect(vault.connect(distributor).release())
          .to.be.revertedWithCustomError(vault, "IssuanceNothingToRelease")
          .withArgs(0n, 0n);
      });
    });

    describe("at the first second after week 0 has ended", function () {
      it("pays exactly week 0's amount from the vault to the distributor", async function () {
        const { vault, token, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + WEEK);
        const tx = vault.connect(distributor).release();
        await expect(tx).to.changeTokenBalances(
          token,
          [vault, distributor],
          [-SCHEDULE.firstWeekly, SCHEDULE.firstWeekly],
        );
        expect(await blockTimestampOf(await tx)).to.equal(genesis + WEEK);
        gasFigures["1 week (first release)"] = (await (await tx).wait())!.gasUsed;
      });

      it("emits WeeksReleased(distributor, 0, 1, amount)", async function () {
        const { vault, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + WEEK);
        await expect(vault.connect(distributor).release())
          .to.emit(vault, "WeeksReleased")
          .withArgs(distributor.address, 0n, 1n, SCHEDULE.firstWeekly);
      });

      it("returns the weeks and the amount released", async function () {
        const { vault, distributor, genesis } = await loadFixture(vaultFixture);
        await time.increaseTo(genesis + WEEK);
        expect(await vault.connect(distributor).release.staticCall()).to.deep.equal([0n, 1n, SCHEDULE.firstWeekly]);
      });

      it("records week 0 as released", async function () {
        const { vault, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + WEEK);
        await vault.connect(distributor).release();
        expect(await vault.nextWeek()).to.equal(1n);
        expect(await vault.totalReleased()).to.equal(SCHEDULE.firstWeekly);
      });
    });

    describe("when the week was already released", function () {
      it("reverts with IssuanceNothingToRelease(nextWeek, weeksEnded)", async function () {
        const { vault, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + WEEK);
        await vault.connect(distributor).release();
        await time.setNextBlockTimestamp(genesis + 2 * WEEK - 1);
        await expect(vault.connect(distributor).release())
          .to.be.revertedWithCustomError(vault, "IssuanceNothingToRelease")
          .withArgs(1n, 1n);
      });

      it("pays nothing more to the distributor", async function () {
        const { vault, token, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + WEEK);
        await vault.connect(distributor).release();
        await expect(vault.connect(distributor).release()).to.be.reverted;
        expect(await token.balanceOf(distributor.address)).to.equal(SCHEDULE.firstWeekly);
      });
    });

    describe("when the next week has ended", function () {
      it("pays exactly that week", async function () {
        const { vault, token, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + WEEK);
        await vault.connect(distributor).release();
        await time.setNextBlockTimestamp(genesis + 2 * WEEK);
        const tx = vault.connect(distributor).release();
        await expect(tx).to.changeTokenBalances(
          token,
          [vault, distributor],
          [-amountOfWeek(SCHEDULE, 1), amountOfWeek(SCHEDULE, 1)],
        );
        await expect(tx)
          .to.emit(vault, "WeeksReleased")
          .withArgs(distributor.address, 1n, 2n, amountOfWeek(SCHEDULE, 1));
        gasFigures["1 week (later release)"] = (await (await tx).wait())!.gasUsed;
      });
    });

    describe("when k weeks have ended since the last release", function () {
      it("pays all k weeks in one call with their exact sum", async function () {
        const { vault, token, distributor, genesis } = await loadFixture(vaultFixture);
        const k = 5;
        await time.setNextBlockTimestamp(genesis + k * WEEK);
        const expected = amountOfWeeks(SCHEDULE, 0, k);
        expect(expected).to.equal(BigInt(k) * SCHEDULE.firstWeekly);
        const tx = vault.connect(distributor).release();
        await expect(tx).to.changeTokenBalances(token, [vault, distributor], [-expected, expected]);
        await expect(tx).to.emit(vault, "WeeksReleased").withArgs(distributor.address, 0n, BigInt(k), expected);
      });

      it("pays the weeks on both sides of a year boundary at their own year's rate", async function () {
        const { vault, token, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + 50 * WEEK);
        await vault.connect(distributor).release();
        await time.setNextBlockTimestamp(genesis + 60 * WEEK);
        const [year0, year1] = yearlyWeeklyAmounts(SCHEDULE);
        const expected = 2n * year0 + 8n * year1;
        expect(expected).to.equal(amountOfWeeks(SCHEDULE, 50, 60));
        const tx = vault.connect(distributor).release();
        await expect(tx).to.changeTokenBalances(token, [vault, distributor], [-expected, expected]);
        await expect(tx).to.emit(vault, "WeeksReleased").withArgs(distributor.address, 50n, 60n, expected);
      });
    });

    describe("after all 40 years have ended", function () {
      it("releases all 2,080 weeks in one call, paying exactly the pool", async function () {
        const { vault, token, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + 2_080 * WEEK);
        const tx = vault.connect(distributor).release();
        await expect(tx).to.changeTokenBalances(token, [vault, distributor], [-POOL, POOL]);
        await expect(tx).to.emit(vault, "WeeksReleased").withArgs(distributor.address, 0n, 2_080n, POOL);
        expect(await token.balanceOf(await vault.getAddress())).to.equal(0n);
        expect(await vault.totalReleased()).to.equal(POOL);
      });

      it(`costs less than ${RELEASE_GAS_CEILING} gas for all 2,080 weeks`, async function () {
        const { vault, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + 2_080 * WEEK);
        const receipt = await (await vault.connect(distributor).release()).wait();
        gasFigures["2,080 weeks at once"] = receipt!.gasUsed;
        expect(receipt!.gasUsed).to.be.lessThan(RELEASE_GAS_CEILING);
      });

      it("pays the rounding remainder with the last week", async function () {
        const { vault, token, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + 2_079 * WEEK);
        await vault.connect(distributor).release();
        expect(await vault.totalReleased()).to.equal(POOL - amountOfWeek(SCHEDULE, 2_079));
        await time.setNextBlockTimestamp(genesis + 2_080 * WEEK);
        const last = yearlyWeeklyAmounts(SCHEDULE)[39] + SCHEDULE.remainder;
        await expect(vault.connect(distributor).release()).to.changeTokenBalances(
          token,
          [vault, distributor],
          [-last, last],
        );
        expect(await token.balanceOf(await vault.getAddress())).to.equal(0n);
      });

      it("releases only up to the last week even long after the end", async function () {
        const { vault, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + 3_000 * WEEK);
        await expect(vault.connect(distributor).release())
          .to.emit(vault, "WeeksReleased")
          .withArgs(distributor.address, 0n, 2_080n, POOL);
      });
    });

    describe("when every week has been released", function () {
      it("reverts with IssuanceNothingToRelease(2080, weeksEnded)", async function () {
        const { vault, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + 2_080 * WEEK);
        await vault.connect(distributor).release();
        await time.setNextBlockTimestamp(genesis + 2_090 * WEEK);
        await expect(vault.connect(distributor).release())
          .to.be.revertedWithCustomError(vault, "IssuanceNothingToRelease")
          .withArgs(2_080n, 2_090n);
      });

      it("has nothing releasable any more", async function () {
        const { vault, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + 2_080 * WEEK);
        await vault.connect(distributor).release();
        await time.increaseTo(genesis + 2_100 * WEEK);
        expect(await vault.releasable()).to.deep.equal([2_080n, 2_080n, 0n]);
      });
    });

    for (const [label, who] of [
      ["an outsider", "outsider"],
      ["the deployer", "deployer"],
      ["the guardian", "guardian"],
      ["a token holder", "alice"],
      ["the Timelock, which is admin but not distributor", "timelock"],
    ] as const) {
      describe(`when ${label} calls it`, function () {
        it("reverts with AccessControlUnauthorizedAccount(caller, DISTRIBUTOR_ROLE)", async function () {
          const f = await loadFixture(vaultFixture);
          const caller = who === "timelock" ? f.timelockSigner : f[who];
          await time.increaseTo(f.genesis + 10 * WEEK);
          await expect(f.vault.connect(caller).release())
            .to.be.revertedWithCustomError(f.vault, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, DISTRIBUTOR_ROLE);
        });
      });
    }

    describe("when the vault holds less than the weeks due", function () {
      it("reverts with IssuanceInsufficientBalance(balance, needed)", async function () {
        const { vault, distributor, genesis } = await loadFixture(underfundedVaultFixture);
        await time.setNextBlockTimestamp(genesis + WEEK);
        await expect(vault.connect(distributor).release())
          .to.be.revertedWithCustomError(vault, "IssuanceInsufficientBalance")
          .withArgs(DIMO(1_000), SCHEDULE.firstWeekly);
      });

      it("releases once the vault is topped up", async function () {
        const { vault, token, deployer, distributor, genesis } = await loadFixture(underfundedVaultFixture);
        await token.connect(deployer).transfer(await vault.getAddress(), SCHEDULE.firstWeekly - DIMO(1_000));
        await time.setNextBlockTimestamp(genesis + WEEK);
        await expect(vault.connect(distributor).release()).to.changeTokenBalances(
          token,
          [vault, distributor],
          [-SCHEDULE.firstWeekly, SCHEDULE.firstWeekly],
        );
      });

      it("refuses the whole schedule when the balance is 1 wei short of the pool", async function () {
        const { vault, token, deployer, distributor, genesis } = await loadFixture(underfundedVaultFixture);
        await token.connect(deployer).transfer(await vault.getAddress(), POOL - 1n - DIMO(1_000));
        await time.setNextBlockTimestamp(genesis + 2_080 * WEEK);
        await expect(vault.connect(distributor).release())
          .to.be.revertedWithCustomError(vault, "IssuanceInsufficientBalance")
          .withArgs(POOL - 1n, POOL);
      });
    });
  });

  describe("sweepExcess", function () {
    describe("when DIMO was sent to the vault by mistake", function () {
      it("lets the Timelock return exactly the excess and nothing of the schedule's funds", async function () {
        const { token, vault, timelock, timelockSigner, outsider } = await loadFixture(vaultFixture);
        await token.connect(timelockSigner).transfer(await vault.getAddress(), DIMO(5));
        const tx = vault.connect(timelockSigner).sweepExcess(outsider.address);
        await expect(tx).to.emit(vault, "ExcessSwept").withArgs(outsider.address, DIMO(5));
        await expect(tx).to.changeTokenBalances(token, [vault, outsider], [-DIMO(5), DIMO(5)]);
        expect(await token.balanceOf(await vault.getAddress())).to.equal(POOL);
        expect(await timelock.getAddress()).to.equal(timelockSigner.address);
      });

      it("counts what was already released as no longer owed", async function () {
        const { token, vault, distributor, genesis, timelockSigner, outsider } = await loadFixture(vaultFixture);
        await time.increaseTo(genesis + 3 * WEEK);
        await vault.connect(distributor).release();
        await token.connect(timelockSigner).transfer(await vault.getAddress(), 7n);
        await expect(vault.connect(timelockSigner).sweepExcess(outsider.address))
          .to.emit(vault, "ExcessSwept")
          .withArgs(outsider.address, 7n);
      });
    });

    describe("when the vault holds only what the schedule owes", function () {
      it("reverts with IssuanceNoExcess(balance, owed)", async function () {
        const { vault, timelockSigner, outsider } = await loadFixture(vaultFixture);
        await expect(vault.connect(timelockSigner).sweepExcess(outsider.address))
          .to.be.revertedWithCustomError(vault, "IssuanceNoExcess")
          .withArgs(POOL, POOL);
      });
    });

    describe("when the recipient is the zero address", function () {
      it("reverts with IssuanceZeroAddress", async function () {
        const { vault, timelockSigner } = await loadFixture(vaultFixture);
        await expect(vault.connect(timelockSigner).sweepExcess(ethers.ZeroAddress)).to.be.revertedWithCustomError(
          vault,
          "IssuanceZeroAddress",
        );
      });
    });

    describe("when the caller is not the Timelock", function () {
      it("reverts with AccessControlUnauthorizedAccount, even for the distributor and the guardian", async function () {
        const { vault, distributor, guardian, deployer } = await loadFixture(vaultFixture);
        for (const who of [distributor, guardian, deployer]) {
          await expect(vault.connect(who).sweepExcess(who.address))
            .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
            .withArgs(who.address, DEFAULT_ADMIN_ROLE);
        }
      });
    });
  });

  describe("views", function () {
    describe("releasable", function () {
      it("is nothing before week 0 has ended", async function () {
        const { vault, genesis } = await loadFixture(vaultFixture);
        expect(await vault.releasable()).to.deep.equal([0n, 0n, 0n]);
        await time.increaseTo(genesis + WEEK - 1);
        expect(await vault.releasable()).to.deep.equal([0n, 0n, 0n]);
      });

      it("is every ended week not yet released, with its exact sum", async function () {
        const { vault, genesis } = await loadFixture(vaultFixture);
        await time.increaseTo(genesis + 3 * WEEK);
        expect(await vault.releasable()).to.deep.equal([0n, 3n, amountOfWeeks(SCHEDULE, 0, 3)]);
      });

      it("starts at the first week not yet released", async function () {
        const { vault, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + 3 * WEEK);
        await vault.connect(distributor).release();
        await time.increaseTo(genesis + 55 * WEEK);
        expect(await vault.releasable()).to.deep.equal([3n, 55n, amountOfWeeks(SCHEDULE, 3, 55)]);
      });
    });

    describe("weekAmount", function () {
      it("is the year's weekly amount, the remainder on the last week, zero past the end", async function () {
        const { vault } = await loadFixture(vaultFixture);
        const years = yearlyWeeklyAmounts(SCHEDULE);
        expect(await vault.weekAmount(0)).to.equal(years[0]);
        expect(await vault.weekAmount(51)).to.equal(years[0]);
        expect(await vault.weekAmount(52)).to.equal(years[1]);
        expect(await vault.weekAmount(2_078)).to.equal(years[39]);
        expect(await vault.weekAmount(2_079)).to.equal(years[39] + SCHEDULE.remainder);
        expect(await vault.weekAmount(2_080)).to.equal(0n);
      });
    });

    describe("amountOfWeeks", function () {
      it("sums a range of weeks, clipped to the schedule", async function () {
        const { vault } = await loadFixture(vaultFixture);
        expect(await vault.amountOfWeeks(0, 2_080)).to.equal(POOL);
        expect(await vault.amountOfWeeks(0, 10_000)).to.equal(POOL);
        expect(await vault.amountOfWeeks(100, 300)).to.equal(amountOfWeeks(SCHEDULE, 100, 300));
        expect(await vault.amountOfWeeks(300, 100)).to.equal(0n);
      });
    });

    describe("weekStart", function () {
      it("is genesis plus w weeks", async function () {
        const { vault, genesis } = await loadFixture(vaultFixture);
        expect(await vault.weekStart(0)).to.equal(BigInt(genesis));
        expect(await vault.weekStart(2_080)).to.equal(BigInt(genesis + 2_080 * WEEK));
      });

      it("puts week 0 on a Monday at 05:00 UTC", async function () {
        const { vault } = await loadFixture(vaultFixture);
        const start = new Date(Number(await vault.weekStart(0)) * 1000);
        expect([start.getUTCDay(), start.getUTCHours(), start.getUTCMinutes(), start.getUTCSeconds()]).to.deep.equal([
          1, 5, 0, 0,
        ]);
      });
    });

    describe("totalWeeks", function () {
      it("is 2,080", async function () {
        const { vault } = await loadFixture(vaultFixture);
        expect(await vault.totalWeeks()).to.equal(2_080n);
      });
    });

    describe("scheduleTotal", function () {
      it("is exactly the pool, which the vault holds at genesis", async function () {
        const { vault, token } = await loadFixture(vaultFixture);
        expect(await vault.scheduleTotal()).to.equal(POOL);
        expect(await token.balanceOf(await vault.getAddress())).to.equal(POOL);
      });
    });

    describe("currentWeek and weeksEnded", function () {
      it("are 0 before genesis", async function () {
        const { vault, genesis } = await loadFixture(vaultFixture);
        expect(await time.latest()).to.be.lessThan(genesis);
        expect(await vault.currentWeek()).to.equal(0n);
        expect(await vault.weeksEnded()).to.equal(0n);
      });

      it("stay 0 until the last second of week 0", async function () {
        const { vault, genesis } = await loadFixture(vaultFixture);
        await time.increaseTo(genesis + WEEK - 1);
        expect(await vault.currentWeek()).to.equal(0n);
        expect(await vault.weeksEnded()).to.equal(0n);
      });

      it("become 1 at the first second of week 1", async function () {
        const { vault, genesis } = await loadFixture(vaultFixture);
        await time.increaseTo(genesis + WEEK);
        expect(await vault.currentWeek()).to.equal(1n);
        expect(await vault.weeksEnded()).to.equal(1n);
      });

      it("keep counting after the schedule has ended, as lib/issuance.ts does", async function () {
        const { vault, genesis } = await loadFixture(vaultFixture);
        await time.increaseTo(genesis + 2_500 * WEEK + 123);
        expect(await vault.weeksEnded()).to.equal(BigInt(tsWeeksEnded(genesis, await time.latest())));
        expect(await vault.currentWeek()).to.equal(2_500n);
      });
    });

    describe("nextWeek and totalReleased", function () {
      it("start at zero", async function () {
        const { vault } = await loadFixture(vaultFixture);
        expect(await vault.nextWeek()).to.equal(0n);
        expect(await vault.totalReleased()).to.equal(0n);
      });

      it("follow the releases", async function () {
        const { vault, distributor, genesis } = await loadFixture(vaultFixture);
        await time.setNextBlockTimestamp(genesis + 7 * WEEK);
        await vault.connect(distributor).release();
        await time.setNextBlockTimestamp(genesis + 60 * WEEK);
        await vault.connect(distributor).release();
        expect(await vault.nextWeek()).to.equal(60n);
        expect(await vault.totalReleased()).to.equal(amountOfWeeks(SCHEDULE, 0, 60));
      });
    });
  });
});
