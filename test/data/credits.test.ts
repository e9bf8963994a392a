import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { PERMIT_TYPES, TOKEN_DOMAIN_NAME } from "../../lib/typed-data";
import { receiptDigest, verifyReceipt, canServe } from "../../lib/credits/receipts";
import { CONSUMER_FUNDS, DIMO, NOTICE, PRICE, asTimelock, creditsFixture, deposit, receipt, signed } from "./fixtures";

const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;

/** Consumer A deposited 100 DIMO (100,000 credits at 0.001 DIMO). */
async function fundedFixture() {
  const f = await creditsFixture();
  await deposit(f, f.consumerA, DIMO(100));
  return f;
}

describe("DataCredits (issue 15)", function () {
  describe("deployment", function () {
    it("the Timelock is the only admin and the treasury; parameters as deployed", async function () {
      const f = await loadFixture(creditsFixture);
      expect(await f.credits.hasRole(DEFAULT_ADMIN_ROLE, f.timelockAddress)).to.equal(true);
      expect(await f.credits.hasRole(DEFAULT_ADMIN_ROLE, f.record.deployer)).to.equal(false);
      expect(await f.credits.treasury()).to.equal(f.timelockAddress);
      expect(await f.credits.pricePerCredit()).to.equal(PRICE);
      expect(await f.credits.noticePeriod()).to.equal(BigInt(NOTICE));
      expect(await f.credits.split()).to.deep.equal([7_500n, 500n]);
    });
  });

  describe("constructor", function () {
    for (const field of ["token", "vault", "distributor", "treasury", "admin"] as const) {
      it(`refuses a zero ${field} with CreditsZeroAddress`, async function () {
        const f = await loadFixture(creditsFixture);
        const params = {
          token: await f.token.getAddress(),
          vault: await f.vault.getAddress(),
          distributor: await f.distributor.getAddress(),
          treasury: f.timelockAddress,
          pricePerCredit: PRICE,
          noticePeriod: NOTICE,
          burnBps: 7_500,
          treasuryBps: 500,
        };
        const admin = field === "admin" ? ethers.ZeroAddress : f.timelockAddress;
        if (field !== "admin") params[field] = ethers.ZeroAddress;
        const factory = await ethers.getContractFactory("DataCredits");
        await expect(factory.deploy(params, admin)).to.be.revertedWithCustomError(factory, "CreditsZeroAddress");
      });
    }
  });

  describe("deposit", function () {
    it("credits the consumer and emits Deposited; zero amount and zero consumer refused", async function () {
      const f = await loadFixture(creditsFixture);
      await f.token.connect(f.consumerA).approve(f.creditsAddress, DIMO(5));
      await expect(f.credits.connect(f.consumerA).deposit(f.consumerB.address, DIMO(5)))
        .to.emit(f.credits, "Deposited")
        .withArgs(f.consumerB.address, f.consumerA.address, DIMO(5), DIMO(5));
      expect((await f.credits.account(f.consumerB.address)).deposited).to.equal(DIMO(5));
      await expect(f.credits.connect(f.consumerA).deposit(f.consumerB.address, 0))
        .to.be.revertedWithCustomError(f.credits, "CreditsInvalidAmount")
        .withArgs(0, 0);
      await expect(f.credits.connect(f.consumerA).deposit(ethers.ZeroAddress, 1)).to.be.revertedWithCustomError(
        f.credits,
        "CreditsZeroAddress",
      );
    });

    it("depositWithPermit: one transaction, and a front-run permit still deposits", async function () {
      const f = await loadFixture(creditsFixture);
      const { chainId } = await ethers.provider.getNetwork();
      const deadline = (await time.latest()) + 3600;
      const sig = ethers.Signature.from(
        await f.consumerA.signTypedData(
          { name: TOKEN_DOMAIN_NAME, version: "1", chainId, verifyingContract: await f.token.getAddress() },
          PERMIT_TYPES,
          {
            owner: f.consumerA.address,
            spender: f.creditsAddress,
            value: DIMO(7),
            nonce: await f.token.nonces(f.consumerA.address),
            deadline,
          },
        ),
      );
      await f.token.permit(f.consumerA.address, f.creditsAddress, DIMO(7), deadline, sig.v, sig.r, sig.s);
      await expect(f.credits.connect(f.consumerA).depositWithPermit(DIMO(7), deadline, sig.v, sig.r, sig.s))
        .to.emit(f.credits, "Deposited")
        .withArgs(f.consumerA.address, f.consumerA.address, DIMO(7), DIMO(7));
    });
  });

  describe("redeem", function () {
    it("charges the credits above the channel's redeemed ones, at the Timelock's price, into the running week", async function () {
      const f = await loadFixture(fundedFixture);
      const { r, sig } = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 1_000n, 1n));
      const w = await f.credits.currentWeek();
      await expect(f.credits.connect(f.node1).redeem(r, sig))
        .to.emit(f.credits, "ReceiptRedeemed")
        .withArgs(f.consumerA.address, f.node1.address, w, 1n, 1_000n, 1_000n, PRICE, 1_000n * PRICE);
      const s2 = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 1_500n, 7n));
      await expect(f.credits.connect(f.node1).redeem(s2.r, s2.sig))
        .to.emit(f.credits, "ReceiptRedeemed")
        .withArgs(f.consumerA.address, f.node1.address, w, 7n, 1_500n, 500n, PRICE, 500n * PRICE);
      expect(await f.credits.channel(f.consumerA.address, f.node1.address)).to.deep.equal([1_500n, 7n]);
      expect((await f.credits.week(w)).charged).to.equal(1_500n * PRICE);
      expect(await f.credits.available(f.consumerA.address)).to.equal(DIMO(100) - 1_500n * PRICE);
      expect(await f.credits.receiptDigest(r)).to.equal(receiptDigest(f.domain, r));
      expect(verifyReceipt(f.domain, r, sig)).to.equal(true);
    });

    it("a charge above the latest signed receipt is refused: a forged higher amount fails the signature", async function () {
      const f = await loadFixture(fundedFixture);
      const { r, sig } = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 1_000n, 1n));
      await expect(f.credits.connect(f.node1).redeem({ ...r, cumulativeCredits: 1_001n }, sig))
        .to.be.revertedWithCustomError(f.credits, "CreditsInvalidSignature")
        .withArgs(f.consumerA.address, f.node1.address, 1n);
      // Signed by the node itself.
      const own = await signed(f, f.node1, r);
      await expect(f.credits.connect(f.node1).redeem(r, own.sig))
        .to.be.revertedWithCustomError(f.credits, "CreditsInvalidSignature")
        .withArgs(f.consumerA.address, f.node1.address, 1n);
      // Exactly the signed amount is accepted.
      await expect(f.credits.connect(f.node1).redeem(r, sig)).to.emit(f.credits, "ReceiptRedeemed");
    });

    it("a replayed receipt, an out-of-order one and a lower cumulative are refused", async function () {
      const f = await loadFixture(fundedFixture);
      const s1 = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 1_000n, 1n));
      const s2 = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 2_000n, 2n));
      await f.credits.connect(f.node1).redeem(s2.r, s2.sig);
      await expect(f.credits.connect(f.node1).redeem(s2.r, s2.sig))
        .to.be.revertedWithCustomError(f.credits, "CreditsStaleReceipt")
        .withArgs(f.consumerA.address, f.node1.address, 2n, 2n);
      await expect(f.credits.connect(f.node1).redeem(s1.r, s1.sig))
        .to.be.revertedWithCustomError(f.credits, "CreditsStaleReceipt")
        .withArgs(f.consumerA.address, f.node1.address, 1n, 2n);
      const lower = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 1_999n, 3n));
      await expect(f.credits.connect(f.node1).redeem(lower.r, lower.sig))
        .to.be.revertedWithCustomError(f.credits, "CreditsNothingToRedeem")
        .withArgs(f.consumerA.address, f.node1.address, 1_999n, 2_000n);
      const equal = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 2_000n, 3n));
      await expect(f.credits.connect(f.node1).redeem(equal.r, equal.sig))
        .to.be.revertedWithCustomError(f.credits, "CreditsNothingToRedeem")
        .withArgs(f.consumerA.address, f.node1.address, 2_000n, 2_000n);
    });

    it("only the receipt's node redeems it; channels are per node", async function () {
      const f = await loadFixture(fundedFixture);
      const { r, sig } = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 10n, 1n));
      await expect(f.credits.connect(f.node2).redeem(r, sig))
        .to.be.revertedWithCustomError(f.credits, "CreditsNotReceiptNode")
        .withArgs(f.node2.address, f.node1.address);
      const other = await signed(f, f.consumerA, receipt(f.consumerA, f.node2, 10n, 1n));
      await f.credits.connect(f.node1).redeem(r, sig);
      await expect(f.credits.connect(f.node2).redeem(other.r, other.sig)).to.emit(f.credits, "ReceiptRedeemed");
    });

    it("a price above the signed one is refused; exactly the signed price is accepted", async function () {
      const f = await loadFixture(fundedFixture);
      await asTimelock(f.timelockAddress, (tl) => f.credits.connect(tl).setPricePerCredit(PRICE + 1n));
      const low = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 10n, 1n, PRICE));
      await expect(f.credits.connect(f.node1).redeem(low.r, low.sig))
        .to.be.revertedWithCustomError(f.credits, "CreditsPriceAboveSigned")
        .withArgs(PRICE + 1n, PRICE);
      const ok = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 10n, 1n, PRICE + 1n));
      await expect(f.credits.connect(f.node1).redeem(ok.r, ok.sig)).to.emit(f.credits, "ReceiptRedeemed");
    });

    it("a consumer out of credits: exactly the balance is charged, one wei more is refused and nothing moves", async function () {
      const f = await loadFixture(fundedFixture);
      const all = DIMO(100) / PRICE; // 100,000 credits
      const over = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, all + 1n, 1n));
      await expect(f.credits.connect(f.node1).redeem(over.r, over.sig))
        .to.be.revertedWithCustomError(f.credits, "CreditsInsufficientBalance")
        .withArgs(f.consumerA.address, (all + 1n) * PRICE, DIMO(100));
      expect(await f.credits.channel(f.consumerA.address, f.node1.address)).to.deep.equal([0n, 0n]);
      expect(await f.credits.creditsServable(f.consumerA.address, f.node1.address, 0n)).to.equal(all);
      expect(await f.credits.creditsServable(f.consumerA.address, f.node1.address, all)).to.equal(0n);
      const exact = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, all, 2n));
      await f.credits.connect(f.node1).redeem(exact.r, exact.sig);
      expect(await f.credits.available(f.consumerA.address)).to.equal(0n);
      expect(
        canServe({ available: 0n, pricePerCredit: PRICE, redeemedCredits: all, signedCredits: all, credits: 1n }),
      ).to.equal(false);
    });

    it("an ERC-1271 consumer's receipt is accepted through its wallet's signer", async function () {
      const f = await loadFixture(creditsFixture);
      const wallet = await ethers.deployContract("ERC1271WalletDouble", [f.consumerB.address]);
      const walletAddress = await wallet.getAddress();
      await f.token.connect(f.consumerB).approve(f.creditsAddress, DIMO(1));
      await f.credits.connect(f.consumerB).deposit(walletAddress, DIMO(1));
      const { r, sig } = await signed(f, f.consumerB, receipt(walletAddress, f.node1, 10n, 1n));
      await expect(f.credits.connect(f.node1).redeem(r, sig))
        .to.emit(f.credits, "ReceiptRedeemed")
        .withArgs(walletAddress, f.node1.address, await f.credits.currentWeek(), 1n, 10n, 10n, PRICE, 10n * PRICE);
      const bad = await signed(f, f.outsider, receipt(walletAddress, f.node1, 20n, 2n));
      await expect(f.credits.connect(f.node1).redeem(bad.r, bad.sig))
        .to.be.revertedWithCustomError(f.credits, "CreditsInvalidSignature")
        .withArgs(walletAddress, f.node1.address, 2n);
    });
  });

  describe("redeemBatch", function () {
    it("several consumers in one call, all or nothing; lengths checked", async function () {
      const f = await loadFixture(creditsFixture);
      await deposit(f, f.consumerA, DIMO(1));
      await deposit(f, f.consumerB, DIMO(1));
      const a = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 100n, 1n));
      const b = await signed(f, f.consumerB, receipt(f.consumerB, f.node1, 200n, 1n));
      await expect(f.credits.connect(f.node1).redeemBatch([a.r, b.r], [a.sig]))
        .to.be.revertedWithCustomError(f.credits, "CreditsBatchLength")
        .withArgs(2, 1);
      await expect(f.credits.connect(f.node1).redeemBatch([], []))
        .to.be.revertedWithCustomError(f.credits, "CreditsBatchLength")
        .withArgs(0, 0);
      // The second receipt replays the first: the whole batch reverts.
      await expect(f.credits.connect(f.node1).redeemBatch([a.r, a.r], [a.sig, a.sig]))
        .to.be.revertedWithCustomError(f.credits, "CreditsStaleReceipt")
        .withArgs(f.consumerA.address, f.node1.address, 1n, 1n);
      await expect(f.credits.connect(f.node1).redeemBatch([a.r, b.r], [a.sig, b.sig]))
        .to.emit(f.credits, "ReceiptRedeemed")
        .withArgs(
          f.consumerB.address,
          f.node1.address,
          await f.credits.currentWeek(),
          1n,
          200n,
          200n,
          PRICE,
          200n * PRICE,
        );
      expect((await f.credits.week(await f.credits.currentWeek())).charged).to.equal(300n * PRICE);
      expect(await f.credits.totalUnsettled()).to.equal(300n * PRICE);
    });
  });

  describe("withdrawal after notice", function () {
    it("request, refused before the notice ends, paid exactly at releaseAt; events and errors", async function () {
      const f = await loadFixture(fundedFixture);
      await expect(f.credits.connect(f.consumerA).withdraw())
        .to.be.revertedWithCustomError(f.credits, "CreditsNothingToWithdraw")
        .withArgs(f.consumerA.address);
      await expect(f.credits.connect(f.consumerA).requestWithdrawal(DIMO(100) + 1n))
        .to.be.revertedWithCustomError(f.credits, "CreditsInvalidAmount")
        .withArgs(DIMO(100) + 1n, DIMO(100));
      await expect(f.credits.connect(f.consumerA).requestWithdrawal(0))
        .to.be.revertedWithCustomError(f.credits, "CreditsInvalidAmount")
        .withArgs(0, DIMO(100));
      const tx = f.credits.connect(f.consumerA).requestWithdrawal(DIMO(100));
      const releaseAt = (await time.latest()) + 1 + NOTICE;
      await expect(tx).to.emit(f.credits, "WithdrawalRequested").withArgs(f.consumerA.address, DIMO(100), releaseAt);
      expect(await f.credits.available(f.consumerA.address)).to.equal(0n);
      await time.setNextBlockTimestamp(releaseAt - 1);
      await expect(f.credits.connect(f.consumerA).withdraw())
        .to.be.revertedWithCustomError(f.credits, "CreditsNoticeNotOver")
        .withArgs(f.consumerA.address, releaseAt);
      await time.setNextBlockTimestamp(releaseAt);
      await expect(f.credits.connect(f.consumerA).withdraw())
        .to.emit(f.credits, "Withdrawn")
        .withArgs(f.consumerA.address, DIMO(100), DIMO(100));
      expect(await f.token.balanceOf(f.consumerA.address)).to.equal(CONSUMER_FUNDS);
    });

    it("withdrawing during the notice does not escape a receipt already signed: the redeem is paid first", async function () {
      const f = await loadFixture(fundedFixture);
      const { r, sig } = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 30_000n, 1n)); // 30 DIMO
      await f.credits.connect(f.consumerA).requestWithdrawal(DIMO(100));
      const releaseAt = Number((await f.credits.account(f.consumerA.address)).releaseAt);
      await time.setNextBlockTimestamp(releaseAt - 1);
      await expect(f.credits.connect(f.node1).redeem(r, sig)).to.emit(f.credits, "ReceiptRedeemed");
      await time.setNextBlockTimestamp(releaseAt);
      await expect(f.credits.connect(f.consumerA).withdraw())
        .to.emit(f.credits, "Withdrawn")
        .withArgs(f.consumerA.address, DIMO(70), DIMO(100));
      const acc = await f.credits.account(f.consumerA.address);
      expect(acc.balance).to.equal(0n);
      expect(acc.deposited - acc.redeemed - acc.withdrawn).to.equal(acc.balance);
    });

    it("a request below the balance pays exactly the amount requested and keeps the rest", async function () {
      const f = await loadFixture(fundedFixture);
      await f.credits.connect(f.consumerA).requestWithdrawal(DIMO(40));
      await time.increase(NOTICE);
      await expect(f.credits.connect(f.consumerA).withdraw())
        .to.emit(f.credits, "Withdrawn")
        .withArgs(f.consumerA.address, DIMO(40), DIMO(40));
      expect((await f.credits.account(f.consumerA.address)).balance).to.equal(DIMO(60));
      expect(await f.token.balanceOf(f.consumerA.address)).to.equal(CONSUMER_FUNDS - DIMO(60));
    });

    it("when receipts signed before the request used the whole balance, the withdrawal pays 0 and moves no token", async function () {
      const f = await loadFixture(fundedFixture);
      const { r, sig } = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 100_000n, 1n)); // 100 DIMO
      await f.credits.connect(f.consumerA).requestWithdrawal(DIMO(100));
      await f.credits.connect(f.node1).redeem(r, sig);
      await time.increase(NOTICE);
      const tx = f.credits.connect(f.consumerA).withdraw();
      await expect(tx).to.emit(f.credits, "Withdrawn").withArgs(f.consumerA.address, 0n, DIMO(100));
      await expect(tx).not.to.emit(f.token, "Transfer");
      const acc = await f.credits.account(f.consumerA.address);
      expect([acc.balance, acc.pendingWithdrawal, acc.withdrawn]).to.deep.equal([0n, 0n, 0n]);
    });

    it("a new request replaces the pending one and restarts the notice", async function () {
      const f = await loadFixture(fundedFixture);
      await f.credits.connect(f.consumerA).requestWithdrawal(DIMO(10));
      await time.increase(NOTICE);
      await f.credits.connect(f.consumerA).requestWithdrawal(DIMO(20));
      const acc = await f.credits.account(f.consumerA.address);
      expect(acc.pendingWithdrawal).to.equal(DIMO(20));
      expect(acc.releaseAt).to.equal(BigInt((await time.latest()) + NOTICE));
      await expect(f.credits.connect(f.consumerA).withdraw()).to.be.revertedWithCustomError(
        f.credits,
        "CreditsNoticeNotOver",
      );
    });
  });

  describe("Timelock parameters", function () {
    it("only the Timelock sets price, notice and split; bounds and events", async function () {
      const f = await loadFixture(creditsFixture);
      // Thunks, sent one at a time: three calls started together reject before the loop awaits the later ones
      // (an unhandled rejection under coverage's slower instrumented contracts).
      for (const call of [
        () => f.credits.connect(f.outsider).setPricePerCredit(1),
        () => f.credits.connect(f.outsider).setNoticePeriod(NOTICE),
        () => f.credits.connect(f.outsider).setSplit(0, 0),
      ]) {
        await expect(call())
          .to.be.revertedWithCustomError(f.credits, "AccessControlUnauthorizedAccount")
          .withArgs(f.outsider.address, DEFAULT_ADMIN_ROLE);
      }
      const MAX_PRICE = DIMO(1_000);
      await asTimelock(f.timelockAddress, async (tl) => {
        const c = f.credits.connect(tl);
        await expect(c.setPricePerCredit(0))
          .to.be.revertedWithCustomError(c, "CreditsInvalidPrice")
          .withArgs(0, MAX_PRICE);
        await expect(c.setPricePerCredit(MAX_PRICE + 1n))
          .to.be.revertedWithCustomError(c, "CreditsInvalidPrice")
          .withArgs(MAX_PRICE + 1n, MAX_PRICE);
        await expect(c.setPricePerCredit(MAX_PRICE)).to.emit(c, "PriceSet").withArgs(MAX_PRICE);
        await expect(c.setNoticePeriod(86_400 - 1))
          .to.be.revertedWithCustomError(c, "CreditsInvalidNoticePeriod")
          .withArgs(86_399, 86_400, 90 * 86_400);
        await expect(c.setNoticePeriod(90 * 86_400 + 1))
          .to.be.revertedWithCustomError(c, "CreditsInvalidNoticePeriod")
          .withArgs(90 * 86_400 + 1, 86_400, 90 * 86_400);
        await expect(c.setNoticePeriod(86_400)).to.emit(c, "NoticePeriodSet").withArgs(86_400);
        await expect(c.setNoticePeriod(90 * 86_400))
          .to.emit(c, "NoticePeriodSet")
          .withArgs(90 * 86_400);
        await expect(c.setSplit(5_001, 5_000))
          .to.be.revertedWithCustomError(c, "CreditsInvalidSplit")
          .withArgs(5_001, 5_000);
        await expect(c.setSplit(5_000, 5_000)).to.emit(c, "SplitSet").withArgs(5_000, 5_000);
      });
    });
  });

  describe("weekly settlement", function () {
    it("refuses a running week and a second settlement; splits to the wei with the remainder to the drivers", async function () {
      const f = await loadFixture(fundedFixture);
      // 3,333 credits · PRICE + an odd-wei price so the floors leave a remainder.
      await asTimelock(f.timelockAddress, (tl) => f.credits.connect(tl).setPricePerCredit(PRICE + 7n));
      const { r, sig } = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 3_333n, 1n, PRICE + 7n));
      await f.credits.connect(f.node1).redeem(r, sig);
      const w = await f.credits.currentWeek();
      const endsAt = await f.vault.weekStart(w + 1n);
      await expect(f.credits.settle(w))
        .to.be.revertedWithCustomError(f.credits, "CreditsWeekNotEnded")
        .withArgs(w, endsAt);
      await time.setNextBlockTimestamp(endsAt);
      const charged = 3_333n * (PRICE + 7n);
      const burned = (charged * 7_500n) / 10_000n;
      const toTreasury = (charged * 500n) / 10_000n;
      const toDrivers = charged - burned - toTreasury;
      const supply = await f.token.totalSupply();
      const treasuryBefore = await f.token.balanceOf(f.timelockAddress);
      const fundedBefore = await f.distributor.totalFunded();
      await expect(f.credits.settle(w))
        .to.emit(f.credits, "WeekSettled")
        .withArgs(w, charged, burned, toTreasury, toDrivers)
        .and.to.emit(f.distributor, "Funded")
        .withArgs(f.creditsAddress, toDrivers, await f.credits.dataUseReason(w));
      expect(supply - (await f.token.totalSupply())).to.equal(burned);
      expect((await f.token.balanceOf(f.timelockAddress)) - treasuryBefore).to.equal(toTreasury);
      expect((await f.distributor.totalFunded()) - fundedBefore).to.equal(toDrivers);
      expect(burned + toTreasury + toDrivers).to.equal(charged);
      await expect(f.credits.settle(w)).to.be.revertedWithCustomError(f.credits, "CreditsWeekSettled").withArgs(w);
      expect(await f.token.balanceOf(f.creditsAddress)).to.equal(await f.credits.totalBalance());
    });

    it("reconciles to the wei over several weeks (charged = burned + treasury + drivers, per week and in total)", async function () {
      const f = await loadFixture(fundedFixture);
      await deposit(f, f.consumerB, DIMO(100));
      const prices = [PRICE, PRICE + 1n, PRICE + 3n, 999_999_999_999_999n];
      let seq = 0n;
      let cumA = 0n;
      let cumB = 0n;
      const weeks: bigint[] = [];
      let totalCharged = 0n;
      let totalOut = 0n;
      const supply0 = await f.token.totalSupply();
      for (const [i, p] of prices.entries()) {
        await asTimelock(f.timelockAddress, (tl) => f.credits.connect(tl).setPricePerCredit(p));
        seq += 1n;
        cumA += BigInt(101 + i * 37);
        cumB += BigInt(17 + i * 11);
        const a = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, cumA, seq, p));
        const b = await signed(f, f.consumerB, receipt(f.consumerB, f.node2, cumB, seq, p));
        await f.credits.connect(f.node1).redeem(a.r, a.sig);
        await f.credits.connect(f.node2).redeem(b.r, b.sig);
        const w = await f.credits.currentWeek();
        weeks.push(w);
        await time.increaseTo(await f.vault.weekStart(w + 1n));
      }
      for (const w of weeks) {
        const { charged } = await f.credits.week(w);
        const [burned, toTreasury, toDrivers] = await f.credits.settle.staticCall(w);
        await f.credits.settle(w);
        expect(burned + toTreasury + toDrivers).to.equal(charged);
        totalCharged += charged;
        totalOut += burned + toTreasury + toDrivers;
      }
      const a = await f.credits.account(f.consumerA.address);
      const b = await f.credits.account(f.consumerB.address);
      expect(totalCharged).to.equal(a.redeemed + b.redeemed);
      expect(totalOut).to.equal(totalCharged);
      expect(await f.credits.totalUnsettled()).to.equal(0n);
      expect(await f.token.balanceOf(f.creditsAddress)).to.equal(a.balance + b.balance);
      expect(supply0).to.be.greaterThan(await f.token.totalSupply());
    });

    it("an empty ended week settles to zero", async function () {
      const f = await loadFixture(creditsFixture);
      const w = await f.credits.currentWeek();
      await time.increaseTo(await f.vault.weekStart(w + 1n));
      await expect(f.credits.settle(w)).to.emit(f.credits, "WeekSettled").withArgs(w, 0, 0, 0, 0);
    });
  });
});
