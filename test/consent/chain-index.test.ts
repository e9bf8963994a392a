import { expect } from "chai";
import { ethers } from "hardhat";
import { Contract, type Interface } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { CONSENT_INDEX_DEFAULTS, ConsentIndex, type ConsentIndexOptions } from "../../lib/consent/chain-index";
import { ConsentError, type ConsentCode } from "../../lib/consent/errors";
import type { ReadQuery } from "../../lib/consent/permissions";
import {
  asDao,
  BASE_STAKE,
  DAY,
  grant,
  PER_VEHICLE_STAKE,
  requiredStake,
  stake,
  stakingFixture,
} from "../staking/fixtures";

function expectRefusal(fn: () => unknown, code: ConsentCode): ConsentError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ConsentError);
    expect((e as ConsentError).code, (e as Error).message).to.equal(code);
    return e as ConsentError;
  }
  expect.fail(`expected ${code}, nothing was thrown`);
}

/** Where DataAccess records `grantedAt` (the access engineer's change), the index computes the same time. */
function expectSameGrantedAt(record: object, grantedAt: number): void {
  const onChain = (record as { grantedAt?: bigint }).grantedAt;
  if (onChain !== undefined) expect(Number(onChain)).to.equal(grantedAt);
}

async function blockTime(tx: { wait(): Promise<{ blockNumber: number } | null> }): Promise<number> {
  const receipt = await tx.wait();
  return (await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp;
}

/**
 * `owner` grants `consumer` directly (`grant`). Where DataAccess asks for the consumer's acceptance
 * (`setOwnerAcceptance`, the access engineer's change), the consumer first accepts that owner.
 */
async function ownerGrants(
  f: Awaited<ReturnType<typeof stakingFixture>>,
  owner: HardhatEthersSigner,
  vehicleId: bigint,
  consumer: HardhatEthersSigner,
  permissions: bigint,
  expiresAt: number,
) {
  if ((f.access.interface as Interface).getFunction("setOwnerAcceptance") !== null) {
    const accepting = new Contract(
      await f.access.getAddress(),
      ["function setOwnerAcceptance(address,bool)"],
      consumer,
    );
    await (await accepting.setOwnerAcceptance(owner.address, true)).wait();
  }
  return f.access.connect(owner).grant(vehicleId, consumer.address, permissions, expiresAt);
}

/**
 * Consumer A staked for two vehicles and was granted location, odometer and fuel level of vehicle 0 (one year);
 * the index, polled once, decides reads on the in-process network.
 */
async function indexedFixture() {
  const f = await stakingFixture();
  await stake(f, f.consumerA, requiredStake(2));
  const grantedAt = await blockTime(await grant(f, 0, f.consumerA));
  const contracts = {
    vehicles: await f.vehicles.getAddress(),
    access: await f.access.getAddress(),
    staking: f.stakingAddress,
  };
  return { ...f, grantedAt, contracts };
}

describe("lib/consent/chain-index (in-process network)", function () {
  const open: ConsentIndex[] = [];
  afterEach(async function () {
    await Promise.all(open.splice(0).map((i) => i.stop()));
  });

  async function indexOf(f: Awaited<ReturnType<typeof indexedFixture>>, opts: Partial<ConsentIndexOptions> = {}) {
    const index = new ConsentIndex(ethers.provider, f.contracts, { ...CONSENT_INDEX_DEFAULTS, fromBlock: 0, ...opts });
    open.push(index);
    await index.poll();
    return index;
  }
  /** A read of vehicle 0's location and odometer by consumer A, a second after the grant unless `now` is given. */
  function q0(f: Awaited<ReturnType<typeof indexedFixture>>): ReadQuery {
    return {
      consumer: f.consumerA.address,
      vehicleId: f.vehicleIds[0],
      names: ["location", "odometer"],
      now: f.grantedAt + 1,
    };
  }
  async function query(f: Awaited<ReturnType<typeof indexedFixture>>, over: Partial<ReadQuery> = {}) {
    return {
      consumer: f.consumerA.address,
      vehicleId: f.vehicleIds[0],
      names: ["location", "odometer"],
      now: await time.latest(),
      ...over,
    };
  }

  it("permits the granted types of a granted vehicle, with exact windows and the grant relied on", async function () {
    const f = await loadFixture(indexedFixture);
    const index = await indexOf(f);
    const now = await time.latest();
    const permit = index.check(await query(f, { names: ["location", "fuel_level"] }));
    const record = await f.access.grantOf(f.vehicleIds[0], f.consumerA.address);
    expect(permit).to.deep.equal({
      consumer: f.consumerA.address,
      vehicleId: f.vehicleIds[0],
      grant: {
        owner: f.vehicleOwners[0].address,
        epoch: 0,
        permissions: record.permissions,
        expiresAt: Number(record.expiresAt),
        grantedAt: f.grantedAt,
      },
      signals: [
        { name: "location", dataType: "location", bit: 0, window: { from: f.grantedAt, to: now } },
        { name: "fuel_level", dataType: "fuel_level", bit: 2, window: { from: f.grantedAt, to: now } },
      ],
    });
    expectSameGrantedAt(record, permit.grant.grantedAt);
  });

  it("mirrors the chain: records, stake and coverage equal ConsumerStaking's, canRead agrees", async function () {
    const f = await loadFixture(indexedFixture);
    await (await grant(f, 1, f.consumerA)).wait();
    await stake(f, f.consumerA, PER_VEHICLE_STAKE);
    await f.staking.connect(f.consumerA).requestUnstake(PER_VEHICLE_STAKE / 2n);
    const index = await indexOf(f);
    const p = await f.staking.position(f.consumerA.address);
    expect(index.state.consumers.get(f.consumerA.address)).to.deep.equal({
      staked: p.staked,
      unbonding: p.unbonding,
      frozenUntil: Number(p.frozenUntil),
      records: Number(p.vehiclesAccessed),
    });
    expect(index.state.baseStake).to.equal(BASE_STAKE);
    expect(index.state.perVehicleStake).to.equal(PER_VEHICLE_STAKE);
    expect(await f.access.canRead(f.consumerA.address, f.vehicleIds[0], 0)).to.equal(true);
    expect(index.check(await query(f)).signals).to.have.length(2);
  });

  it("NO_GRANT for a consumer without a grant, DATA_TYPE_NOT_GRANTED for diagnostic codes", async function () {
    const f = await loadFixture(indexedFixture);
    const index = await indexOf(f);
    expectRefusal(() => index.check({ ...q0(f), consumer: f.consumerB.address }), "NO_GRANT");
    const e = expectRefusal(() => index.check({ ...q0(f), names: ["location", "dtc"] }), "DATA_TYPE_NOT_GRANTED");
    expect(e.details.missing).to.deep.equal(["dtc"]);
  });

  it("GRANT_EXPIRED from the expiry second on, with no event needed", async function () {
    const f = await loadFixture(indexedFixture);
    const expiresAt = (await time.latest()) + DAY;
    await ownerGrants(f, f.vehicleOwners[0], f.vehicleIds[0], f.consumerA, 1n, expiresAt);
    const index = await indexOf(f);
    expect(index.check({ ...q0(f), names: ["location"], now: expiresAt - 1 }).signals[0].window?.to).to.equal(
      expiresAt - 1,
    );
    expectRefusal(() => index.check({ ...q0(f), names: ["location"], now: expiresAt }), "GRANT_EXPIRED");
  });

  it("GRANT_REVOKED after the owner revokes, effective within the stated bound (measured)", async function () {
    const f = await loadFixture(indexedFixture);
    const opts = { pollIntervalMs: 100, maxPollAgeMs: 400 };
    const index = await indexOf(f, opts);
    await index.start();
    expect(index.check(await query(f)).signals).to.have.length(2);
    await (await f.access.connect(f.vehicleOwners[0]).revoke(f.vehicleIds[0], f.consumerA.address)).wait();
    const minedAt = Date.now();
    const now = await time.latest();
    // Poll the decision as a node would answer reads, until it refuses.
    let latencyMs = -1;
    while (Date.now() - minedAt <= opts.maxPollAgeMs + 1_000) {
      try {
        index.check({ ...q0(f), now });
      } catch (e) {
        expect((e as ConsentError).code).to.be.oneOf(["GRANT_REVOKED", "INDEX_STALE"]);
        if ((e as ConsentError).code === "GRANT_REVOKED") {
          latencyMs = Date.now() - minedAt;
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    console.log(`      revocation took effect after ${latencyMs} ms (bound: maxPollAgeMs = ${opts.maxPollAgeMs} ms)`);
    expect(latencyMs).to.be.within(0, opts.maxPollAgeMs);
    expect(expectRefusal(() => index.check({ ...q0(f), now }), "GRANT_REVOKED").details.by).to.equal(
      f.vehicleOwners[0].address,
    );
  });

  it("VEHICLE_TRANSFERRED after a sale: the old grant ends, and the buyer's grant serves only data from its own start", async function () {
    const f = await loadFixture(indexedFixture);
    const [seller, buyer] = [f.vehicleOwners[0], f.outsider];
    await time.increase(3_600);
    const soldAt = await blockTime(
      await f.vehicles.connect(seller).transferFrom(seller.address, buyer.address, f.vehicleIds[0]),
    );
    const index = await indexOf(f);
    const e = expectRefusal(() => index.check({ ...q0(f), now: soldAt }), "VEHICLE_TRANSFERRED");
    expect(e.details).to.deep.equal({
      consumer: f.consumerA.address,
      vehicleId: f.vehicleIds[0].toString(),
      grantEpoch: 0,
      epoch: 1,
      at: soldAt,
    });
    await time.increase(600);
    const regrantedAt = await blockTime(
      await ownerGrants(f, buyer, f.vehicleIds[0], f.consumerA, 1n, soldAt + 365 * DAY),
    );
    await index.poll();
    const now = await time.latest();
    const permit = index.check({ ...q0(f), names: ["location"], from: f.grantedAt, now });
    expect(permit.grant.owner).to.equal(buyer.address);
    expect(permit.grant.epoch).to.equal(1);
    expect(permit.signals[0].window).to.deep.equal({ from: regrantedAt, to: now });
    expectSameGrantedAt(await f.access.grantOf(f.vehicleIds[0], f.consumerA.address), regrantedAt);
    expect(regrantedAt).to.be.greaterThan(soldAt);
  });

  it("CONSUMER_FROZEN once the guardian froze the consumer", async function () {
    const f = await loadFixture(indexedFixture);
    const frozenAt = await blockTime(await f.staking.connect(f.guardian).freeze(f.consumerA.address));
    const index = await indexOf(f);
    const frozenUntil = Number((await f.staking.position(f.consumerA.address)).frozenUntil);
    const e = expectRefusal(() => index.check({ ...q0(f), now: frozenAt }), "CONSUMER_FROZEN");
    expect(e.details).to.deep.equal({ consumer: f.consumerA.address, frozenUntil, now: frozenAt });
    expect(index.check({ ...q0(f), now: frozenUntil }).signals).to.have.length(2);
  });

  it("STAKE_NOT_COVERED once the DAO raises the stake formula, as isCovered says", async function () {
    const f = await loadFixture(indexedFixture);
    await asDao(f, (tl) => f.staking.connect(tl).setStakeParameters(BASE_STAKE, PER_VEHICLE_STAKE * 3n));
    expect(await f.staking.isCovered(f.consumerA.address)).to.equal(false);
    const index = await indexOf(f);
    const e = expectRefusal(() => index.check(q0(f)), "STAKE_NOT_COVERED");
    expect(e.details).to.deep.equal({
      consumer: f.consumerA.address,
      staked: requiredStake(2).toString(),
      required: (BASE_STAKE + PER_VEHICLE_STAKE * 3n).toString(),
      records: 1,
    });
  });

  it("INDEX_STALE before the first poll and once the last poll is older than maxPollAgeMs", async function () {
    const f = await loadFixture(indexedFixture);
    let clock = 1_000_000;
    const index = new ConsentIndex(
      ethers.provider,
      f.contracts,
      { ...CONSENT_INDEX_DEFAULTS, fromBlock: 0 },
      () => clock,
    );
    expectRefusal(() => index.check(q0(f)), "INDEX_STALE");
    await index.poll();
    clock += CONSENT_INDEX_DEFAULTS.maxPollAgeMs;
    expect(index.check(q0(f)).signals).to.have.length(2);
    clock += 1;
    const e = expectRefusal(() => index.check(q0(f)), "INDEX_STALE");
    expect(e.details.ageMs).to.equal(CONSENT_INDEX_DEFAULTS.maxPollAgeMs + 1);
    expect(e.status).to.equal(503);
  });

  it("reads in pages and resumes from its cursor without applying a log twice", async function () {
    const f = await loadFixture(indexedFixture);
    const index = await indexOf(f, { logPageBlocks: 3 });
    const head = await ethers.provider.getBlockNumber();
    expect(index.cursor).to.equal(head);
    await (await grant(f, 1, f.consumerA)).wait();
    await index.poll();
    expect(index.cursor).to.equal(head + 1);
    expect(index.state.consumers.get(f.consumerA.address)?.records).to.equal(2);
  });
});
