/**
 * Data-use rewards end to end (issue 15 item 2, docs/rewards-spec.md §9), on the in-process Hardhat network: a
 * consumer pays for reads of two drivers' vehicles through the SDK, the node redeems (twice in the week), the
 * week is settled (burn, treasury, drivers' share funded into the distributor), `rewards:data-use` re-derives who
 * earns from the access log, `rewards:compute --data-use` pays it as credits `data-use:<w>` in the cumulative
 * root, `rewards:verify` re-checks it against the chain, and the drivers claim. The attacks: a data-use file
 * that moves the drivers' share, one that invents a settlement, a verify without the file, a week paid twice.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DataClient } from "../../lib/consent/sdk";
import { allocateDataUse, formatDataUseFile, parseDataUseFile } from "../../lib/rewards/data-use";
import { readDistribution } from "../../lib/rewards/distribution";
import { signBatch, type TelemetryBatch } from "../../lib/telemetry/format";
import { redeemHeld } from "../../node/redeem";
import type { TelemetryStore } from "../../node/store";
import { DEPLOYMENTS_DIR_ENV } from "../../scripts/registry-context";
import { STORE_TARGETS, type StoreLocation } from "../helpers/telemetry-db";
import { rejects } from "../helpers/rejects";
import { runQuietly as run } from "../helpers/tasks";
import { connect } from "../registry/fixtures";
import { consentFor, DIMO, grant, PERMISSIONS } from "../staking/fixtures";
import { postBatches, readDataFixture, readNodeOver } from "./read-fixture";

const PRICE = 10n ** 15n;

/** A pattern matching `text` anywhere, literally. */
const literally = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));

async function dataUseFixture() {
  const f = await readDataFixture();
  const credits = await ethers.getContractAt("DataCredits", f.record.contracts.DataCredits.address);
  const vault = await ethers.getContractAt("IssuanceVault", f.record.contracts.IssuanceVault.address);
  // Vehicle 1 (driver 1) is granted to consumer A too; its data comes after that grant.
  const r = await (await grant(f, 1, f.consumerA)).wait();
  const grantedAt = (await ethers.provider.getBlock(r!.blockNumber))!.timestamp;
  await time.increaseTo(grantedAt + 600);
  return { ...f, credits, vault, creditsAddress: await credits.getAddress(), operator: f.signers[16], grantedAt };
}

describe("data-use rewards end to end (sqlite store)", function () {
  this.timeout(300_000);
  let f: Awaited<ReturnType<typeof dataUseFixture>>;
  let store: TelemetryStore;
  let location: StoreLocation;
  let dir: string;
  const saved = process.env[DEPLOYMENTS_DIR_ENV];
  let week: number;
  let dataUseFile: string;
  let snapshot: string;
  let activity: string;

  before(async function () {
    f = await loadFixture(dataUseFixture);
    process.env[DEPLOYMENTS_DIR_ENV] = f.recordDir;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-data-use-"));
    ({ store, location } = await STORE_TARGETS[0].open());
    const clock = { now: await time.latest() };
    const node = await readNodeOver(f, store, clock, {}, { node: f.operator.address });
    try {
      await postBatches(node, f.software, f.batches);
      const v1: TelemetryBatch = {
        vehicleId: f.vehicleIds[1].toString(),
        deviceId: "0",
        integration: f.software.address,
        sequence: 1,
        startTime: f.grantedAt + 60,
        endTime: f.grantedAt + 120,
        signals: [
          { name: "odometer", timestamp: f.grantedAt + 60, values: [5_000] },
          { name: "odometer", timestamp: f.grantedAt + 120, values: [5_002] },
        ],
      };
      const res = await node.app.inject({
        method: "POST",
        url: "/v1/batches",
        payload: await signBatch(f.software, v1, node.chainId, node.registry),
      });
      expect(res.statusCode, res.body).to.equal(201);
      const baseUrl = await node.app.listen({ host: "127.0.0.1", port: 0 });
      await (await f.token.connect(f.consumerA).approve(f.creditsAddress, DIMO(1))).wait();
      await (await f.credits.connect(f.consumerA).deposit(f.consumerA.address, DIMO(1))).wait();
      await node.consent.poll();
      week = Number(await f.credits.currentWeek());
      const client = new DataClient({ baseUrl, signer: f.consumerA, now: () => clock.now });
      // Reads 1-2: driver 0's vehicle (2 + 1 credits); redeemed. Read 3: driver 1's vehicle (1 credit); redeemed.
      await client.latest(f.vehicleIds[0], ["odometer", "location"]);
      await client.latest(f.vehicleIds[0], ["odometer"]);
      await client.payReads();
      await redeemHeld({ store, dataCredits: f.creditsAddress, signer: f.operator });
      await client.latest(f.vehicleIds[1], ["odometer"]);
      await client.payReads();
      await redeemHeld({ store, dataCredits: f.creditsAddress, signer: f.operator });
      // Driver 0 sells vehicle 0 to a buyer, who grants consumer A and connects the integration again; read 4 is of
      // data recorded under the buyer's grant, and pays the buyer.
      const [seller, buyer] = [f.vehicleOwners[0], f.outsider];
      await (await f.vehicles.connect(seller).transferFrom(seller.address, buyer.address, f.vehicleIds[0])).wait();
      const expiresAt = BigInt((await time.latest()) + 30 * 86_400);
      const offer = await consentFor(f.access, f.consumerA, f.vehicleIds[0], buyer.address, PERMISSIONS, expiresAt);
      await (
        await f.access
          .connect(buyer)
          .grantWithConsent(
            f.vehicleIds[0],
            f.consumerA.address,
            PERMISSIONS,
            expiresAt,
            offer.nonce,
            offer.deadline,
            offer.signature,
          )
      ).wait();
      await connect(f.vehicles, f.vehicleIds[0], f.software, buyer);
      await time.increase(60);
      clock.now = await time.latest();
      await node.index.poll();
      await node.consent.poll();
      const t = clock.now - 10;
      const sold = { ...f.batches[0], sequence: 5, startTime: t, endTime: t };
      await postBatches(node, f.software, [{ ...sold, signals: [{ name: "odometer", timestamp: t, values: [300] }] }]);
      expect((await client.latest(f.vehicleIds[0], ["odometer"]))[0].values).to.deep.equal([300]);
      await client.payReads();
      await redeemHeld({ store, dataCredits: f.creditsAddress, signer: f.operator });
      expect((await store.accessLog()).map((e) => [e.vehicleId, e.resultSize, e.grant.owner])).to.deep.equal([
        [f.vehicleIds[0].toString(), 2, seller.address],
        [f.vehicleIds[0].toString(), 1, seller.address],
        [f.vehicleIds[1].toString(), 1, f.vehicleOwners[1].address],
        [f.vehicleIds[0].toString(), 1, buyer.address],
      ]);
    } finally {
      await node.consent.stop();
      await node.app.close();
    }
    expect(Number(await f.credits.currentWeek())).to.equal(week);
  });

  after(async function () {
    await store.close();
    if (saved === undefined) delete process.env[DEPLOYMENTS_DIR_ENV];
    else process.env[DEPLOYMENTS_DIR_ENV] = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses to write the data-use file of a week not settled", async function () {
    const log = path.join(dir, "early-log.jsonl");
    await run("data:access-log", { out: log, db: location.sqliteFile });
    await rejects(
      run("rewards:data-use", {
        week: String(week),
        logs: `${f.operator.address}=${log}`,
        out: path.join(dir, "x.json"),
      }),
      literally(`week ${week} is not settled on chain: once it has ended, anyone settles it`),
    );
    expect(fs.existsSync(path.join(dir, "x.json"))).to.equal(false);
  });

  it("settles, derives, pays through the root, verifies and is claimed", async function () {
    const supplyBefore = await f.token.totalSupply();
    const distributorBefore = await f.token.balanceOf(await f.distributor.getAddress());
    await time.increaseTo(Number(await f.vault.weekStart(week + 1)) + 60);
    type Status = { dataUse: { weeks: unknown[]; charged: bigint; unsettled: bigint } & Record<string, unknown> };
    const unsettledStatus = (await run("rewards:status", {})) as Status;
    expect(unsettledStatus.dataUse.weeks).to.deep.equal([]);
    expect(unsettledStatus.dataUse.charged).to.equal(0n);
    expect(unsettledStatus.dataUse.unsettled).to.equal(5n * PRICE); // redeemed, waiting for its settlement
    const settled = (await run("data:settle", { week: String(week) })) as Record<string, bigint>;
    expect(settled.charged).to.equal(5n * PRICE);
    // rewards:status shows the settled week's fees as the chain's WeekSettled has them.
    const after = (await run("rewards:status", {})) as Status;
    const shares = { burned: settled.burned, toTreasury: settled.toTreasury, toDrivers: settled.toDrivers };
    expect(after.dataUse).to.deep.equal({
      weeks: [{ week, charged: 5n * PRICE, ...shares }],
      charged: 5n * PRICE,
      ...shares,
      unsettled: 0n,
    });
    expect(settled.burned + settled.toTreasury + settled.toDrivers).to.equal(settled.charged);
    expect(await f.token.totalSupply()).to.equal(supplyBefore - settled.burned);
    expect(await f.token.balanceOf(await f.distributor.getAddress())).to.equal(distributorBefore + settled.toDrivers);

    const log = path.join(dir, "access-log.jsonl");
    await run("data:access-log", { out: log, db: location.sqliteFile });
    dataUseFile = path.join(dir, `data-use-week-${week}.json`);
    await run("rewards:data-use", { week: String(week), logs: `${f.operator.address}=${log}`, out: dataUseFile });
    const file = parseDataUseFile(fs.readFileSync(dataUseFile, "utf8"), "data-use");
    expect(file.receipts.map((r) => [r.previousSequence, r.sequence, r.credits])).to.deep.equal([
      [0, 2, 3n],
      [2, 3, 1n],
      [3, 4, 1n],
    ]);
    // Vehicle 0 was charged 3 credits under driver 0 (the seller) and 1 under its buyer, driver 1's vehicle 1: the
    // drivers' share splits 3:1:1 (largest remainder), the owner at the time of each read paid.
    const expected = allocateDataUse(
      settled.toDrivers,
      new Map([
        [f.vehicleOwners[0].address, 3n * PRICE],
        [f.vehicleOwners[1].address, PRICE],
        [f.outsider.address, PRICE],
      ]),
    );
    expect(expected.map((a) => a.account).sort()).to.deep.equal(
      [f.vehicleOwners[0].address, f.vehicleOwners[1].address, f.outsider.address].sort(),
    );
    expect(file.allocations).to.deep.equal(expected);
    expect(expected.reduce((s, a) => s + a.amountWei, 0n)).to.equal(settled.toDrivers);

    // The week's distribution pays them as credits "data-use:<w>" in the cumulative root.
    snapshot = path.join(dir, "vehicles.csv");
    await run("registry:snapshot", { out: snapshot });
    activity = path.join(dir, "activity.csv");
    fs.writeFileSync(
      activity,
      `vehicle_id,active,km_driven,data_types,referral_code\n${f.vehicleIds[0]},true,10,location;odometer,\n`,
    );
    const out = path.join(dir, "dist", `week-${week}.json`);
    await run("rewards:compute", { week: String(week), activity, snapshot, dataUse: dataUseFile, out });
    const d = readDistribution(out);
    for (const a of expected) {
      const entry = d.accounts.find((x) => x.account === a.account)!;
      expect(entry.credits).to.deep.equal([{ amountWei: a.amountWei, reason: `data-use:${week}` }]);
    }
    expect(d.inputs[`dataUse:${week}`].file).to.equal(path.basename(dataUseFile));
    expect(await run("rewards:verify", { file: out, activity, snapshot, dataUse: dataUseFile })).to.equal(true);

    // Claimed: driver 1 receives exactly its data-use share.
    await run("rewards:publish", { week: String(week), file: out, yes: true });
    await time.increase(8 * 86_400);
    await run("rewards:activate", {});
    const driver = f.vehicleOwners[1];
    const before = await f.token.balanceOf(driver.address);
    const share = expected.find((a) => a.account === driver.address)!.amountWei;
    const entry = d.accounts.find((x) => x.account === driver.address)!;
    await run("rewards:claim", { file: out, account: driver.address });
    expect(entry.cumulativeWei).to.be.greaterThanOrEqual(share);
    expect((await f.token.balanceOf(driver.address)) - before).to.equal(entry.cumulativeWei);
  });

  describe("attacks", function () {
    let out: string;
    before(function () {
      out = path.join(dir, "dist", `week-${week}.json`);
    });

    it("a data-use file that moves the drivers' share to another account is refused when read", async function () {
      const text = fs.readFileSync(dataUseFile, "utf8");
      const forged = path.join(dir, "forged-owner.json");
      // The oracle edits a disclosed entry's grant owner to its own account and recomputes the allocations.
      const j = JSON.parse(text);
      j.disclosures[0].entries[2].grant.owner = f.guardian.address;
      fs.writeFileSync(forged, JSON.stringify(j));
      await rejects(
        run("rewards:compute", {
          week: String(week),
          activity,
          snapshot,
          dataUse: forged,
          out: path.join(dir, "f", `week-${week}.json`),
        }),
        literally("forged-owner.json disclosures[0]: LOG_TAMPERED: entry 2 does not match the chain"),
      );
      expect(fs.existsSync(path.join(dir, "f"))).to.equal(false);
    });

    it("a self-consistent data-use file with a settlement the chain does not have is refused", async function () {
      const file = parseDataUseFile(fs.readFileSync(dataUseFile, "utf8"), "data-use");
      // More to the drivers, less burned: the file holds together but is not the chain's WeekSettled.
      file.settlement.toDrivers += file.settlement.burned;
      file.settlement.burned = 0n;
      const { allocateDataUse: alloc } = await import("../../lib/rewards/data-use");
      file.allocations = alloc(
        file.settlement.toDrivers,
        new Map(file.allocations.map((a) => [a.account, a.chargedWei])),
      );
      const forged = path.join(dir, "forged-settlement.json");
      fs.writeFileSync(forged, formatDataUseFile(file));
      await rejects(
        run("rewards:compute", {
          week: String(week),
          activity,
          snapshot,
          dataUse: forged,
          out: path.join(dir, "g", `week-${week}.json`),
        }),
        literally(`--data-use: not what the chain says: data-use week ${week} settlement.burned: expected`),
      );
      expect(fs.existsSync(path.join(dir, "g"))).to.equal(false);
    });

    it("rewards:verify without the data-use file reports the credits as unbacked", async function () {
      const lines: string[] = [];
      const log = console.log;
      console.log = (...parts: unknown[]) => lines.push(parts.join(" "));
      let message = "";
      try {
        await hre.run("rewards:verify", { file: out, activity, snapshot });
      } catch (e) {
        message = (e as Error).message;
      } finally {
        console.log = log;
      }
      expect(message).to.include("difference(s) from what the inputs and the chain give");
      for (const a of parseDataUseFile(fs.readFileSync(dataUseFile, "utf8"), "data-use").allocations) {
        expect(lines.join("\n")).to.include(
          `${a.account} credits[data-use:${week}]: expected (absent), found ${a.amountWei} (no data-use file for settlement week ${week} was given`,
        );
      }
    });

    it("a later week cannot pay the same settlement week again", async function () {
      const next = path.join(dir, "dist", `week-${week + 1}.json`);
      await rejects(
        run("rewards:compute", {
          week: String(week + 1),
          activity,
          snapshot,
          previous: out,
          dataUse: dataUseFile,
          out: next,
        }),
        literally(`"data-use:${week}" was already paid in week ${week}`),
      );
    });

    it("a week cannot be settled twice", async function () {
      await rejects(run("data:settle", { week: String(week) }), literally(`week ${week} is already settled`));
    });
  });
});
