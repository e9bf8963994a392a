import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  BadRequestError,
  DataClient,
  NotSignedInError,
  ReadRefusedError,
  type DataApiError,
  type HistoryBucket,
} from "../../lib/consent/sdk";
import type { TelemetryStore } from "../../node/store";
import { STORE_TARGETS } from "../helpers/telemetry-db";
import { HOUR, postBatches, readDataFixture, readNodeOver, type ReadDataContext } from "./read-fixture";

/** The SDK against the real node, listening on 127.0.0.1 (a free port), over the embedded store. */
describe("lib/consent/sdk against the node (sqlite store)", function () {
  let f: ReadDataContext;
  let store: TelemetryStore;
  let node: Awaited<ReturnType<typeof readNodeOver>>;
  let client: DataClient;
  const clock = { now: 0 };

  beforeEach(async function () {
    f = await loadFixture(readDataFixture);
    ({ store } = await STORE_TARGETS[0].open());
    clock.now = await time.latest();
    node = await readNodeOver(f, store, clock);
    await postBatches(node, f.software, f.batches);
    const address = await node.app.listen({ host: "127.0.0.1", port: 0 });
    client = new DataClient({ baseUrl: address, signer: f.consumerA, now: () => clock.now });
  });
  afterEach(async function () {
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

  it("signs in and reads the latest values", async function () {
    expect(await client.signIn()).to.deep.equal({ consumer: f.consumerA.address, expiresAt: clock.now + 900 });
    expect(await client.latest(f.vehicleIds[0], ["odometer", "location"])).to.deep.equal([
      { name: "odometer", timestamp: f.base + 2 * HOUR, values: [200] },
      { name: "location", timestamp: f.base + 1_200, values: [52_000_010, 13_000_030] },
    ]);
  });

  it("pages through history with the node's cursor, one bucket a page", async function () {
    const buckets: HistoryBucket[] = [];
    const query = { names: ["odometer", "location"], from: f.pre, agg: "avg" as const, limit: 1 };
    for await (const b of client.historyAll(f.vehicleIds[0], query)) buckets.push(b);
    expect(buckets).to.deep.equal([
      { name: "odometer", start: f.base, count: 3, values: [30] },
      { name: "odometer", start: f.base + HOUR, count: 2, values: [105] },
      { name: "odometer", start: f.base + 2 * HOUR, count: 1, values: [200] },
      { name: "location", start: f.base, count: 2, values: [52_000_005, 13_000_015] },
    ]);
    expect(await store.accessLog()).to.have.length(4);
  });

  it("signs in again by itself once the token expired", async function () {
    await client.signIn();
    clock.now += 900;
    expect((await client.latest(f.vehicleIds[0], ["odometer"]))[0].values).to.deep.equal([200]);
  });

  it("surfaces each refusal as a typed error: ReadRefusedError, BadRequestError, NotSignedInError", async function () {
    const wrongType = await refusal(client.latest(f.vehicleIds[0], ["speed"]));
    expect(wrongType).to.be.instanceOf(ReadRefusedError);
    expect([wrongType.code, wrongType.status, wrongType.field]).to.deep.equal(["DATA_TYPE_NOT_GRANTED", 403, "names"]);
    const noGrant = await refusal(client.latest(f.vehicleIds[1], ["odometer"]));
    expect(noGrant).to.be.instanceOf(ReadRefusedError);
    expect(noGrant.code).to.equal("NO_GRANT");
    const bad = await refusal(client.history(f.vehicleIds[0], { names: ["odometer"], from: 0, interval: 5 }));
    expect(bad).to.be.instanceOf(BadRequestError);
    expect([bad.code, bad.field]).to.deep.equal(["INVALID_PARAMETER", "interval"]);
    await (await f.staking.connect(f.guardian).freeze(f.consumerA.address)).wait();
    await node.consent.poll();
    const frozen = await refusal(client.latest(f.vehicleIds[0], ["odometer"]));
    expect(frozen).to.be.instanceOf(ReadRefusedError);
    expect(frozen.code).to.equal("CONSUMER_FROZEN");
    const stranger = new DataClient({
      baseUrl: client["_opts"].baseUrl,
      signer: { getAddress: async () => f.consumerA.address, signMessage: (m) => f.consumerB.signMessage(m) },
      now: () => clock.now,
    });
    const forged = await refusal(stranger.signIn());
    expect(forged).to.be.instanceOf(NotSignedInError);
    expect(forged.code).to.equal("SIWE_BAD_SIGNATURE");
  });
});
