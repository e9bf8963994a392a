/// <reference lib="dom" />
/**
 * The claim page's "Data sharing" view in headless Chromium against the Hardhat network loaded with a small demo
 * run (its consumer, local account 8, stakes and holds grants on five drivers' vehicles). The grants shown are
 * compared with the chain (AccessGranted events, `grantOf`, `position`, `isCovered`); grant, extend and revoke
 * are sent from the page and checked with view calls; a refused grant leaves the chain and the list unchanged.
 * Screenshots land in test-artifacts/claim-page/.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { runDemo } from "../../scripts/demo";
import { buildApp, previewApp, type Served } from "../../scripts/app-server";
import { dataTypeNames } from "../../app/src/sharing";
import { readableAmount } from "../../app/src/format";
import { TestWallet } from "./wallet";
import { ARTIFACTS, DESKTOP, launchChromium, openPage, PHONE, tabTo } from "./browser";

const DAY = 86400;

interface ChainGrant {
  vehicle: string;
  consumer: string;
  types: string;
  expiresAt: number;
  stakeWei: string;
}

describe("claim page: data sharing view in headless Chromium", function () {
  this.timeout(180_000);
  let snapshotId: string;
  let browser: Browser;
  let served: Served;
  let work: string;
  let demoDir: string | undefined;
  let record: { contracts: Record<string, { address: string; blockNumber: number }> };

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
    record = JSON.parse(fs.readFileSync(path.join(demo.dir, `${hre.network.name}.json`), "utf8"));
    work = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-sharing-test-"));
    const data = {
      network: hre.network.name,
      deploymentsDir: demo.dir,
      distributionsDir: demo.distributionsDir,
      outDir: path.join(work, "out"),
      refreshSeconds: 3600,
    };
    buildApp(data);
    served = await previewApp(data);
  });

  after(async function () {
    await browser?.close();
    await served?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (demoDir) fs.rmSync(demoDir, { recursive: true, force: true });
    if (snapshotId) await ethers.provider.send("evm_revert", [snapshotId]);
  });

  const contexts: BrowserContext[] = [];
  afterEach(async function () {
    while (contexts.length) await contexts.pop()!.close();
  });

  const open = (wallet: TestWallet, viewport = DESKTOP): Promise<Page> =>
    openPage(browser, contexts, { wallet, url: served.url, ready: "#sharing-section", viewport });

  /** The live grants on `owner`'s vehicles, read from the chain the way a third party would. */
  async function chainGrants(owner: string): Promise<ChainGrant[]> {
    const a = await access();
    const s = await staking();
    const r = await registry();
    const seen = new Set<string>();
    const out: ChainGrant[] = [];
    for (const e of await a.queryFilter(a.filters.AccessGranted())) {
      const key = `${e.args.vehicleId}:${e.args.consumer}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if ((await r.ownerOf(e.args.vehicleId)).toLowerCase() !== owner.toLowerCase()) continue;
      const g = await a.grantOf(e.args.vehicleId, e.args.consumer);
      if (g.permissions === 0n) continue;
      const p = await s.position(e.args.consumer);
      out.push({
        vehicle: e.args.vehicleId.toString(),
        consumer: e.args.consumer,
        types: dataTypeNames(g.permissions).join(", "),
        expiresAt: Number(g.expiresAt),
        stakeWei: p.staked.toString(),
      });
    }
    return out.sort((x, y) =>
      x.vehicle === y.vehicle
        ? x.consumer.toLowerCase().localeCompare(y.consumer.toLowerCase())
        : BigInt(x.vehicle) < BigInt(y.vehicle)
          ? -1
          : 1,
    );
  }

  async function pageGrants(page: Page): Promise<ChainGrant[]> {
    return page.$$eval("#grants-body tr", (trs) =>
      trs.map((tr) => {
        const cell = (f: string) => tr.querySelector<HTMLElement>(`[data-field="${f}"]`)!;
        return {
          vehicle: tr.dataset.vehicle!,
          consumer: tr.dataset.consumer!,
          types: cell("types").textContent!,
          expiresAt: Number(cell("expires").dataset.expiresAt),
          stakeWei: cell("stake").dataset.stakeWei!,
        };
      }),
    );
  }

  /** A local driver account holding at least one of the demo consumer's live grants. */
  async function driverWithGrant(): Promise<string> {
    const signers = await ethers.getSigners();
    for (const s of signers.slice(10, 20)) if ((await chainGrants(s.address)).length > 0) return s.address;
    throw new Error("the demo left no live grant on a local driver's vehicle");
  }

  it("lists exactly the grants on the chain, with data types by name, expiry and the consumer's stake", async function () {
    const driver = await driverWithGrant();
    const wallet = new TestWallet(hre.network.provider, driver);
    wallet.connected = true;
    const expected = await chainGrants(driver);
    for (const viewport of [DESKTOP, PHONE]) {
      const page = await open(wallet, viewport);
      expect(await pageGrants(page)).to.deep.equal(expected);
      const s = await staking();
      for (const g of expected) {
        const row = `#grants-body tr[data-vehicle="${g.vehicle}"][data-consumer="${g.consumer}"]`;
        const stakeText = (await page.textContent(`${row} [data-field="stake"]`))!;
        const frozen =
          Number((await s.position(g.consumer)).frozenUntil) > (await ethers.provider.getBlock("latest"))!.timestamp;
        const covered = await s.isCovered(g.consumer);
        expect(stakeText).to.equal(
          `${readableAmount(BigInt(g.stakeWei))} DIMO · ${frozen ? "frozen" : covered ? "covers its grants" : "does not cover its grants"}`,
        );
      }
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).to.be.at.most(0);
      const name = viewport === PHONE ? "data-sharing-phone-390x844.png" : "data-sharing-desktop.png";
      await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
    }
  });

  /** Local account 7 as a second consumer: staked enough for `vehicles` grants, accepting `driver`'s grants. */
  async function stakedConsumer(driver: string, vehicles: bigint) {
    const signers = await ethers.getSigners();
    const [demoConsumer, fresh] = [signers[8], signers[7]];
    const s = await staking();
    const token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
    const need = (await s.requiredStake(vehicles)) - (await s.position(fresh.address)).staked;
    if (need > 0n) {
      await (await token.connect(demoConsumer).transfer(fresh.address, need)).wait();
      await (await token.connect(fresh).approve(await s.getAddress(), need)).wait();
      await (await s.connect(fresh).stake(need)).wait();
    }
    await (await (await access()).connect(fresh).setOwnerAcceptance(driver, true)).wait();
    return fresh;
  }

  const rowOf = (vehicle: string, consumer: string) =>
    `#grants-body tr[data-vehicle="${vehicle}"][data-consumer="${consumer}"]`;

  it("keyboard only: grant, extend and revoke change the chain and the page", async function () {
    const driver = await driverWithGrant();
    const consumer = await stakedConsumer(driver, 2n);
    const a = await access();
    const vehicle = (await chainGrants(driver))[0].vehicle;
    expect((await a.grantOf(vehicle, consumer.address)).permissions).to.equal(0n);
    const wallet = new TestWallet(hre.network.provider, driver);
    wallet.connected = true;
    const page = await open(wallet, PHONE);

    // Grant through the form: vehicle, consumer address, odometer, 10 days; Enter submits.
    await tabTo(page, "#grant-vehicle", 80);
    await page.selectOption("#grant-vehicle", vehicle); // what arrow keys on the focused select do
    await tabTo(page, "#grant-consumer", 80);
    await page.keyboard.type(consumer.address);
    await tabTo(page, 'input[value="odometer"]', 80);
    await page.keyboard.press(" ");
    await tabTo(page, "#grant-days", 80);
    await page.keyboard.press("Control+A");
    await page.keyboard.type("10");
    const t0 = (await ethers.provider.getBlock("latest"))!.timestamp;
    await page.keyboard.press("Enter");
    await confirmed(page);
    expect(await page.textContent("#status")).to.match(/Granted .* access to vehicle #\d+ \(odometer\) for 10 days/);
    await page.waitForSelector(rowOf(vehicle, consumer.address));
    const granted = await a.grantOf(vehicle, consumer.address);
    expect(granted.permissions).to.equal(2n);
    expect(granted.expiresAt).to.be.within(BigInt(t0 + 10 * DAY), BigInt(t0 + 10 * DAY + 60));
    expect(await a.canRead(consumer.address, vehicle, 1)).to.equal(true);
    expect(await a.canRead(consumer.address, vehicle, 0)).to.equal(false);
    expect(await pageGrants(page)).to.deep.equal(await chainGrants(driver));
    expect(await page.textContent(`${rowOf(vehicle, consumer.address)} [data-field="stake"]`)).to.match(
      /covers its grants$/,
    );
    await page.screenshot({ path: path.join(ARTIFACTS, "data-sharing-granted-phone-390x844.png"), fullPage: true });

    // Extend it by 30 days (Enter on the button).
    await tabTo(
      page,
      `button[aria-label="Extend the grant of vehicle #${vehicle} to ${consumer.address} by 30 days"]`,
      80,
    );
    await page.keyboard.press("Enter");
    await confirmed(page);
    const extended = await a.grantOf(vehicle, consumer.address);
    expect(extended.expiresAt).to.equal(granted.expiresAt + BigInt(30 * DAY));
    expect(extended.permissions).to.equal(granted.permissions);
    await page.waitForFunction(
      ([row, e]) => document.querySelector<HTMLElement>(`${row} [data-field="expires"]`)?.dataset.expiresAt === e,
      [rowOf(vehicle, consumer.address), extended.expiresAt.toString()] as const,
    );
    expect(await pageGrants(page)).to.deep.equal(await chainGrants(driver));

    // Revoke it (Space on the button).
    await tabTo(page, `button[aria-label="Revoke the grant of vehicle #${vehicle} to ${consumer.address}"]`, 80);
    await page.keyboard.press(" ");
    await confirmed(page);
    await page.waitForSelector(rowOf(vehicle, consumer.address), { state: "detached" });
    expect((await a.grantOf(vehicle, consumer.address)).permissions).to.equal(0n);
    expect(await a.canRead(consumer.address, vehicle, 1)).to.equal(false);
    expect(await pageGrants(page)).to.deep.equal(await chainGrants(driver));
  });

  it("extending a frozen consumer's grant is refused with the freeze's end, and changes nothing", async function () {
    const driver = await driverWithGrant();
    const consumer = (await ethers.getSigners())[8];
    const s = await staking();
    const now = (await ethers.provider.getBlock("latest"))!.timestamp;
    const frozenUntil = Number((await s.position(consumer.address)).frozenUntil);
    expect(frozenUntil, "the demo leaves its consumer frozen").to.be.greaterThan(now);
    const a = await access();
    await (await a.connect(consumer).setOwnerAcceptance(driver, true)).wait();
    const g = (await chainGrants(driver)).find((x) => x.consumer === consumer.address)!;
    const before = await a.grantOf(g.vehicle, consumer.address);
    const wallet = new TestWallet(hre.network.provider, driver);
    wallet.connected = true;
    const page = await open(wallet);
    expect(await page.textContent(`${rowOf(g.vehicle, consumer.address)} [data-field="stake"]`)).to.match(/· frozen$/);
    const listed = await pageGrants(page);
    await page.click(`${rowOf(g.vehicle, consumer.address)} button[data-action="extend"]`);
    await page.waitForSelector('#status[data-state="failed"]');
    expect(await page.textContent("#status")).to.equal(
      `The consumer ${consumer.address.slice(0, 6)}…${consumer.address.slice(-4)} is frozen until ` +
        `${await page.evaluate((t) => new Date(t * 1000).toLocaleString(), frozenUntil)} pending a DAO vote: ` +
        "it cannot receive grants. Nothing was granted.",
    );
    const after = await a.grantOf(g.vehicle, consumer.address);
    expect([after.permissions, after.expiresAt]).to.deep.equal([before.permissions, before.expiresAt]);
    expect(await pageGrants(page)).to.deep.equal(listed);
  });

  /** Waits for the transaction's outcome and requires it confirmed (else fails with the page's message). */
  async function confirmed(page: Page): Promise<void> {
    await page.waitForSelector(
      '#status[data-state="success"], #status[data-state="failed"], #status[data-state="rejected"]',
    );
    const [state, text] = await page.$eval("#status", (n) => [(n as HTMLElement).dataset.state, n.textContent]);
    expect(state, text ?? "").to.equal("success");
  }

  it("a consumer whose stake no longer covers its grants is shown as such, after the DAO raises the requirement", async function () {
    const driver = await driverWithGrant();
    const consumer = await stakedConsumer(driver, 2n);
    const a = await access();
    const s = await staking();
    const vehicle = (await chainGrants(driver))[0].vehicle;
    const now = (await ethers.provider.getBlock("latest"))!.timestamp;
    // Reverted at the end: the raised requirement would refuse the later tests' grants.
    const before = await ethers.provider.send("evm_snapshot", []);
    try {
      await (
        await a.connect(await ethers.getSigner(driver)).grant(vehicle, consumer.address, 2n, now + 30 * DAY)
      ).wait();
      expect(await s.isCovered(consumer.address)).to.equal(true);
      // The requirement a passed DAO proposal sets (the Timelock administers ConsumerStaking; impersonated here
      // instead of a proposal's weeks of voting): one vehicle now costs more than the consumer's whole stake.
      const timelock = record.contracts.DimoTimelock.address;
      await ethers.provider.send("hardhat_impersonateAccount", [timelock]);
      await ethers.provider.send("hardhat_setBalance", [timelock, "0x56BC75E2D63100000"]);
      const [base] = await s.stakeParameters();
      const staked = (await s.position(consumer.address)).staked;
      await (await s.connect(await ethers.getSigner(timelock)).setStakeParameters(base, staked + 1n)).wait();
      await ethers.provider.send("hardhat_stopImpersonatingAccount", [timelock]);
      expect(await s.isCovered(consumer.address)).to.equal(false);
      const wallet = new TestWallet(hre.network.provider, driver);
      wallet.connected = true;
      const page = await open(wallet, PHONE);
      expect(await page.textContent(`${rowOf(vehicle, consumer.address)} [data-field="stake"]`)).to.equal(
        `${readableAmount(staked)} DIMO · does not cover its grants`,
      );
      expect(await pageGrants(page)).to.deep.equal(await chainGrants(driver));
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).to.be.at.most(0);
    } finally {
      await ethers.provider.send("evm_revert", [before]);
    }
  });

  it("a refused grant (consumer has not accepted) says why and changes nothing", async function () {
    const driver = await driverWithGrant();
    const stranger = (await ethers.getSigners())[6];
    const a = await access();
    const vehicle = (await chainGrants(driver))[0].vehicle;
    const wallet = new TestWallet(hre.network.provider, driver);
    wallet.connected = true;
    const page = await open(wallet);
    const listed = await pageGrants(page);
    await page.selectOption("#grant-vehicle", vehicle);
    await page.fill("#grant-consumer", stranger.address);
    await page.check('input[value="location"]');
    await page.click("#grant-button");
    await page.waitForSelector('#status[data-state="failed"]');
    expect(await page.textContent("#status")).to.match(/has not accepted grants from you.*Nothing was granted/);
    expect((await a.grantOf(vehicle, stranger.address)).permissions).to.equal(0n);
    expect(await pageGrants(page)).to.deep.equal(listed);
    expect(await pageGrants(page)).to.deep.equal(await chainGrants(driver));
    await page.screenshot({ path: path.join(ARTIFACTS, "data-sharing-refused.png"), fullPage: true });
  });
});
