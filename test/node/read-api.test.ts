import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Client } from "pg";
import SQLite from "better-sqlite3";
import { verifyLog, type AccessLogEntry } from "../../lib/consent/access-log";
import { CONSENT_INDEX_DEFAULTS } from "../../lib/consent/chain-index";
import { type ConsentError } from "../../lib/consent/errors";
import { SIWE_DEFAULTS } from "../../lib/consent/siwe";
import { readHistoryPage } from "../../node/reads";
import type { TelemetryStore } from "../../node/store";
import { STORE_TARGETS, type StoreLocation } from "../helpers/telemetry-db";
import { connect } from "../registry/fixtures";
import { asDao, BASE_STAKE, consentFor, DAY, PER_VEHICLE_STAKE, PERMISSIONS } from "../staking/fixtures";
import { HOUR, postBatches, readDataFixture, readNodeOver, type ReadDataContext } from "./read-fixture";

/** Runs one SQL statement on the store's database directly (to tamper with it as an attacker with disk access). */
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

for (const target of STORE_TARGETS) {
  describe(`node read API: signals under consent (${target.kind} store)`, function () {
    let f: ReadDataContext;
    let store: TelemetryStore;
    let location: StoreLocation;
    let node: Awaited<ReturnType<typeof readNodeOver>>;
    let token: string;
    let v0: string;
    const clock = { now: 0 };

    async function open(consentOptions = {}) {
      node = await readNodeOver(f, store, clock, consentOptions);
    }
    beforeEach(async function () {
      f = await loadFixture(readDataFixture);
      ({ store, location } = await target.open());
      clock.now = await time.latest();
      await open();
      await postBatches(node, f.software, f.batches);
      token = await node.tokenOf(f.consumerA);
      v0 = f.vehicleIds[0].toString();
    });
    afterEach(async function () {
      await node.consent.stop();
      await node.app.close();
      await store.close();
    });

    const get = (path: string, bearer: string | undefined = token) =>
      node.app.inject({
        method: "GET",
        url: path,
        headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
      });
    const latest = (names: string, bearer?: string, vehicle = v0) =>
      get(`/v1/vehicles/${vehicle}/signals/latest?names=${names}`, bearer);
    const history = (query: string, bearer?: string, vehicle = v0) =>
      get(`/v1/vehicles/${vehicle}/signals/history?${query}`, bearer);
    /** Asserts a refusal's status, code and field; returns its message. */
    function refused(res: { statusCode: number; json(): unknown }, status: number, code: string, field?: string) {
      const body = res.json() as { code: string; message: string; field: string | null };
      expect(res.statusCode, body.message).to.equal(status);
      expect(body.code).to.equal(code);
      if (field !== undefined) expect(body.field).to.equal(field);
      return body.message;
    }
    async function grantOf(vehicleIndex = 0) {
      return f.access.grantOf(f.vehicleIds[vehicleIndex], f.consumerA.address);
    }
    async function expectedGrant(owner = f.vehicleOwners[0].address, epoch = 0, grantedAt = f.grantedAt) {
      const g = await grantOf();
      return { owner, epoch, permissions: g.permissions.toString(), expiresAt: Number(g.expiresAt), grantedAt };
    }

    describe("GET /v1/vehicles/:id/signals/latest", function () {
      it("answers the latest value of each signal since the grant, names as asked (alias included)", async function () {
        const res = await latest("odometer,location,battery_level");
        expect(res.statusCode, res.body).to.equal(200);
        expect(res.json()).to.deep.equal({
          vehicleId: v0,
          signals: [
            { name: "odometer", timestamp: f.base + 2 * HOUR, values: [200] },
            { name: "location", timestamp: f.base + 1_200, values: [52_000_010, 13_000_030] },
            { name: "battery_level", timestamp: f.base + HOUR, values: [500] },
          ],
        });
      });

      it("answers null for a signal without a value in the window, never one recorded before the grant", async function () {
        clock.now = f.base - 1; // before the first value after the grant: only the pre-grant batch exists
        const res = await latest("odometer,location", await node.tokenOf(f.consumerA));
        expect(res.statusCode, res.body).to.equal(200);
        expect(res.json().signals).to.deep.equal([
          { name: "odometer", timestamp: null, values: null },
          { name: "location", timestamp: null, values: null },
        ]);
      });

      it("appends the read to the access log: who, vehicle, data types, window, result size, grant", async function () {
        await latest("odometer,location");
        const entries = await store.accessLog();
        expect(entries).to.have.length(1);
        const { seq, prevHash, hash, ...read } = entries[0];
        expect([seq, prevHash]).to.deep.equal([0, ethers.ZeroHash]);
        expect(hash).to.match(/^0x[0-9a-f]{64}$/);
        expect(read).to.deep.equal({
          at: clock.now,
          consumer: f.consumerA.address,
          vehicleId: v0,
          signals: ["odometer", "location"],
          from: f.grantedAt,
          to: clock.now,
          resultSize: 2,
          grant: await expectedGrant(),
        });
      });
    });

    describe("GET /v1/vehicles/:id/signals/history", function () {
      it("aggregates avg per interval and pages with the cursor, in (name asked, start) order", async function () {
        const q = `names=odometer,location&from=${f.pre - 100}&interval=3600&agg=avg&limit=2`;
        const p1 = await history(q);
        expect(p1.statusCode, p1.body).to.equal(200);
        const page1 = p1.json();
        expect(page1).to.deep.include({ vehicleId: v0, interval: 3600, agg: "avg" });
        expect(page1.buckets).to.deep.equal([
          { name: "odometer", start: f.base, count: 3, values: [30] },
          { name: "odometer", start: f.base + HOUR, count: 2, values: [105] },
        ]);
        expect(page1.nextCursor).to.be.a("string");
        const page2 = (await history(`${q}&cursor=${page1.nextCursor}`)).json();
        expect(page2.buckets).to.deep.equal([
          { name: "odometer", start: f.base + 2 * HOUR, count: 1, values: [200] },
          { name: "location", start: f.base, count: 2, values: [52_000_005, 13_000_015] },
        ]);
        expect(page2.nextCursor).to.equal(null);
        const entries = await store.accessLog();
        expect(entries.map((e) => [e.resultSize, e.from, e.to, e.signals])).to.deep.equal([
          [2, f.grantedAt, clock.now, ["odometer", "location"]],
          [2, f.grantedAt, clock.now, ["odometer", "location"]],
        ]);
      });

      for (const [agg, odometer, loc] of [
        ["min", [10, 100, 200], [52_000_000, 13_000_000]],
        ["max", [60, 110, 200], [52_000_010, 13_000_030]],
        ["last", [60, 110, 200], [52_000_010, 13_000_030]],
      ] as const) {
        it(`aggregates ${agg} per value component`, async function () {
          const res = await history(`names=odometer,location&from=${f.pre}&agg=${agg}`);
          expect(res.statusCode, res.body).to.equal(200);
          expect(res.json()).to.deep.equal({
            vehicleId: v0,
            interval: 3600,
            agg,
            buckets: [
              { name: "odometer", start: f.base, count: 3, values: [odometer[0]] },
              { name: "odometer", start: f.base + HOUR, count: 2, values: [odometer[1]] },
              { name: "odometer", start: f.base + 2 * HOUR, count: 1, values: [odometer[2]] },
              { name: "location", start: f.base, count: 2, values: loc },
            ],
            nextCursor: null,
          });
        });
      }

      it("clips to [from, to] inclusive, defaults to agg=last and interval 3600", async function () {
        const res = await history(`names=odometer&from=${f.base + 600}&to=${f.base + HOUR}`);
        expect(res.json()).to.deep.equal({
          vehicleId: v0,
          interval: 3600,
          agg: "last",
          buckets: [
            { name: "odometer", start: f.base, count: 2, values: [60] },
            { name: "odometer", start: f.base + HOUR, count: 1, values: [100] },
          ],
          nextCursor: null,
        });
      });

      it("pages one bucket at a time to the end, each page logged", async function () {
        const q = `names=odometer,location,fuel_level&from=${f.pre}&limit=1`;
        const starts: string[] = [];
        let cursor: string | null = null;
        do {
          const page: { buckets: { name: string; start: number }[]; nextCursor: string | null } = (
            await history(cursor === null ? q : `${q}&cursor=${cursor}`)
          ).json();
          expect(page.buckets).to.have.length(1);
          starts.push(...page.buckets.map((b) => `${b.name}@${b.start - f.base}`));
          cursor = page.nextCursor;
        } while (cursor !== null);
        expect(starts).to.deep.equal(["odometer@0", "odometer@3600", "odometer@7200", "location@0", "fuel_level@3600"]);
        expect(await store.accessLog()).to.have.length(5);
      });

      it("pins `to` in the cursor: a later page does not reach data stored after the first page", async function () {
        clock.now = f.base + HOUR + 50; // between the two odometer values of the second hour
        const fresh = await node.tokenOf(f.consumerA);
        const q = `names=odometer&from=${f.pre}&limit=1`;
        const page1 = (await history(q, fresh)).json();
        clock.now = f.base + 3 * HOUR;
        const later = await node.tokenOf(f.consumerA);
        const page2 = (await history(`${q}&cursor=${page1.nextCursor}`, later)).json();
        expect(page2.buckets).to.deep.equal([{ name: "odometer", start: f.base + HOUR, count: 1, values: [100] }]);
        expect(page2.nextCursor).to.equal(null);
      });

      it("ends a page at a bucket boundary once maxRows stored values were aggregated, reading in chunks", async function () {
        const permit = node.consent.check({
          consumer: f.consumerA.address,
          vehicleId: f.vehicleIds[0],
          names: ["odometer", "location"],
          now: clock.now,
        });
        const opts = { interval: HOUR, agg: "last" as const, limit: 500, maxRows: 3, chunk: 2 };
        const p1 = await readHistoryPage(store, permit, { ...opts, position: { signal: 0, start: null } });
        expect(p1).to.deep.equal({
          buckets: [{ name: "odometer", start: f.base, count: 3, values: [60] }],
          next: { signal: 0, start: f.base + HOUR },
          rows: 3,
        });
        const p2 = await readHistoryPage(store, permit, { ...opts, position: p1.next! });
        expect(p2).to.deep.equal({
          buckets: [
            { name: "odometer", start: f.base + HOUR, count: 2, values: [110] },
            { name: "odometer", start: f.base + 2 * HOUR, count: 1, values: [200] },
          ],
          next: { signal: 1, start: null },
          rows: 3,
        });
        const p3 = await readHistoryPage(store, permit, { ...opts, position: p2.next! });
        expect(p3).to.deep.equal({
          buckets: [{ name: "location", start: f.base, count: 2, values: [52_000_010, 13_000_030] }],
          next: null,
          rows: 2,
        });
      });
    });

    describe("refusals (401)", function () {
      it("TOKEN_MISSING without a sign-in, before the parameters are checked", async function () {
        const none = await node.app.inject({ method: "GET", url: `/v1/vehicles/${v0}/signals/latest?names=odometer` });
        refused(none, 401, "TOKEN_MISSING");
        const h = await node.app.inject({ method: "GET", url: `/v1/vehicles/${v0}/signals/history?from=x` });
        refused(h, 401, "TOKEN_MISSING");
        refused(await latest("odometer", "not-a-jwt"), 401, "TOKEN_INVALID");
        expect(await store.accessLog()).to.deep.equal([]);
      });

      it("TOKEN_EXPIRED from the token's expiry second on, TOKEN_INVALID for a forged one", async function () {
        clock.now += SIWE_DEFAULTS.tokenTtlSeconds - 1;
        expect((await latest("odometer")).statusCode).to.equal(200);
        clock.now += 1;
        refused(await latest("odometer"), 401, "TOKEN_EXPIRED");
        refused(await latest("odometer", `${token.slice(0, -2)}xx`), 401, "TOKEN_INVALID");
      });
    });

    describe("refusals (400), naming the parameter", function () {
      for (const [query, code, field] of [
        ["", "INVALID_PARAMETER", "names"],
        ["names=odometer,wheels", "UNKNOWN_SIGNAL", "names"],
        ["names=odometer,", "UNKNOWN_SIGNAL", "names"],
        ["names=fuel_level,battery_level", "INVALID_PARAMETER", "names"],
        ["names=odometer&names=location", "INVALID_PARAMETER", "names"],
        ["names=odometer&from=x", "INVALID_PARAMETER", "from"],
        ["names=odometer&from=10&interval=59", "INVALID_PARAMETER", "interval"],
        ["names=odometer&from=10&interval=86401", "INVALID_PARAMETER", "interval"],
        ["names=odometer&from=10&agg=median", "INVALID_PARAMETER", "agg"],
        ["names=dtc&from=10&agg=avg", "INVALID_PARAMETER", "agg"],
        ["names=odometer&from=10&to=9", "INVALID_RANGE", "from"],
        ["names=odometer&from=10&limit=0", "INVALID_PARAMETER", "limit"],
        ["names=odometer&from=10&limit=5001", "INVALID_PARAMETER", "limit"],
        ["names=odometer&from=10&cursor=garbage", "INVALID_PARAMETER", "cursor"],
        ["names=odometer&from=10&page=2", "INVALID_PARAMETER", "page"],
      ] as const) {
        it(`history?${query || "(no names)"}: ${code} (${field})`, async function () {
          refused(await history(query), 400, code, field);
          expect(await store.accessLog()).to.deep.equal([]);
        });
      }

      it("a bad vehicle id (INVALID_PARAMETER id), a latest with from (unknown parameter)", async function () {
        refused(await latest("odometer", token, "07"), 400, "INVALID_PARAMETER", "id");
        refused(await get(`/v1/vehicles/${v0}/signals/latest?names=odometer&from=1`), 400, "INVALID_PARAMETER", "from");
      });

      it("a cursor of another query (INVALID_PARAMETER cursor)", async function () {
        const page = (await history(`names=odometer&from=${f.pre}&limit=1`)).json();
        refused(
          await history(`names=odometer&from=${f.pre}&agg=min&limit=1&cursor=${page.nextCursor}`),
          400,
          "INVALID_PARAMETER",
          "cursor",
        );
      });
    });

    describe("refusals (403) by consent, each read checked", function () {
      it("NO_GRANT for a consumer without a grant for the vehicle", async function () {
        const other = await node.tokenOf(f.consumerB);
        const message = refused(await latest("odometer", other), 403, "NO_GRANT");
        expect(message).to.contain(f.consumerB.address);
        refused(await latest("odometer", token, f.vehicleIds[1].toString()), 403, "NO_GRANT");
        refused(await history(`names=odometer&from=0`, other), 403, "NO_GRANT");
        expect(await store.accessLog()).to.deep.equal([]);
      });

      it("DATA_TYPE_NOT_GRANTED for a type outside the grant: the whole read, naming the missing ones", async function () {
        const message = refused(await latest("location,speed,tire_pressure"), 403, "DATA_TYPE_NOT_GRANTED", "names");
        expect(message).to.contain("speed, tire_pressure");
        refused(await history(`names=speed&from=0`), 403, "DATA_TYPE_NOT_GRANTED", "names");
        expect(await store.accessLog()).to.deep.equal([]);
      });

      it("GRANT_EXPIRED from the grant's expiry second on (no event needed); served the second before", async function () {
        const expiresAt = Number((await grantOf()).expiresAt);
        clock.now = expiresAt - 1;
        const before = await latest("odometer", await node.tokenOf(f.consumerA));
        expect(before.json().signals).to.deep.equal([
          { name: "odometer", timestamp: f.base + 2 * HOUR, values: [200] },
        ]);
        clock.now = expiresAt;
        refused(await latest("odometer", await node.tokenOf(f.consumerA)), 403, "GRANT_EXPIRED");
      });

      it("GRANT_REVOKED once the owner revoked", async function () {
        await (await f.access.connect(f.vehicleOwners[0]).revoke(f.vehicleIds[0], f.consumerA.address)).wait();
        await node.consent.poll();
        const message = refused(await latest("odometer"), 403, "GRANT_REVOKED");
        expect(message).to.contain(f.vehicleOwners[0].address);
        refused(await history(`names=odometer&from=0`), 403, "GRANT_REVOKED");
      });

      it("VEHICLE_TRANSFERRED after a sale; the buyer's grant serves none of the seller's data, only its own", async function () {
        const [seller, buyer] = [f.vehicleOwners[0], f.outsider];
        await (await f.vehicles.connect(seller).transferFrom(seller.address, buyer.address, f.vehicleIds[0])).wait();
        await node.consent.poll();
        refused(await latest("odometer"), 403, "VEHICLE_TRANSFERRED");
        refused(await history(`names=odometer&from=0`), 403, "VEHICLE_TRANSFERRED");

        await time.increase(60);
        const expiresAt = BigInt((await time.latest()) + 30 * DAY);
        const c = await consentFor(f.access, f.consumerA, f.vehicleIds[0], buyer.address, PERMISSIONS, expiresAt);
        const receipt = await (
          await f.access
            .connect(buyer)
            .grantWithConsent(
              f.vehicleIds[0],
              f.consumerA.address,
              PERMISSIONS,
              expiresAt,
              c.nonce,
              c.deadline,
              c.signature,
            )
        ).wait();
        const regrantedAt = (await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp;
        await node.consent.poll();
        clock.now = await time.latest();
        const fresh = await node.tokenOf(f.consumerA);
        expect((await latest("odometer,location", fresh)).json().signals).to.deep.equal([
          { name: "odometer", timestamp: null, values: null },
          { name: "location", timestamp: null, values: null },
        ]);
        expect((await history(`names=odometer&from=0`, fresh)).json().buckets).to.deep.equal([]);

        // The buyer connects the integration again; data recorded under the buyer's grant is served.
        await connect(f.vehicles, f.vehicleIds[0], f.software, buyer);
        await time.increase(60);
        clock.now = await time.latest();
        await node.index.poll();
        const t = clock.now - 10;
        await postBatches(node, f.software, [
          {
            ...f.batches[0],
            sequence: 5,
            startTime: t,
            endTime: t,
            signals: [{ name: "odometer", timestamp: t, values: [300] }],
          },
        ]);
        expect((await latest("odometer", fresh)).json().signals).to.deep.equal([
          { name: "odometer", timestamp: t, values: [300] },
        ]);
        const entries = await store.accessLog();
        expect(entries[entries.length - 1].grant).to.deep.equal({
          owner: buyer.address,
          epoch: 1,
          permissions: PERMISSIONS.toString(),
          expiresAt: Number(expiresAt),
          grantedAt: regrantedAt,
        });
        expect(entries[entries.length - 1].from).to.equal(regrantedAt);
      });

      it("STAKE_NOT_COVERED once the stake no longer covers the consumer's grants", async function () {
        await asDao(f, (tl) => f.staking.connect(tl).setStakeParameters(BASE_STAKE, PER_VEHICLE_STAKE * 3n));
        expect(await f.staking.isCovered(f.consumerA.address)).to.equal(false);
        await node.consent.poll();
        refused(await latest("odometer"), 403, "STAKE_NOT_COVERED");
        refused(await history(`names=odometer&from=0`), 403, "STAKE_NOT_COVERED");
      });

      it("CONSUMER_FROZEN once the guardian froze the consumer", async function () {
        await (await f.staking.connect(f.guardian).freeze(f.consumerA.address)).wait();
        await node.consent.poll();
        refused(await latest("odometer"), 403, "CONSUMER_FROZEN");
        refused(await history(`names=odometer&from=0`), 403, "CONSUMER_FROZEN");
        expect(await store.accessLog()).to.deep.equal([]);
      });

      it("INDEX_STALE (503) while the consent index is older than its bound", async function () {
        await node.app.close();
        await open({ maxPollAgeMs: 50 });
        const fresh = await node.tokenOf(f.consumerA);
        await new Promise((r) => setTimeout(r, 80));
        refused(await latest("odometer", fresh), 503, "INDEX_STALE");
      });
    });

    describe("propagation bound", function () {
      it("a revocation takes effect within maxPollAgeMs (3 s by default) of being mined (measured over HTTP)", async function () {
        this.timeout(20_000);
        await node.app.close();
        await open({ ...CONSENT_INDEX_DEFAULTS });
        token = await node.tokenOf(f.consumerA);
        await node.consent.start();
        expect((await latest("odometer")).statusCode).to.equal(200);
        await (await f.access.connect(f.vehicleOwners[0]).revoke(f.vehicleIds[0], f.consumerA.address)).wait();
        const minedAt = Date.now();
        const minedBlock = await ethers.provider.getBlockNumber();
        let latencyMs = -1;
        const seen: string[] = [];
        while (Date.now() - minedAt <= CONSENT_INDEX_DEFAULTS.maxPollAgeMs + 2_000) {
          const res = await latest("odometer");
          seen.push(res.statusCode === 200 ? "200" : res.json().code);
          if (res.statusCode === 403) {
            expect(res.json().code).to.equal("GRANT_REVOKED");
            latencyMs = Date.now() - minedAt;
            break;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
        console.log(
          `      revocation refused over HTTP after ${latencyMs} ms, index cursor ${node.consent.cursor} >= block ${minedBlock} (bound ${CONSENT_INDEX_DEFAULTS.maxPollAgeMs} ms, 0 confirmations)`,
        );
        expect(latencyMs).to.be.within(0, CONSENT_INDEX_DEFAULTS.maxPollAgeMs);
        expect(node.consent.cursor).to.be.at.least(minedBlock);
        expect(seen.every((s) => ["200", "INDEX_STALE", "GRANT_REVOKED"].includes(s))).to.equal(true);
      });
    });

    describe("the access log", function () {
      it("appends every served read and no refused one, as one chain matching the published head", async function () {
        await latest("odometer");
        refused(await latest("speed"), 403, "DATA_TYPE_NOT_GRANTED");
        await history(`names=location&from=0`);
        refused(await history(`names=location&from=0&interval=1`), 400, "INVALID_PARAMETER");
        const head = (await get("/v1/access-log/head", undefined)).json();
        const entries = await store.accessLog();
        expect(entries.map((e) => [e.seq, e.signals, e.resultSize])).to.deep.equal([
          [0, ["odometer"], 1],
          [1, ["location"], 1],
        ]);
        expect(verifyLog(entries, head)).to.deep.equal({ count: 2, hash: entries[1].hash });
        // The vehicle's owner sees both reads.
        const owner = await node.tokenOf(f.vehicleOwners[0]);
        expect((await get(`/v1/vehicles/${v0}/access-log`, owner)).json().entries).to.deep.equal(entries);
      });

      it("detects an entry edited in the store (LOG_TAMPERED) and entries deleted from it (LOG_TRUNCATED)", async function () {
        for (let i = 0; i < 3; i++) await latest("odometer");
        const published = (await get("/v1/access-log/head", undefined)).json();
        expect(published.count).to.equal(3);
        const check = async (): Promise<ConsentError> => {
          try {
            verifyLog(await store.accessLog(), published);
          } catch (e) {
            return e as ConsentError;
          }
          expect.fail("the log verified");
        };
        await rawExec(
          location,
          `update access_log set entry_json = replace(entry_json, '"resultSize":1', '"resultSize":0') where seq = 1`,
        );
        const edited: AccessLogEntry[] = await store.accessLog();
        expect(edited[1].resultSize).to.equal(0);
        expect((await check()).code).to.equal("LOG_TAMPERED");
        await rawExec(
          location,
          `update access_log set entry_json = replace(entry_json, '"resultSize":0', '"resultSize":1') where seq = 1`,
        );
        expect(verifyLog(await store.accessLog(), published).count).to.equal(3);
        await rawExec(location, "delete from access_log where seq = 2");
        expect((await check()).code).to.equal("LOG_TRUNCATED");
      });
    });
  });
}
