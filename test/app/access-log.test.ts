/// <reference lib="dom" />
/**
 * The claim page's "Who read this vehicle's data" panels in headless Chromium, keyboard only, on a phone viewport,
 * against the Hardhat network loaded with a small demo run and a data node (scripts/demo-node.ts) on the demo's
 * store, so the log holds the demo consumer's reads. A second consumer with a fresh grant reads a vehicle through
 * the SDK (lib/consent/sdk.ts); the vehicle's owner then signs in from the page (SIWE, the wallet's
 * `personal_sign`) and the page must show exactly the node's log of that vehicle (`GET /v1/vehicles/:id/access-log`
 * as the owner, through the SDK). Also: a refused signature shows why and no log; a vehicle without reads shows
 * its empty state. The page is served by `vite preview` with `node/` forwarded to the node (one origin), and the
 * node expects sign-ins for the preview's host. Screenshots land in test-artifacts/claim-page/.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { runDemo } from "../../scripts/demo";
import { consentNodeContracts, startDemoNode, type DemoNode } from "../../scripts/demo-node";
import { buildApp, freePort, previewApp, type Served } from "../../scripts/app-server";
import { permissionsOf } from "../../app/src/sharing";
import { shortAddress } from "../../app/src/format";
import { signInMessage, SIGN_IN_STATEMENT } from "../../app/src/access-log";
import { buildSignInMessage } from "../../lib/consent/siwe";
import { DataClient } from "../../lib/consent/sdk";
import type { AccessLogEntry } from "../../lib/consent/access-log";
import { TestWallet } from "./wallet";
import { ARTIFACTS, launchChromium, openPage, PHONE, tabTo } from "./browser";

const DAY = 86400;

/** A read as the page shows it (from its data attributes) and as the node logs it. */
interface ShownRead {
  seq: number;
  consumer: string;
  signals: string;
  from: number;
  to: number;
  at: number;
  resultSize: number;
}

const shown = (e: AccessLogEntry): ShownRead => ({
  seq: e.seq,
  consumer: e.consumer,
  signals: e.signals.join(", "),
  from: e.from,
  to: e.to,
  at: e.at,
  resultSize: e.resultSize,
});

describe("claim page: access log in headless Chromium", function () {
  this.timeout(240_000);
  let snapshotId: string;
  let browser: Browser;
  let served: Served;
  let node: DemoNode;
  let work: string;
  let demoDir: string | undefined;
  let record: { chainId: number; contracts: Record<string, { address: string; blockNumber: number }> };
  /** The node's clock (the chain's: the demo moved it weeks past the wall clock), for the SDK's sign-in messages. */
  let chainNow = 0;

  const access = () => ethers.getContractAt("DataAccess", record.contracts.DataAccess.address);
  const staking = () => ethers.getContractAt("ConsumerStaking", record.contracts.ConsumerStaking.address);
  const registry = () => ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);

  before(async function () {
    if ((hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING) this.skip();
    browser = await launchChromium(); // first: a machine without Chromium fails before the demo runs
    snapshotId = await ethers.provider.send("evm_snapshot", []);
    const demo = await runDemo(hre, {
      ...{ vehicles: 40, owners: 12, weeks: 3, seed: 5, verbose: false, pendingWeek: true },
      keepDir: true,
    });
    demoDir = demo.dir;
    expect(demo.ok, demo.mismatches.join("\n")).to.equal(true);
    expect(demo.reads?.served, "the demo's consumer reads through the node").to.be.greaterThan(0);
    record = JSON.parse(fs.readFileSync(path.join(demo.dir, `${hre.network.name}.json`), "utf8"));
    // The page's port first: the node must expect sign-ins for the page's host (the SIWE domain a wallet checks).
    const port = await freePort();
    node = await startDemoNode({
      provider: ethers.provider,
      chainId: record.chainId,
      ...consentNodeContracts(record.contracts),
      // The demo's store: its telemetry and the access log of its consumer's reads.
      sqliteFile: path.join(demo.dir, "telemetry.sqlite"),
      siwe: { domain: `127.0.0.1:${port}`, uri: `http://127.0.0.1:${port}` },
    });
    await sync();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-access-log-test-"));
    const data = {
      network: hre.network.name,
      deploymentsDir: demo.dir,
      distributionsDir: demo.distributionsDir,
      outDir: path.join(work, "out"),
      refreshSeconds: 3600,
      node: node.url,
    };
    buildApp(data);
    served = await previewApp(data, port);
  });

  after(async function () {
    await browser?.close();
    await served?.stop();
    await node?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (demoDir) fs.rmSync(demoDir, { recursive: true, force: true });
    if (snapshotId) await ethers.provider.send("evm_revert", [snapshotId]);
  });

  const contexts: BrowserContext[] = [];
  afterEach(async function () {
    while (contexts.length) await contexts.pop()!.close();
  });

  /** The node catches up with the chain (registry, consent, clock). */
  async function sync(): Promise<void> {
    await node.sync();
    chainNow = (await ethers.provider.getBlock("latest"))!.timestamp;
  }

  /** A connected wallet of the vehicle owner `address` that signs the sign-in message. */
  function ownerWallet(address: string): TestWallet {
    const wallet = new TestWallet(hre.network.provider, address);
    wallet.connected = true;
    wallet.signsMessages = true;
    return wallet;
  }

  const open = (wallet: TestWallet): Promise<Page> =>
    openPage(browser, contexts, { wallet, url: served.url, ready: "#access-logs", viewport: PHONE });

  const panelOf = (vehicle: string) => `.access-log[data-vehicle="${vehicle}"]`;

  /** Tabs to the vehicle's panel button, presses Enter, waits for the panel's outcome: its state and text. */
  async function showLog(page: Page, vehicle: string): Promise<{ state: string; text: string }> {
    await tabTo(page, `${panelOf(vehicle)} button[data-action="access-log"]`, 120);
    await page.keyboard.press("Enter");
    const done = ["loaded", "empty", "failed", "rejected"].map(
      (s) => `${panelOf(vehicle)} .access-log-message[data-state="${s}"]`,
    );
    await page.waitForSelector(done.join(", "));
    return page.$eval(`${panelOf(vehicle)} .access-log-message`, (m) => ({
      state: (m as HTMLElement).dataset.state!,
      text: m.textContent!,
    }));
  }

  /** The reads the panel shows, in its order (newest first). */
  async function pageLog(page: Page, vehicle: string): Promise<ShownRead[]> {
    return page.$$eval(`${panelOf(vehicle)} tbody tr`, (trs) =>
      trs.map((tr) => {
        const cell = (f: string) => tr.querySelector<HTMLElement>(`[data-field="${f}"]`)!;
        return {
          seq: Number((tr as HTMLElement).dataset.seq),
          consumer: (tr as HTMLElement).dataset.consumer!,
          signals: cell("signals").textContent!,
          from: Number(cell("range").dataset.from),
          to: Number(cell("range").dataset.to),
          at: Number(cell("at").dataset.at),
          resultSize: Number(cell("size").textContent),
        };
      }),
    );
  }

  /** The vehicle's whole log as the node serves it to `owner` (signed in through the SDK). */
  async function nodeLog(owner: HardhatEthersSigner, vehicle: string): Promise<AccessLogEntry[]> {
    const client = new DataClient({ baseUrl: node.url, signer: owner, now: () => chainNow });
    const entries: AccessLogEntry[] = [];
    let after: number | undefined;
    for (;;) {
      const p = await client.accessLog(vehicle, { after, limit: 1000 });
      expect(p.owner).to.equal(owner.address);
      entries.push(...p.entries);
      if (p.nextAfter === null) return entries;
      after = p.nextAfter;
    }
  }

  /** The vehicles `owner` owns now (every id transferred to it that it still holds), ascending. */
  async function vehiclesOf(owner: string): Promise<string[]> {
    const r = await registry();
    const ids = new Set((await r.queryFilter(r.filters.Transfer(undefined, owner))).map((e) => e.args.id));
    const out: bigint[] = [];
    for (const id of ids) if ((await r.ownerOf(id)) === owner) out.push(id);
    return out.sort((a, b) => (a < b ? -1 : 1)).map(String);
  }

  /** A local driver and one of its vehicles the demo's consumer holds a live grant on (so the demo read it). */
  async function driverWithGrant(): Promise<{ driver: HardhatEthersSigner; vehicle: string }> {
    const signers = await ethers.getSigners();
    const a = await access();
    const r = await registry();
    for (const e of await a.queryFilter(a.filters.AccessGranted())) {
      if ((await a.grantOf(e.args.vehicleId, e.args.consumer)).permissions === 0n) continue;
      const owner = await r.ownerOf(e.args.vehicleId);
      const driver = signers.slice(10, 20).find((s) => s.address === owner);
      if (driver) return { driver, vehicle: e.args.vehicleId.toString() };
    }
    throw new Error("the demo left no live grant on a local driver's vehicle");
  }

  /** Local account 7 as a second consumer: staked for one more vehicle, granted `vehicle` by `driver`. */
  async function grantFreshConsumer(driver: HardhatEthersSigner, vehicle: string): Promise<HardhatEthersSigner> {
    const signers = await ethers.getSigners();
    const [demoConsumer, fresh] = [signers[8], signers[7]];
    const s = await staking();
    const token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
    const need = (await s.requiredStake(2n)) - (await s.position(fresh.address)).staked;
    if (need > 0n) {
      await (await token.connect(demoConsumer).transfer(fresh.address, need)).wait();
      await (await token.connect(fresh).approve(await s.getAddress(), need)).wait();
      await (await s.connect(fresh).stake(need)).wait();
    }
    const a = await access();
    await (await a.connect(fresh).setOwnerAcceptance(driver.address, true)).wait();
    const now = (await ethers.provider.getBlock("latest"))!.timestamp;
    await (
      await a.connect(driver).grant(vehicle, fresh.address, permissionsOf(["location", "odometer"]), now + 30 * DAY)
    ).wait();
    return fresh;
  }

  it("the page's sign-in message is the node's EIP-4361 text", function () {
    const p = {
      domain: "127.0.0.1:5173",
      uri: "http://127.0.0.1:5173",
      chainId: 31337,
      address: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      nonce: "k3Jb9qLw2XcT5mNp",
      issuedAt: 1_800_000_000,
      expiresAt: 1_800_000_300,
    };
    expect(signInMessage(p)).to.equal(buildSignInMessage({ ...p, statement: SIGN_IN_STATEMENT }));
  });

  it("keyboard only: the owner signs in and sees exactly the node's log of the vehicle, a consumer's SDK reads included", async function () {
    const { driver, vehicle } = await driverWithGrant();
    const consumer = await grantFreshConsumer(driver, vehicle);
    await sync();
    // The consumer reads the vehicle through the SDK: the latest values, then a day-by-day history page.
    const reader = new DataClient({ baseUrl: node.url, signer: consumer, now: () => chainNow });
    await reader.latest(vehicle, ["location", "odometer"]);
    await reader.history(vehicle, { names: ["location"], from: chainNow - 7 * DAY, interval: DAY, agg: "last" });

    const expected = await nodeLog(driver, vehicle);
    const mine = expected.filter((e) => e.consumer === consumer.address);
    expect(mine.map((e) => e.signals.join(","))).to.deep.equal(["location,odometer", "location"]);
    expect(
      expected.some((e) => e.consumer !== consumer.address),
      "the demo's consumer read this vehicle too",
    ).to.equal(true);

    const wallet = ownerWallet(driver.address);
    const page = await open(wallet);
    const outcome = await showLog(page, vehicle);
    expect(outcome, outcome.text).to.deep.equal({
      state: "loaded",
      text: `${expected.length} ${expected.length === 1 ? "read" : "reads"}, newest first.`,
    });
    expect(wallet.calls.filter((m) => m === "personal_sign")).to.have.length(1);
    const rows = await pageLog(page, vehicle);
    expect(rows).to.deep.equal(expected.map(shown).reverse());
    // Each row names the consumer (short, the whole address on hover) and the data types by name.
    for (const [i, e] of [...expected].reverse().entries()) {
      const row = `${panelOf(vehicle)} tbody tr:nth-child(${i + 1})`;
      expect(await page.textContent(`${row} [data-field="consumer"]`)).to.equal(shortAddress(e.consumer));
      expect(await page.getAttribute(`${row} [data-field="consumer"]`, "title")).to.equal(e.consumer);
      expect(await page.textContent(`${row} [data-field="signals"]`)).to.equal(e.signals.join(", "));
    }
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).to.be.at.most(0);
    await page.locator(panelOf(vehicle)).scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, "access-log.png"), fullPage: true });
    await page.locator(panelOf(vehicle)).screenshot({ path: path.join(ARTIFACTS, "access-log-panel-390x844.png") });

    // Another of the driver's vehicles, never read: its empty state, with the same sign-in (no second signature).
    const unread: string[] = [];
    for (const v of await vehiclesOf(driver.address)) if ((await nodeLog(driver, v)).length === 0) unread.push(v);
    if (unread.length > 0) {
      const empty = await showLog(page, unread[0]);
      expect(empty).to.deep.equal({ state: "empty", text: "No one has read this vehicle's data since you own it." });
      expect(await page.$$(`${panelOf(unread[0])} tbody tr`)).to.have.length(0);
      expect(await page.isHidden(`${panelOf(unread[0])} table`)).to.equal(true);
      expect(wallet.calls.filter((m) => m === "personal_sign")).to.have.length(1);
    }
  });

  it("a vehicle no one read shows the empty state", async function () {
    const signers = await ethers.getSigners();
    for (const driver of signers.slice(10, 20)) {
      const vehicles = await vehiclesOf(driver.address);
      let vehicle: string | undefined;
      for (const v of vehicles) if ((await nodeLog(driver, v)).length === 0) vehicle = vehicle ?? v;
      if (vehicle === undefined) continue;
      const wallet = ownerWallet(driver.address);
      const page = await open(wallet);
      expect(await showLog(page, vehicle)).to.deep.equal({
        state: "empty",
        text: "No one has read this vehicle's data since you own it.",
      });
      expect(await page.$$(`${panelOf(vehicle)} tbody tr`)).to.have.length(0);
      expect(await page.isHidden(`${panelOf(vehicle)} table`)).to.equal(true);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).to.be.at.most(0);
      await page.screenshot({ path: path.join(ARTIFACTS, "access-log-empty.png"), fullPage: true });
      return;
    }
    throw new Error("every local driver's vehicles were all read: no vehicle for the empty state");
  });

  it("a refused signature (4001) says why and shows no log; signing next time shows it", async function () {
    const { driver, vehicle } = await driverWithGrant();
    const expected = await nodeLog(driver, vehicle);
    expect(expected.length).to.be.greaterThan(0);
    const wallet = ownerWallet(driver.address);
    wallet.rejectNext = true;
    const page = await open(wallet);
    expect(await showLog(page, vehicle)).to.deep.equal({
      state: "rejected",
      text: "You declined to sign in, so the access log is not shown: only the vehicle's owner sees it, after signing in.",
    });
    expect(await page.$$(`${panelOf(vehicle)} tbody tr`)).to.have.length(0);
    expect(await page.isHidden(`${panelOf(vehicle)} table`)).to.equal(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).to.be.at.most(0);
    await page.screenshot({ path: path.join(ARTIFACTS, "access-log-refused.png"), fullPage: true });

    // The focus stays on the button: Enter again, the wallet signs, the log is shown.
    await page.keyboard.press("Enter");
    await page.waitForSelector(`${panelOf(vehicle)} .access-log-message[data-state="loaded"]`);
    expect(await pageLog(page, vehicle)).to.deep.equal(expected.map(shown).reverse());
  });

  it("a wallet that cannot sign messages says so in the panel", async function () {
    const { driver, vehicle } = await driverWithGrant();
    const wallet = new TestWallet(hre.network.provider, driver.address);
    wallet.connected = true; // signsMessages stays off: the wallet answers personal_sign with 4200
    const page = await open(wallet);
    const outcome = await showLog(page, vehicle);
    expect(outcome.state).to.equal("failed");
    expect(outcome.text).to.match(/^Your wallet could not sign the sign-in message\. .*personal_sign is not supported/);
    expect(await page.$$(`${panelOf(vehicle)} tbody tr`)).to.have.length(0);
  });
});
