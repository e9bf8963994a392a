import { expect } from "chai";
import { Wallet } from "ethers";
import { ConsentError } from "../../lib/consent/errors";
import { applyEvent, checkRead, emptyConsentState, type ConsentEvent } from "../../lib/consent/permissions";
import { DataApiError, DataClient, type HistoryBucket } from "../../lib/consent/sdk";
import {
  issueNonce,
  issueToken,
  MemoryNonceStore,
  parseTokenKey,
  SIWE_DEFAULTS,
  verifySignIn,
  verifyToken,
  type SiweSettings,
} from "../../lib/consent/siwe";

const T0 = 1_800_000_000;
const SETTINGS: SiweSettings = { ...SIWE_DEFAULTS, domain: "node.test", uri: "http://node.test", chainId: 31337 };
const KEY = parseTokenKey(`0x${"33".repeat(32)}`, "test", "key");
const consumer = new Wallet(`0x${"c3".repeat(32)}`);
const owner = new Wallet(`0x${"a1".repeat(32)}`).address;

/**
 * A stand-in for the node's routes (docs/data-api.md) built on the same lib/consent functions the node uses:
 * vehicle 7 granted location to the consumer at T0; odometer is not granted. History has 5 hourly buckets of
 * location, served 2 per page.
 */
function fakeNode(clock: { now: number }) {
  const nonces = new MemoryNonceStore();
  const state = emptyConsentState();
  const events = [
    { kind: "StakeParametersSet" as const, baseStake: 10n, perVehicleStake: 1n, timestamp: T0 - 100 },
    { kind: "VehicleMinted", vehicleId: 7n, owner, timestamp: T0 - 50 },
    { kind: "Staked", consumer: consumer.address, amount: 11n, staked: 11n, timestamp: T0 - 40 },
    {
      kind: "AccessGranted",
      vehicleId: 7n,
      consumer: consumer.address,
      owner,
      permissions: 1n,
      expiresAt: T0 + 86_400,
      epoch: 0,
      timestamp: T0,
    },
  ];
  events.forEach((e, i) => applyEvent(state, { ...e, block: i + 1, logIndex: 0 } as ConsentEvent));
  const calls: string[] = [];
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
  const refuse = (e: unknown) => {
    if (e instanceof ConsentError) return json(e.status, e.toJSON());
    throw e;
  };
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    calls.push(`${init?.method} ${url.pathname}`);
    try {
      if (url.pathname === "/v1/auth/nonce") {
        const { nonce, expiresAt } = await issueNonce(nonces, SETTINGS, clock.now);
        return json(200, { nonce, expiresAt, domain: SETTINGS.domain, uri: SETTINGS.uri, chainId: SETTINGS.chainId });
      }
      if (url.pathname === "/v1/auth/siwe") {
        const { message, signature } = JSON.parse(String(init?.body));
        const signIn = await verifySignIn(message, signature, { settings: SETTINGS, nonces, now: clock.now });
        const t = await issueToken(signIn, KEY, SETTINGS, clock.now);
        return json(200, { ...t, tokenType: "Bearer", consumer: signIn.address });
      }
      const auth = new Headers(init?.headers).get("authorization")?.replace(/^Bearer /, "");
      const claims = await verifyToken(auth, KEY, SETTINGS, clock.now);
      const names = (url.searchParams.get("names") ?? "").split(",");
      const permit = checkRead(state, { consumer: claims.consumer, vehicleId: 7n, names, now: clock.now });
      if (url.pathname.endsWith("/latest")) {
        return json(200, {
          vehicleId: "7",
          signals: [{ name: "location", timestamp: permit.signals[0].window?.to, values: [52520008, 13404954] }],
        });
      }
      const all = [0, 1, 2, 3, 4].map((h) => ({ name: "location", start: T0 + h * 3600, count: 6, values: [h, -h] }));
      const at = Number(url.searchParams.get("cursor") ?? "0");
      return json(200, {
        vehicleId: "7",
        interval: 3600,
        agg: "last",
        buckets: all.slice(at, at + 2),
        nextCursor: at + 2 < all.length ? String(at + 2) : null,
      });
    } catch (e) {
      return refuse(e);
    }
  };
  return { fetch: fetchImpl as typeof fetch, calls };
}

describe("lib/consent/sdk", function () {
  let clock: { now: number };
  let node: ReturnType<typeof fakeNode>;
  let client: DataClient;
  beforeEach(function () {
    clock = { now: T0 + 3_600 * 6 };
    node = fakeNode(clock);
    client = new DataClient({ baseUrl: SETTINGS.uri, signer: consumer, fetch: node.fetch, now: () => clock.now });
  });

  it("signs in once and reads the latest values", async function () {
    expect(await client.signIn()).to.deep.equal({ consumer: consumer.address, expiresAt: clock.now + 900 });
    expect(await client.latest(7n, ["location"])).to.deep.equal([
      { name: "location", timestamp: clock.now, values: [52520008, 13404954] },
    ]);
    expect(node.calls).to.deep.equal([
      "POST /v1/auth/nonce",
      "POST /v1/auth/siwe",
      "GET /v1/vehicles/7/signals/latest",
    ]);
  });

  it("signs in by itself before the first read", async function () {
    await client.latest(7n, ["location"]);
    expect(node.calls[0]).to.equal("POST /v1/auth/nonce");
  });

  it("surfaces a refusal as a typed error with the node's code, status and field", async function () {
    try {
      await client.latest(7n, ["location", "odometer"]);
      expect.fail("not refused");
    } catch (e) {
      expect(e).to.be.instanceOf(DataApiError);
      const err = e as DataApiError;
      expect([err.code, err.status, err.field]).to.deep.equal(["DATA_TYPE_NOT_GRANTED", 403, "names"]);
    }
  });

  it("signs in again when the token has expired, and reads", async function () {
    await client.signIn();
    clock.now += 900;
    await client.latest(7n, ["location"]);
    expect(node.calls.filter((c) => c === "POST /v1/auth/siwe")).to.have.length(2);
  });

  it("pages through history until the last page", async function () {
    const buckets: HistoryBucket[] = [];
    for await (const b of client.historyAll(7n, { names: ["location"], from: T0, interval: 3600, agg: "last" })) {
      buckets.push(b);
    }
    expect(buckets.map((b) => b.start)).to.deep.equal([0, 1, 2, 3, 4].map((h) => T0 + h * 3600));
    expect(node.calls.filter((c) => c.endsWith("/history"))).to.have.length(3);
  });

  it("reports a network failure as NETWORK_ERROR", async function () {
    const down = new DataClient({
      baseUrl: SETTINGS.uri,
      signer: consumer,
      fetch: (async () => {
        throw new Error("connect ECONNREFUSED");
      }) as typeof fetch,
    });
    try {
      await down.signIn();
      expect.fail("no error");
    } catch (e) {
      expect((e as DataApiError).code).to.equal("NETWORK_ERROR");
      expect((e as DataApiError).status).to.equal(0);
    }
  });
});
