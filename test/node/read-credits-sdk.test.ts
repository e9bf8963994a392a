import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  CreditsExhaustedError,
  DataClient,
  PaymentRequiredError,
  type DataApiError,
  type HistoryBucket,
} from "../../lib/consent/sdk";
import { redeemHeld } from "../../node/redeem";
import type { TelemetryStore } from "../../node/store";
import { STORE_TARGETS } from "../helpers/telemetry-db";
import { asDao, DIMO } from "../staking/fixtures";
import { HOUR, postBatches, readDataFixture, readNodeOver } from "./read-fixture";

const PRICE = 10n ** 15n; // wei per credit, DATA_CREDITS_DEFAULTS

async function paidFixture() {
  const f = await readDataFixture();
  const credits = await ethers.getContractAt("DataCredits", f.record.contracts.DataCredits.address);
  return {
    ...f,
    credits,
    creditsAddress: f.record.contracts.DataCredits.address,
    operator: (await ethers.getSigners())[16],
  };
}

/** The SDK paying for reads against the real node (listening on 127.0.0.1), over the embedded store. */
describe("lib/consent/sdk paying for reads (sqlite store)", function () {
  let f: Awaited<ReturnType<typeof paidFixture>>;
  let store: TelemetryStore;
  let node: Awaited<ReturnType<typeof readNodeOver>>;
  let baseUrl: string;
  let client: DataClient;
  const clock = { now: 0 };

  beforeEach(async function () {
    f = await loadFixture(paidFixture);
    ({ store } = await STORE_TARGETS[0].open());
    clock.now = await time.latest();
    node = await readNodeOver(f, store, clock, {}, { node: f.operator.address });
    await postBatches(node, f.software, f.batches);
    baseUrl = await node.app.listen({ host: "127.0.0.1", port: 0 });
    client = new DataClient({ baseUrl, signer: f.consumerA, now: () => clock.now });
    await (await f.token.connect(f.consumerA).approve(f.creditsAddress, DIMO(1))).wait();
    await (await f.credits.connect(f.consumerA).deposit(f.consumerA.address, DIMO(1))).wait();
    await node.consent.poll();
  });
  afterEach(async function () {
    await node.consent.stop();
    await node.app.close();
    await store.close();
  });

  async function refusal(p: Promise<unknown>): Promise<DataApiError> {
    try {
      await p;
    } catch (e) {
      return e as DataApiError;
    }
    expect.fail("not refused");
  }

  it("signs each receipt itself, reads exact values, and redemption pays exactly what was read", async function () {
    expect(await client.latest(f.vehicleIds[0], ["odometer", "location"])).to.deep.equal([
      { name: "odometer", timestamp: f.base + 2 * HOUR, values: [200] },
      { name: "location", timestamp: f.base + 1_200, values: [52_000_010, 13_000_030] },
    ]);
    expect(client.lastCredits).to.deep.equal({ charged: 2, cumulativeCredits: 2, sequence: 1 });
    const buckets: HistoryBucket[] = [];
    const query = { names: ["odometer"], from: f.pre, agg: "avg" as const, limit: 1 };
    for await (const b of client.historyAll(f.vehicleIds[0], query)) buckets.push(b);
    expect(buckets).to.deep.equal([
      { name: "odometer", start: f.base, count: 3, values: [30] },
      { name: "odometer", start: f.base + HOUR, count: 2, values: [105] },
      { name: "odometer", start: f.base + 2 * HOUR, count: 1, values: [200] },
    ]);
    expect(client.lastCredits).to.deep.equal({ charged: 1, cumulativeCredits: 5, sequence: 4 });
    await client.payReads();

    const c = await client.credits();
    expect(c).to.deep.include({
      node: f.operator.address,
      balance: DIMO(1),
      deposited: DIMO(1),
      redeemed: 0n,
      pendingWithdrawal: 0n,
      available: DIMO(1),
      pricePerCredit: PRICE,
      redeemedCredits: 0n,
    });
    expect(c.reads).to.deep.equal({ sequence: 4, cumulativeCredits: 5 });
    expect(c.signed).to.deep.equal({ sequence: 4, cumulativeCredits: 5, maxPricePerCredit: PRICE });

    const r = await redeemHeld({ store, dataCredits: f.creditsAddress, signer: f.operator });
    const logged = (await store.accessLog()).reduce((n, e) => n + e.resultSize, 0);
    expect(r.charged).to.equal(BigInt(logged) * PRICE);
    await node.consent.poll();
    expect(await client.credits()).to.deep.include({
      redeemed: 5n * PRICE,
      redeemedCredits: 5n,
      balance: DIMO(1) - 5n * PRICE,
    });
  });

  it("a new session takes up the node's count from RECEIPT_REQUIRED and signs it", async function () {
    await client.latest(f.vehicleIds[0], ["odometer", "location"]);
    const later = new DataClient({ baseUrl, signer: f.consumerA, now: () => clock.now });
    expect((await later.latest(f.vehicleIds[0], ["odometer"]))[0].values).to.deep.equal([200]);
    expect(later.lastCredits).to.deep.equal({ charged: 1, cumulativeCredits: 3, sequence: 2 });
  });

  it("surfaces CreditsExhaustedError when the available balance does not cover the read", async function () {
    await client.latest(f.vehicleIds[0], ["odometer"]);
    await (await f.credits.connect(f.consumerA).requestWithdrawal(DIMO(1))).wait();
    await node.consent.poll();
    const e = await refusal(client.latest(f.vehicleIds[0], ["odometer"]));
    expect(e).to.be.instanceOf(CreditsExhaustedError);
    expect([e.code, e.status]).to.deep.equal(["CREDITS_EXHAUSTED", 402]);
    expect(e.details).to.deep.include({ available: "0", sequence: 1, cumulativeCredits: 1 });
    expect(await store.accessLog()).to.have.length(1);
  });

  it("surfaces PaymentRequiredError (PRICE_ABOVE_SIGNED) when the price rises above what it signs", async function () {
    await client.latest(f.vehicleIds[0], ["odometer"]);
    await asDao(f, async (tl) => (await f.credits.connect(tl).setPricePerCredit(2n * PRICE)).wait());
    await node.consent.poll();
    const e = await refusal(client.latest(f.vehicleIds[0], ["odometer"]));
    expect(e).to.be.instanceOf(PaymentRequiredError);
    expect([e.code, e.field]).to.deep.equal(["PRICE_ABOVE_SIGNED", "receipt.maxPricePerCredit"]);
    const willing = new DataClient({
      baseUrl,
      signer: f.consumerA,
      now: () => clock.now,
      maxPricePerCredit: 2n * PRICE,
    });
    expect((await willing.latest(f.vehicleIds[0], ["odometer"]))[0].values).to.deep.equal([200]);
  });
});
