import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, DIMO, WEEK } from "../helpers/fixtures";
import {
  DEFAULT_POLICY_HASH,
  DISPUTE_BOND,
  asTimelock,
  distributorFixture,
  fundedDistributorFixture,
} from "./fixtures";
import { TestTree } from "./tree";
import { CLAIM_TO_TYPES } from "../../lib/typed-data";

const CONTENT = ethers.id("distribution file");
const POLICY = DEFAULT_POLICY_HASH;
const EVIDENCE = ethers.id("rewards:verify report");
const DISPUTE_PERIOD = 14 * DAY;

type F = Awaited<ReturnType<typeof fundedDistributorFixture>>;

function accounts(n: number, seed: string): string[] {
  return Array.from({ length: n }, (_, i) => ethers.getAddress(ethers.dataSlice(ethers.id(`${seed}${i}`), 0, 20)));
}

async function publish(f: F, week: number, tree: TestTree, layer = "0x") {
  return f.distributor.connect(f.publisher).publishRoot(week, tree.root, tree.total, CONTENT, POLICY, layer);
}

/** A funded distributor with week 0's root pending and a disputer (the funder) that approved two bonds. */
async function pendingFixture() {
  const f = await fundedDistributorFixture();
  const tree = new TestTree([
    { account: f.alice.address, amount: DIMO(100) },
    { account: f.bob.address, amount: DIMO(250) },
  ]);
  await publish(f, 0, tree);
  await f.token.connect(f.funder).approve(f.distributor, 2n * DISPUTE_BOND);
  const { activatesAt } = await f.distributor.pendingRoot();
  return { ...f, tree, activatesAt };
}

/** pendingFixture with a dispute opened by the funder. */
async function disputedFixture() {
  const f = await pendingFixture();
  await f.distributor.connect(f.funder).disputePendingRoot(EVIDENCE);
  const { resolvesBy } = await f.distributor.pendingDispute();
  return { ...f, resolvesBy };
}

describe("RewardDistributor: time, policy, disputes and bounds", function () {
  describe("roots bound to time", function () {
    it("publishes week N only once week N has ended by the vault's clock, exactly at its end", async function () {
      const f = await loadFixture(distributorFixture);
      const endsAt = f.genesis + WEEK; // vault.weekStart(1)
      expect(await f.vault.weekStart(1)).to.equal(endsAt);
      await time.setNextBlockTimestamp(endsAt - 1);
      await expect(f.distributor.connect(f.publisher).publishRoot(0, ethers.id("r"), 0, CONTENT, POLICY, "0x"))
        .to.be.revertedWithCustomError(f.distributor, "RewardsWeekNotEnded")
        .withArgs(0, endsAt);
      await time.setNextBlockTimestamp(endsAt);
      await expect(f.distributor.connect(f.publisher).publishRoot(0, ethers.id("r"), 0, CONTENT, POLICY, "0x")).to.emit(
        f.distributor,
        "RootPublished",
      );
    });
  });

  describe("policy hash", function () {
    it("refuses a root computed under another policy than the on-chain one", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      const other = ethers.id("another policy");
      await expect(f.distributor.connect(f.publisher).publishRoot(0, ethers.id("r"), 1, CONTENT, other, "0x"))
        .to.be.revertedWithCustomError(f.distributor, "RewardsPolicyMismatch")
        .withArgs(other, POLICY);
    });

    it("lets only the Timelock change it; roots must then carry the new hash", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      const next = ethers.id("policy v2");
      for (const who of [f.publisher, f.guardian, f.alice]) {
        await expect(f.distributor.connect(who).setPolicyHash(next))
          .to.be.revertedWithCustomError(f.distributor, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, ethers.ZeroHash);
      }
      await asTimelock(f.timelockAddress, async (tl) => {
        await expect(f.distributor.connect(tl).setPolicyHash(ethers.ZeroHash)).to.be.revertedWithCustomError(
          f.distributor,
          "RewardsZeroPolicyHash",
        );
        await expect(f.distributor.connect(tl).setPolicyHash(next))
          .to.emit(f.distributor, "PolicyHashSet")
          .withArgs(next);
      });
      expect(await f.distributor.policyHash()).to.equal(next);
      await expect(f.distributor.connect(f.publisher).publishRoot(0, ethers.id("r"), 1, CONTENT, POLICY, "0x"))
        .to.be.revertedWithCustomError(f.distributor, "RewardsPolicyMismatch")
        .withArgs(POLICY, next);
      await expect(f.distributor.connect(f.publisher).publishRoot(0, ethers.id("r"), 1, CONTENT, next, "0x")).to.emit(
        f.distributor,
        "RootPublished",
      );
    });
  });

  describe("challenge window boundaries", function () {
    it("refuses a new publication one second before activatesAt and accepts it exactly at activatesAt", async function () {
      const f = await loadFixture(pendingFixture);
      const t1 = new TestTree([
        { account: f.alice.address, amount: DIMO(200) },
        { account: f.bob.address, amount: DIMO(250) },
      ]);
      await time.setNextBlockTimestamp(f.activatesAt - 1n);
      await expect(publish(f, 1, t1))
        .to.be.revertedWithCustomError(f.distributor, "RewardsRootPending")
        .withArgs(0, f.activatesAt);
      await time.setNextBlockTimestamp(f.activatesAt);
      await expect(publish(f, 1, t1))
        .to.emit(f.distributor, "RootActivated")
        .withArgs(0, f.tree.root, f.tree.total);
    });

    it("activates exactly at activatesAt, not one second before", async function () {
      const f = await loadFixture(pendingFixture);
      await time.setNextBlockTimestamp(f.activatesAt - 1n);
      await expect(f.distributor.activateRoot())
        .to.be.revertedWithCustomError(f.distributor, "RewardsChallengeWindowOpen")
        .withArgs(f.activatesAt, f.activatesAt - 1n);
      await time.setNextBlockTimestamp(f.activatesAt);
      await expect(f.distributor.activateRoot()).to.emit(f.distributor, "RootActivated");
      expect((await f.distributor.pendingRoot()).root).to.equal(ethers.ZeroHash);
      expect((await f.distributor.activeRoot()).activatesAt).to.equal(0);
    });

    it("revokes one second before activatesAt, not exactly at it", async function () {
      const f = await loadFixture(pendingFixture);
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      await time.setNextBlockTimestamp(f.activatesAt - 1n);
      await expect(f.distributor.connect(f.guardian).revokePendingRoot()).to.emit(f.distributor, "RootRevoked");
      await ethers.provider.send("evm_revert", [snapshot]);
      await time.setNextBlockTimestamp(f.activatesAt);
      await expect(f.distributor.connect(f.guardian).revokePendingRoot())
        .to.be.revertedWithCustomError(f.distributor, "RewardsChallengeWindowClosed")
        .withArgs(f.activatesAt, f.activatesAt);
    });

    it("bounds the window on both sides when the Timelock sets it", async function () {
      const f = await loadFixture(distributorFixture);
      await expect(f.distributor.connect(f.guardian).setChallengeWindow(2 * DAY))
        .to.be.revertedWithCustomError(f.distributor, "AccessControlUnauthorizedAccount")
        .withArgs(f.guardian.address, ethers.ZeroHash);
      await asTimelock(f.timelockAddress, async (tl) => {
        for (const w of [3600 - 1, 7 * DAY + 1]) {
          await expect(f.distributor.connect(tl).setChallengeWindow(w))
            .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidChallengeWindow")
            .withArgs(w, 3600, 7 * DAY);
        }
        for (const w of [3600, 7 * DAY]) {
          await expect(f.distributor.connect(tl).setChallengeWindow(w))
            .to.emit(f.distributor, "ChallengeWindowSet")
            .withArgs(w);
          expect(await f.distributor.challengeWindow()).to.equal(w);
        }
      });
    });
  });

  describe("cached layer size", function () {
    it("accepts a layer of exactly MAX_CACHED_NODES (1,024) nodes and refuses 1,025", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      expect(await f.distributor.MAX_CACHED_NODES()).to.equal(1024);
      const exact = new TestTree(accounts(1024, "exact").map((a) => ({ account: a, amount: 1n })));
      const over = new TestTree(accounts(1025, "over").map((a) => ({ account: a, amount: 1n })));
      await expect(publish(f, 0, over, ethers.concat(over.layer(0))))
        .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidCachedLayer")
        .withArgs(1025 * 32, ethers.ZeroHash);
      await expect(publish(f, 0, exact, ethers.concat(exact.layer(0)))).to.emit(f.distributor, "RootPublished");
      expect((await f.distributor.cachedLayer(exact.root)).length).to.equal(1024);
    });

    it("verifies proofs of every length, odd and even (two levels per loop iteration)", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      const list = accounts(48, "depth"); // proofs of 6 siblings (leaves 0-31) and 5 (32-47: one level carried up)
      const tree = new TestTree(list.map((a, i) => ({ account: a, amount: BigInt(i + 1) })));
      await publish(f, 0, tree);
      await time.increase(DAY);
      await f.distributor.activateRoot();
      const lengths = new Set<number>();
      for (const a of list) {
        const proof = tree.proof(a);
        lengths.add(proof.length);
        await expect(f.distributor.claim(a, tree.amount(a) + 1n, 0, proof)).to.be.revertedWithCustomError(
          f.distributor,
          "RewardsInvalidProof",
        );
        await expect(f.distributor.claim(a, tree.amount(a), 0, proof)).to.emit(f.distributor, "Claimed");
      }
      expect([...lengths].sort()).to.deep.equal([5, 6]);
      // One leaf: the root is the leaf, the proof is empty.
      const single = new TestTree([{ account: f.alice.address, amount: DIMO(1) }]);
      await publish(f, 1, single);
      await time.increase(DAY);
      await f.distributor.activateRoot();
      await expect(f.distributor.claim(f.alice.address, DIMO(1), 0, [])).to.emit(f.distributor, "Claimed");
    });
  });

  describe("guardian revocations are bounded", function () {
    it("attack: the guardian revokes every publication; after 3 it cannot, the root activates and pays", async function () {
      const f = await loadFixture(pendingFixture);
      expect(await f.distributor.MAX_GUARDIAN_REVOCATIONS()).to.equal(3);
      for (let n = 1; n <= 3; n++) {
        await expect(f.distributor.connect(f.guardian).revokePendingRoot())
          .to.emit(f.distributor, "RootRevoked")
          .withArgs(0, f.tree.root, f.guardian.address);
        expect(await f.distributor.guardianRevocations()).to.equal(n);
        await time.increase(WEEK); // a week later the oracle publishes again
        await publish(f, 0, f.tree);
      }
      await expect(f.distributor.connect(f.guardian).revokePendingRoot())
        .to.be.revertedWithCustomError(f.distributor, "RewardsGuardianRevocationLimit")
        .withArgs(3, 3);
      await time.increase(DAY);
      await f.distributor.activateRoot();
      expect(await f.distributor.guardianRevocations()).to.equal(0);
      await expect(
        f.distributor.claim(f.alice.address, DIMO(100), 0, f.tree.proof(f.alice.address)),
      ).to.changeTokenBalance(f.token, f.alice, DIMO(100));
    });

    it("leaves the Timelock's revocations unbounded, and an activation gives the guardian its 3 again", async function () {
      const f = await loadFixture(pendingFixture);
      for (let n = 0; n < 3; n++) {
        await f.distributor.connect(f.guardian).revokePendingRoot();
        await publish(f, 0, f.tree);
      }
      await asTimelock(f.timelockAddress, async (tl) => {
        for (let n = 0; n < 4; n++) {
          await expect(f.distributor.connect(tl).revokePendingRoot())
            .to.emit(f.distributor, "RootRevoked")
            .withArgs(0, f.tree.root, f.timelockAddress);
          await publish(f, 0, f.tree);
        }
      });
      expect(await f.distributor.guardianRevocations()).to.equal(3);
      await time.increase(DAY);
      await f.distributor.activateRoot();
      const t1 = new TestTree([
        { account: f.alice.address, amount: DIMO(200) },
        { account: f.bob.address, amount: DIMO(250) },
      ]);
      await publish(f, 1, t1);
      await expect(f.distributor.connect(f.guardian).revokePendingRoot()).to.emit(f.distributor, "RootRevoked");
      expect(await f.distributor.guardianRevocations()).to.equal(1);
    });

    it("counts a dispute the guardian upholds as one of its revocations", async function () {
      const f = await loadFixture(pendingFixture);
      await f.token.connect(f.funder).approve(f.distributor, ethers.MaxUint256);
      for (let n = 0; n < 2; n++) {
        await f.distributor.connect(f.guardian).revokePendingRoot();
        await publish(f, 0, f.tree);
      }
      await f.distributor.connect(f.funder).disputePendingRoot(EVIDENCE);
      await f.distributor.connect(f.guardian).resolveDispute(true);
      expect(await f.distributor.guardianRevocations()).to.equal(3);
      await publish(f, 0, f.tree);
      await f.distributor.connect(f.funder).disputePendingRoot(EVIDENCE);
      await expect(f.distributor.connect(f.guardian).resolveDispute(true))
        .to.be.revertedWithCustomError(f.distributor, "RewardsGuardianRevocationLimit")
        .withArgs(3, 3);
      // The guardian can still dismiss; the Timelock can still uphold.
      await asTimelock(f.timelockAddress, async (tl) =>
        expect(f.distributor.connect(tl).resolveDispute(true))
          .to.emit(f.distributor, "DisputeResolved")
          .withArgs(0, f.tree.root, true, f.timelockAddress),
      );
    });
  });

  describe("disputes", function () {
    it("pulls the bond, logs the evidence and holds activation past the window", async function () {
      const f = await loadFixture(pendingFixture);
      const funded = await f.distributor.totalFunded();
      const t = (await time.latest()) + 10;
      await time.setNextBlockTimestamp(t);
      const tx = f.distributor.connect(f.funder).disputePendingRoot(EVIDENCE);
      await expect(tx)
        .to.emit(f.distributor, "RootDisputed")
        .withArgs(0, f.tree.root, f.funder.address, DISPUTE_BOND, EVIDENCE);
      await expect(tx).to.changeTokenBalances(f.token, [f.funder, f.distributor], [-DISPUTE_BOND, DISPUTE_BOND]);
      const d = await f.distributor.pendingDispute();
      expect(d.disputer).to.equal(f.funder.address);
      expect(d.bond).to.equal(DISPUTE_BOND);
      expect(d.resolvesBy).to.equal(t + DISPUTE_PERIOD);
      expect(await f.distributor.totalFunded()).to.equal(funded); // a bond is not funding
      await time.setNextBlockTimestamp(f.activatesAt);
      await expect(f.distributor.activateRoot())
        .to.be.revertedWithCustomError(f.distributor, "RewardsRootDisputed")
        .withArgs(0, t + DISPUTE_PERIOD);
      await expect(publish(f, 1, f.tree))
        .to.be.revertedWithCustomError(f.distributor, "RewardsRootDisputed")
        .withArgs(0, t + DISPUTE_PERIOD);
    });

    it("needs the bond's approval, a pending root inside its window, and one dispute per publication", async function () {
      const f = await loadFixture(pendingFixture);
      await expect(f.distributor.connect(f.alice).disputePendingRoot(EVIDENCE)).to.be.revertedWithCustomError(
        f.token,
        "ERC20InsufficientAllowance",
      );
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      await time.setNextBlockTimestamp(f.activatesAt);
      await expect(f.distributor.connect(f.funder).disputePendingRoot(EVIDENCE))
        .to.be.revertedWithCustomError(f.distributor, "RewardsChallengeWindowClosed")
        .withArgs(f.activatesAt, f.activatesAt);
      await ethers.provider.send("evm_revert", [snapshot]);
      const again = await ethers.provider.send("evm_snapshot", []);
      await time.setNextBlockTimestamp(f.activatesAt - 1n);
      await expect(f.distributor.connect(f.funder).disputePendingRoot(EVIDENCE)).to.emit(f.distributor, "RootDisputed");
      await ethers.provider.send("evm_revert", [again]);
      await f.distributor.connect(f.funder).disputePendingRoot(EVIDENCE);
      await expect(f.distributor.connect(f.funder).disputePendingRoot(EVIDENCE))
        .to.be.revertedWithCustomError(f.distributor, "RewardsAlreadyDisputed")
        .withArgs(0);
      await expect(f.distributor.connect(f.guardian).revokePendingRoot())
        .to.be.revertedWithCustomError(f.distributor, "RewardsRootDisputed")
        .withArgs(0, (await f.distributor.pendingDispute()).resolvesBy);
      const g = await loadFixture(fundedDistributorFixture);
      await expect(g.distributor.connect(g.funder).disputePendingRoot(EVIDENCE)).to.be.revertedWithCustomError(
        g.distributor,
        "RewardsNoPendingRoot",
      );
    });

    it("upheld: revokes the root, returns the bond, the week can be published again", async function () {
      const f = await loadFixture(disputedFixture);
      const tx = f.distributor.connect(f.guardian).resolveDispute(true);
      await expect(tx).to.emit(f.distributor, "RootRevoked").withArgs(0, f.tree.root, f.guardian.address);
      await expect(tx).to.emit(f.distributor, "DisputeResolved").withArgs(0, f.tree.root, true, f.guardian.address);
      await expect(tx).to.changeTokenBalances(f.token, [f.distributor, f.funder], [-DISPUTE_BOND, DISPUTE_BOND]);
      expect((await f.distributor.pendingRoot()).root).to.equal(ethers.ZeroHash);
      expect((await f.distributor.pendingDispute()).disputer).to.equal(ethers.ZeroAddress);
      expect(await f.distributor.nextWeek()).to.equal(0);
      await expect(publish(f, 0, f.tree)).to.emit(f.distributor, "RootPublished");
      // The new publication can be disputed again.
      await expect(f.distributor.connect(f.funder).disputePendingRoot(EVIDENCE)).to.emit(f.distributor, "RootDisputed");
    });

    it("dismissed: sends the bond to the Timelock and lets the root activate at the end of its window", async function () {
      const f = await loadFixture(disputedFixture);
      const tx = f.distributor.connect(f.guardian).resolveDispute(false);
      await expect(tx).to.emit(f.distributor, "DisputeResolved").withArgs(0, f.tree.root, false, f.guardian.address);
      await expect(tx).to.changeTokenBalances(
        f.token,
        [f.distributor, f.timelockAddress, f.funder],
        [-DISPUTE_BOND, DISPUTE_BOND, 0],
      );
      await expect(tx).not.to.emit(f.distributor, "RootRevoked");
      await expect(f.distributor.connect(f.funder).disputePendingRoot(EVIDENCE))
        .to.be.revertedWithCustomError(f.distributor, "RewardsAlreadyDisputed")
        .withArgs(0);
      await time.setNextBlockTimestamp(f.activatesAt);
      await expect(f.distributor.activateRoot()).to.emit(f.distributor, "RootActivated");
    });

    it("is resolved only by the guardian or the Timelock, only while open", async function () {
      const f = await loadFixture(disputedFixture);
      for (const who of [f.publisher, f.funder, f.alice]) {
        await expect(f.distributor.connect(who).resolveDispute(true))
          .to.be.revertedWithCustomError(f.distributor, "RewardsNotRevoker")
          .withArgs(who.address);
      }
      await f.distributor.connect(f.guardian).resolveDispute(false);
      await expect(f.distributor.connect(f.guardian).resolveDispute(true)).to.be.revertedWithCustomError(
        f.distributor,
        "RewardsNoOpenDispute",
      );
    });

    it("lapses exactly DISPUTE_PERIOD after it opened: no resolution, the root activates, the bond goes back", async function () {
      const f = await loadFixture(disputedFixture);
      expect(await f.distributor.DISPUTE_PERIOD()).to.equal(DISPUTE_PERIOD);
      await time.setNextBlockTimestamp(f.resolvesBy - 1n);
      await expect(f.distributor.activateRoot())
        .to.be.revertedWithCustomError(f.distributor, "RewardsRootDisputed")
        .withArgs(0, f.resolvesBy);
      const snapshot = await ethers.provider.send("evm_snapshot", []);
      await time.setNextBlockTimestamp(f.resolvesBy);
      await expect(f.distributor.connect(f.guardian).resolveDispute(true))
        .to.be.revertedWithCustomError(f.distributor, "RewardsDisputeLapsed")
        .withArgs(f.resolvesBy, f.resolvesBy);
      await ethers.provider.send("evm_revert", [snapshot]);
      await time.setNextBlockTimestamp(f.resolvesBy);
      const tx = f.distributor.activateRoot();
      await expect(tx).to.emit(f.distributor, "RootActivated").withArgs(0, f.tree.root, f.tree.total);
      await expect(tx).to.emit(f.distributor, "DisputeLapsed").withArgs(0, f.tree.root, f.funder.address, DISPUTE_BOND);
      await expect(tx).to.changeTokenBalances(f.token, [f.distributor, f.funder], [-DISPUTE_BOND, DISPUTE_BOND]);
    });

    it("resolves one second before the lapse", async function () {
      const f = await loadFixture(disputedFixture);
      await time.setNextBlockTimestamp(f.resolvesBy - 1n);
      await expect(f.distributor.connect(f.guardian).resolveDispute(true)).to.emit(f.distributor, "DisputeResolved");
    });

    it("a lapsed dispute lets the next publication activate it first", async function () {
      const f = await loadFixture(disputedFixture);
      await time.setNextBlockTimestamp(f.resolvesBy);
      const t1 = new TestTree([
        { account: f.alice.address, amount: DIMO(200) },
        { account: f.bob.address, amount: DIMO(250) },
      ]);
      const tx = publish(f, 1, t1);
      await expect(tx).to.emit(f.distributor, "DisputeLapsed");
      await expect(tx).to.emit(f.distributor, "RootPublished");
    });

    it("the Timelock sets the bond within bounds; a dispute keeps the bond it was opened with", async function () {
      const f = await loadFixture(disputedFixture);
      await expect(f.distributor.connect(f.guardian).setDisputeBond(1))
        .to.be.revertedWithCustomError(f.distributor, "AccessControlUnauthorizedAccount")
        .withArgs(f.guardian.address, ethers.ZeroHash);
      const max = 2n ** 96n - 1n;
      await asTimelock(f.timelockAddress, async (tl) => {
        for (const b of [0n, max + 1n]) {
          await expect(f.distributor.connect(tl).setDisputeBond(b))
            .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidDisputeBond")
            .withArgs(b, 1, max);
        }
        await expect(f.distributor.connect(tl).setDisputeBond(max))
          .to.emit(f.distributor, "DisputeBondSet")
          .withArgs(max);
        await expect(f.distributor.connect(tl).setDisputeBond(DIMO(1)))
          .to.emit(f.distributor, "DisputeBondSet")
          .withArgs(DIMO(1));
      });
      expect(await f.distributor.disputeBond()).to.equal(DIMO(1));
      await expect(f.distributor.connect(f.guardian).resolveDispute(true)).to.changeTokenBalance(
        f.token,
        f.funder,
        DISPUTE_BOND,
      );
    });
  });

  describe("ClaimTo signatures", function () {
    async function activeFixture() {
      const f = await pendingFixture();
      await time.increase(DAY);
      await f.distributor.activateRoot();
      return f;
    }

    async function sign(f: F, message: { account: string; recipient: string; nonce: bigint; deadline: bigint }) {
      const { chainId } = await ethers.provider.getNetwork();
      return f.alice.signTypedData(
        { name: "DIMO RewardDistributor", version: "1", chainId, verifyingContract: await f.distributor.getAddress() },
        CLAIM_TO_TYPES,
        message,
      );
    }

    it("are valid until the deadline inclusive", async function () {
      const f = await loadFixture(activeFixture);
      const deadline = BigInt((await time.latest()) + 100);
      const sig = await sign(f, { account: f.alice.address, recipient: f.carol.address, nonce: 0n, deadline });
      await time.setNextBlockTimestamp(deadline);
      await expect(
        f.distributor.claimToWithSig(
          f.alice.address,
          DIMO(100),
          0,
          f.tree.proof(f.alice.address),
          f.carol.address,
          deadline,
          sig,
        ),
      )
        .to.emit(f.distributor, "ClaimedTo")
        .withArgs(f.alice.address, f.carol.address, DIMO(100));
    });

    it("are cancelled by invalidateNonce", async function () {
      const f = await loadFixture(activeFixture);
      const deadline = BigInt((await time.latest()) + 3600);
      const sig = await sign(f, { account: f.alice.address, recipient: f.carol.address, nonce: 0n, deadline });
      await expect(f.distributor.connect(f.alice).invalidateNonce())
        .to.emit(f.distributor, "NonceInvalidated")
        .withArgs(f.alice.address, 0);
      expect(await f.distributor.nonces(f.alice.address)).to.equal(1);
      await expect(
        f.distributor.claimToWithSig(
          f.alice.address,
          DIMO(100),
          0,
          f.tree.proof(f.alice.address),
          f.carol.address,
          deadline,
          sig,
        ),
      )
        .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidSignature")
        .withArgs(f.alice.address);
    });

    it("are used up by the account's own claimTo, so an old signature cannot redirect later weeks", async function () {
      const f = await loadFixture(activeFixture);
      const deadline = BigInt((await time.latest()) + 30 * DAY);
      const sig = await sign(f, { account: f.alice.address, recipient: f.carol.address, nonce: 0n, deadline });
      await f.distributor.connect(f.alice).claimTo(DIMO(100), 0, f.tree.proof(f.alice.address), f.bob.address);
      expect(await f.distributor.nonces(f.alice.address)).to.equal(1);
      const t1 = new TestTree([
        { account: f.alice.address, amount: DIMO(300) },
        { account: f.bob.address, amount: DIMO(250) },
      ]);
      await publish(f, 1, t1);
      await time.increase(DAY);
      await f.distributor.activateRoot();
      await expect(
        f.distributor.claimToWithSig(
          f.alice.address,
          DIMO(300),
          0,
          t1.proof(f.alice.address),
          f.carol.address,
          deadline,
          sig,
        ),
      )
        .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidSignature")
        .withArgs(f.alice.address);
    });

    it("front-run by claim(account): the money goes to the account, the relayed call reverts without using the nonce", async function () {
      const f = await loadFixture(activeFixture);
      const deadline = BigInt((await time.latest()) + 30 * DAY);
      const sig = await sign(f, { account: f.alice.address, recipient: f.carol.address, nonce: 0n, deadline });
      const proof = f.tree.proof(f.alice.address);
      // The front-runner (outsider) claims for alice: paid to alice, never to the outsider.
      await expect(
        f.distributor.connect(f.outsider).claim(f.alice.address, DIMO(100), 0, proof),
      ).to.changeTokenBalances(f.token, [f.alice, f.outsider, f.carol], [DIMO(100), 0, 0]);
      // strict: the relayed call reverts (it does not silently pay nothing and burn the nonce).
      await expect(
        f.distributor
          .connect(f.outsider)
          .claimToWithSig(f.alice.address, DIMO(100), 0, proof, f.carol.address, deadline, sig),
      )
        .to.be.revertedWithCustomError(f.distributor, "RewardsNothingToClaim")
        .withArgs(f.alice.address, DIMO(100), DIMO(100));
      expect(await f.distributor.nonces(f.alice.address)).to.equal(0);
      // The same signature pays the next weeks' difference to the signed recipient.
      const t1 = new TestTree([
        { account: f.alice.address, amount: DIMO(180) },
        { account: f.bob.address, amount: DIMO(250) },
      ]);
      await publish(f, 1, t1);
      await time.increase(DAY);
      await f.distributor.activateRoot();
      await expect(
        f.distributor.claimToWithSig(
          f.alice.address,
          DIMO(180),
          0,
          t1.proof(f.alice.address),
          f.carol.address,
          deadline,
          sig,
        ),
      ).to.changeTokenBalance(f.token, f.carol, DIMO(80));
    });
  });
});
