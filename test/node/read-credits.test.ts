/**
 * Paid reads (issue 15 item 1, docs/data-api.md "Paying for reads"): the node serves read k+1 of a consumer only
 * holding its receipt for reads 1..k at the current price and while its available DataCredits balance covers the
 * unredeemed credits plus the read's most; redemption (node/redeem.ts) pays exactly the logged credits × price.
 * On the in-process Hardhat network, against both stores.
 */
import { expect } from "chai";
import { Client } from "pg";
import SQLite from "better-sqlite3";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  creditsDomain,
  encodeReceiptHeader,
  RECEIPT_HEADER,
  signReceipt,
  type Receipt,
} from "../../lib/credits/receipts";
import { redeemHeld } from "../../node/redeem";
import type { TelemetryStore } from "../../node/store";
import { STORE_TARGETS, type StoreLocation } from "../helpers/telemetry-db";
import { asDao, DIMO } from "../staking/fixtures";
import { HOUR, postBatches, readDataFixture, readNodeOver } from "./read-fixture";

const PRICE = 10n ** 15n; // wei per credit, DATA_CREDITS_DEFAULTS

/** Runs one SQL statement on the store's database directly. */
async function rawExec(location: StoreLocation, statement: string): Promise<void> {
  if (location.databaseUrl !== undefined) {
    const client = new Client({ connectionString: location.databaseUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  } else {
    const db = new SQLite(location.sqliteFile!);
    try {
      db.exec(statement);
    } finally {
      db.close();
    }
  }
}
const NOTICE = 7 * 86_400; // seconds

/** The suite with data to read (read-fixture) and DataCredits handles; the node operator is account 16. */
async function paidFixture() {
  const f = await readDataFixture();
  const signers = await ethers.getSigners();
  const credits = await ethers.getContractAt("DataCredits", f.record.contracts.DataCredits.address);
  return { ...f, credits, creditsAddress: f.record.contracts.DataCredits.address, operator: signers[16] };
}
type PaidContext = Awaited<ReturnType<typeof paidFixture>>;

for (const target of STORE_TARGETS) {
  describe(`node paid reads: receipts keep up (${target.kind} store)`, function () {
    let f: PaidContext;
    let store: TelemetryStore;
    let location: StoreLocation;
    let node: Awaited<ReturnType<typeof readNodeOver>>;
    let token: string;
    let v0: string;
    let chainId: bigint;
    const clock = { now: 0 };

    beforeEach(async function () {
      f = await loadFixture(paidFixture);
      ({ store, location } = await target.open());
      clock.now = await time.latest();
      node = await readNodeOver(f, store, clock, {}, { node: f.operator.address });
      await postBatches(node, f.software, f.batches);
      token = await node.tokenOf(f.consumerA);
      v0 = f.vehicleIds[0].toString();
      chainId = (await ethers.provider.getNetwork()).chainId;
    });
    afterEach(async function () {
      await node.consent.stop();
      await node.app.close();
      await store.close();
    });

    async function deposit(consumer: HardhatEthersSigner, amount: bigint) {
      await (await f.token.connect(consumer).approve(f.creditsAddress, amount)).wait();
      await (await f.credits.connect(consumer).deposit(consumer.address, amount)).wait();
      await node.consent.poll();
    }
    function receipt(
      sequence: number,
      cumulativeCredits: number,
      maxPricePerCredit = PRICE,
      nodeAddress?: string,
    ): Receipt {
      return {
        consumer: f.consumerA.address,
        node: nodeAddress ?? f.operator.address,
        cumulativeCredits: BigInt(cumulativeCredits),
        sequence: BigInt(sequence),
        maxPricePerCredit,
      };
    }
    async function header(r: Receipt, signer: HardhatEthersSigner = f.consumerA): Promise<string> {
      const signature = await signReceipt(signer, creditsDomain(chainId, f.creditsAddress), r);
      return encodeReceiptHeader({ ...r, signature });
    }
    const get = (path: string, receiptHeader?: string) =>
      node.app.inject({
        method: "GET",
        url: path,
        headers: {
          authorization: `Bearer ${token}`,
          ...(receiptHeader === undefined ? {} : { [RECEIPT_HEADER]: receiptHeader }),
        },
      });
    const latest = (names: string, receiptHeader?: string) =>
      get(`/v1/vehicles/${v0}/signals/latest?names=${names}`, receiptHeader);
    /** Asserts a refusal (status, code, field) and that nothing was logged; returns its body. */
    async function refused(
      res: { statusCode: number; json(): unknown },
      code: string,
      field: string | null,
      logged: number,
    ) {
      const body = res.json() as {
        code: string;
        message: string;
        field: string | null;
        details: Record<string, unknown>;
      };
      expect(res.statusCode, body.message).to.equal(402);
      expect([body.code, body.field]).to.deep.equal([code, field]);
      expect(await store.accessLog()).to.have.length(logged);
      return body;
    }
    const terms = () => ({
      dataCredits: f.creditsAddress,
      chainId: Number(chainId),
      node: f.operator.address,
      pricePerCredit: PRICE.toString(),
    });

    it("GET /v1/credits/terms: DataCredits, chain, node and price, without sign-in", async function () {
      const res = await node.app.inject({ method: "GET", url: "/v1/credits/terms" });
      expect(res.statusCode, res.body).to.equal(200);
      expect(res.json()).to.deep.equal(terms());
    });

    it("serves reads whose receipts keep up, with exact values and exact credits; stores the latest receipt", async function () {
      await deposit(f.consumerA, DIMO(1));
      const r1 = await latest("odometer,location");
      expect(r1.statusCode, r1.body).to.equal(200);
      expect(r1.json()).to.deep.equal({
        vehicleId: v0,
        signals: [
          { name: "odometer", timestamp: f.base + 2 * HOUR, values: [200] },
          { name: "location", timestamp: f.base + 1_200, values: [52_000_010, 13_000_030] },
        ],
        credits: { charged: 2, cumulativeCredits: 2, sequence: 1 },
      });
      const r2 = await latest("odometer", await header(receipt(1, 2)));
      expect(r2.statusCode, r2.body).to.equal(200);
      expect(r2.json().credits).to.deep.equal({ charged: 1, cumulativeCredits: 3, sequence: 2 });
      const q = `names=odometer,location&from=${f.pre - 100}&interval=3600&agg=avg&limit=2`;
      const r3 = await get(`/v1/vehicles/${v0}/signals/history?${q}`, await header(receipt(2, 3)));
      expect(r3.statusCode, r3.body).to.equal(200);
      expect(r3.json().buckets).to.deep.equal([
        { name: "odometer", start: f.base, count: 3, values: [30] },
        { name: "odometer", start: f.base + HOUR, count: 2, values: [105] },
      ]);
      expect(r3.json().credits).to.deep.equal({ charged: 2, cumulativeCredits: 5, sequence: 3 });
      const held = await store.receiptOf(f.consumerA.address, f.operator.address);
      expect(held).to.deep.include({
        sequence: 2,
        cumulativeCredits: 3,
        maxPricePerCredit: PRICE,
        redeemedSequence: 0,
      });
      expect((await store.accessLog()).map((e) => e.resultSize)).to.deep.equal([2, 1, 2]);
      expect(await store.readCount(f.consumerA.address)).to.deep.equal({ reads: 3, credits: 5 });
    });

    it("counts a read that returns nothing: it takes a sequence number and 0 credits", async function () {
      await deposit(f.consumerA, DIMO(1));
      clock.now = f.base - 1; // no value after the grant yet
      token = await node.tokenOf(f.consumerA);
      const r1 = await latest("odometer");
      expect(r1.json().credits).to.deep.equal({ charged: 0, cumulativeCredits: 0, sequence: 1 });
      const r2 = await latest("odometer", await header(receipt(1, 0)));
      expect(r2.statusCode, r2.body).to.equal(200);
      expect(r2.json().credits).to.deep.equal({ charged: 0, cumulativeCredits: 0, sequence: 2 });
    });

    it("refuses read k+1 without the receipt for 1..k (RECEIPT_REQUIRED, what to sign in details), nothing logged", async function () {
      await deposit(f.consumerA, DIMO(1));
      await latest("odometer,location");
      const body = await refused(await latest("odometer"), "RECEIPT_REQUIRED", "receipt", 1);
      expect(body.details).to.deep.equal({ sequence: 1, cumulativeCredits: 2, ...terms() });
    });

    it("refuses a receipt whose numbers differ from the node's count, or signed by another key (RECEIPT_INVALID naming the field)", async function () {
      await deposit(f.consumerA, DIMO(1));
      await latest("odometer,location");
      await refused(
        await latest("odometer", await header(receipt(1, 3))),
        "RECEIPT_INVALID",
        "receipt.cumulativeCredits",
        1,
      );
      await refused(
        await latest("odometer", await header(receipt(1, 1))),
        "RECEIPT_INVALID",
        "receipt.cumulativeCredits",
        1,
      );
      await refused(await latest("odometer", await header(receipt(2, 2))), "RECEIPT_INVALID", "receipt.sequence", 1);
      await refused(
        await latest("odometer", await header(receipt(1, 2), f.consumerB)),
        "RECEIPT_INVALID",
        "receipt.signature",
        1,
      );
      const otherNode = await header(receipt(1, 2, PRICE, f.outsider.address));
      await refused(await latest("odometer", otherNode), "RECEIPT_INVALID", "receipt.signature", 1);
      await refused(await latest("odometer", "not*base64url"), "RECEIPT_INVALID", "receipt", 1);
      const body = await refused(
        await latest("odometer", await header(receipt(1, 3))),
        "RECEIPT_INVALID",
        "receipt.cumulativeCredits",
        1,
      );
      expect(body.details).to.deep.equal({ sequence: 1, cumulativeCredits: 2, sent: "3" });
      expect(await store.receiptOf(f.consumerA.address, f.operator.address)).to.equal(undefined);
      expect((await latest("odometer", await header(receipt(1, 2)))).statusCode).to.equal(200);
    });

    it("refuses a receipt replayed for an older sequence (RECEIPT_INVALID, sequence)", async function () {
      await deposit(f.consumerA, DIMO(1));
      await latest("odometer,location");
      const first = await header(receipt(1, 2));
      expect((await latest("odometer", first)).statusCode).to.equal(200);
      const body = await refused(await latest("odometer", first), "RECEIPT_INVALID", "receipt.sequence", 2);
      expect(body.details).to.deep.equal({ sequence: 2, cumulativeCredits: 3, sent: "1" });
    });

    it("serves without a header while it already holds the receipt for 1..k (sent with POST /v1/credits/receipt)", async function () {
      await deposit(f.consumerA, DIMO(1));
      await latest("odometer,location");
      const paid = await node.app.inject({
        method: "POST",
        url: "/v1/credits/receipt",
        headers: { authorization: `Bearer ${token}`, [RECEIPT_HEADER]: await header(receipt(1, 2)) },
      });
      expect(paid.statusCode, paid.body).to.equal(200);
      expect(paid.json()).to.deep.equal({ sequence: 1, cumulativeCredits: 2 });
      const r = await latest("odometer");
      expect(r.statusCode, r.body).to.equal(200);
      expect(r.json().credits).to.deep.equal({ charged: 1, cumulativeCredits: 3, sequence: 2 });
    });

    it("refuses a receipt signed below a price the Timelock raised (PRICE_ABOVE_SIGNED), serves one signed at it", async function () {
      await deposit(f.consumerA, DIMO(1));
      await latest("odometer,location");
      await asDao(f, async (tl) => (await f.credits.connect(tl).setPricePerCredit(2n * PRICE)).wait());
      await node.consent.poll();
      const body = await refused(
        await latest("odometer", await header(receipt(1, 2))),
        "PRICE_ABOVE_SIGNED",
        "receipt.maxPricePerCredit",
        1,
      );
      expect(body.details).to.deep.include({
        pricePerCredit: (2n * PRICE).toString(),
        maxPricePerCredit: PRICE.toString(),
      });
      const r = await latest("odometer", await header(receipt(1, 2, 2n * PRICE)));
      expect(r.statusCode, r.body).to.equal(200);
    });

    it("serves exactly up to the available balance and refuses one credit over (CREDITS_EXHAUSTED), nothing logged", async function () {
      await deposit(f.consumerA, 5n * PRICE); // five credits
      expect((await latest("odometer,location")).json().credits.cumulativeCredits).to.equal(2); // 0 + 2 <= 5
      expect(
        (await latest("odometer,location", await header(receipt(1, 2)))).json().credits.cumulativeCredits,
      ).to.equal(4);
      // 4 + 2 names > 5: one credit over.
      const over = await refused(
        await latest("odometer,location", await header(receipt(2, 4))),
        "CREDITS_EXHAUSTED",
        null,
        2,
      );
      expect(over.details).to.deep.include({
        available: (5n * PRICE).toString(),
        unredeemedCredits: "4",
        servableCredits: "1",
        maxCredits: 2,
      });
      // 4 + 1 = 5: exactly the balance (the refused read's valid receipt was kept, so none is needed).
      const exact = await latest("odometer");
      expect(exact.statusCode, exact.body).to.equal(200);
      expect(exact.json().credits).to.deep.equal({ charged: 1, cumulativeCredits: 5, sequence: 3 });
      await refused(await latest("odometer", await header(receipt(3, 5))), "CREDITS_EXHAUSTED", null, 3);
    });

    it("counts a withdrawal request against the balance (available = balance − pending)", async function () {
      await deposit(f.consumerA, 10n * PRICE);
      await latest("odometer,location");
      await (await f.credits.connect(f.consumerA).requestWithdrawal(7n * PRICE)).wait();
      await node.consent.poll();
      const r = await header(receipt(1, 2));
      await refused(await latest("odometer,location", r), "CREDITS_EXHAUSTED", null, 1); // 2 + 2 > 3
      const ok = await latest("odometer", r); // 2 + 1 = 3
      expect(ok.statusCode, ok.body).to.equal(200);
    });

    it("serves one of two concurrent reads sent with the same receipt; the other is RECEIPT_INVALID, not logged", async function () {
      await deposit(f.consumerA, DIMO(1));
      await latest("odometer,location");
      const h = await header(receipt(1, 2));
      const [x, y] = await Promise.all([latest("odometer", h), latest("odometer", h)]);
      expect([x.statusCode, y.statusCode].sort()).to.deep.equal([200, 402]);
      const loser = x.statusCode === 402 ? x : y;
      expect([loser.json().code, loser.json().field]).to.deep.equal(["RECEIPT_INVALID", "receipt.sequence"]);
      expect(await store.accessLog()).to.have.length(2);
      expect(await store.readCount(f.consumerA.address)).to.deep.equal({ reads: 2, credits: 3 });
    });

    it("counts the reads logged before payments were turned on (the log is the record of reads)", async function () {
      await deposit(f.consumerA, DIMO(1));
      await node.consent.stop();
      await node.app.close();
      node = await readNodeOver(f, store, clock); // payments off
      token = await node.tokenOf(f.consumerA);
      expect((await latest("odometer,location")).json()).to.not.have.property("credits");
      await latest("odometer");
      await node.consent.stop();
      await node.app.close();
      node = await readNodeOver(f, store, clock, {}, { node: f.operator.address });
      token = await node.tokenOf(f.consumerA);
      const body = await refused(await latest("odometer"), "RECEIPT_REQUIRED", "receipt", 2);
      expect(body.details).to.deep.include({ sequence: 2, cumulativeCredits: 3 });
      const r = await latest("odometer", await header(receipt(2, 3)));
      expect(r.json().credits).to.deep.equal({ charged: 1, cumulativeCredits: 4, sequence: 3 });
    });

    it("migration 004 backfills each consumer's count from an access log written before it", async function () {
      await deposit(f.consumerA, DIMO(1));
      await latest("odometer,location");
      await latest("odometer", await header(receipt(1, 2)));
      await node.consent.stop();
      await node.app.close();
      await store.close();
      // The database as a node before migration 004 left it.
      for (const statement of [
        "DROP TABLE consumer_reads",
        "DROP TABLE credit_receipts",
        "DELETE FROM telemetry_migrations WHERE name = '004_credits'",
      ])
        await rawExec(location, statement);
      ({ store } = await target.open(location));
      expect(await store.readCount(f.consumerA.address)).to.deep.equal({ reads: 2, credits: 3 });
      expect(await store.readCount(f.consumerB.address)).to.deep.equal({ reads: 0, credits: 0 });
      node = await readNodeOver(f, store, clock, {}, { node: f.operator.address });
    });

    it("refuses the first read of a consumer without credits (CREDITS_EXHAUSTED)", async function () {
      await refused(await latest("odometer"), "CREDITS_EXHAUSTED", null, 0);
    });

    describe("redemption (node/redeem.ts, data:redeem)", function () {
      it("pays exactly the logged credits × price into the week, never the same receipt twice, across a restart", async function () {
        await deposit(f.consumerA, DIMO(1));
        await latest("odometer,location");
        await latest("odometer", await header(receipt(1, 2)));
        const q = `names=odometer,location&from=${f.pre - 100}&interval=3600&agg=avg&limit=2`;
        await get(`/v1/vehicles/${v0}/signals/history?${q}`, await header(receipt(2, 3)));
        // The last read is paid without reading more.
        const paid = await node.app.inject({
          method: "POST",
          url: "/v1/credits/receipt",
          headers: { authorization: `Bearer ${token}`, [RECEIPT_HEADER]: await header(receipt(3, 5)) },
        });
        expect(paid.statusCode, paid.body).to.equal(200);
        const logged = (await store.accessLog({ consumer: f.consumerA.address })).reduce((n, e) => n + e.resultSize, 0);
        expect(logged).to.equal(5);

        const week = await f.credits.currentWeek();
        const before = (await f.credits.week(week)).charged;
        const balance = (await f.credits.account(f.consumerA.address)).balance;
        const r = await redeemHeld({ store, dataCredits: f.creditsAddress, signer: f.operator });
        expect(r.plan.redeem.map((x) => [x.receipt.sequence, x.credits, x.charge])).to.deep.equal([
          [3n, 5n, 5n * PRICE],
        ]);
        expect(r.charged).to.equal(5n * PRICE);
        expect((await f.credits.week(week)).charged - before).to.equal(BigInt(logged) * PRICE);
        expect((await f.credits.account(f.consumerA.address)).balance).to.equal(balance - 5n * PRICE);
        expect(await f.credits.channel(f.consumerA.address, f.operator.address)).to.deep.equal([5n, 3n]);
        expect((await store.receiptOf(f.consumerA.address, f.operator.address))!.redeemedSequence).to.equal(3);

        // Restart: the store reopened, the task run again: nothing redeemed twice.
        await store.close();
        ({ store } = await target.open(location));
        const again = await redeemHeld({ store, dataCredits: f.creditsAddress, signer: f.operator });
        expect(again.transactions).to.deep.equal([]);
        expect(again.plan.skipped.map((x) => x.reason)).to.deep.equal(["already-redeemed"]);
        expect((await f.credits.week(week)).charged - before).to.equal(5n * PRICE);
      });

      it("keeps the index's figures equal to the chain's after deposits, a redeem and a withdrawal request", async function () {
        await deposit(f.consumerA, DIMO(1));
        await latest("odometer,location");
        await latest("odometer", await header(receipt(1, 2)));
        await redeemHeld({ store, dataCredits: f.creditsAddress, signer: f.operator });
        await (await f.credits.connect(f.consumerA).requestWithdrawal(DIMO(0.5))).wait();
        await node.consent.poll();
        const res = await node.app.inject({
          method: "GET",
          url: "/v1/credits/account",
          headers: { authorization: `Bearer ${token}` },
        });
        expect(res.statusCode, res.body).to.equal(200);
        const a = await f.credits.account(f.consumerA.address);
        expect(res.json()).to.deep.equal({
          consumer: f.consumerA.address,
          node: f.operator.address,
          balance: a.balance.toString(),
          deposited: a.deposited.toString(),
          redeemed: a.redeemed.toString(),
          withdrawn: a.withdrawn.toString(),
          pendingWithdrawal: a.pendingWithdrawal.toString(),
          releaseAt: a.releaseAt.toString(),
          available: (await f.credits.available(f.consumerA.address)).toString(),
          pricePerCredit: PRICE.toString(),
          channel: { redeemedCredits: "2", redeemedSequence: "1" },
          reads: { sequence: 2, cumulativeCredits: 3 },
          receipt: { sequence: 1, cumulativeCredits: 2, maxPricePerCredit: PRICE.toString() },
        });
        expect(a.redeemed).to.equal(2n * PRICE);
        expect(Number(a.releaseAt)).to.be.greaterThan(NOTICE);
      });
    });
  });
}
