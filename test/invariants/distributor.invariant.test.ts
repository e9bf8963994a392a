import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, WEEK } from "../helpers/fixtures";
import { DEFAULT_POLICY_HASH, DISPUTE_BOND, asTimelock, fundedDistributorFixture } from "../rewards/fixtures";
import { TestTree } from "../rewards/tree";

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const STEPS = Number(process.env.FUZZ_STEPS ?? 30);
const ACCOUNTS = Array.from({ length: 6 }, (_, i) =>
  ethers.getAddress(ethers.dataSlice(ethers.id(`fuzz-acct-${i}`), 12)),
);

type Action =
  | { kind: "publish"; raises: number[] }
  | { kind: "revoke"; byTimelock: boolean }
  | { kind: "dispute" }
  | { kind: "resolve"; upheld: boolean; byTimelock: boolean }
  | { kind: "wait"; seconds: number }
  | { kind: "activate" }
  | { kind: "claim"; who: number; stale: boolean; inflate: boolean }
  | { kind: "batch"; who: number[] };

// Weighted so that most sequences publish, wait out the window, activate and claim.
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("publish" as const),
      raises: fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 6, maxLength: 6 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("revoke" as const), byTimelock: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("dispute" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("resolve" as const), upheld: fc.boolean(), byTimelock: fc.boolean() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("wait" as const),
      seconds: fc.constantFrom(60, DAY - 1, DAY, 2 * DAY, WEEK, 14 * DAY),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("activate" as const) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("claim" as const),
      who: fc.integer({ min: 0, max: 5 }),
      stale: fc.boolean(),
      inflate: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("batch" as const),
      who: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }),
    }),
  },
);

const DISPUTE_PERIOD = 14n * BigInt(DAY);
const MAX_GUARDIAN_REVOCATIONS = 3;

/**
 * Random publish / revoke (guardian or Timelock) / dispute / resolve / activate / claim sequences against the
 * RewardDistributor, with ghost state. After every step: total claimed ≤ total funded; no account has received
 * more than its cumulative amount in the newest active root; a second claim of the same amount pays nothing;
 * balance = funded − claimed + the bond of an open dispute; every bond is back with the disputer or at the
 * treasury; the guardian's consecutive revocations stay ≤ 3; a pending root is held at most its window plus
 * one dispute period.
 */
describe("RewardDistributor invariants (random action sequences)", function () {
  this.timeout(300_000);

  it("holds the claim invariants", async function () {
    const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
    console.log(`    fast-check seed ${seed} (FUZZ_SEED=${seed} to replay)`);
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: STEPS, size: "max" }), async (random) => {
        // Every sequence starts from an active root, so that claims have something to prove against.
        const actions: Action[] = [
          { kind: "publish", raises: [1000, 2000, 0, 500, 1, 3000] },
          { kind: "wait", seconds: DAY },
          { kind: "activate" },
          ...random,
        ];
        const f = await loadFixture(fundedDistributorFixture);
        const funded = await f.distributor.totalFunded();
        const cumulative = new Map<string, bigint>(ACCOUNTS.map((a) => [a, 0n]));
        const paid = new Map<string, bigint>(ACCOUNTS.map((a) => [a, 0n]));
        let activeTree: TestTree | undefined;
        let pendingTree: TestTree | undefined;
        let previousTree: TestTree | undefined;
        let week = 0;
        const bond = DISPUTE_BOND;
        await f.token.connect(f.funder).approve(f.distributor, ethers.MaxUint256);
        const funderStart = await f.token.balanceOf(f.funder);
        const treasuryStart = await f.token.balanceOf(f.timelockAddress);
        let dispute: "none" | "open" | "dismissed" = "none";
        let resolvesBy = 0n;
        let bondsHeld = 0n;
        let forfeited = 0n;
        let guardianRevocations = 0;
        let publishedAt = 0n;
        const held = (now: bigint) => dispute === "open" && now < resolvesBy;
        const activated = () => {
          guardianRevocations = 0;
          if (dispute === "open") bondsHeld -= bond; // a lapsed dispute's bond goes back
          dispute = "none";
        };
        const revoked = () => {
          for (const acct of ACCOUNTS) cumulative.set(acct, activeTree ? activeTree.amount(acct) : 0n);
          pendingTree = undefined;
          week -= 1;
        };
        for (const a of actions) {
          if (a.kind === "publish") {
            const entries = ACCOUNTS.map((acct, i) => ({
              account: acct,
              amount: cumulative.get(acct)! + BigInt(a.raises[i]) * 10n ** 18n,
            }));
            const tree = new TestTree(entries);
            const pending = await f.distributor.pendingRoot();
            const now = BigInt(await time.latest()) + 1n;
            await time.setNextBlockTimestamp(now); // the prediction below holds for exactly this time
            const blocked = pending.root !== ethers.ZeroHash && now < pending.activatesAt;
            const tx = f.distributor
              .connect(f.publisher)
              .publishRoot(week, tree.root, tree.total, ethers.id(`c${week}`), DEFAULT_POLICY_HASH, "0x");
            if (blocked) await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsRootPending");
            else if (pending.root !== ethers.ZeroHash && held(now))
              await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsRootDisputed");
            else if (now < BigInt(f.genesis + (week + 1) * WEEK)) {
              await expect(tx)
                .to.be.revertedWithCustomError(f.distributor, "RewardsWeekNotEnded")
                .withArgs(week, f.genesis + (week + 1) * WEEK);
            } else if (tree.total > funded)
              await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsInsufficientFunds");
            else {
              await tx;
              if (pendingTree) {
                // A matured pending root was activated first.
                previousTree = activeTree;
                activeTree = pendingTree;
                activated();
              }
              dispute = "none";
              publishedAt = now;
              pendingTree = tree;
              for (const e of entries) cumulative.set(e.account, e.amount);
              week += 1;
            }
          } else if (a.kind === "revoke") {
            const pending = await f.distributor.pendingRoot();
            const now = BigInt(await time.latest()) + 1n;
            await time.setNextBlockTimestamp(now); // the prediction below holds for exactly this time
            const send = async (tx: Promise<unknown>) => {
              if (pending.root === ethers.ZeroHash)
                await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsNoPendingRoot");
              else if (now >= pending.activatesAt)
                await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsChallengeWindowClosed");
              else if (dispute === "open")
                await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsRootDisputed");
              else if (!a.byTimelock && guardianRevocations >= MAX_GUARDIAN_REVOCATIONS)
                await expect(tx)
                  .to.be.revertedWithCustomError(f.distributor, "RewardsGuardianRevocationLimit")
                  .withArgs(MAX_GUARDIAN_REVOCATIONS, MAX_GUARDIAN_REVOCATIONS);
              else {
                await tx;
                if (!a.byTimelock) guardianRevocations += 1;
                revoked();
              }
            };
            if (a.byTimelock)
              await asTimelock(f.timelockAddress, (tl) => send(f.distributor.connect(tl).revokePendingRoot()));
            else await send(f.distributor.connect(f.guardian).revokePendingRoot());
          } else if (a.kind === "dispute") {
            const pending = await f.distributor.pendingRoot();
            const now = BigInt(await time.latest()) + 1n;
            await time.setNextBlockTimestamp(now);
            const tx = f.distributor.connect(f.funder).disputePendingRoot(ethers.id("evidence"));
            if (pending.root === ethers.ZeroHash)
              await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsNoPendingRoot");
            else if (now >= pending.activatesAt)
              await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsChallengeWindowClosed");
            else if (dispute !== "none")
              await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsAlreadyDisputed");
            else {
              await expect(tx).to.emit(f.distributor, "RootDisputed");
              dispute = "open";
              resolvesBy = now + DISPUTE_PERIOD;
              bondsHeld += bond;
            }
          } else if (a.kind === "resolve") {
            const pending = await f.distributor.pendingRoot();
            const now = BigInt(await time.latest()) + 1n;
            await time.setNextBlockTimestamp(now);
            const send = async (tx: Promise<unknown>) => {
              if (pending.root === ethers.ZeroHash || dispute !== "open")
                await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsNoOpenDispute");
              else if (now >= resolvesBy)
                await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsDisputeLapsed");
              else if (a.upheld && !a.byTimelock && guardianRevocations >= MAX_GUARDIAN_REVOCATIONS)
                await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsGuardianRevocationLimit");
              else {
                await tx;
                bondsHeld -= bond;
                if (a.upheld) {
                  if (!a.byTimelock) guardianRevocations += 1;
                  dispute = "none";
                  revoked();
                } else {
                  dispute = "dismissed";
                  forfeited += bond;
                }
              }
            };
            if (a.byTimelock)
              await asTimelock(f.timelockAddress, (tl) => send(f.distributor.connect(tl).resolveDispute(a.upheld)));
            else await send(f.distributor.connect(f.guardian).resolveDispute(a.upheld));
          } else if (a.kind === "wait") {
            await time.increase(a.seconds);
          } else if (a.kind === "activate") {
            const pending = await f.distributor.pendingRoot();
            const now = BigInt(await time.latest()) + 1n;
            await time.setNextBlockTimestamp(now); // the prediction below holds for exactly this time
            const tx = f.distributor.activateRoot();
            if (pending.root === ethers.ZeroHash)
              await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsNoPendingRoot");
            else if (now < pending.activatesAt)
              await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsChallengeWindowOpen");
            else if (held(now)) await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsRootDisputed");
            else {
              await tx;
              activated();
              previousTree = activeTree;
              activeTree = pendingTree;
              pendingTree = undefined;
            }
          } else if (a.kind === "claim") {
            const acct = ACCOUNTS[a.who];
            const tree = a.stale ? (previousTree ?? activeTree) : activeTree;
            if (!tree) continue;
            const amount = tree.amount(acct) + (a.inflate ? 1n : 0n);
            const tx = f.distributor.claim(acct, amount, 0, tree.proof(acct));
            const valid = tree === activeTree && !a.inflate;
            if (amount <= paid.get(acct)!)
              await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsNothingToClaim");
            else if (!valid || tree.root !== (await f.distributor.activeRoot()).root) {
              await expect(tx).to.be.revertedWithCustomError(f.distributor, "RewardsInvalidProof");
            } else {
              await expect(tx).to.changeTokenBalance(f.token, acct, amount - paid.get(acct)!);
              paid.set(acct, amount);
              if (process.env.FUZZ_STATS) console.log("claim ok");
            }
          } else if (a.kind === "batch" && activeTree) {
            const tree = activeTree;
            const claims = a.who.map((i) => ({
              account: ACCOUNTS[i],
              cumulativeAmount: tree.amount(ACCOUNTS[i]),
              anchor: 0,
              proof: tree.proof(ACCOUNTS[i]),
            }));
            await f.distributor.claimMany(claims);
            for (const i of a.who) {
              const acct = ACCOUNTS[i];
              if (tree.amount(acct) > paid.get(acct)!) paid.set(acct, tree.amount(acct));
            }
          }
          // Invariants after every step.
          const claimedTotal = [...paid.values()].reduce((s, v) => s + v, 0n);
          expect(claimedTotal <= (await f.distributor.totalFunded())).to.equal(true);
          expect(await f.token.balanceOf(f.distributor)).to.equal(
            (await f.distributor.totalFunded()) - claimedTotal + bondsHeld,
          );
          expect(await f.token.balanceOf(f.funder)).to.equal(funderStart - bondsHeld - forfeited);
          expect(await f.token.balanceOf(f.timelockAddress)).to.equal(treasuryStart + forfeited);
          expect(await f.distributor.guardianRevocations()).to.equal(guardianRevocations);
          expect(guardianRevocations <= MAX_GUARDIAN_REVOCATIONS).to.equal(true);
          const p = await f.distributor.pendingRoot();
          if (p.root !== ethers.ZeroHash) {
            const heldUntil = dispute === "open" && resolvesBy > p.activatesAt ? resolvesBy : p.activatesAt;
            expect(heldUntil <= publishedAt + BigInt(DAY) + DISPUTE_PERIOD).to.equal(true);
          }
          for (const acct of ACCOUNTS) {
            expect(await f.distributor.claimed(acct)).to.equal(paid.get(acct));
            expect(await f.token.balanceOf(acct)).to.equal(paid.get(acct));
            if (activeTree) expect(paid.get(acct)! <= activeTree.amount(acct)).to.equal(true);
          }
        }
      }),
      { numRuns: RUNS, seed },
    );
  });
});
