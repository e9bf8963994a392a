import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import fc from "fast-check";
import {
  DEFAULT_SCHEDULE_PARAMS,
  amountOfWeeks,
  scheduleFromParams,
  totalWeeks,
  weeksEnded,
  type Schedule,
} from "../../lib/issuance";
import { DIMO, POOL, TOTAL_SUPPLY, WEEK, deployFoundation } from "./fixtures";

/**
 * Handler and ghost state for the token/vault invariant run: random bounded actions (time jumps, releases,
 * unauthorised releases, transfers, burns, delegations), each checked against a model, with the invariants of
 * PRODUCT.md re-read from the chain after every step.
 */

export const ACTOR_NAMES = ["alice", "bob", "carol", "distributor"] as const;
export const INTRUDER_NAMES = ["outsider", "deployer", "guardian", "alice", "bob"] as const;
const DISTRIBUTOR_ROLE = ethers.id("DISTRIBUTOR_ROLE");
const SCHEDULE_END_WEEK = 2_080;

export type Action =
  /** Mines an empty block `seconds` later (0 does nothing). */
  | { kind: "warp"; seconds: number }
  /**
   * Jumps so that the next transaction lands `offset` seconds from the start of a week `weeksAhead` weeks after
   * the current one (offset -1: last second of the previous week; 0: first second of the week).
   */
  | { kind: "warpToBoundary"; weeksAhead: number; offset: -1 | 0 | 1 }
  | { kind: "release" }
  | { kind: "releaseByIntruder"; who: (typeof INTRUDER_NAMES)[number] }
  /** `bps` of the sender's balance (10,000 = all), or one more wei than it holds when `overdraw`. */
  | { kind: "transfer"; from: number; to: number; bps: number; overdraw: boolean }
  | { kind: "burn"; from: number; bps: number; overdraw: boolean }
  | { kind: "delegate"; from: number; to: number };

const actor = fc.integer({ min: 0, max: ACTOR_NAMES.length - 1 });
const bps = fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(0, 10_000));
/** One time in ten, try to move one wei more than the balance. */
const overdraw = fc.integer({ min: 0, max: 9 }).map((n) => n === 0);

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .oneof(
        fc.integer({ min: 0, max: 60 * WEEK }),
        fc.integer({ min: 0, max: 60 }).map((w) => w * WEEK),
        fc.constantFrom(0, 1, WEEK - 1, WEEK, WEEK + 1),
      )
      .map((seconds): Action => ({ kind: "warp", seconds })),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        weeksAhead: fc.integer({ min: 0, max: 3 }),
        offset: fc.constantFrom(-1 as const, 0 as const, 1 as const),
      })
      .map((r): Action => ({ kind: "warpToBoundary", ...r })),
  },
  // A rare jump of years, so that some runs also reach (or pass) the end of the 2,080-week schedule.
  {
    weight: 1,
    arbitrary: fc.integer({ min: 100 * WEEK, max: 2_200 * WEEK }).map((seconds): Action => ({ kind: "warp", seconds })),
  },
  { weight: 8, arbitrary: fc.constant<Action>({ kind: "release" }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...INTRUDER_NAMES).map((who): Action => ({ kind: "releaseByIntruder", who })),
  },
  {
    weight: 4,
    arbitrary: fc.record({ from: actor, to: actor, bps, overdraw }).map((r): Action => ({ kind: "transfer", ...r })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ from: actor, bps, overdraw }).map((r): Action => ({ kind: "burn", ...r })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ from: actor, to: actor }).map((r): Action => ({ kind: "delegate", ...r })),
  },
);

export const ALICE_GENESIS = DIMO(3_000_000);
export const BOB_GENESIS = DIMO(2_000_000);
export const CAROL_GENESIS = DIMO(1_000_000);

/** The foundation with three early holders, so that tokens and votes move from the first step. */
export async function invariantFixture() {
  const [, , , alice, bob, carol] = await ethers.getSigners();
  return deployFoundation([
    { to: alice.address, amount: ALICE_GENESIS },
    { to: bob.address, amount: BOB_GENESIS },
    { to: carol.address, amount: CAROL_GENESIS },
  ]);
}

type Foundation = Awaited<ReturnType<typeof invariantFixture>>;

interface ReleasedRange {
  fromWeek: number;
  toWeek: number;
  amount: bigint;
  timestamp: number;
}

export class TokenVaultHandler {
  readonly schedule: Schedule = scheduleFromParams(DEFAULT_SCHEDULE_PARAMS);
  /** Ghost state. */
  burned = 0n;
  readonly released: ReleasedRange[] = [];
  readonly balances = new Map<string, bigint>();
  readonly delegates = new Map<string, string>();
  /** Counters, to see what a run exercised. */
  readonly stats = { releases: 0, emptyReleases: 0, intrusions: 0, transfers: 0, burns: 0, reverts: 0 };

  private readonly actors: HardhatEthersSigner[];
  private vaultAddress = "";
  private timelockAddress = "";

  constructor(private readonly f: Foundation) {
    this.actors = ACTOR_NAMES.map((n) => f[n]);
  }

  async init(): Promise<void> {
    this.vaultAddress = await this.f.vault.getAddress();
    this.timelockAddress = await this.f.timelock.getAddress();
    this.balances.set(this.vaultAddress, POOL);
    this.balances.set(this.timelockAddress, TOTAL_SUPPLY - POOL - ALICE_GENESIS - BOB_GENESIS - CAROL_GENESIS);
    this.balances.set(this.f.alice.address, ALICE_GENESIS);
    this.balances.set(this.f.bob.address, BOB_GENESIS);
    this.balances.set(this.f.carol.address, CAROL_GENESIS);
    this.balances.set(this.f.distributor.address, 0n);
  }

  get totalReleased(): bigint {
    return this.released.reduce((sum, r) => sum + r.amount, 0n);
  }

  get nextWeek(): number {
    return this.released.length === 0 ? 0 : this.released[this.released.length - 1].toWeek;
  }

  /** Fixes the next block's timestamp to one second after the latest block, and returns it. */
  private async nextTimestamp(): Promise<number> {
    const t = (await time.latest()) + 1;
    await time.setNextBlockTimestamp(t);
    return t;
  }

  async run(action: Action): Promise<void> {
    const { token, vault, genesis } = this.f;
    switch (action.kind) {
      case "warp": {
        if (action.seconds > 0) await time.increaseTo((await time.latest()) + action.seconds);
        return;
      }
      case "warpToBoundary": {
        const now = await time.latest();
        const week = Math.max(0, weeksEnded(genesis, now)) + action.weeksAhead;
        // The next transaction is mined one second after the block this mines.
        const target = genesis + week * WEEK + action.offset - 1;
        if (target > now) await time.increaseTo(target);
        return;
      }
      case "release": {
        const t = await this.nextTimestamp();
        const ended = weeksEnded(genesis, t);
        const fromWeek = this.nextWeek;
        const toWeek = Math.max(fromWeek, Math.min(ended, totalWeeks(this.schedule)));
        const call = vault.connect(this.f.distributor).release();
        if (toWeek === fromWeek) {
          this.stats.emptyReleases++;
          await expect(call)
            .to.be.revertedWithCustomError(vault, "IssuanceNothingToRelease")
            .withArgs(BigInt(fromWeek), BigInt(ended));
          return;
        }
        const expected = amountOfWeeks(this.schedule, fromWeek, toWeek);
        const receipt = await (await call).wait();
        const events = receipt!.logs
          .map((log) => vault.interface.parseLog(log))
          .filter((e): e is NonNullable<typeof e> => e?.name === "WeeksReleased");
        expect(events).to.have.length(1);
        const [distributor, evFrom, evTo, evAmount] = events[0].args as unknown as [string, bigint, bigint, bigint];
        expect(distributor).to.equal(this.f.distributor.address);
        expect([evFrom, evTo, evAmount]).to.deep.equal([BigInt(fromWeek), BigInt(toWeek), expected]);
        const block = await ethers.provider.getBlock(receipt!.blockNumber);
        expect(block!.timestamp).to.equal(t);
        // Ghost state records what the chain said, so the invariants check the contract, not the model.
        this.released.push({ fromWeek: Number(evFrom), toWeek: Number(evTo), amount: evAmount, timestamp: t });
        this.move(this.vaultAddress, this.f.distributor.address, evAmount);
        this.stats.releases++;
        return;
      }
      case "releaseByIntruder": {
        const who = this.f[action.who];
        await this.nextTimestamp();
        this.stats.intrusions++;
        await expect(vault.connect(who).release())
          .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, DISTRIBUTOR_ROLE);
        return;
      }
      case "transfer": {
        const from = this.actors[action.from];
        const to = this.actors[action.to];
        const balance = this.balanceOf(from.address);
        const amount = action.overdraw ? balance + 1n : (balance * BigInt(action.bps)) / 10_000n;
        await this.nextTimestamp();
        if (action.overdraw) {
          this.stats.reverts++;
          await expect(token.connect(from).transfer(to.address, amount))
            .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
            .withArgs(from.address, balance, amount);
          return;
        }
        await (await token.connect(from).transfer(to.address, amount)).wait();
        this.move(from.address, to.address, amount);
        this.stats.transfers++;
        return;
      }
      case "burn": {
        const from = this.actors[action.from];
        const balance = this.balanceOf(from.address);
        const amount = action.overdraw ? balance + 1n : (balance * BigInt(action.bps)) / 10_000n;
        await this.nextTimestamp();
        if (action.overdraw) {
          this.stats.reverts++;
          await expect(token.connect(from).burn(amount))
            .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
            .withArgs(from.address, balance, amount);
          return;
        }
        await (await token.connect(from).burn(amount)).wait();
        this.balances.set(from.address, balance - amount);
        this.burned += amount;
        this.stats.burns++;
        return;
      }
      case "delegate": {
        const from = this.actors[action.from];
        const to = this.actors[action.to];
        await this.nextTimestamp();
        await (await token.connect(from).delegate(to.address)).wait();
        this.delegates.set(from.address, to.address);
        return;
      }
    }
  }

  private balanceOf(address: string): bigint {
    return this.balances.get(address) ?? 0n;
  }

  private move(from: string, to: string, amount: bigint): void {
    this.balances.set(from, this.balanceOf(from) - amount);
    this.balances.set(to, this.balanceOf(to) + amount);
  }

  /** Every invariant, read from the chain. */
  async checkInvariants(): Promise<void> {
    const { token, vault, genesis } = this.f;
    const now = await time.latest();
    const ended = weeksEnded(genesis, now);
    const totalSupply = await token.totalSupply();
    const totalReleased = await vault.totalReleased();
    const nextWeek = Number(await vault.nextWeek());

    // Supply is constant but for explicit burns: nothing mints.
    expect(totalSupply + this.burned, "totalSupply + burned").to.equal(TOTAL_SUPPLY);

    // Released ≤ the schedule through the last ended week.
    expect(totalReleased <= amountOfWeeks(this.schedule, 0, ended), "released ≤ schedule so far").to.equal(true);

    // Released week ranges are non-empty, contiguous from week 0, disjoint, within the schedule; each was
    // released only after its last week had ended; each paid exactly its schedule amount.
    let expectedFrom = 0;
    for (const r of this.released) {
      expect(r.fromWeek, "ranges contiguous").to.equal(expectedFrom);
      expect(r.toWeek, "ranges non-empty").to.be.greaterThan(r.fromWeek);
      expect(r.toWeek, "ranges within the schedule").to.be.at.most(SCHEDULE_END_WEEK);
      expect(genesis + r.toWeek * WEEK, "released only after the week ended").to.be.at.most(r.timestamp);
      expect(r.amount, "range amount").to.equal(amountOfWeeks(this.schedule, r.fromWeek, r.toWeek));
      expectedFrom = r.toWeek;
    }
    expect(nextWeek, "nextWeek == end of the released ranges").to.equal(this.nextWeek);

    // totalReleased is the exact sum of the released weeks, and the vault holds the rest of the pool.
    expect(totalReleased, "totalReleased == sum of released weeks").to.equal(this.totalReleased);
    expect(totalReleased, "totalReleased == schedule of weeks [0, nextWeek)").to.equal(
      amountOfWeeks(this.schedule, 0, nextWeek),
    );
    expect(await token.balanceOf(this.vaultAddress), "vault balance == pool - released").to.equal(POOL - totalReleased);

    // What the vault would release now matches the schedule.
    const toWeek = Math.max(nextWeek, Math.min(ended, SCHEDULE_END_WEEK));
    expect(await vault.releasable(), "releasable").to.deep.equal([
      BigInt(nextWeek),
      BigInt(toWeek),
      amountOfWeeks(this.schedule, nextWeek, toWeek),
    ]);

    // Every token is where the ghost says, and the tracked accounts hold the whole supply.
    let sum = 0n;
    for (const [address, expected] of this.balances) {
      expect(await token.balanceOf(address), `balance of ${address}`).to.equal(expected);
      sum += expected;
    }
    expect(sum, "tracked balances == totalSupply").to.equal(totalSupply);

    // Votes are the balances delegated to each account.
    for (const a of this.actors) {
      let votes = 0n;
      for (const [holder, delegatee] of this.delegates) if (delegatee === a.address) votes += this.balanceOf(holder);
      expect(await token.getVotes(a.address), `votes of ${a.address}`).to.equal(votes);
    }
  }
}
