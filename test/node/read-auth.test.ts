import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { verifyLog, type AccessRead } from "../../lib/consent/access-log";
import { SIWE_DEFAULTS } from "../../lib/consent/siwe";
import type { TelemetryStore } from "../../node/store";
import { STORE_TARGETS } from "../helpers/telemetry-db";
import { stakingFixture, type StakingContext } from "../staking/fixtures";
import { readNodeOver } from "./read-fixture";

for (const target of STORE_TARGETS) {
  describe(`node read side: sign-in and the access log (${target.kind} store)`, function () {
    let f: StakingContext;
    let store: TelemetryStore;
    let node: Awaited<ReturnType<typeof readNodeOver>>;
    const clock = { now: 0 };

    beforeEach(async function () {
      f = await loadFixture(stakingFixture);
      ({ store } = await target.open());
      clock.now = await time.latest();
      node = await readNodeOver(f, store, clock);
    });
    afterEach(async function () {
      await node.app.close();
      await store.close();
    });

    function read(
      vehicleIndex: number,
      seq: number,
      epoch = 0,
      owner = f.vehicleOwners[vehicleIndex].address,
    ): AccessRead {
      return {
        at: clock.now + seq,
        consumer: f.consumerA.address,
        vehicleId: f.vehicleIds[vehicleIndex].toString(),
        signals: ["odometer"],
        from: clock.now - 3600,
        to: clock.now,
        resultSize: seq + 1,
        grant: {
          owner,
          epoch,
          permissions: "7",
          expiresAt: clock.now + 86_400,
          grantedAt: clock.now - 7200,
        },
      };
    }
    const ownerLog = (vehicleIndex: number, token?: string, query = "") =>
      node.app.inject({
        method: "GET",
        url: `/v1/vehicles/${f.vehicleIds[vehicleIndex]}/access-log${query}`,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });

    it("issues a nonce naming the node's domain, URI and chain, usable for 300 s", async function () {
      const res = await node.app.inject({ method: "POST", url: "/v1/auth/nonce" });
      expect(res.statusCode).to.equal(200);
      const n = res.json();
      expect(n.nonce).to.match(/^[A-Za-z0-9]{8,}$/);
      expect(n).to.deep.equal({
        nonce: n.nonce,
        expiresAt: clock.now + SIWE_DEFAULTS.nonceTtlSeconds,
        issuedAt: clock.now,
        domain: "data.dimo.test",
        uri: "https://data.dimo.test",
        chainId: node.chainId,
      });
    });

    it("signs an EOA in: a Bearer token for the consumer, valid 900 s", async function () {
      const { res } = await node.signIn(f.consumerA);
      expect(res.statusCode, res.body).to.equal(200);
      const body = res.json();
      expect(body.tokenType).to.equal("Bearer");
      expect(body.consumer).to.equal(f.consumerA.address);
      expect(body.expiresAt).to.equal(clock.now + SIWE_DEFAULTS.tokenTtlSeconds);
      expect(body.token).to.match(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    });

    it("signs a contract wallet in through ERC-1271 on the node's chain", async function () {
      const wallet = await (await ethers.getContractFactory("ERC1271WalletDouble")).deploy(f.outsider.address);
      const address = await wallet.getAddress();
      const { res } = await node.signIn(f.outsider, address);
      expect(res.statusCode, res.body).to.equal(200);
      expect(res.json().consumer).to.equal(address);
    });

    it("refuses a replayed sign-in (SIWE_REPLAYED), a forged one (SIWE_BAD_SIGNATURE) and a malformed body", async function () {
      const { message, signature, res } = await node.signIn(f.consumerA);
      expect(res.statusCode).to.equal(200);
      const again = await node.app.inject({ method: "POST", url: "/v1/auth/siwe", payload: { message, signature } });
      expect(again.statusCode).to.equal(401);
      expect(again.json()).to.deep.include({ code: "SIWE_REPLAYED", field: "message" });
      const n = (await node.app.inject({ method: "POST", url: "/v1/auth/nonce" })).json();
      const forgedMsg = message.replace(/Nonce: \w+/, `Nonce: ${n.nonce}`);
      const forged = await node.app.inject({
        method: "POST",
        url: "/v1/auth/siwe",
        payload: { message: forgedMsg, signature: await f.consumerB.signMessage(forgedMsg) },
      });
      expect(forged.statusCode).to.equal(401);
      expect(forged.json()).to.deep.include({ code: "SIWE_BAD_SIGNATURE", field: "signature" });
      const bad = await node.app.inject({ method: "POST", url: "/v1/auth/siwe", payload: { message: 7 } });
      expect(bad.statusCode).to.equal(400);
      expect(bad.json()).to.deep.include({ code: "SIWE_MALFORMED", field: "message" });
    });

    it("refuses a sign-in for another domain (SIWE_WRONG_DOMAIN) and one that expired (SIWE_EXPIRED)", async function () {
      const fresh = async () => {
        const n = (await node.app.inject({ method: "POST", url: "/v1/auth/nonce" })).json();
        return (await node.signIn(f.consumerA)).message.replace(/Nonce: \w+/, `Nonce: ${n.nonce}`);
      };
      const message = (await fresh()).replace("data.dimo.test wants", "evil.test wants");
      const wrong = await node.app.inject({
        method: "POST",
        url: "/v1/auth/siwe",
        payload: { message, signature: await f.consumerA.signMessage(message) },
      });
      expect(wrong.statusCode).to.equal(401);
      expect(wrong.json().code).to.equal("SIWE_WRONG_DOMAIN");
      const late = await fresh();
      clock.now += 300; // exactly at the message's expiry
      const expired = await node.app.inject({
        method: "POST",
        url: "/v1/auth/siwe",
        payload: { message: late, signature: await f.consumerA.signMessage(late) },
      });
      expect(expired.statusCode).to.equal(401);
      expect(expired.json().code).to.equal("SIWE_EXPIRED");
    });

    it("GET /v1/access-log/head: (0, 0x00…) when empty, then the count and hash of the last entry", async function () {
      const empty = await node.app.inject({ method: "GET", url: "/v1/access-log/head" });
      expect(empty.json()).to.deep.equal({ count: 0, hash: ethers.ZeroHash });
      const e0 = await store.appendAccess(read(0, 0));
      const e1 = await store.appendAccess(read(1, 1));
      expect([e0.seq, e1.seq]).to.deep.equal([0, 1]);
      expect(e1.prevHash).to.equal(e0.hash);
      const head = await node.app.inject({ method: "GET", url: "/v1/access-log/head" });
      expect(head.json()).to.deep.equal({ count: 2, hash: e1.hash });
      expect(verifyLog(await store.accessLog(), head.json())).to.deep.equal({ count: 2, hash: e1.hash });
    });

    it("appends concurrent reads as one unbroken chain", async function () {
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.appendAccess(read(i % 3, i))));
      const entries = await store.accessLog();
      expect(entries.map((e) => e.seq)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i));
      expect(verifyLog(entries).count).to.equal(20);
    });

    it("shows a vehicle's access log to its current owner only, paged", async function () {
      const e0 = await store.appendAccess(read(0, 0));
      await store.appendAccess(read(1, 1));
      const e2 = await store.appendAccess(read(0, 2));
      const owner = await node.tokenOf(f.vehicleOwners[0]);
      const res = await ownerLog(0, owner);
      expect(res.statusCode, res.body).to.equal(200);
      expect(res.json()).to.deep.equal({
        vehicleId: f.vehicleIds[0].toString(),
        owner: f.vehicleOwners[0].address,
        epoch: 0,
        head: { count: 3, hash: e2.hash },
        entries: [e0, e2],
        nextAfter: null,
      });
      const page1 = (await ownerLog(0, owner, "?limit=1")).json();
      expect(page1.entries).to.deep.equal([e0]);
      expect(page1.nextAfter).to.equal(0);
      const page2 = (await ownerLog(0, owner, `?limit=1&after=${page1.nextAfter}`)).json();
      expect(page2.entries).to.deep.equal([e2]);
      expect(page2.nextAfter).to.equal(null);

      const other = await ownerLog(0, await node.tokenOf(f.vehicleOwners[1]));
      expect(other.statusCode).to.equal(403);
      expect(other.json().code).to.equal("NOT_VEHICLE_OWNER");
      const consumer = await ownerLog(0, await node.tokenOf(f.consumerA));
      expect(consumer.statusCode).to.equal(403);
      expect(consumer.json().code).to.equal("NOT_VEHICLE_OWNER");
    });

    it("refuses the owner route without a token, with an expired or a bad one, and bad parameters", async function () {
      const owner = await node.tokenOf(f.vehicleOwners[0]);
      const none = await ownerLog(0);
      expect(none.statusCode).to.equal(401);
      expect(none.json().code).to.equal("TOKEN_MISSING");
      const bad = await ownerLog(0, `${owner}x`);
      expect(bad.statusCode).to.equal(401);
      expect(bad.json().code).to.equal("TOKEN_INVALID");
      const limit = await ownerLog(0, owner, "?limit=0");
      expect(limit.statusCode).to.equal(400);
      expect(limit.json()).to.deep.include({ code: "INVALID_PARAMETER", field: "limit" });
      const id = await node.app.inject({
        method: "GET",
        url: "/v1/vehicles/07/access-log",
        headers: { authorization: `Bearer ${owner}` },
      });
      expect(id.json()).to.deep.include({ code: "INVALID_PARAMETER", field: "id" });
      clock.now += SIWE_DEFAULTS.tokenTtlSeconds - 1;
      expect((await ownerLog(0, owner)).statusCode).to.equal(200);
      clock.now += 1; // exactly at exp
      const expired = await ownerLog(0, owner);
      expect(expired.statusCode).to.equal(401);
      expect(expired.json().code).to.equal("TOKEN_EXPIRED");
    });

    it("after a sale the seller no longer sees the log, and the buyer sees only the reads of its own epoch", async function () {
      await store.appendAccess(read(0, 0));
      const seller = f.vehicleOwners[0];
      const buyer = f.outsider;
      const sellerToken = await node.tokenOf(seller);
      expect((await ownerLog(0, sellerToken)).statusCode).to.equal(200);
      await (await f.vehicles.connect(seller).transferFrom(seller.address, buyer.address, f.vehicleIds[0])).wait();
      await node.consent.poll();
      const refused = await ownerLog(0, sellerToken);
      expect(refused.statusCode).to.equal(403);
      expect(refused.json().code).to.equal("NOT_VEHICLE_OWNER");
      const buyerToken = await node.tokenOf(buyer);
      const before = await ownerLog(0, buyerToken);
      expect(before.statusCode).to.equal(200);
      expect(before.json().entries).to.deep.equal([]);
      const epoch = node.consent.state.vehicles.get(f.vehicleIds[0].toString())!.epoch;
      expect(epoch).to.be.greaterThan(0);
      const e1 = await store.appendAccess(read(0, 1, epoch, buyer.address));
      const mine = (await ownerLog(0, buyerToken)).json();
      expect(mine.epoch).to.equal(epoch);
      expect(mine.entries).to.deep.equal([e1]);
    });
  });
}
