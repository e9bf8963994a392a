import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, DIMO, WEEK } from "../helpers/fixtures";
import { DEFAULT_POLICY_HASH, asTimelock, distributorFixture, fundedDistributorFixture } from "./fixtures";
import { TestTree, leafOf } from "./tree";
import { CLAIM_TO_TYPES } from "../../lib/typed-data";

const NO_HASH = ethers.ZeroHash;
const CONTENT = ethers.id("distribution file");
const POLICY = DEFAULT_POLICY_HASH;

type F = Awaited<ReturnType<typeof fundedDistributorFixture>>;

async function publishAndActivate(f: F, week: number, tree: TestTree, layer = "0x") {
  await f.distributor.connect(f.publisher).publishRoot(week, tree.root, tree.total, CONTENT, POLICY, layer);
  await time.increase(DAY);
  await f.distributor.activateRoot();
}

function accounts(n: number, seed = "acct"): string[] {
  return Array.from({ length: n }, (_, i) => ethers.getAddress(ethers.dataSlice(ethers.id(`${seed}${i}`), 0, 20)));
}

describe("RewardDistributor", function () {
  describe("deployment", function () {
    it("sets the token, roles, the 24 h challenge window, the policy hash, the bond and the treasury", async function () {
      const f = await loadFixture(distributorFixture);
      expect(await f.distributor.policyHash()).to.equal(POLICY);
      expect(await f.distributor.disputeBond()).to.equal(DIMO(10_000));
      expect(await f.distributor.treasury()).to.equal(f.timelockAddress);
      expect(await f.distributor.guardianRevocations()).to.equal(0);
      expect(await f.distributor.token()).to.equal(await f.token.getAddress());
      expect(await f.distributor.challengeWindow()).to.equal(DAY);
      expect(await f.distributor.hasRole(await f.distributor.PUBLISHER_ROLE(), f.publisher.address)).to.equal(true);
      expect(await f.distributor.hasRole(await f.distributor.GUARDIAN_ROLE(), f.guardian.address)).to.equal(true);
      expect(await f.distributor.hasRole(await f.distributor.DEFAULT_ADMIN_ROLE(), f.timelockAddress)).to.equal(true);
      expect(await f.distributor.nextWeek()).to.equal(0);
    });

    it("refuses zero addresses and an out-of-bounds window", async function () {
      const f = await loadFixture(distributorFixture);
      const args = [
        await f.token.getAddress(),
        await f.vault.getAddress(),
        f.timelockAddress,
        f.publisher.address,
        f.guardian.address,
        DAY,
        POLICY,
        DIMO(10_000),
      ] as const;
      const factory = await ethers.getContractFactory("RewardDistributor");
      for (let i = 0; i < 5; i++) {
        const bad = [...args] as unknown[];
        bad[i] = ethers.ZeroAddress;
        await expect(factory.deploy(...(bad as Parameters<typeof factory.deploy>))).to.be.revertedWithCustomError(
          factory,
          "RewardsZeroAddress",
        );
      }
      const deployWith = (i: number, v: unknown) => {
        const bad = [...args] as unknown[];
        bad[i] = v;
        return factory.deploy(...(bad as Parameters<typeof factory.deploy>));
      };
      for (const w of [3600 - 1, 7 * DAY + 1]) {
        await expect(deployWith(5, w))
          .to.be.revertedWithCustomError(factory, "RewardsInvalidChallengeWindow")
          .withArgs(w, 3600, 7 * DAY);
      }
      for (const w of [3600, 7 * DAY]) await expect(deployWith(5, w)).not.to.be.reverted;
      await expect(deployWith(6, ethers.ZeroHash)).to.be.revertedWithCustomError(factory, "RewardsZeroPolicyHash");
      const max = 2n ** 96n - 1n;
      for (const b of [0n, max + 1n]) {
        await expect(deployWith(7, b))
          .to.be.revertedWithCustomError(factory, "RewardsInvalidDisputeBond")
          .withArgs(b, 1, max);
      }
      for (const b of [1n, max]) await expect(deployWith(7, b)).not.to.be.reverted;
    });
  });

  describe("funding", function () {
    it("pulls exactly the vault's release of every ended week", async function () {
      const f = await loadFixture(distributorFixture);
      await time.increaseTo(f.genesis + 2 * WEEK);
      const expected = await f.vault.amountOfWeeks(0, 2);
      const tx = f.distributor.pullIssuance();
      await expect(tx).to.emit(f.distributor, "IssuancePulled").withArgs(0, 2, expected);
      await expect(tx).to.changeTokenBalances(f.token, [f.vault, f.distributor], [-expected, expected]);
      expect(await f.distributor.totalFunded()).to.equal(expected);
    });

    it("fails when no week has ended since the last pull", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      await expect(f.distributor.pullIssuance()).to.be.revertedWithCustomError(f.vault, "IssuanceNothingToRelease");
    });

    it("accepts explicit funding with a reason", async function () {
      const f = await loadFixture(distributorFixture);
      await f.token.connect(f.funder).approve(f.distributor, DIMO(100));
      const reason = ethers.encodeBytes32String("referral");
      await expect(f.distributor.connect(f.funder).fund(DIMO(100), reason))
        .to.emit(f.distributor, "Funded")
        .withArgs(f.funder.address, DIMO(100), reason);
      expect(await f.distributor.totalFunded()).to.equal(DIMO(100));
    });
  });

  describe("publishRoot", function () {
    it("posts week 0 as pending with its activation time", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      const tree = new TestTree([{ account: f.alice.address, amount: DIMO(10) }]);
      const t = (await time.latest()) + 1;
      await time.setNextBlockTimestamp(t); // automining would otherwise stamp the wall clock
      const tx = f.distributor.connect(f.publisher).publishRoot(0, tree.root, DIMO(10), CONTENT, POLICY, "0x");
      const at = t + DAY;
      await expect(tx).to.emit(f.distributor, "RootPublished").withArgs(0, tree.root, DIMO(10), CONTENT, at);
      const pending = await f.distributor.pendingRoot();
      expect(pending.root).to.equal(tree.root);
      expect(pending.activatesAt).to.equal(at);
      expect(pending.contentHash).to.equal(CONTENT);
      expect((await f.distributor.activeRoot()).root).to.equal(NO_HASH);
      expect(await f.distributor.nextWeek()).to.equal(1);
    });

    it("is reserved to the publisher", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      for (const who of [f.alice, f.guardian]) {
        await expect(f.distributor.connect(who).publishRoot(0, ethers.id("r"), 1, CONTENT, POLICY, "0x"))
          .to.be.revertedWithCustomError(f.distributor, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, await f.distributor.PUBLISHER_ROLE());
      }
    });

    it("accepts only the next week", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      await expect(f.distributor.connect(f.publisher).publishRoot(1, ethers.id("r"), 1, CONTENT, POLICY, "0x"))
        .to.be.revertedWithCustomError(f.distributor, "RewardsUnexpectedWeek")
        .withArgs(1, 0);
    });

    it("refuses a zero root", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      await expect(
        f.distributor.connect(f.publisher).publishRoot(0, NO_HASH, 1, CONTENT, POLICY, "0x"),
      ).to.be.revertedWithCustomError(f.distributor, "RewardsZeroRoot");
    });

    it("refuses a cumulative total above the funds", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      const funded = await f.distributor.totalFunded();
      await expect(
        f.distributor.connect(f.publisher).publishRoot(0, ethers.id("r"), funded + 1n, CONTENT, POLICY, "0x"),
      )
        .to.be.revertedWithCustomError(f.distributor, "RewardsInsufficientFunds")
        .withArgs(funded + 1n, funded);
      await expect(f.distributor.connect(f.publisher).publishRoot(0, ethers.id("r"), funded, CONTENT, POLICY, "0x")).not
        .to.be.reverted;
    });

    it("refuses a cumulative total below the active root's", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      await publishAndActivate(f, 0, new TestTree([{ account: f.alice.address, amount: DIMO(10) }]));
      await expect(f.distributor.connect(f.publisher).publishRoot(1, ethers.id("r"), DIMO(9), CONTENT, POLICY, "0x"))
        .to.be.revertedWithCustomError(f.distributor, "RewardsTotalDecreased")
        .withArgs(DIMO(9), DIMO(10));
    });

    it("refuses a new root while the pending one is in its window, and activates it first afterwards", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      const t0 = new TestTree([{ account: f.alice.address, amount: DIMO(10) }]);
      await f.distributor.connect(f.publisher).publishRoot(0, t0.root, t0.total, CONTENT, POLICY, "0x");
      const pending = await f.distributor.pendingRoot();
      await expect(f.distributor.connect(f.publisher).publishRoot(1, ethers.id("r"), DIMO(10), CONTENT, POLICY, "0x"))
        .to.be.revertedWithCustomError(f.distributor, "RewardsRootPending")
        .withArgs(0, pending.activatesAt);
      await time.increaseTo(pending.activatesAt);
      await expect(f.distributor.connect(f.publisher).publishRoot(1, ethers.id("r"), DIMO(10), CONTENT, POLICY, "0x"))
        .to.emit(f.distributor, "RootActivated")
        .withArgs(0, t0.root, t0.total);
      expect((await f.distributor.activeRoot()).root).to.equal(t0.root);
    });
  });

  describe("revokePendingRoot", function () {
    async function pendingFixture() {
      const f = await fundedDistributorFixture();
      const tree = new TestTree([{ account: f.alice.address, amount: DIMO(10) }]);
      await f.distributor.connect(f.publisher).publishRoot(0, tree.root, tree.total, CONTENT, POLICY, "0x");
      return { ...f, tree };
    }

    it("lets the guardian revoke during the window, and the week can be posted again", async function () {
      const f = await loadFixture(pendingFixture);
      await expect(f.distributor.connect(f.guardian).revokePendingRoot())
        .to.emit(f.distributor, "RootRevoked")
        .withArgs(0, f.tree.root, f.guardian.address);
      expect((await f.distributor.pendingRoot()).root).to.equal(NO_HASH);
      expect(await f.distributor.nextWeek()).to.equal(0);
      await expect(
        f.distributor.connect(f.publisher).publishRoot(0, f.tree.root, f.tree.total, CONTENT, POLICY, "0x"),
      ).to.emit(f.distributor, "RootPublished");
    });

    it("lets the Timelock revoke", async function () {
      const f = await loadFixture(pendingFixture);
      await asTimelock(f.timelockAddress, async (tl) =>
        expect(f.distributor.connect(tl).revokePendingRoot())
          .to.emit(f.distributor, "RootRevoked")
          .withArgs(0, f.tree.root, f.timelockAddress),
      );
    });

    it("refuses anyone else, including the publisher", async function () {
      const f = await loadFixture(pendingFixture);
      for (const who of [f.publisher, f.alice]) {
        await expect(f.distributor.connect(who).revokePendingRoot())
          .to.be.revertedWithCustomError(f.distributor, "RewardsNotRevoker")
          .withArgs(who.address);
      }
    });

    it("refuses once the window has passed", async function () {
      const f = await loadFixture(pendingFixture);
      const { activatesAt } = await f.distributor.pendingRoot();
      await time.setNextBlockTimestamp(activatesAt + 1n);
      await expect(f.distributor.connect(f.guardian).revokePendingRoot())
        .to.be.revertedWithCustomError(f.distributor, "RewardsChallengeWindowClosed")
        .withArgs(activatesAt, activatesAt + 1n);
    });

    it("refuses when nothing is pending", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      await expect(f.distributor.connect(f.guardian).revokePendingRoot()).to.be.revertedWithCustomError(
        f.distributor,
        "RewardsNoPendingRoot",
      );
    });
  });

  describe("activateRoot", function () {
    it("activates a matured pending root for anyone", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      const tree = new TestTree([{ account: f.alice.address, amount: DIMO(10) }]);
      await f.distributor.connect(f.publisher).publishRoot(0, tree.root, tree.total, CONTENT, POLICY, "0x");
      await time.increase(DAY);
      await expect(f.distributor.connect(f.outsider).activateRoot())
        .to.emit(f.distributor, "RootActivated")
        .withArgs(0, tree.root, tree.total);
      const active = await f.distributor.activeRoot();
      expect(active.root).to.equal(tree.root);
      expect(active.activatesAt).to.equal(0);
      expect(active.contentHash).to.equal(CONTENT);
    });

    it("refuses during the window and without a pending root", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      await expect(f.distributor.activateRoot()).to.be.revertedWithCustomError(f.distributor, "RewardsNoPendingRoot");
      const tree = new TestTree([{ account: f.alice.address, amount: DIMO(10) }]);
      await f.distributor.connect(f.publisher).publishRoot(0, tree.root, tree.total, CONTENT, POLICY, "0x");
      const { activatesAt } = await f.distributor.pendingRoot();
      const t = (await time.latest()) + 1;
      await time.setNextBlockTimestamp(t);
      await expect(f.distributor.activateRoot())
        .to.be.revertedWithCustomError(f.distributor, "RewardsChallengeWindowOpen")
        .withArgs(activatesAt, t);
    });
  });

  describe("setChallengeWindow", function () {
    it("is reserved to the Timelock and bounded", async function () {
      const f = await loadFixture(distributorFixture);
      await expect(f.distributor.connect(f.guardian).setChallengeWindow(2 * DAY))
        .to.be.revertedWithCustomError(f.distributor, "AccessControlUnauthorizedAccount")
        .withArgs(f.guardian.address, await f.distributor.DEFAULT_ADMIN_ROLE());
      await asTimelock(f.timelockAddress, async (tl) => {
        await expect(f.distributor.connect(tl).setChallengeWindow(2 * DAY))
          .to.emit(f.distributor, "ChallengeWindowSet")
          .withArgs(2 * DAY);
        await expect(f.distributor.connect(tl).setChallengeWindow(8 * DAY))
          .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidChallengeWindow")
          .withArgs(8 * DAY, 3600, 7 * DAY);
      });
      expect(await f.distributor.challengeWindow()).to.equal(2 * DAY);
    });
  });

  describe("claim", function () {
    async function activeFixture() {
      const f = await fundedDistributorFixture();
      const tree = new TestTree([
        { account: f.alice.address, amount: DIMO(100) },
        { account: f.bob.address, amount: DIMO(250) },
        { account: f.carol.address, amount: DIMO(7) },
        ...accounts(5).map((a, i) => ({ account: a, amount: DIMO(i + 1) })),
      ]);
      await publishAndActivate(f, 0, tree);
      return { ...f, tree };
    }

    it("pays the cumulative amount to the account, submitted by anyone", async function () {
      const f = await loadFixture(activeFixture);
      const proof = f.tree.proof(f.bob.address);
      const tx = f.distributor.connect(f.outsider).claim(f.bob.address, DIMO(250), 0, proof);
      await expect(tx).to.emit(f.distributor, "Claimed").withArgs(f.bob.address, DIMO(250));
      await expect(tx).to.changeTokenBalances(f.token, [f.distributor, f.bob], [-DIMO(250), DIMO(250)]);
      expect(await f.distributor.claimed(f.bob.address)).to.equal(DIMO(250));
    });

    it("pays nothing the second time", async function () {
      const f = await loadFixture(activeFixture);
      const proof = f.tree.proof(f.bob.address);
      await f.distributor.claim(f.bob.address, DIMO(250), 0, proof);
      await expect(f.distributor.claim(f.bob.address, DIMO(250), 0, proof))
        .to.be.revertedWithCustomError(f.distributor, "RewardsNothingToClaim")
        .withArgs(f.bob.address, DIMO(250), DIMO(250));
    });

    it("refuses an amount the tree does not hold, a proof of another account and an empty proof", async function () {
      const f = await loadFixture(activeFixture);
      const proof = f.tree.proof(f.bob.address);
      await expect(f.distributor.claim(f.bob.address, DIMO(251), 0, proof))
        .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidProof")
        .withArgs(f.bob.address, DIMO(251));
      await expect(f.distributor.claim(f.alice.address, DIMO(250), 0, proof))
        .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidProof")
        .withArgs(f.alice.address, DIMO(250));
      await expect(f.distributor.claim(f.bob.address, DIMO(250), 0, [])).to.be.revertedWithCustomError(
        f.distributor,
        "RewardsInvalidProof",
      );
    });

    it("refuses claims before any root is active", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      const tree = new TestTree([{ account: f.alice.address, amount: DIMO(1) }]);
      await f.distributor.connect(f.publisher).publishRoot(0, tree.root, tree.total, CONTENT, POLICY, "0x");
      await expect(f.distributor.claim(f.alice.address, DIMO(1), 0, [])).to.be.revertedWithCustomError(
        f.distributor,
        "RewardsInvalidProof",
      );
    });

    it("pays only the difference under a newer cumulative root", async function () {
      const f = await loadFixture(activeFixture);
      await f.distributor.claim(f.alice.address, DIMO(100), 0, f.tree.proof(f.alice.address));
      const t1 = new TestTree([
        { account: f.alice.address, amount: DIMO(180) },
        { account: f.bob.address, amount: DIMO(300) },
      ]);
      await publishAndActivate(f, 1, t1);
      await expect(f.distributor.claim(f.alice.address, DIMO(180), 0, t1.proof(f.alice.address))).to.changeTokenBalance(
        f.token,
        f.alice,
        DIMO(80),
      );
      // The old root no longer counts.
      await expect(
        f.distributor.claim(f.carol.address, DIMO(7), 0, f.tree.proof(f.carol.address)),
      ).to.be.revertedWithCustomError(f.distributor, "RewardsInvalidProof");
    });

    it("verifies the same proofs as OpenZeppelin's MerkleProof", async function () {
      const f = await loadFixture(activeFixture);
      const oz = await ethers.deployContract("MerkleProofDouble");
      for (const e of f.tree.entries) {
        expect(await oz.verifyCalldata(f.tree.proof(e.account), f.tree.root, leafOf(e.account, e.amount))).to.equal(
          true,
        );
      }
      for (const e of f.tree.entries) {
        await expect(f.distributor.claim(e.account, e.amount, 0, f.tree.proof(e.account))).to.emit(
          f.distributor,
          "Claimed",
        );
      }
    });
  });

  describe("claimTo", function () {
    async function activeFixture() {
      const f = await fundedDistributorFixture();
      const tree = new TestTree([
        { account: f.alice.address, amount: DIMO(100) },
        { account: f.bob.address, amount: DIMO(250) },
      ]);
      await publishAndActivate(f, 0, tree);
      return { ...f, tree };
    }

    it("lets the account send its rewards to another recipient", async function () {
      const f = await loadFixture(activeFixture);
      const tx = f.distributor.connect(f.alice).claimTo(DIMO(100), 0, f.tree.proof(f.alice.address), f.carol.address);
      await expect(tx).to.emit(f.distributor, "ClaimedTo").withArgs(f.alice.address, f.carol.address, DIMO(100));
      await expect(tx).to.changeTokenBalances(f.token, [f.alice, f.carol], [0, DIMO(100)]);
    });

    it("only spends the caller's own entitlement", async function () {
      const f = await loadFixture(activeFixture);
      await expect(f.distributor.connect(f.carol).claimTo(DIMO(100), 0, f.tree.proof(f.alice.address), f.carol.address))
        .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidProof")
        .withArgs(f.carol.address, DIMO(100));
    });

    it("refuses the zero recipient", async function () {
      const f = await loadFixture(activeFixture);
      await expect(
        f.distributor.connect(f.alice).claimTo(DIMO(100), 0, f.tree.proof(f.alice.address), ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(f.distributor, "RewardsZeroAddress");
    });
  });

  describe("claimToWithSig", function () {
    async function activeFixture() {
      const f = await fundedDistributorFixture();
      const tree = new TestTree([
        { account: f.alice.address, amount: DIMO(100) },
        { account: f.bob.address, amount: DIMO(250) },
      ]);
      await publishAndActivate(f, 0, tree);
      return { ...f, tree };
    }

    async function sign(
      f: Awaited<ReturnType<typeof activeFixture>>,
      signer: typeof f.alice,
      message: { account: string; recipient: string; nonce: bigint; deadline: bigint },
      overrides: { chainId?: bigint; verifyingContract?: string } = {},
    ) {
      const { chainId } = await ethers.provider.getNetwork();
      return signer.signTypedData(
        {
          name: "DIMO RewardDistributor",
          version: "1",
          chainId: overrides.chainId ?? chainId,
          verifyingContract: overrides.verifyingContract ?? (await f.distributor.getAddress()),
        },
        CLAIM_TO_TYPES,
        message,
      );
    }

    it("lets a relayer claim to the recipient the account signed for", async function () {
      const f = await loadFixture(activeFixture);
      const deadline = BigInt((await time.latest()) + 3600);
      const sig = await sign(f, f.alice, { account: f.alice.address, recipient: f.carol.address, nonce: 0n, deadline });
      const tx = f.distributor
        .connect(f.outsider)
        .claimToWithSig(f.alice.address, DIMO(100), 0, f.tree.proof(f.alice.address), f.carol.address, deadline, sig);
      await expect(tx).to.emit(f.distributor, "ClaimedTo").withArgs(f.alice.address, f.carol.address, DIMO(100));
      await expect(tx).to.changeTokenBalance(f.token, f.carol, DIMO(100));
      expect(await f.distributor.nonces(f.alice.address)).to.equal(1);
    });

    it("refuses an expired signature", async function () {
      const f = await loadFixture(activeFixture);
      const deadline = BigInt(await time.latest());
      const sig = await sign(f, f.alice, { account: f.alice.address, recipient: f.carol.address, nonce: 0n, deadline });
      await time.setNextBlockTimestamp(deadline + 1n);
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
        .to.be.revertedWithCustomError(f.distributor, "RewardsSignatureExpired")
        .withArgs(deadline, deadline + 1n);
    });

    for (const [name, tamper] of [
      ["a wrong signer", { signer: "bob" }],
      ["another recipient than signed", { recipient: true }],
      ["another chain id", { chainId: 1n }],
      ["another contract", { verifyingContract: "0x000000000000000000000000000000000000dEaD" }],
      ["a stale nonce", { nonce: 1n }],
    ] as const) {
      it(`refuses a signature with ${name}`, async function () {
        const f = await loadFixture(activeFixture);
        const deadline = BigInt((await time.latest()) + 3600);
        const t = tamper as {
          signer?: string;
          recipient?: boolean;
          chainId?: bigint;
          verifyingContract?: string;
          nonce?: bigint;
        };
        const sig = await sign(
          f,
          t.signer === "bob" ? f.bob : f.alice,
          { account: f.alice.address, recipient: f.carol.address, nonce: t.nonce ?? 0n, deadline },
          { chainId: t.chainId, verifyingContract: t.verifyingContract },
        );
        const recipient = t.recipient ? f.outsider.address : f.carol.address;
        await expect(
          f.distributor.claimToWithSig(
            f.alice.address,
            DIMO(100),
            0,
            f.tree.proof(f.alice.address),
            recipient,
            deadline,
            sig,
          ),
        )
          .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidSignature")
          .withArgs(f.alice.address);
      });
    }

    it("refuses a replayed signature", async function () {
      const f = await loadFixture(activeFixture);
      const deadline = BigInt((await time.latest()) + 3 * DAY);
      const sig = await sign(f, f.alice, { account: f.alice.address, recipient: f.carol.address, nonce: 0n, deadline });
      const proof = f.tree.proof(f.alice.address);
      await f.distributor.claimToWithSig(f.alice.address, DIMO(100), 0, proof, f.carol.address, deadline, sig);
      const t1 = new TestTree([
        { account: f.alice.address, amount: DIMO(200) },
        { account: f.bob.address, amount: DIMO(250) },
      ]);
      await publishAndActivate(f, 1, t1);
      await expect(
        f.distributor.claimToWithSig(
          f.alice.address,
          DIMO(200),
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

    it("refuses the zero recipient", async function () {
      const f = await loadFixture(activeFixture);
      await expect(
        f.distributor.claimToWithSig(f.alice.address, DIMO(100), 0, [], ethers.ZeroAddress, 0, "0x"),
      ).to.be.revertedWithCustomError(f.distributor, "RewardsZeroAddress");
    });
  });

  describe("claimMany", function () {
    it("pays many accounts in one transaction and skips those with nothing left", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      const list = accounts(40, "many");
      const tree = new TestTree(list.map((a, i) => ({ account: a, amount: DIMO(i + 1) })));
      await publishAndActivate(f, 0, tree);
      await f.distributor.claim(list[0], DIMO(1), 0, tree.proof(list[0]));
      const claims = list.map((a) => ({
        account: a,
        cumulativeAmount: tree.amount(a),
        anchor: 0,
        proof: tree.proof(a),
      }));
      const expected = tree.total - DIMO(1);
      await expect(f.distributor.claimMany(claims)).to.changeTokenBalance(f.token, f.distributor, -expected);
      for (const a of list) expect(await f.distributor.claimed(a)).to.equal(tree.amount(a));
    });

    it("reverts the whole batch on an invalid proof", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      const list = accounts(4, "bad");
      const tree = new TestTree(list.map((a) => ({ account: a, amount: DIMO(1) })));
      await publishAndActivate(f, 0, tree);
      const claims = list.map((a) => ({ account: a, cumulativeAmount: DIMO(1), anchor: 0, proof: tree.proof(a) }));
      claims[2].cumulativeAmount = DIMO(2);
      await expect(f.distributor.claimMany(claims))
        .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidProof")
        .withArgs(list[2], DIMO(2));
    });
  });

  describe("cached layer", function () {
    async function cachedFixture() {
      const f = await fundedDistributorFixture();
      const list = accounts(1100, "cache");
      const tree = new TestTree(list.map((a, i) => ({ account: a, amount: BigInt(i + 1) * 10n ** 15n })));
      // Lowest layer with at most 1024 nodes: layer 1 holds 550 nodes.
      const layerIndex = 1;
      const layer = tree.layer(layerIndex);
      await f.distributor
        .connect(f.publisher)
        .publishRoot(0, tree.root, tree.total, CONTENT, POLICY, ethers.concat(layer));
      await time.increase(DAY);
      await f.distributor.activateRoot();
      return { ...f, tree, list, layer, layerIndex };
    }

    it("keeps the posted layer readable on chain, split over two stores", async function () {
      const f = await loadFixture(cachedFixture);
      expect(await f.distributor.cachedLayer(f.tree.root)).to.deep.equal(f.layer);
      const [first, second] = await f.distributor.cachedLayerStores(f.tree.root);
      expect((await ethers.provider.getCode(first)).length).to.equal(2 + 2 * (1 + 512 * 32));
      expect((await ethers.provider.getCode(second)).length).to.equal(2 + 2 * (1 + 38 * 32));
    });

    it("pays a claim carrying only the proof up to the cached layer", async function () {
      const f = await loadFixture(cachedFixture);
      for (const a of [f.list[0], f.list[777], f.list[1099]]) {
        const { anchor, proof } = f.tree.shortProof(a, f.layerIndex);
        await expect(f.distributor.claim(a, f.tree.amount(a), anchor, proof)).to.changeTokenBalance(
          f.token,
          a,
          f.tree.amount(a),
        );
      }
    });

    it("refuses a short proof pointed at the wrong node or past the layer", async function () {
      const f = await loadFixture(cachedFixture);
      const a = f.list[10];
      const { anchor, proof } = f.tree.shortProof(a, f.layerIndex);
      await expect(f.distributor.claim(a, f.tree.amount(a), anchor + 1, proof)).to.be.revertedWithCustomError(
        f.distributor,
        "RewardsInvalidProof",
      );
      await expect(f.distributor.claim(a, f.tree.amount(a), 5000, proof)).to.be.revertedWithCustomError(
        f.distributor,
        "RewardsInvalidProof",
      );
    });

    it("still accepts full proofs to the root", async function () {
      const f = await loadFixture(cachedFixture);
      const a = f.list[5];
      await expect(f.distributor.claim(a, f.tree.amount(a), 0, f.tree.proof(a))).to.emit(f.distributor, "Claimed");
    });

    it("refuses a layer that does not hash to the root, a ragged length or too many nodes", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      const list = accounts(8, "layer");
      const tree = new TestTree(list.map((a) => ({ account: a, amount: 1n })));
      const layer = tree.layer(1);
      const wrong = [...layer];
      wrong[0] = ethers.id("forged");
      await expect(
        f.distributor.connect(f.publisher).publishRoot(0, tree.root, tree.total, CONTENT, POLICY, ethers.concat(wrong)),
      ).to.be.revertedWithCustomError(f.distributor, "RewardsInvalidCachedLayer");
      await expect(f.distributor.connect(f.publisher).publishRoot(0, tree.root, tree.total, CONTENT, POLICY, "0x1234"))
        .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidCachedLayer")
        .withArgs(2, NO_HASH);
      const huge = ethers.concat(Array.from({ length: 1025 }, (_, i) => ethers.id(`n${i}`)));
      await expect(f.distributor.connect(f.publisher).publishRoot(0, tree.root, tree.total, CONTENT, POLICY, huge))
        .to.be.revertedWithCustomError(f.distributor, "RewardsInvalidCachedLayer")
        .withArgs(1025 * 32, NO_HASH);
    });

    it("keeps the first stored layer when the same root is posted again", async function () {
      const f = await loadFixture(fundedDistributorFixture);
      const list = accounts(8, "again");
      const tree = new TestTree(list.map((a) => ({ account: a, amount: 1n })));
      await f.distributor
        .connect(f.publisher)
        .publishRoot(0, tree.root, tree.total, CONTENT, POLICY, ethers.concat(tree.layer(1)));
      await f.distributor.connect(f.guardian).revokePendingRoot();
      await f.distributor
        .connect(f.publisher)
        .publishRoot(0, tree.root, tree.total, CONTENT, POLICY, ethers.concat(tree.layer(2)));
      expect(await f.distributor.cachedLayer(tree.root)).to.deep.equal(tree.layer(1));
    });

    it("exposes no chunk outside a publication", async function () {
      const f = await loadFixture(distributorFixture);
      expect(await f.distributor.layerChunk()).to.equal("0x");
    });
  });
});
