/// <reference lib="dom" />
/**
 * What the claim page's data-sharing and access-log browser suites share: Debian's Chromium (never downloaded), its
 * flags, the screenshots folder, a page per test with the test wallet installed (no uncaught error allowed), and
 * reaching a control by Tab alone with its focus visible.
 */
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { TestWallet } from "./wallet";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS = path.resolve(__dirname, "../../test-artifacts/claim-page");
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"];
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

/** Launches Debian's Chromium headless; says how to get it when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: node scripts/provision.js installs Debian's Chromium`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return browser;
}

/**
 * Opens `url` in a fresh context (closed by the suite from `contexts`) with `wallet` injected, waits for `ready`
 * to be visible, and fails on any uncaught error in the page.
 */
export async function openPage(
  browser: Browser,
  contexts: BrowserContext[],
  o: { wallet: TestWallet; url: string; ready: string; viewport: { width: number; height: number } },
): Promise<Page> {
  const context = await browser.newContext({ viewport: o.viewport, reducedMotion: "reduce" });
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await o.wallet.install(page);
  await page.goto(o.url);
  await page.waitForSelector(o.ready, { state: "visible" });
  expect(errors, "uncaught errors in the page").to.deep.equal([]);
  return page;
}

/**
 * Presses Tab until the element matching `selector` has the focus (at most `maxPresses` times), as a keyboard user
 * would, and checks the focus is visible (the focused control draws an outline).
 */
export async function tabTo(page: Page, selector: string, maxPresses: number): Promise<void> {
  const passed: string[] = [];
  for (let i = 0; i < maxPresses; i++) {
    await page.keyboard.press("Tab");
    const [focused, hit] = await page.evaluate((sel) => {
      const a = document.activeElement as HTMLElement | null;
      return [a?.id || a?.getAttribute("aria-label") || a?.tagName || "", !!a?.matches(sel)] as const;
    }, selector);
    passed.push(focused);
    if (hit) {
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
      expect(outline, `focus outline of ${selector}`).to.not.equal("none");
      return;
    }
  }
  throw new Error(`${selector} is not reachable with Tab; focus went through ${passed.join(", ")}`);
}
