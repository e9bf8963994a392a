import { expect } from "chai";
import hre, { ethers } from "hardhat";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  BASE_STAKE,
  CONSUMER_FUNDS,
  DAY,
  DIMO,
  EVIDENCE_HASH,
  EVIDENCE_URI,
  FREEZE_DURATION,
  MAX_STAKE_PARAMETER,
  NUMBER_OF_VEHICLES,
  PER_VEHICLE_STAKE,
  PERMISSIONS,
  Remainder,
  UNBONDING_PERIOD,
  asTimelock,
  stakingFixture,
} from "../staking/fixtures";

/**
 * Invariants of PRODUCT.md for ConsumerStaking (as deploySuite wires it with DataAccess), under random sequences
 * of: stake, requestUnstake, withdraw, grant and revoke through DataAccess, guardian freezes, Timelock freezes,
 * extensions, unfreezes, slashes and stake-formula changes (impersonated Timelock), and time jumps (random, to a
 * release or freeze end to the second, past the unbonding period or a freeze). Every action's outcome (success,
 * or the exact custom error) is predicted from ghost state and checked; after EVERY step:
 *
 * - DIMO balance of the staking contract == Σ staked + Σ unbonding == totals() == ghost
 *   (staked + unbonding in − slashed − withdrawn);
 * - every position (staked, unbonding, releaseAt, frozenUntil, vehiclesAccessed, guardian freeze) and frozenAt
 *   equals the ghost;
 * - every consumer's vehiclesAccessed == its grant records in DataAccess;
 * - a consumer's grants never count beyond what its stake covers: isCovered == (staked ≥ requiredStake(records)),
 *   and canRead of each of its grants == isCovered (none readable while short, after a slash or a formula rise);
 * - total supply == genesis − burned; distributor totalFunded and treasury follow the slashes.
 *
 * And at every successful step: a withdrawal happened at or after releaseAt and not while frozen; a slash never
 * exceeded staked + unbonding (an amount above it is capped, and so is the compensation); a reservation left
 * staked ≥ requiredStake(vehiclesAccessed).
 *
 * FUZZ_RUNS (default 40; 4 under solidity-coverage) sets the number of runs, FUZZ_STEPS (default 40) the longest
 * sequence, FUZZ_SEED replays a run fast-check reported.
 */
const COVERAGE = (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? (COVERAGE ? 4 : 40));
const FUZZ_STEPS = Number(process.env.FUZZ_STEPS ?? 40);
const FUZZ_SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const CONSUMERS = 3;
const GRANT_LIFETIME = 20 * 365 * DAY; // never expires within a run

type StakeMode = "amount" | "cover" | "zero" | "overdraw";
type UnstakeMode = "bps" | "toRequired" | "pastRequired" | "zero" | "overStaked";

type Action =
  | { kind: "stake"; c: number; mode: StakeMode; dimo: number }
  | { kind: "requestUnstake"; c: number; mode: UnstakeMode; bps: number }
  | { kind: "withdraw"; c: number }
  | { kind: "grant"; v: number; c: number }
  | { kind: "revoke"; v: number; c: number; byConsumer: boolean }
  | { kind: "freezeByGuardian"; c: number }
  | { kind: "freezeByTimelock"; c: number }
  | { kind: "extendFreeze"; c: number; days: number }
  | { kind: "unfreeze"; c: number }
  | {
      kind: "slash";
      c: number;
      bps: number;
      compBps: number;
      treasury: boolean;
      explicitAsOf: boolean;
      over: boolean;
      future?: boolean;
    }
  | { kind: "setStakeParameters"; base: number; perVehicle: number }
  | { kind: "warp"; seconds: number }
  | { kind: "warpTo"; c: number; to: "release" | "freezeEnd"; offset: -1 | 0 }
  | { kind: "warpPast"; days: number };

const consumer = fc.nat({ max: CONSUMERS - 1 });
const vehicle = fc.nat({ max: NUMBER_OF_VEHICLES - 1 });
const bps = fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(0, 1, 5_000, 9_999, 10_000));

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("stake" as const),
      c: consumer,
      mode: fc.constantFrom<StakeMode>("amount", "amount", "cover", "cover", "zero", "overdraw"),
      dimo: fc.integer({ min: 1, max: 30_000 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("requestUnstake" as const),
      c: consumer,
      mode: fc.constantFrom<UnstakeMode>(
        "bps",
        "bps",
        "bps",
        "bps",
        "toRequired",
        "toRequired",
        "pastRequired",
        "zero",
        "overStaked",
      ),
      bps,
    }),
  },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("withdraw" as const), c: consumer }) },
  { weight: 7, arbitrary: fc.record({ kind: fc.constant("grant" as const), v: vehicle, c: consumer }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("revoke" as const), v: vehicle, c: consumer, byConsumer: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("freezeByGuardian" as const), c: consumer }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("freezeByTimelock" as const), c: consumer }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("extendFreeze" as const),
      c: consumer,
      days: fc.integer({ min: 0, max: 40 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("unfreeze" as const), c: consumer }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("slash" as const),
      c: consumer,
      bps,
      compBps: bps,
      treasury: fc.boolean(),
      explicitAsOf: fc.boolean(),
      over: fc.nat({ max: 7 }).map((n) => n === 0),
      future: fc.nat({ max: 9 }).map((n) => n === 0),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("setStakeParameters" as const),
      base: fc.constantFrom(0, 5_000, 10_000, 20_000, 1_000_000_001),
      perVehicle: fc.constantFrom(0, 10, 10, 1_000, 1_000, 1_000_000_001),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("warp" as const), seconds: fc.integer({ min: 1, max: 10 * DAY }) }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("warpTo" as const),
      c: consumer,
      to: fc.constantFrom("release" as const, "freezeEnd" as const),
      offset: fc.constantFrom(-1 as const, 0 as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("warpPast" as const), days: fc.constantFrom(14, 15, 21, 22, 60) }),
  },
);

/**
 * Sequences once worth keeping (from the initial state of `invariantFixture`): a freeze racing the end of
 * unbonding, a slash of unbonding stake, a withdrawal at the second the freeze ends; then Timelock freezes and
 * extensions (which leave the guardian's freeze spent), refused stake formulas, a formula rise that leaves two
 * consumers short (nothing readable) and a top-up, a guardian freeze that lapsed unanswered and the DAO's unfreeze
 * answering it, a slash above what is left (capped), and an affectedAsOf in the future.
 */
const REGRESSIONS: Action[][] = [
  [
    { kind: "stake", c: 0, mode: "amount", dimo: 500 }, // 10,530 staked, 2 grants
    { kind: "grant", v: 3, c: 0 },
    { kind: "grant", v: 4, c: 0 }, // 4 vehicles: 10,040 required
    { kind: "grant", v: 5, c: 0 }, // 5 vehicles: 10,050 required, covered
    { kind: "revoke", v: 5, c: 0, byConsumer: false },
    { kind: "requestUnstake", c: 0, mode: "pastRequired", bps: 0 }, // one wei too many
    { kind: "requestUnstake", c: 0, mode: "toRequired", bps: 0 }, // 490 into unbonding
    { kind: "warpTo", c: 0, to: "release", offset: -1 },
    { kind: "freezeByGuardian", c: 0 }, // one second before release
    { kind: "withdraw", c: 0 }, // at release: frozen
    { kind: "freezeByGuardian", c: 0 }, // spent
    { kind: "slash", c: 0, bps: 100, compBps: 5_000, treasury: false, explicitAsOf: false, over: false },
    { kind: "freezeByGuardian", c: 0 }, // the slash gave the guardian its freeze back
    { kind: "warpTo", c: 0, to: "freezeEnd", offset: -1 },
    { kind: "withdraw", c: 0 }, // one second before the end: frozen
    { kind: "withdraw", c: 0 }, // at the end: paid
    { kind: "revoke", v: 0, c: 0, byConsumer: true },
    { kind: "revoke", v: 1, c: 0, byConsumer: false },
    { kind: "revoke", v: 3, c: 0, byConsumer: true },
    { kind: "revoke", v: 4, c: 0, byConsumer: true },
    { kind: "requestUnstake", c: 0, mode: "bps", bps: 10_000 },
    { kind: "warpPast", days: 15 },
    { kind: "withdraw", c: 0 },
  ],
  [
    { kind: "slash", c: 2, bps: 0, compBps: 0, treasury: true, explicitAsOf: false, over: false },
    { kind: "stake", c: 2, mode: "amount", dimo: 20_000 },
    { kind: "slash", c: 2, bps: 5_000, compBps: 0, treasury: true, explicitAsOf: false, over: false },
    { kind: "slash", c: 2, bps: 5_000, compBps: 1_000, treasury: true, explicitAsOf: true, over: false },
    { kind: "freezeByTimelock", c: 1 },
    { kind: "extendFreeze", c: 1, days: 0 },
    { kind: "extendFreeze", c: 1, days: 40 },
    { kind: "freezeByGuardian", c: 1 }, // allowed (the DAO's freeze is not the guardian's), frozenAt stays
    { kind: "extendFreeze", c: 1, days: 3 }, // shortens; the guardian's freeze stays spent
    { kind: "freezeByGuardian", c: 1 }, // spent
    { kind: "setStakeParameters", base: 0, perVehicle: 0 }, // grants are never free
    { kind: "setStakeParameters", base: 1_000_000_001, perVehicle: 10 }, // above the supply
    { kind: "setStakeParameters", base: 0, perVehicle: 10 },
    { kind: "grant", v: 2, c: 2 },
    { kind: "setStakeParameters", base: 20_000, perVehicle: 1_000 }, // consumers A and C no longer covered
    { kind: "stake", c: 2, mode: "cover", dimo: 1 }, // C covers one more: readable again
    { kind: "warpTo", c: 1, to: "freezeEnd", offset: 0 }, // the guardian's freeze lapsed unanswered
    { kind: "extendFreeze", c: 1, days: 3 },
    { kind: "freezeByGuardian", c: 1 }, // still spent
    { kind: "unfreeze", c: 1 }, // the DAO answers it
    { kind: "unfreeze", c: 1 }, // nothing left to answer
    { kind: "freezeByGuardian", c: 1 }, // a new episode
    { kind: "slash", c: 1, bps: 10_000, compBps: 10_000, treasury: false, explicitAsOf: true, over: true }, // capped
    { kind: "slash", c: 1, bps: 5_000, compBps: 0, treasury: false, explicitAsOf: true, over: false }, // empty
    { kind: "slash", c: 0, bps: 100, compBps: 0, treasury: false, explicitAsOf: true, over: false, future: true },
  ],
];

interface Ghost {
  staked: bigint;
  unbonding: bigint;
  releaseAt: bigint;
  frozenUntil: bigint;
  frozenAt: bigint;
  spent: boolean;
  wallet: bigint;
}

/** What the consumers have staked, and the vehicles they hold grants for, when a run starts. */
const INITIAL_STAKE = [BASE_STAKE + 3n * PER_VEHICLE_STAKE, DIMO(30_000), 0n];
const INITIAL_GRANTS = [[0, 1], [2], []];

/** The deployed suite; consumer A staked requiredStake(3) and reads vehicles 0 and 1, B staked 30,000 and reads 2. */
async function invariantFixture() {
  const f = await stakingFixture();
  const consumers = [f.consumerA, f.consumerB, f.consumerC];
  for (const [c, who] of consumers.entries()) {
    // Each consumer accepts every grant from the drivers (its on-chain rule; signed offers: access-attacks.test.ts).
    for (const driver of f.drivers) await f.access.connect(who).setOwnerAcceptance(driver.address, true);
    await f.token.connect(who).approve(f.stakingAddress, ethers.MaxUint256);
    if (INITIAL_STAKE[c] > 0n) await f.staking.connect(who).stake(INITIAL_STAKE[c]);
    for (const v of INITIAL_GRANTS[c]) {
      const expiresAt = (await time.latest()) + GRANT_LIFETIME;
      await f.access.connect(f.vehicleOwners[v]).grant(f.vehicleIds[v], who.address, PERMISSIONS, expiresAt);
    }
  }
  return { ...f, consumers };
}

/** Outcome counts over all runs (printed with FUZZ_STATS=1), to see what the runs exercised. */
const stats = new Map<string, number>();
const tally = (outcome: string) => stats.set(outcome, (stats.get(outcome) ?? 0) + 1);

/** Runs one sequence, checking every step; returns each action's outcome ("kind:ok" or "kind:<error>"). */
async function runSequence(actions: Action[]): Promise<string[]> {
  const f = await loadFixture(invariantFixture);
  const { staking, access, token, distributor, consumers, vehicleIds, vehicleOwners, guardian } = f;
  const distributorAddress = await distributor.getAddress();

  // Ghost state.
  let now = BigInt(await time.latest());
  let base = BASE_STAKE;
  let perVehicle = PER_VEHICLE_STAKE;
  const ghost: Ghost[] = consumers.map((_, c) => ({
    staked: INITIAL_STAKE[c],
    unbonding: 0n,
    releaseAt: 0n,
    frozenUntil: 0n,
    frozenAt: 0n,
    spent: false,
    wallet: CONSUMER_FUNDS - INITIAL_STAKE[c],
  }));
  const grants = INITIAL_GRANTS.map((vs) => new Set<number>(vs));
  let deposited = INITIAL_STAKE.reduce((sum, x) => sum + x, 0n);
  let withdrawn = 0n;
  let slashed = 0n;
  let burned = 0n;
  let compensated = 0n;
  let toTreasury = 0n;
  let slashes = 0n;
  const supply0 = await token.totalSupply();
  const funded0 = await distributor.totalFunded();
  const treasury0 = await token.balanceOf(f.timelockAddress);

  const outcomes: string[] = [];
  const record = (outcome: string) => {
    outcomes.push(outcome);
    tally(outcome);
  };
  const required = (n: number | bigint) => base + perVehicle * BigInt(n);
  const count = (c: number) => grants[c].size;
  /** Every transaction lands one second after the previous block. */
  const nextBlock = async (): Promise<bigint> => {
    now += 1n;
    await time.setNextBlockTimestamp(now);
    return now;
  };
  const warpTo = async (t: bigint) => {
    if (t > now) {
      now = t;
      await time.increaseTo(now);
    }
  };
  const asDao = <T>(fn: (tl: HardhatEthersSigner) => Promise<T>) => asTimelock(f.timelockAddress, fn);

  /**
   * Most actions on one consumer aim, when there is one, at a consumer for which they can do something (the
   * `c`-th such); the rest keep `c`, so the refusals are exercised too.
   */
  const aim = (c: number, useful: (g: Ghost) => boolean, odd: boolean): number => {
    const eligible = ghost.map((g, i) => (useful(g) ? i : -1)).filter((i) => i >= 0);
    return odd || eligible.length === 0 ? c : eligible[c % eligible.length];
  };
  let turn = 0;

  async function step(action: Action): Promise<void> {
    turn += 1;
    const odd = turn % 4 === 0;
    let a = action;
    if (a.kind === "requestUnstake") a = { ...a, c: aim(a.c, (g) => g.staked > 0n, odd) };
    if (a.kind === "withdraw") a = { ...a, c: aim(a.c, (g) => g.unbonding > 0n, odd) };
    if (a.kind === "warpTo" && a.to === "release") a = { ...a, c: aim(a.c, (g) => g.releaseAt > now, odd) };
    if (a.kind === "warpTo" && a.to === "freezeEnd") a = { ...a, c: aim(a.c, (g) => g.frozenUntil > now, odd) };
    switch (a.kind) {
      case "stake": {
        const g = ghost[a.c];
        const who = consumers[a.c];
        let amount: bigint;
        if (a.mode === "zero") amount = 0n;
        else if (a.mode === "overdraw") amount = g.wallet + 1n;
        else if (a.mode === "cover") {
          const short = required(count(a.c) + 1) - g.staked;
          amount = short > 0n ? short : 1n;
        } else amount = DIMO(a.dimo);
        if (amount > g.wallet && a.mode !== "overdraw") amount = g.wallet;
        await nextBlock();
        const tx = staking.connect(who).stake(amount);
        if (amount === 0n) {
          record(`${a.kind}:StakingInvalidAmount`);
          await expect(tx).to.be.revertedWithCustomError(staking, "StakingInvalidAmount").withArgs(0, 0);
        } else if (amount > g.wallet) {
          record(`${a.kind}:ERC20InsufficientBalance`);
          await expect(tx)
            .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
            .withArgs(who.address, g.wallet, amount);
        } else {
          g.staked += amount;
          g.wallet -= amount;
          deposited += amount;
          record(`${a.kind}:ok`);
          await expect(tx).to.emit(staking, "Staked").withArgs(who.address, amount, g.staked);
        }
        return;
      }
      case "requestUnstake": {
        const g = ghost[a.c];
        const who = consumers[a.c];
        const n = count(a.c);
        let amount: bigint;
        switch (a.mode) {
          case "zero":
            amount = 0n;
            break;
          case "overStaked":
            amount = g.staked + 1n;
            break;
          case "toRequired":
            amount = g.staked > required(n) ? g.staked - required(n) : 0n;
            break;
          case "pastRequired":
            amount = g.staked > required(n) ? g.staked - required(n) + 1n : g.staked;
            break;
          default:
            amount = (g.staked * BigInt(a.bps)) / 10_000n;
        }
        const t = await nextBlock();
        const tx = staking.connect(who).requestUnstake(amount);
        const remaining = g.staked - amount;
        if (amount === 0n || amount > g.staked) {
          record(`${a.kind}:StakingInvalidAmount`);
          await expect(tx).to.be.revertedWithCustomError(staking, "StakingInvalidAmount").withArgs(amount, g.staked);
        } else if (n !== 0 && remaining < required(n)) {
          record(`${a.kind}:StakingInsufficientStake`);
          await expect(tx)
            .to.be.revertedWithCustomError(staking, "StakingInsufficientStake")
            .withArgs(who.address, remaining, required(n));
        } else {
          g.staked = remaining;
          g.unbonding += amount;
          // I-2: the release only moves later.
          if (t + BigInt(UNBONDING_PERIOD) > g.releaseAt) g.releaseAt = t + BigInt(UNBONDING_PERIOD);
          record(`${a.kind}:ok`);
          await expect(tx).to.emit(staking, "UnstakeRequested").withArgs(who.address, amount, g.releaseAt);
        }
        return;
      }
      case "withdraw": {
        const g = ghost[a.c];
        const who = consumers[a.c];
        const t = await nextBlock();
        const tx = staking.connect(who).withdraw();
        if (g.unbonding === 0n) {
          record(`${a.kind}:StakingNothingToWithdraw`);
          await expect(tx).to.be.revertedWithCustomError(staking, "StakingNothingToWithdraw").withArgs(who.address);
        } else if (t < g.releaseAt) {
          record(`${a.kind}:StakingStillUnbonding`);
          await expect(tx)
            .to.be.revertedWithCustomError(staking, "StakingStillUnbonding")
            .withArgs(who.address, g.releaseAt);
        } else if (t < g.frozenUntil) {
          record(`${a.kind}:StakingFrozen`);
          await expect(tx).to.be.revertedWithCustomError(staking, "StakingFrozen").withArgs(who.address, g.frozenUntil);
        } else {
          record(`${a.kind}:ok`);
          const receipt = await (await tx).wait();
          const block = await ethers.provider.getBlock(receipt!.blockNumber);
          const p = await staking.position(who.address);
          // Nobody withdraws before unbonding ends or while frozen (the chain's own view of both).
          expect(BigInt(block!.timestamp), "withdrew before releaseAt").to.be.at.least(p.releaseAt);
          expect(BigInt(block!.timestamp), "withdrew while frozen").to.be.at.least(p.frozenUntil);
          expect(BigInt(block!.timestamp)).to.equal(t);
          const events = receipt!.logs.map((l) => staking.interface.parseLog(l)).filter((e) => e?.name === "Withdrawn");
          expect(events.map((e) => [e!.args[0], e!.args[1]])).to.deep.equal([[who.address, g.unbonding]]);
          withdrawn += g.unbonding;
          g.wallet += g.unbonding;
          g.unbonding = 0n;
        }
        return;
      }
      case "grant": {
        const g = ghost[a.c];
        const who = consumers[a.c];
        const t = await nextBlock();
        const tx = access
          .connect(vehicleOwners[a.v])
          .grant(vehicleIds[a.v], who.address, PERMISSIONS, t + BigInt(GRANT_LIFETIME));
        const n = count(a.c);
        if (grants[a.c].has(a.v)) {
          // L-1: an update reserves nothing but runs the freeze and coverage checks on the records held.
          if (t < g.frozenUntil) {
            record(`${a.kind}:update:StakingFrozen`);
            await expect(tx)
              .to.be.revertedWithCustomError(staking, "StakingFrozen")
              .withArgs(who.address, g.frozenUntil);
          } else if (g.staked < required(n)) {
            record(`${a.kind}:update:StakingInsufficientStake`);
            await expect(tx)
              .to.be.revertedWithCustomError(staking, "StakingInsufficientStake")
              .withArgs(who.address, g.staked, required(n));
          } else {
            record(`${a.kind}:update`);
            await expect(tx).to.emit(access, "AccessGranted");
          }
        } else if (t < g.frozenUntil) {
          record(`${a.kind}:StakingFrozen`);
          await expect(tx).to.be.revertedWithCustomError(staking, "StakingFrozen").withArgs(who.address, g.frozenUntil);
        } else if (g.staked < required(n + 1)) {
          record(`${a.kind}:StakingInsufficientStake`);
          await expect(tx)
            .to.be.revertedWithCustomError(staking, "StakingInsufficientStake")
            .withArgs(who.address, g.staked, required(n + 1));
        } else {
          record(`${a.kind}:ok`);
          await expect(tx).to.emit(access, "AccessGranted");
          grants[a.c].add(a.v);
          // At each successful reservation the stake covered the new count.
          const p = await staking.position(who.address);
          expect(p.vehiclesAccessed).to.equal(BigInt(n + 1));
          expect(p.staked >= (await staking.requiredStake(p.vehiclesAccessed)), "reserved beyond the stake").to.equal(
            true,
          );
        }
        return;
      }
      case "revoke": {
        const who = consumers[a.c];
        const by = a.byConsumer ? who : vehicleOwners[a.v];
        await nextBlock();
        const tx = access.connect(by).revoke(vehicleIds[a.v], who.address);
        if (!grants[a.c].has(a.v)) {
          record(`${a.kind}:AccessNoGrant`);
          await expect(tx)
            .to.be.revertedWithCustomError(access, "AccessNoGrant")
            .withArgs(vehicleIds[a.v], who.address);
        } else {
          record(`${a.kind}:ok`);
          await expect(tx).to.emit(access, "AccessRevoked").withArgs(vehicleIds[a.v], who.address, by.address);
          grants[a.c].delete(a.v);
        }
        return;
      }
      case "freezeByGuardian":
      case "freezeByTimelock": {
        const g = ghost[a.c];
        const who = consumers[a.c].address;
        const byGuardian = a.kind === "freezeByGuardian";
        const t = await nextBlock();
        const send = async (signer: HardhatEthersSigner) => {
          const tx = staking.connect(signer).freeze(who);
          if (byGuardian && g.spent) {
            record(`${a.kind}:StakingFreezeSpent`);
            await expect(tx).to.be.revertedWithCustomError(staking, "StakingFreezeSpent").withArgs(who);
            return;
          }
          // A freeze of a consumer not frozen starts a new episode; one during a freeze leaves frozenAt.
          if (t >= g.frozenUntil) g.frozenAt = t;
          const until = t + BigInt(FREEZE_DURATION); // 21 days > the governance cycle + 1 day (fixed here)
          if (until > g.frozenUntil) g.frozenUntil = until;
          if (byGuardian) g.spent = true;
          record(`${a.kind}:ok`);
          await expect(tx).to.emit(staking, "Frozen").withArgs(who, g.frozenUntil, signer.address);
        };
        if (byGuardian) await send(guardian);
        else await asDao(send);
        return;
      }
      case "extendFreeze": {
        const g = ghost[a.c];
        const who = consumers[a.c].address;
        const t = await nextBlock();
        const until = t + BigInt(a.days * DAY);
        await asDao(async (tl) => {
          const tx = staking.connect(tl).extendFreeze(who, until);
          if (until <= t) {
            record(`${a.kind}:StakingInvalidParameter`);
            await expect(tx).to.be.revertedWithCustomError(staking, "StakingInvalidParameter").withArgs("until", until);
          } else if (t >= g.frozenUntil) {
            record(`${a.kind}:StakingNotFrozen`);
            await expect(tx).to.be.revertedWithCustomError(staking, "StakingNotFrozen").withArgs(who);
          } else {
            g.frozenUntil = until; // the guardian's freeze stays spent
            record(`${a.kind}:ok`);
            await expect(tx).to.emit(staking, "Frozen").withArgs(who, until, tl.address);
          }
        });
        return;
      }
      case "unfreeze": {
        const g = ghost[a.c];
        const who = consumers[a.c].address;
        const t = await nextBlock();
        await asDao(async (tl) => {
          const tx = staking.connect(tl).unfreeze(who);
          if (t >= g.frozenUntil && !g.spent) {
            record(`${a.kind}:StakingNotFrozen`);
            await expect(tx).to.be.revertedWithCustomError(staking, "StakingNotFrozen").withArgs(who);
          } else {
            g.frozenUntil = 0n;
            g.spent = false;
            record(`${a.kind}:ok`);
            await expect(tx).to.emit(staking, "Unfrozen").withArgs(who);
          }
        });
        return;
      }
      case "slash": {
        const g = ghost[a.c];
        const who = consumers[a.c].address;
        const slashable = g.staked + g.unbonding;
        const proposed = a.over ? slashable + 1n : (slashable * BigInt(a.bps)) / 10_000n;
        const proposedCompensation = (proposed * BigInt(a.compBps)) / 10_000n;
        const t = await nextBlock();
        const asOf = a.explicitAsOf ? (a.future === true ? t + 1n : t - 1n) : 0n;
        const remainderTo = a.treasury ? Remainder.Treasury : Remainder.Burn;
        await asDao(async (tl) => {
          const tx = staking
            .connect(tl)
            .slash(who, proposed, proposedCompensation, remainderTo, asOf, EVIDENCE_HASH, EVIDENCE_URI);
          if (proposed === 0n || proposedCompensation > proposed || slashable === 0n) {
            record(`${a.kind}:StakingInvalidSlash`);
            await expect(tx)
              .to.be.revertedWithCustomError(staking, "StakingInvalidSlash")
              .withArgs(proposed, proposedCompensation, slashable);
            return;
          }
          if (asOf === 0n && g.frozenAt === 0n) {
            record(`${a.kind}:StakingInvalidParameter`);
            await expect(tx)
              .to.be.revertedWithCustomError(staking, "StakingInvalidParameter")
              .withArgs("affectedAsOf", 0);
            return;
          }
          if (asOf > t) {
            record(`${a.kind}:StakingInvalidParameter`);
            await expect(tx)
              .to.be.revertedWithCustomError(staking, "StakingInvalidParameter")
              .withArgs("affectedAsOf", asOf);
            return;
          }
          // A slash never exceeds staked + unbonding: a larger amount takes what is there (the event, the position
          // and the balances below check the chain did exactly that), and the compensation is at most that.
          const amount = proposed > slashable ? slashable : proposed;
          const compensation = proposedCompensation > amount ? amount : proposedCompensation;
          const fromUnbonding = amount < g.unbonding ? amount : g.unbonding;
          g.unbonding -= fromUnbonding;
          g.staked -= amount - fromUnbonding;
          g.spent = false;
          slashes += 1n;
          slashed += amount;
          compensated += compensation;
          if (a.treasury) toTreasury += amount - compensation;
          else burned += amount - compensation;
          record(`${a.kind}:ok`);
          await expect(tx)
            .to.emit(staking, "Slashed")
            .withArgs(
              who,
              slashes,
              amount,
              compensation,
              amount - compensation,
              remainderTo,
              asOf === 0n ? g.frozenAt : asOf,
              EVIDENCE_HASH,
              EVIDENCE_URI,
            );
        });
        return;
      }
      case "setStakeParameters": {
        await nextBlock();
        const newBase = DIMO(a.base);
        const newPerVehicle = DIMO(a.perVehicle);
        await asDao(async (tl) => {
          const tx = staking.connect(tl).setStakeParameters(newBase, newPerVehicle);
          if (newBase > MAX_STAKE_PARAMETER) {
            record(`${a.kind}:StakingInvalidParameter`);
            await expect(tx)
              .to.be.revertedWithCustomError(staking, "StakingInvalidParameter")
              .withArgs("baseStake", newBase);
          } else if (newPerVehicle === 0n || newPerVehicle > MAX_STAKE_PARAMETER) {
            record(`${a.kind}:StakingInvalidParameter`);
            await expect(tx)
              .to.be.revertedWithCustomError(staking, "StakingInvalidParameter")
              .withArgs("perVehicleStake", newPerVehicle);
          } else {
            base = newBase;
            perVehicle = newPerVehicle;
            record(`${a.kind}:ok`);
            await expect(tx).to.emit(staking, "StakeParametersSet").withArgs(base, perVehicle);
          }
        });
        return;
      }
      case "warp":
        await warpTo(now + BigInt(a.seconds));
        return;
      case "warpTo": {
        // The next transaction lands exactly at (target + offset).
        const g = ghost[a.c];
        const target = a.to === "release" ? g.releaseAt : g.frozenUntil;
        await warpTo(target + BigInt(a.offset) - 1n);
        return;
      }
      case "warpPast":
        await warpTo(now + BigInt(a.days * DAY));
        return;
    }
  }

  async function checkInvariants(): Promise<void> {
    expect(BigInt(await time.latest()), "ghost clock").to.equal(now);
    const [
      balance,
      totals,
      supply,
      funded,
      treasury,
      distributorBalance,
      positions,
      frozenAts,
      records,
      covered,
      reads,
    ] = await Promise.all([
      token.balanceOf(f.stakingAddress),
      staking.totals(),
      token.totalSupply(),
      distributor.totalFunded(),
      token.balanceOf(f.timelockAddress),
      token.balanceOf(distributorAddress),
      Promise.all(consumers.map((c) => staking.position(c.address))),
      Promise.all(consumers.map((c) => staking.frozenAt(c.address))),
      Promise.all(
        consumers.map(async (c) => {
          const all = await Promise.all(vehicleIds.map((id) => access.grantOf(id, c.address)));
          return all.filter((gr) => gr.permissions !== 0n).length;
        }),
      ),
      Promise.all(consumers.map((c) => staking.isCovered(c.address))),
      Promise.all(
        consumers.map((c, i) => Promise.all([...grants[i]].map((v) => access.canRead(c.address, vehicleIds[v], 0)))),
      ),
    ]);
    const sumStaked = positions.reduce((s, p) => s + p.staked, 0n);
    const sumUnbonding = positions.reduce((s, p) => s + p.unbonding, 0n);
    // staking balance == Σ staked + Σ unbonding == totals() == in − slashed − withdrawn.
    expect(balance, "balance == Σ staked + Σ unbonding").to.equal(sumStaked + sumUnbonding);
    expect([totals[0], totals[1]], "totals() == sums").to.deep.equal([sumStaked, sumUnbonding]);
    expect(balance, "balance == deposited − slashed − withdrawn").to.equal(deposited - slashed - withdrawn);
    // Where slashed DIMO went.
    expect(supply, "supply == genesis − burned").to.equal(supply0 - burned);
    expect(funded, "distributor totalFunded").to.equal(funded0 + compensated);
    expect(distributorBalance, "distributor balance").to.equal(funded0 + compensated);
    expect(treasury, "treasury").to.equal(treasury0 + toTreasury);
    expect(slashed, "slashed == compensated + burned + treasury").to.equal(compensated + burned + toTreasury);
    expect(await staking.slashCount()).to.equal(slashes);
    for (let c = 0; c < CONSUMERS; c++) {
      const p = positions[c];
      const g = ghost[c];
      expect(
        [p.staked, p.unbonding, p.releaseAt, p.frozenUntil, p.vehiclesAccessed, p.guardianFreezeSpent, frozenAts[c]],
        `position of consumer ${c}`,
      ).to.deep.equal([g.staked, g.unbonding, g.releaseAt, g.frozenUntil, BigInt(count(c)), g.spent, g.frozenAt]);
      // vehiclesAccessed == the consumer's grant records in DataAccess.
      expect(p.vehiclesAccessed, `vehiclesAccessed of consumer ${c} == grant records`).to.equal(BigInt(records[c]));
      // Grants never count beyond what the stake covers.
      const coveredNow = g.staked >= required(count(c));
      expect(covered[c], `isCovered of consumer ${c}`).to.equal(coveredNow);
      expect(reads[c], `canRead of consumer ${c}'s grants`).to.deep.equal(reads[c].map(() => coveredNow));
    }
  }

  await checkInvariants();
  for (const action of actions) {
    await step(action);
    await checkInvariants();
  }
  return outcomes;
}

describe("ConsumerStaking invariants (random action sequences)", function () {
  it(`hold after every step of ${FUZZ_RUNS} random sequences of up to ${FUZZ_STEPS} actions`, async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: FUZZ_STEPS, size: "max" }), async (actions) => {
        await runSequence(actions);
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
    );
    if (process.env.FUZZ_STATS === "1")
      console.log(
        [...stats]
          .sort()
          .map(([k, n]) => `${k} ${n}`)
          .join("\n"),
      );
  });

  it("hold through the saved regression: a freeze racing the end of unbonding, a slash, a withdrawal at the freeze end", async function () {
    expect(await runSequence(REGRESSIONS[0])).to.deep.equal([
      "stake:ok",
      "grant:ok",
      "grant:ok",
      "grant:ok",
      "revoke:ok",
      "requestUnstake:StakingInsufficientStake",
      "requestUnstake:ok",
      "freezeByGuardian:ok",
      "withdraw:StakingFrozen",
      "freezeByGuardian:StakingFreezeSpent",
      "slash:ok",
      "freezeByGuardian:ok",
      "withdraw:StakingFrozen",
      "withdraw:ok",
      "revoke:ok",
      "revoke:ok",
      "revoke:ok",
      "revoke:ok",
      "requestUnstake:ok",
      "withdraw:ok",
    ]);
  });

  it("hold through the saved regression: Timelock freezes and extensions, refused formulas, reads stopped by a rise, a lapsed guardian freeze answered, a capped slash", async function () {
    expect(await runSequence(REGRESSIONS[1])).to.deep.equal([
      "slash:StakingInvalidSlash",
      "stake:ok",
      "slash:StakingInvalidParameter",
      "slash:ok",
      "freezeByTimelock:ok",
      "extendFreeze:StakingInvalidParameter",
      "extendFreeze:ok",
      "freezeByGuardian:ok",
      "extendFreeze:ok",
      "freezeByGuardian:StakingFreezeSpent",
      "setStakeParameters:StakingInvalidParameter",
      "setStakeParameters:StakingInvalidParameter",
      "setStakeParameters:ok",
      "grant:ok",
      "setStakeParameters:ok",
      "stake:ok",
      "extendFreeze:StakingNotFrozen",
      "freezeByGuardian:StakingFreezeSpent",
      "unfreeze:ok",
      "unfreeze:StakingNotFrozen",
      "freezeByGuardian:ok",
      "slash:ok",
      "slash:StakingInvalidSlash",
      "slash:StakingInvalidParameter",
    ]);
  });
});
