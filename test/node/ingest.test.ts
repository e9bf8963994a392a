import { expect } from "chai";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";
import { MAX_BODY_BYTES, MAX_SIGNALS_PER_BATCH, NODE_DEFAULTS } from "../../lib/telemetry/settings";
import { STORE_TARGETS } from "../helpers/telemetry-db";
import { deviceKey } from "../registry/fixtures";
import type { TelemetryStore } from "../../node/store";
import { drivingBatch, nodeOver, signed, telemetryRegistryFixture, type TelemetryRegistry } from "./telemetry-fixture";

// Both stores with digests and recovery inline, and the embedded store with them on a verify thread (as node:data runs).
const RUNS = [...STORE_TARGETS.map((target) => ({ target, threads: 0 })), { target: STORE_TARGETS[0], threads: 1 }];
for (const { target, threads } of RUNS) {
  describe(`network node ingest (${target.kind} store${threads ? `, ${threads} verify thread` : ""})`, function () {
    let reg: TelemetryRegistry;
    let store: TelemetryStore;
    let app: Awaited<ReturnType<typeof nodeOver>>["app"];
    let index: Awaited<ReturnType<typeof nodeOver>>["index"];
    let now: number;
    let start: number;

    beforeEach(async function () {
      reg = await loadFixture(telemetryRegistryFixture);
      ({ store } = await target.open());
      now = await time.latest();
      start = now - 1800;
      ({ app, index } = await nodeOver(reg, store, () => now, threads));
    });
    afterEach(async function () {
      await app.close();
      await store.close();
    });

    const post = (body: unknown) => app.inject({ method: "POST", url: "/v1/batches", payload: body as object });
    async function expectRefused(body: unknown, status: number, code: string, field: string | null) {
      const before = await store.countBatches();
      const res = await post(body);
      expect(res.json(), res.body).to.deep.equal({ code, message: res.json().message, field });
      expect(res.statusCode).to.equal(status);
      expect(res.json().message).to.be.a("string").and.not.equal("");
      expect(await store.countBatches()).to.equal(before);
    }
    const deviceBatch = (seq = 1, s = start, extra: Partial<Parameters<typeof drivingBatch>[0]> = {}) =>
      drivingBatch({ vehicleId: reg.v1, deviceId: reg.d1, sequence: seq, start: s, ...extra });

    it("stores a batch signed by the paired device's key, whole, with its signature (201)", async function () {
      const body = await signed(reg.k1, reg, deviceBatch());
      const res = await post(body);
      expect(res.statusCode, res.body).to.equal(201);
      expect(res.json().signer).to.equal(reg.k1.address);
      expect(res.headers["x-request-id"]).to.be.a("string");
      expect(await store.countBatches()).to.equal(1);
      expect(await store.countSignals()).to.equal(body.batch.signals.length);
      const [page] = await collect(store.batchesStartingIn(0, 2 ** 40));
      expect(page.signature).to.equal(body.signature.toLowerCase());
      const json = await store.signedBatches([page.id]);
      expect(JSON.parse(json.get(page.id)!)).to.deep.equal(body);
    });

    it("stores a batch signed by the integration that attested the vehicle's connection", async function () {
      const b = drivingBatch({ vehicleId: reg.v1, integration: reg.software.address, sequence: 1, start });
      const res = await post(await signed(reg.software, reg, b));
      expect(res.statusCode, res.body).to.equal(201);
    });

    it("accepts the next sequence of a stream, starting exactly when the previous batch ended", async function () {
      expect((await post(await signed(reg.k1, reg, deviceBatch(1, start, { span: 600 })))).statusCode).to.equal(201);
      expect((await post(await signed(reg.k1, reg, deviceBatch(5, start + 600, { span: 600 })))).statusCode).to.equal(
        201,
      );
    });

    describe("refusals (nothing stored)", function () {
      it("a batch signed by another key (forged): bad_signature", async function () {
        await expectRefused(await signed(deviceKey(99), reg, deviceBatch()), 401, "bad_signature", "signature");
      });
      it("a signature that is not canonical: bad_signature", async function () {
        const body = await signed(reg.k1, reg, deviceBatch());
        await expectRefused({ ...body, signature: "0x" + "00".repeat(65) }, 401, "bad_signature", "signature");
      });
      it("a batch altered after signing: bad_signature", async function () {
        const body = await signed(reg.k1, reg, deviceBatch());
        body.batch.signals[2].values = [1];
        await expectRefused(body, 401, "bad_signature", "signature");
      });
      it("a malformed body: malformed_batch", async function () {
        await expectRefused({ hello: "world" }, 400, "malformed_batch", "chainId");
        const res = await app.inject({
          method: "POST",
          url: "/v1/batches",
          payload: "{",
          headers: { "content-type": "application/json" },
        });
        expect(res.statusCode).to.equal(400);
        expect(res.json().code).to.equal("malformed_batch");
      });
      it("an unknown device: unknown_device", async function () {
        const b = deviceBatch(1, start, { deviceId: "77" });
        await expectRefused(await signed(reg.k1, reg, b), 403, "unknown_device", "batch.deviceId");
      });
      it("a device never paired: device_not_paired", async function () {
        const b = deviceBatch(1, start, { deviceId: reg.d2 });
        await expectRefused(await signed(reg.k2, reg, b), 403, "device_not_paired", "batch.deviceId");
      });
      it("a batch that starts one second before the pairing: device_not_paired; at the pairing second it is accepted", async function () {
        const pairedAt = (await pairingTime(reg)) as number;
        await expectRefused(
          await signed(reg.k1, reg, deviceBatch(1, pairedAt - 1, { span: 60 })),
          403,
          "device_not_paired",
          "batch.deviceId",
        );
        expect((await post(await signed(reg.k1, reg, deviceBatch(1, pairedAt, { span: 60 })))).statusCode).to.equal(
          201,
        );
      });
      it("a device paired with another vehicle: device_paired_elsewhere", async function () {
        const b = drivingBatch({ vehicleId: reg.v1, deviceId: reg.d3, sequence: 1, start });
        await expectRefused(await signed(reg.k3, reg, b), 403, "device_paired_elsewhere", "batch.deviceId");
      });
      it("an integration without a connection to the vehicle: connection_not_attested", async function () {
        const b = drivingBatch({ vehicleId: reg.v2, integration: reg.software.address, sequence: 1, start });
        await expectRefused(await signed(reg.software, reg, b), 403, "connection_not_attested", "batch.integration");
      });
      it("an integration whose role was revoked, for a batch ending after the revocation: connection_not_attested", async function () {
        const role = await reg.vehicles.SOFTWARE_INTEGRATION_ROLE();
        const [admin] = await ethers.getSigners();
        await reg.vehicles.connect(admin).revokeRole(role, reg.software.address);
        const revokedAt = await time.latest();
        await index.poll();
        now = revokedAt + 60;
        const b = drivingBatch({
          vehicleId: reg.v1,
          integration: reg.software.address,
          sequence: 1,
          start: revokedAt - 30,
          span: 60,
        });
        await expectRefused(await signed(reg.software, reg, b), 403, "connection_not_attested", "batch.integration");
        // A batch that ended before the revocation is still the integration's.
        const earlier = drivingBatch({
          vehicleId: reg.v1,
          integration: reg.software.address,
          sequence: 2,
          start: revokedAt - 200,
          span: 60,
        });
        expect((await post(await signed(reg.software, reg, earlier))).statusCode).to.equal(201);
      });
      it("an integration whose connection was removed by removeConnections, for a later batch: connection_not_attested", async function () {
        const [admin] = await ethers.getSigners();
        await reg.vehicles.connect(admin).removeConnections(reg.software.address, [reg.v1]);
        const removedAt = await time.latest();
        await index.poll();
        now = removedAt + 60;
        const b = drivingBatch({
          vehicleId: reg.v1,
          integration: reg.software.address,
          sequence: 1,
          start: removedAt - 30,
          span: 60,
        });
        await expectRefused(await signed(reg.software, reg, b), 403, "connection_not_attested", "batch.integration");
      });
      it("a batch ending after the device was unpaired: device_not_paired", async function () {
        await reg.vehicles.connect(reg.alice).unpairDevice(reg.v1);
        const unpairedAt = await time.latest();
        await index.poll();
        now = unpairedAt + 60;
        await expectRefused(
          await signed(reg.k1, reg, deviceBatch(1, unpairedAt - 30, { span: 60 })),
          403,
          "device_not_paired",
          "batch.deviceId",
        );
        expect(
          (await post(await signed(reg.k1, reg, deviceBatch(1, unpairedAt - 61, { span: 60 })))).statusCode,
        ).to.equal(201);
      });
      it("the same batch twice: duplicate_batch", async function () {
        const body = await signed(reg.k1, reg, deviceBatch());
        expect((await post(body)).statusCode).to.equal(201);
        await expectRefused(body, 409, "duplicate_batch", null);
      });
      it("a sequence not above the last accepted: sequence_replayed", async function () {
        expect((await post(await signed(reg.k1, reg, deviceBatch(3, start, { span: 60 })))).statusCode).to.equal(201);
        await expectRefused(
          await signed(reg.k1, reg, deviceBatch(3, start + 120, { span: 60 })),
          409,
          "sequence_replayed",
          "batch.sequence",
        );
        await expectRefused(
          await signed(reg.k1, reg, deviceBatch(2, start + 120, { span: 60 })),
          409,
          "sequence_replayed",
          "batch.sequence",
        );
      });
      it("a batch starting before the stream's previous batch ended: time_range_overlaps", async function () {
        expect((await post(await signed(reg.k1, reg, deviceBatch(1, start, { span: 600 })))).statusCode).to.equal(201);
        await expectRefused(
          await signed(reg.k1, reg, deviceBatch(2, start + 599, { span: 60 })),
          409,
          "time_range_overlaps",
          "batch.sequence",
        );
      });
      it(`an end more than ${NODE_DEFAULTS.maxFutureSkewSeconds} s ahead: timestamp_in_future; exactly at the tolerance it is accepted`, async function () {
        const skew = NODE_DEFAULTS.maxFutureSkewSeconds;
        await expectRefused(
          await signed(reg.k1, reg, deviceBatch(1, now + skew - 59, { span: 60 })),
          422,
          "timestamp_in_future",
          "batch.endTime",
        );
        expect(
          (await post(await signed(reg.k1, reg, deviceBatch(1, now + skew - 60, { span: 60 })))).statusCode,
        ).to.equal(201);
      });
      it("a start older than the past limit: timestamp_too_old", async function () {
        now = start + NODE_DEFAULTS.maxPastSeconds + 1;
        await expectRefused(await signed(reg.k1, reg, deviceBatch()), 422, "timestamp_too_old", "batch.startTime");
        now = start + NODE_DEFAULTS.maxPastSeconds;
        expect((await post(await signed(reg.k1, reg, deviceBatch()))).statusCode).to.equal(201);
      });
      it(`more than ${MAX_SIGNALS_PER_BATCH} signals, or a body over ${MAX_BODY_BYTES} bytes: batch_too_large`, async function () {
        const b = deviceBatch(1, start, { span: 60 });
        b.signals = Array.from({ length: MAX_SIGNALS_PER_BATCH + 1 }, () => ({
          name: "speed",
          timestamp: start,
          values: [0],
        }));
        await expectRefused(await signed(reg.k1, reg, b), 413, "batch_too_large", "batch.signals");
        const huge = { ...(await signed(reg.k1, reg, deviceBatch())), pad: "x".repeat(MAX_BODY_BYTES) };
        await expectRefused(huge, 413, "batch_too_large", null);
      });
      it("an unknown signal name: unknown_signal", async function () {
        const b = deviceBatch();
        b.signals[0].name = "coolant_temp";
        await expectRefused(await signed(reg.k1, reg, b), 400, "unknown_signal", "batch.signals.0.name");
      });
      it("out-of-range values (latitude 90.000001°, negative odometer): value_out_of_range", async function () {
        const b = deviceBatch();
        b.signals[0].values[0] = 90_000_001;
        await expectRefused(await signed(reg.k1, reg, b), 400, "value_out_of_range", "batch.signals.0.values.0");
        const c = deviceBatch();
        c.signals[2].values[0] = -5;
        await expectRefused(await signed(reg.k1, reg, c), 400, "value_out_of_range", "batch.signals.2.values.0");
      });
      it("a batch signed for another chain or registry: wrong_chain / wrong_registry", async function () {
        const other = await (
          await import("../../lib/telemetry/format")
        ).signBatch(reg.k1, deviceBatch(), 1, reg.registry);
        await expectRefused(other, 400, "wrong_chain", "chainId");
        const elsewhere = await (
          await import("../../lib/telemetry/format")
        ).signBatch(reg.k1, deviceBatch(), reg.chainId, ethers.ZeroAddress.replace(/0$/, "1"));
        await expectRefused(elsewhere, 400, "wrong_registry", "registry");
      });
      it(`while the registry index is more than ${NODE_DEFAULTS.maxStaleBlocks} blocks behind: index_stale (503); exactly at the bound it is served`, async function () {
        const body = await signed(reg.k1, reg, deviceBatch());
        await mine(NODE_DEFAULTS.maxStaleBlocks + 1);
        // The index learns the head without reading the new blocks (a lagging RPC): simulate with confirmations.
        (index as unknown as { _opts: { confirmations: number } })._opts.confirmations =
          NODE_DEFAULTS.maxStaleBlocks + 1;
        await index.poll();
        await expectRefused(body, 503, "index_stale", null);
        (index as unknown as { _opts: { confirmations: number } })._opts.confirmations = NODE_DEFAULTS.maxStaleBlocks;
        await index.poll();
        expect((await post(body)).statusCode).to.equal(201);
      });
    });

    it("GET /health reports the store, the index and the ingest counters", async function () {
      await post(await signed(reg.k1, reg, deviceBatch()));
      await post(await signed(deviceKey(99), reg, deviceBatch(2, start + 700)));
      const res = await app.inject({ method: "GET", url: "/health" });
      expect(res.statusCode).to.equal(200);
      expect(res.json()).to.deep.include({ status: "ok", store: target.kind, db: "ok" });
      expect(res.json().ingest).to.deep.equal({ accepted: 1, refused: { bad_signature: 1 } });
    });

    it("a restarted index loads its events from the store and resumes from its cursor", async function () {
      const cursor = index.cursor;
      await reg.vehicles.connect(reg.alice).unpairDevice(reg.v1);
      const { RegistryIndex } = await import("../../node/registry-index");
      const again = new RegistryIndex(ethers.provider, reg.registry, store, {
        confirmations: 0,
        maxStaleBlocks: 12,
        logPageBlocks: 7,
        maxPollAgeMs: 60_000,
      });
      await again.load();
      expect(again.cursor).to.equal(cursor);
      expect(again.deviceKey(reg.d1)).to.equal(reg.k1.address.toLowerCase());
      await again.poll();
      expect(again.cursor).to.equal(await ethers.provider.getBlockNumber());
      const t = await time.latest();
      expect(again.checkPairing(reg.d1, reg.v1, t, t).ok).to.equal(false);
    });
  });
}

async function collect<T>(gen: AsyncGenerator<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of gen) out.push(...page);
  return out;
}

async function pairingTime(reg: TelemetryRegistry): Promise<number> {
  const logs = await reg.vehicles.queryFilter(reg.vehicles.filters.DevicePaired(reg.v1));
  const block = await ethers.provider.getBlock(logs[0].blockNumber);
  return block!.timestamp;
}
