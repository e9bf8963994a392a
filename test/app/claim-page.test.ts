/// <reference lib="dom" />
/**
 * The claim page (app/) in headless Chromium, driven by Playwright, against the Hardhat network loaded with
 * a small demo run (three weeks active, a fourth in its challenge window). The page talks to the chain only
 * through an injected EIP-1193 wallet (./wallet.ts) backed by a Hardhat account. Every action is taken from
 * the keyboard. Screenshots land in test-artifacts/claim-page/.
 *
 * The page is built three ways: reading large week files (Range requests, each account proven against the
 * root; the build used by default here, with the whole-file limit at 0, two weeks of history per page and no
 * auto-refresh), reading small ones (whole, checked against the content hash; re-reading the chain every
 * 0.5 s), and with `npm run app`'s demo wallet.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { runDemo } from "../../scripts/demo";
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import { buildApp, freePort, previewApp, type Served } from "../../scripts/app-server";
import { accountIndex, proofFor, readDistribution, type Distribution } from "../../lib/rewards/distribution";
import { earningsBySource, SOURCES, type EarningsBySource } from "../../lib/rewards/sources";
import { formatDimo } from "../../lib/units";
import { TestWallet } from "./wallet";
import { exactAmountText, readableAmount } from "../../app/src/format";

const CONNECT = '[data-wallet="injected"]';
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = path.resolve(__dirname, "../../test-artifacts/claim-page");
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

/** The page's exact amount format: every significant decimal, thousands separators. */
function shown(wei: bigint): string {
  const [whole, frac] = formatDimo(wei).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return frac ? `${grouped}.${frac}` : grouped;
}

describe("claim page (app/) in headless Chromium", function () {
  this.timeout(180_000);
  let snapshotId: string;
  let browser: Browser;
  let served: Served; // reads week files by Range requests and proofs
  let servedWhole: Served; // reads week files whole, checked against their content hash
  let work: string;
  let record: { contracts: Record<string, { address: string; blockNumber: number }> };
  let distributionsDir: string;
  let demoDir: string | undefined;

  const distributor = () => ethers.getContractAt("RewardDistributor", record.contracts.RewardDistributor.address);
  const token = () => ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
  const weekFile = (week: number): Distribution =>
    readDistribution(path.join(distributionsDir, `week-${week}.json`), { keepEarnings: true });

  before(async function () {
    if ((hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING) this.skip();
    if (!fs.existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} not found: the browser tests drive Debian's Chromium (apt-get install chromium), ` +
          "or set CHROMIUM_PATH. Playwright never downloads a browser here.",
      );
    snapshotId = await ethers.provider.send("evm_snapshot", []);
    const demo = await runDemo(hre, {
      ...{ vehicles: 40, owners: 12, weeks: 3, seed: 5, verbose: false, pendingWeek: true },
      keepDir: true,
    });
    demoDir = demo.dir;
    expect(demo.ok, demo.mismatches.join("\n")).to.equal(true);
    distributionsDir = demo.distributionsDir;
    record = JSON.parse(fs.readFileSync(path.join(demo.dir, `${hre.network.name}.json`), "utf8"));
    work = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-app-test-"));
    const data = { network: hre.network.name, deploymentsDir: demo.dir, distributionsDir };
    // No auto-refresh in the range build: a re-read between two steps of a test must not change what it sees.
    const range = {
      ...data,
      outDir: path.join(work, "range"),
      wholeFileLimit: 0,
      historyPage: 2,
      refreshSeconds: 3600,
    };
    buildApp(range);
    const whole = { ...data, outDir: path.join(work, "whole"), refreshSeconds: 0.5 };
    buildApp(whole);
    served = await previewApp(range);
    servedWhole = await previewApp(whole);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async function () {
    await browser?.close();
    await served?.stop();
    await servedWhole?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (demoDir) fs.rmSync(demoDir, { recursive: true, force: true });
    if (snapshotId) await ethers.provider.send("evm_revert", [snapshotId]);
  });

  // ------------------------------------------------------------------------------------------- helpers

  const contexts: BrowserContext[] = [];
  afterEach(async function () {
    while (contexts.length) await contexts.pop()!.close();
  });

  async function open(
    wallet?: TestWallet,
    viewport = { width: 1280, height: 900 },
    server: () => Served = () => served,
  ): Promise<Page> {
    const context = await browser.newContext({ viewport, reducedMotion: "reduce" });
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    if (wallet) await wallet.install(page);
    const dataRequests: { url: string; range: string | undefined }[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/data/distributions/")) dataRequests.push({ url: r.url(), range: r.headers().range });
    });
    (page as Page & { dataRequests?: typeof dataRequests }).dataRequests = dataRequests;
    await page.goto(server().url);
    await page.waitForSelector("#loading", { state: "hidden" });
    expect(errors, "uncaught errors in the page").to.deep.equal([]);
    return page;
  }

  /**
   * Presses Tab until the element matching `selector` has the focus (at most 40 times), as a keyboard user
   * would; returns the ids (or wallet ids) of the elements passed.
   */
  async function tabTo(page: Page, selector: string): Promise<string[]> {
    const passed: string[] = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      const [focused, hit] = await page.evaluate((sel) => {
        const a = document.activeElement as HTMLElement | null;
        return [a?.id || a?.dataset.wallet || a?.tagName || "", !!a?.matches(sel)] as const;
      }, selector);
      passed.push(focused);
      if (hit) return passed;
    }
    throw new Error(`${selector} is not reachable with Tab; focus went through ${passed.join(", ")}`);
  }

  async function press(page: Page, selector: string): Promise<void> {
    await tabTo(page, selector);
    await page.keyboard.press("Enter");
  }

  const weiOf = async (page: Page, id: string) => BigInt((await page.getAttribute(`#${id}`, "data-wei"))!);
  const textOf = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? "").trim();
  const waitStatus = (page: Page, state: string) => page.waitForSelector(`#status[data-state="${state}"]`);
  const waitWei = (page: Page, id: string, wei: bigint) =>
    page.waitForFunction(([i, w]) => document.getElementById(i)?.dataset.wei === w, [id, wei.toString()] as const);

  async function localAccounts() {
    return (await ethers.getSigners()).slice(10, 20).map((s) => s.address);
  }

  /**
   * Local accounts with something to claim under the active root and earnings in the pending week; at least
   * `atLeast` of them (the tests before may have claimed some), or the fixture no longer gives a test its drivers.
   */
  async function drivers(atLeast = 1): Promise<string[]> {
    const d = await distributor();
    const active = weekFile(Number((await d.activeRoot()).week));
    const pending = weekFile(Number((await d.pendingRoot()).week));
    const out: string[] = [];
    for (const a of await localAccounts()) {
      const i = accountIndex(active, a);
      const j = accountIndex(pending, a);
      if (i < 0 || j < 0 || pending.accounts[j].weekWei === 0n) continue;
      if (active.accounts[i].cumulativeWei > (await d.claimed(a))) out.push(a);
    }
    if (out.length < atLeast)
      throw new Error(
        `the demo fixture left ${out.length} local accounts with rewards to claim; this test needs ${atLeast}`,
      );
    return out;
  }

  // ------------------------------------------------------------------------------------------- states

  it("without a wallet, says that one is needed", async function () {
    const page = await open();
    expect(await textOf(page, "#alert-text")).to.match(/No wallet found/);
    expect(await page.isHidden("#claim-section")).to.equal(true);
  });

  it("not connected: says what DIMO rewards are and what to do; a favicon", async function () {
    const wallet = new TestWallet(hre.network.provider, (await localAccounts())[0]);
    const page = await open(wallet);
    expect(await page.isVisible("#intro")).to.equal(true);
    expect(await textOf(page, "#intro")).to.match(/vehicles that share their data through DIMO .* earn\s+DIMO tokens/);
    expect(await textOf(page, "#intro")).to.match(/nothing is sent until you press Claim/);
    expect(await page.getAttribute('link[rel="icon"]', "href")).to.match(/^data:image\/svg\+xml,/);
    await page.screenshot({ path: path.join(ARTIFACTS, "not-connected.png"), fullPage: true });
    const phone = await open(wallet, { width: 390, height: 844 });
    expect(await phone.isVisible("#intro")).to.equal(true);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).to.be.at.most(0);
    await phone.screenshot({ path: path.join(ARTIFACTS, "not-connected-phone-390x844.png"), fullPage: true });
  });

  it("connected: readable amounts with the exact one a key press away, a weekly chart, plain words, zoned times", async function () {
    const [driver] = await drivers();
    const d = await distributor();
    const wallet = new TestWallet(hre.network.provider, driver);
    wallet.connected = true;
    const page = await open(wallet);
    await page.waitForSelector("#claim-section", { state: "visible" });
    expect(await page.isHidden("#intro")).to.equal(true);
    const active = weekFile(Number((await d.activeRoot()).week));
    const due = active.accounts[accountIndex(active, driver)].cumulativeWei - (await d.claimed(driver));
    expect(await textOf(page, "#claimable")).to.equal(readableAmount(due));
    expect(readableAmount(due)).to.match(/^[\d,]+\.\d{2,4}$|^< 0\.0001$/);
    await tabTo(page, "#claimable");
    await page.keyboard.press("Enter");
    expect(await textOf(page, "#claimable")).to.equal(shown(due));
    await page.keyboard.press("Enter");
    expect(await textOf(page, "#claimable")).to.equal(readableAmount(due));
    expect(await textOf(page, "#claim")).to.equal(`Claim ${shown(due)} DIMO`);
    // One bar per week listed, each titled with its exact amount.
    const rows = await page.$$eval("#history tr", (trs) => trs.map((tr) => tr.dataset.week));
    const bars = await page.$$eval("#earnings-chart rect", (rs) => rs.map((r) => (r as SVGElement).dataset.week));
    expect([...bars].sort()).to.deep.equal([...rows].sort());
    // Plain words; the technical check behind a disclosure.
    expect(await textOf(page, "#checked-by")).to.equal("these amounts match what was published on the blockchain");
    expect(await page.isVisible("#how-checked-text")).to.equal(false);
    await press(page, "#how-checked summary");
    expect(await textOf(page, "#how-checked-text")).to.match(/Merkle proof reaches the root/);
    // Times carry their zone (the browser's, here UTC).
    expect(await textOf(page, "#pending-text")).to.match(/\d{1,2}:\d{2}\s?(AM|PM)? (UTC|GMT[+-]?\d*)/);
    await page.screenshot({ path: path.join(ARTIFACTS, "desktop-readable.png"), fullPage: true });
  });

  it("with a wallet that does not answer, says so", async function () {
    const wallet = new TestWallet(hre.network.provider, (await localAccounts())[0]);
    wallet.broken = true;
    const page = await open(wallet);
    expect(await textOf(page, "#alert-text")).to.equal(
      "Your wallet did not answer (The wallet is locked). Unlock it, then reload this page.",
    );
    expect(await page.isHidden("#claim-section")).to.equal(true);
  });

  it("on the wrong network, names both chains and switches on request (keyboard)", async function () {
    const [driver] = await drivers();
    const wallet = new TestWallet(hre.network.provider, driver);
    wallet.connected = true;
    wallet.chainId = 1;
    const page = await open(wallet);
    const alert = await textOf(page, "#alert-text");
    expect(alert).to.match(/Wrong network/);
    expect(alert).to.contain("chain 1").and.to.contain("chain 31337");
    expect(await page.isHidden("#claim-section")).to.equal(true);
    expect(wallet.calls).to.not.include("eth_call"); // nothing is read from the wrong chain
    await page.screenshot({ path: path.join(ARTIFACTS, "wrong-network.png"), fullPage: true });
    await press(page, "#switch-network");
    await page.waitForSelector("#claim-section", { state: "visible" });
    expect(wallet.chainId).to.equal(31337);
    expect(await page.isHidden("#alert")).to.equal(true);
  });

  it("connects by keyboard and shows exactly the chain's amounts, the vehicles, the weeks and the pending week (RPC with capped log ranges)", async function () {
    const [driver] = await drivers();
    const d = await distributor();
    const wallet = new TestWallet(hre.network.provider, driver);
    wallet.maxLogBlocks = 40; // a public RPC's cap on eth_getLogs ranges: the page must page its event queries
    const page = await open(wallet);
    expect(await textOf(page, CONNECT)).to.equal("Connect wallet");
    expect(await page.isHidden("#claim-section")).to.equal(true);
    wallet.rejectNext = true;
    await press(page, CONNECT);
    await waitStatus(page, "rejected");
    expect(await textOf(page, "#status")).to.equal("You declined to connect your wallet.");
    expect(await page.isHidden("#claim-section")).to.equal(true);
    await press(page, CONNECT);
    await page.waitForSelector("#claim-section", { state: "visible" });

    const activeWeek = Number((await d.activeRoot()).week);
    const pendingRoot = await d.pendingRoot();
    const active = weekFile(activeWeek);
    const entry = active.accounts[accountIndex(active, driver)];
    const claimed = await d.claimed(driver);
    const balance = await (await token()).balanceOf(driver);
    expect(await weiOf(page, "claimable")).to.equal(entry.cumulativeWei - claimed);
    // Readable (2-4 decimals, rounded down), the exact amount and wei on hover; the claim button stays exact.
    expect(await textOf(page, "#claimable")).to.equal(readableAmount(entry.cumulativeWei - claimed));
    expect(await page.getAttribute("#claimable", "title")).to.equal(exactAmountText(entry.cumulativeWei - claimed));
    expect(await weiOf(page, "claimed")).to.equal(claimed);
    expect(await weiOf(page, "balance")).to.equal(balance);
    expect(await textOf(page, "#balance")).to.equal(readableAmount(balance));
    expect(await textOf(page, "#claim")).to.equal(`Claim ${shown(entry.cumulativeWei - claimed)} DIMO`);
    expect(await textOf(page, "#account")).to.contain(driver.slice(0, 6));

    // Vehicles: exactly those the registry says the driver owns.
    const registry = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
    const total = Number(await registry.totalVehicles());
    const owned: string[] = [];
    for (let id = 1; id <= total; id++)
      if ((await registry.ownerOf(id)).toLowerCase() === driver.toLowerCase()) owned.push(String(id));
    expect(owned.length).to.be.greaterThan(0);
    const listed = await page.$$eval("#vehicles li[data-vehicle]", (lis) => lis.map((li) => li.dataset.vehicle!));
    expect(listed).to.deep.equal(owned);

    // Weeks: one row per week with earnings, newest first, the pending week on top.
    const pending = weekFile(Number(pendingRoot.week));
    const expected: { week: string; earned: string; status: string }[] = [];
    const p = pending.accounts[accountIndex(pending, driver)];
    expected.push({ week: String(pending.week), earned: readableAmount(p.weekWei), status: "In challenge window" });
    for (let w = activeWeek; w >= 0; w--) {
      const f = weekFile(w);
      const i = accountIndex(f, driver);
      if (i < 0 || f.accounts[i].weekWei === 0n) continue;
      const a = f.accounts[i];
      expected.push({
        week: String(w),
        earned: readableAmount(a.weekWei),
        status: a.cumulativeWei <= claimed ? "Claimed" : "Claimable",
      });
    }
    // Two weeks of history at first (the pending week aside), then the earlier ones on request.
    const weeksShown = () => page.$$eval("#history tr", (trs) => trs.map((tr) => tr.dataset.week));
    expect(await weeksShown()).to.deep.equal(expected.slice(0, 3).map((r) => r.week));
    expect(await textOf(page, "#more-weeks")).to.equal(`Show earlier weeks (${activeWeek - 1} more)`);
    await press(page, "#more-weeks");
    await page.waitForSelector("#more-weeks", { state: "hidden" });
    const rows = await page.$$eval("#history tr", (trs) =>
      trs.map((tr) => {
        const td = Array.from(tr.querySelectorAll("td")).map((c) => c.textContent);
        return { week: td[0]!, earned: td[1]!, status: td[3]! };
      }),
    );
    expect(rows).to.deep.equal(expected);
    // Each readable cell carries the exact amount and wei on hover.
    const titles = await page.$$eval("#history td[data-wei]", (tds) =>
      tds.map((td) => [td.getAttribute("data-wei")!, td.getAttribute("title") ?? ""]),
    );
    for (const [wei, title] of titles) expect(title).to.equal(exactAmountText(BigInt(wei)));

    // The pending week: its amount and the end of its challenge window.
    expect(await page.getAttribute("#pending-section", "data-week")).to.equal(pendingRoot.week.toString());
    expect(BigInt((await page.getAttribute("#pending-section", "data-wei"))!)).to.equal(p.weekWei);
    expect(await textOf(page, "#pending-text")).to.match(/can be challenged until/);
    expect(await page.isHidden("#activate")).to.equal(true);

    // The cap was really in the way: the event queries went in pieces of at most 40 blocks.
    const span = (await ethers.provider.getBlockNumber()) - record.contracts.VehicleRegistry.blockNumber;
    expect(span).to.be.greaterThan(3 * 40);
    expect(wallet.calls.filter((m) => m === "eth_getLogs").length).to.be.greaterThan(2 * Math.floor(span / 40));
    // Range mode: week files are only ever read in ranges, never downloaded whole.
    expect(await page.getAttribute("#checked-by", "data-by")).to.equal("proofs");
    const requests = (page as Page & { dataRequests?: { url: string; range?: string }[] }).dataRequests!;
    expect(requests.length).to.be.greaterThan(0);
    expect(requests.filter((r) => !/^bytes=\d+-\d+$/.test(r.range ?? ""))).to.deep.equal([]);

    await page.screenshot({ path: path.join(ARTIFACTS, "desktop.png"), fullPage: true });
  });

  /** Every source of a week's row, as the page shows it: wei, whether it is shown, its readable text and title. */
  async function sourcesShown(page: Page) {
    return page.$$eval("#history tr", (trs) =>
      trs.map((tr) => ({
        week: Number(tr.dataset.week),
        earnedWei: tr.querySelector<HTMLElement>('td[data-label="Earned (DIMO)"]')!.dataset.wei!,
        cumulativeWei: tr.querySelector<HTMLElement>('td[data-label="Cumulative (DIMO)"]')!.dataset.wei!,
        sources: Array.from(tr.querySelectorAll<HTMLElement>("[data-source]"), (item) => ({
          source: item.dataset.source!,
          wei: item.dataset.wei!,
          hidden: item.hidden,
          text: (item.querySelector("dd")?.textContent ?? "").trim(),
          title: item.querySelector("dd")?.getAttribute("title") ?? "",
        })),
      })),
    );
  }

  /** The page connected as `account`, with every week of its history listed ("Show earlier weeks" pressed). */
  async function openAllWeeks(account: string, viewport?: { width: number; height: number }): Promise<Page> {
    const wallet = new TestWallet(hre.network.provider, account);
    wallet.connected = true;
    const page = await open(wallet, viewport);
    await page.waitForSelector("#claim-section", { state: "visible" });
    if (await page.isVisible("#more-weeks")) {
      await press(page, "#more-weeks");
      await page.waitForSelector("#more-weeks", { state: "hidden" });
    }
    return page;
  }

  it("shows each week's earnings by source, equal to the week file's split and summing to the week's amount the chain commits to", async function () {
    const d = await distributor();
    const activeWeek = Number((await d.activeRoot()).week);
    const pendingWeek = Number((await d.pendingRoot()).week);
    const files = new Map<number, Distribution>();
    for (let w = 0; w <= pendingWeek; w++) files.set(w, weekFile(w));
    expect(files.get(activeWeek)!.root).to.equal((await d.activeRoot()).root);
    expect(files.get(pendingWeek)!.root).to.equal((await d.pendingRoot()).root);
    // The weeks the page lists for an account (every one once "Show earlier weeks" is pressed), by source.
    const weeksOf = (account: string) => {
      const out: { week: number; entry: Distribution["accounts"][number]; sources: EarningsBySource }[] = [];
      for (const [w, f] of files) {
        const i = accountIndex(f, account);
        if (i < 0 || f.accounts[i].weekWei === 0n) continue;
        out.push({ week: w, entry: f.accounts[i], sources: earningsBySource(f.accounts[i], `week-${w}.json`) });
      }
      return out.reverse(); // newest first, as the page lists them
    };
    const kinds = (s: EarningsBySource) => SOURCES.filter((k) => s[k] > 0n).length;
    // The accounts to look at: the one with the most sources in a week, and the first one earning from each of
    // referrals, compensation and data use (the demo has all three), any account of the files (the page only reads).
    const accounts = files.get(pendingWeek)!.accounts.map((a) => a.account);
    const weeks = new Map(accounts.map((a) => [a, weeksOf(a)]));
    const mostSources = (a: string) => Math.max(0, ...weeks.get(a)!.map((x) => kinds(x.sources)));
    const richest = accounts.reduce((best, a) => (mostSources(a) > mostSources(best) ? a : best), accounts[0]);
    expect(mostSources(richest), "sources in one week").to.be.at.least(2);
    const picked = new Set([richest]);
    for (const source of ["referrals", "compensation", "dataUse"] as const) {
      const a = accounts.find((x) => weeks.get(x)!.some((w) => w.sources[source] > 0n));
      expect(a, `an account earning from ${source} in the demo`).to.not.equal(undefined);
      picked.add(a!);
    }

    for (const account of picked) {
      const page = await openAllWeeks(account);
      const expected = weeks.get(account)!;
      const rows = await sourcesShown(page);
      expect(
        rows.map((r) => r.week),
        `${account}: weeks shown`,
      ).to.deep.equal(expected.map((x) => x.week));
      for (const [k, row] of rows.entries()) {
        const { entry, sources } = expected[k];
        const what = `${account} week ${row.week}`;
        // Every source, in order, equal to the split computed here from the week file; only non-zero ones shown.
        expect(
          row.sources.map((x) => [x.source, x.wei, x.hidden]),
          what,
        ).to.deep.equal(SOURCES.map((source) => [source, sources[source].toString(), sources[source] === 0n]));
        for (const x of row.sources) {
          expect(x.text, `${what} ${x.source}`).to.equal(readableAmount(BigInt(x.wei)));
          expect(x.title, `${what} ${x.source}`).to.equal(exactAmountText(BigInt(x.wei)));
        }
        const sum = row.sources.reduce((s, x) => s + BigInt(x.wei), 0n);
        expect(sum, `${what}: sum of the sources`).to.equal(entry.weekWei);
        expect(BigInt(row.earnedWei), `${what}: earned`).to.equal(entry.weekWei);
        // The cumulative amount is the file's, which the page proved against the week's root.
        expect(BigInt(row.cumulativeWei), `${what}: cumulative`).to.equal(entry.cumulativeWei);
      }
      // The active week's cumulative amount is what the chain pays out: claimed so far plus what is claimable now.
      const active = files.get(activeWeek)!;
      const cumulative = active.accounts[accountIndex(active, account)].cumulativeWei;
      const activeRow = rows.find((r) => r.week === activeWeek);
      if (activeRow) expect(BigInt(activeRow.cumulativeWei)).to.equal(cumulative);
      expect((await d.claimed(account)) + (await weiOf(page, "claimable")), `${account}: claimed + claimable`).to.equal(
        cumulative,
      );
      if (account === richest) {
        await page.locator("#history-section").scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(ARTIFACTS, "earnings.png"), fullPage: true });
      }
    }

    // On a phone: the breakdown fits, nothing scrolls sideways, no amount is cut off.
    const phone = await openAllWeeks(richest, { width: 390, height: 844 });
    expect(await phone.$$("#history [data-source]:not([hidden])")).to.have.length.greaterThan(1);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, "horizontal overflow in px").to.be.at.most(0);
    const clipped = await phone.$$eval("#history td, #history [data-source] dt, #history [data-source] dd", (nodes) =>
      nodes.filter((n) => n.scrollWidth > n.clientWidth + 1).map((n) => n.textContent),
    );
    expect(clipped, "elements whose text is cut off").to.deep.equal([]);
    await phone.screenshot({ path: path.join(ARTIFACTS, "earnings-phone-390x844.png"), fullPage: true });
  });

  it("refuses a week file changed on the host: by its content hash (whole) or by the proof (ranges)", async function () {
    const [driver] = await drivers();
    const week = Number((await (await distributor()).activeRoot()).week);
    const file = path.join(distributionsDir, `week-${week}.json`);
    const original = fs.readFileSync(file);
    const index = accountIndex(weekFile(week), driver);
    // Someone serving the page raises the driver's cumulative amount (one digit up).
    const lines = original.toString("utf8").split("\n");
    const k = lines.findIndex((l) => l.toLowerCase().startsWith(`    {"account":"${driver.toLowerCase()}"`));
    const at = lines[k].indexOf('"cumulativeWei":"') + '"cumulativeWei":"'.length;
    lines[k] =
      lines[k].slice(0, at) + (lines[k][at] === "9" ? "8" : String(Number(lines[k][at]) + 1)) + lines[k].slice(at + 1);
    fs.writeFileSync(file, lines.join("\n"));
    try {
      for (const [server, reason] of [
        [() => servedWhole, /its SHA-256 0x[0-9a-f]{64} is not the content hash 0x[0-9a-f]{64} published on chain/],
        [() => served, new RegExp(`accounts\\[${index}\\] is not committed to by the root published on chain`)],
      ] as const) {
        const wallet = new TestWallet(hre.network.provider, driver);
        wallet.connected = true;
        const page = await open(wallet, undefined, server);
        const alert = await textOf(page, "#alert-text");
        expect(alert).to.contain(`distributions/week-${week}.json`);
        expect(alert).to.match(reason);
        expect(await page.isHidden("#claim-section")).to.equal(true);
      }
    } finally {
      fs.writeFileSync(file, original);
    }
  });

  it("reads small week files whole, shows the same amounts, and keeps up with the chain without a reload", async function () {
    const [driver] = await drivers();
    const d = await distributor();
    const wallet = new TestWallet(hre.network.provider, driver);
    wallet.connected = true;
    const page = await open(wallet, undefined, () => servedWhole);
    await page.waitForSelector("#claim-section", { state: "visible" });
    const active = weekFile(Number((await d.activeRoot()).week));
    const due = active.accounts[accountIndex(active, driver)].cumulativeWei - (await d.claimed(driver));
    expect(await weiOf(page, "claimable")).to.equal(due);
    expect(await page.getAttribute("#checked-by", "data-by")).to.equal("content hash");

    // The page keeps up with the chain on its own: a claim made elsewhere shows without a reload.
    const e = active.accounts[accountIndex(active, driver)];
    const p = proofFor(active, driver);
    await (await d.claim(driver, e.cumulativeWei, p.anchor, p.shortProof)).wait();
    await waitWei(page, "claimable", 0n);
    await waitWei(page, "claimed", e.cumulativeWei);
  });

  it("offers every wallet that announces itself (EIP-6963) by name, connects the chosen one and remembers it", async function () {
    const [a, b] = await drivers(2);
    const d = await distributor();
    const walletA = new TestWallet(hre.network.provider, a, { name: "Test Wallet A", rdns: "org.example.a" });
    const walletB = new TestWallet(hre.network.provider, b, { name: "Test Wallet B", rdns: "org.example.b" });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    await walletA.install(page);
    await walletB.install(page);
    await page.goto(served.url);
    await page.waitForSelector('[data-wallet="org.example.b"]');
    expect(await page.evaluate(() => "ethereum" in window)).to.equal(false);
    const names = await page.$$eval("#wallets button", (bs) => bs.map((x) => x.textContent));
    expect(names).to.deep.equal(["Connect Test Wallet A", "Connect Test Wallet B"]);
    await press(page, '[data-wallet="org.example.b"]');
    await page.waitForSelector("#claim-section", { state: "visible" });
    const active = weekFile(Number((await d.activeRoot()).week));
    const due = active.accounts[accountIndex(active, b)].cumulativeWei - (await d.claimed(b));
    expect(await weiOf(page, "claimable")).to.equal(due);
    expect(walletA.calls).to.not.include("eth_requestAccounts");
    expect(walletB.calls).to.include("eth_requestAccounts");
    expect(await page.$$("#wallets button")).to.have.length(0);

    // Back later: the page goes straight to the wallet chosen last time.
    await page.reload();
    await page.waitForSelector("#claim-section", { state: "visible" });
    expect(await textOf(page, "#account")).to.contain(b.slice(0, 6));
    expect(walletA.calls.filter((m) => m === "eth_requestAccounts")).to.have.length(0);
  });

  it("is readable on a phone (390×844): no horizontal scrolling, every amount in full", async function () {
    const [driver] = await drivers();
    const wallet = new TestWallet(hre.network.provider, driver);
    wallet.connected = true;
    const page = await open(wallet, { width: 390, height: 844 });
    await page.waitForSelector("#claim-section", { state: "visible" });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, "horizontal overflow in px").to.be.at.most(0);
    const clipped = await page.$$eval("#claimable, #balance, #claimed, #history td", (nodes) =>
      nodes.filter((n) => n.scrollWidth > n.clientWidth + 1).map((n) => n.id || n.textContent),
    );
    expect(clipped, "elements whose text is cut off").to.deep.equal([]);
    const fontSize = await page.$eval("#claim-note", (n) => parseFloat(getComputedStyle(n).fontSize));
    expect(fontSize).to.be.at.least(14);
    await page.screenshot({ path: path.join(ARTIFACTS, "phone-390x844.png"), fullPage: true });
  });

  it("a claim the driver rejects in the wallet sends nothing and says so", async function () {
    const [driver] = await drivers();
    const d = await distributor();
    const wallet = new TestWallet(hre.network.provider, driver);
    wallet.connected = true;
    const page = await open(wallet);
    await page.waitForSelector("#claim-section", { state: "visible" });
    const block = await ethers.provider.getBlockNumber();
    const claimed = await d.claimed(driver);
    wallet.rejectNext = true;
    await press(page, "#claim");
    await waitStatus(page, "rejected");
    expect(await textOf(page, "#status")).to.match(/You rejected the request in your wallet\. Nothing was sent\./);
    expect(await ethers.provider.getBlockNumber()).to.equal(block);
    expect(await d.claimed(driver)).to.equal(claimed);
    expect(await page.isEnabled("#claim")).to.equal(true);

    // The wallet switches to another account: the page follows with that account's amounts.
    const other = (await drivers(2)).find((a) => a !== driver)!;
    const active = weekFile(Number((await d.activeRoot()).week));
    const due = active.accounts[accountIndex(active, other)].cumulativeWei - (await d.claimed(other));
    await wallet.switchAccount(other);
    await waitWei(page, "claimable", due);
    expect(await textOf(page, "#account")).to.contain(other.slice(0, 6));
    expect(await page.isHidden("#status")).to.equal(true);
  });

  it("claims by keyboard: pending, then confirmed; the balance grows by exactly the amount shown", async function () {
    const [driver] = await drivers();
    const d = await distributor();
    const t = await token();
    const wallet = new TestWallet(hre.network.provider, driver);
    wallet.connected = true;
    const page = await open(wallet);
    await page.waitForSelector("#claim-section", { state: "visible" });
    const amount = await weiOf(page, "claimable");
    const before = await t.balanceOf(driver);
    expect(amount).to.be.greaterThan(0n);

    await ethers.provider.send("evm_setAutomine", [false]);
    try {
      await press(page, "#claim");
      await waitStatus(page, "pending");
      expect(await textOf(page, "#status")).to.match(/sent .*waiting for confirmation/);
      expect(await page.isDisabled("#claim")).to.equal(true);
      const hash = (await page.getAttribute("#status", "data-tx"))!;
      expect(await ethers.provider.getTransactionReceipt(hash)).to.equal(null);
      await ethers.provider.send("evm_mine", []);
      await waitStatus(page, "success");
      const receipt = (await ethers.provider.getTransactionReceipt(hash))!;
      expect(receipt.status).to.equal(1);
      const ev = receipt.logs.map((l) => d.interface.parseLog(l)).find((e) => e?.name === "Claimed")!;
      expect(ev.args.account).to.equal(driver);
      expect(ev.args.amount).to.equal(amount);
    } finally {
      await ethers.provider.send("evm_setAutomine", [true]);
    }
    expect(await t.balanceOf(driver)).to.equal(before + amount);
    await waitWei(page, "balance", before + amount);
    expect(await textOf(page, "#status")).to.contain(`Claimed ${shown(amount)} DIMO to your wallet.`);
    expect(await weiOf(page, "claimable")).to.equal(0n);
    expect(await textOf(page, "#claim-note")).to.match(/^Nothing to claim/);
    expect(await page.isDisabled("#claim")).to.equal(true);
    expect(await textOf(page, "#claim")).to.equal("Nothing to claim");
    await page.screenshot({ path: path.join(ARTIFACTS, "claimed.png"), fullPage: true });
  });

  it("a claim the chain refuses (already claimed elsewhere) fails with the reason, then shows the new state", async function () {
    // An account nobody claimed for yet (the claim by keyboard above emptied the first one).
    const [other] = await drivers();
    const d = await distributor();
    const wallet = new TestWallet(hre.network.provider, other);
    wallet.connected = true;
    const page = await open(wallet);
    await page.waitForSelector("#claim-section", { state: "visible" });
    const amount = await weiOf(page, "claimable");
    // Meanwhile the same rewards are claimed from elsewhere (claim() is open to anyone, paying the account).
    const active = weekFile(Number((await d.activeRoot()).week));
    const e = active.accounts[accountIndex(active, other)];
    const p = proofFor(active, other);
    await (await d.claim(other, e.cumulativeWei, p.anchor, p.shortProof)).wait();
    const block = await ethers.provider.getBlockNumber();
    await press(page, "#claim");
    await waitStatus(page, "failed");
    expect(await textOf(page, "#status")).to.contain(
      `Nothing left to claim: ${shown(e.cumulativeWei)} DIMO of ${shown(e.cumulativeWei)} DIMO is already claimed`,
    );
    expect(await ethers.provider.getBlockNumber()).to.equal(block); // refused before sending
    await waitWei(page, "claimable", 0n);
    expect(amount).to.be.greaterThan(0n);
  });

  it("after the challenge window: activates the week by keyboard, then claims to another address", async function () {
    const d = await distributor();
    const t = await token();
    const [driver] = await localAccounts().then(async (all) => {
      const pending = weekFile(Number((await d.pendingRoot()).week));
      return all.filter(
        (a) => accountIndex(pending, a) >= 0 && pending.accounts[accountIndex(pending, a)].weekWei > 0n,
      );
    });
    const pendingRoot = await d.pendingRoot();
    await ethers.provider.send("evm_setNextBlockTimestamp", [Number(pendingRoot.activatesAt)]);
    await ethers.provider.send("evm_mine", []);
    const wallet = new TestWallet(hre.network.provider, driver);
    wallet.connected = true;
    const page = await open(wallet);
    await page.waitForSelector("#activate", { state: "visible" });
    expect(await textOf(page, "#pending-text")).to.match(/anyone can activate it now/);
    await press(page, "#activate");
    await waitStatus(page, "success");
    expect((await d.activeRoot()).week).to.equal(pendingRoot.week);
    await page.waitForSelector("#pending-section", { state: "hidden" });

    const now = weekFile(Number(pendingRoot.week));
    const claimable = now.accounts[accountIndex(now, driver)].cumulativeWei - (await d.claimed(driver));
    await waitWei(page, "claimable", claimable);

    // Every action is on the Tab path.
    const path1 = await tabTo(page, "#claim-to");
    expect(path1).to.include.members(["claim", "recipient"]);

    // A bad address is refused on the page; nothing is sent.
    const block = await ethers.provider.getBlockNumber();
    await page.focus("#recipient");
    await page.keyboard.type("0x1234");
    await page.keyboard.press("Enter");
    expect(await textOf(page, "#recipient-error")).to.contain('"0x1234" is not an address');
    expect(await page.getAttribute("#recipient", "aria-invalid")).to.equal("true");
    expect(await ethers.provider.getBlockNumber()).to.equal(block);

    const recipient = (await ethers.getSigners())[9].address;
    const before = await t.balanceOf(recipient);
    await page.fill("#recipient", recipient.toLowerCase());
    await page.focus("#recipient");
    await page.keyboard.press("Enter");
    await waitStatus(page, "success");
    expect(await textOf(page, "#status")).to.contain(`Claimed ${shown(claimable)} DIMO to ${recipient}.`);
    expect(await t.balanceOf(recipient)).to.equal(before + claimable);
    const [ev] = await d.queryFilter(d.filters.ClaimedTo(driver, recipient), block + 1);
    expect(ev.args.amount).to.equal(claimable);
    await waitWei(page, "claimable", 0n);
  });
  it("npm run app's demo wallet: connects without an extension and claims through the local node; no other build has it", async function () {
    for (const build of ["range", "whole"]) {
      const assets = path.join(work, build, "assets");
      for (const f of fs.readdirSync(assets))
        expect(fs.readFileSync(path.join(assets, f), "utf8"), `${build}/${f}`).to.not.contain("Local demo account");
    }
    const node = new JsonRpcServer({ hostname: "127.0.0.1", port: await freePort(), provider: hre.network.provider });
    const { port } = await node.listen();
    const data = { network: hre.network.name, deploymentsDir: path.dirname(distributionsDir), distributionsDir };
    const dev = { ...data, outDir: path.join(work, "dev"), devRpc: `http://127.0.0.1:${port}` };
    buildApp(dev);
    const devServed = await previewApp(dev);
    try {
      const d = await distributor();
      const t = await token();
      const active = weekFile(Number((await d.activeRoot()).week));
      let driver: string | undefined;
      for (const a of await localAccounts()) {
        const i = accountIndex(active, a);
        if (i >= 0 && active.accounts[i].cumulativeWei > (await d.claimed(a))) driver = a;
      }
      expect(driver, "a local account with something to claim").to.not.equal(undefined);
      const due = active.accounts[accountIndex(active, driver!)].cumulativeWei - (await d.claimed(driver!));
      const before = await t.balanceOf(driver!);
      const page = await open(undefined, undefined, () => ({ ...devServed, url: `${devServed.url}?as=${driver}` }));
      expect(await textOf(page, '[data-wallet="local.dimo.demo"]')).to.equal("Connect wallet");
      await press(page, '[data-wallet="local.dimo.demo"]');
      await page.waitForSelector("#claim-section", { state: "visible" });
      expect(await textOf(page, "#account")).to.contain(driver!.slice(0, 6));
      expect(await weiOf(page, "claimable")).to.equal(due);
      await press(page, "#claim");
      await waitStatus(page, "success");
      expect(await t.balanceOf(driver!)).to.equal(before + due);
      await waitWei(page, "balance", before + due);
    } finally {
      await devServed.stop();
      await node.close();
    }
  });
});
