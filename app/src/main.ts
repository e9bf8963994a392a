/**
 * The claim page: connect a wallet (any EIP-1193 provider, found through EIP-6963 or `window.ethereum`), see
 * the account's vehicles, claimable DIMO and weekly history, and claim to itself or to another address.
 *
 * States, each with its own message: no wallet; not connected; wrong network (with a switch button); loading;
 * nothing to claim; a week waiting out its challenge window (with an activate button once it may be
 * activated); a transaction awaiting the wallet, pending, confirmed, rejected or failed. Every action is a
 * native button or form control, so the page works from the keyboard alone.
 */
import {
  BrowserProvider,
  getAddress,
  hexlify,
  isAddress,
  toUtf8Bytes,
  ZeroAddress,
  type ContractTransactionResponse,
} from "ethers";
import { contractsOf, loadAccount, logsIn, type AccountState, type Contracts, type HistoryRow } from "./chain";
import { loadRecord, NETWORK, type DeploymentRecord } from "./data";
import { explain } from "./errors";
import { amountNodes, exactAmountText, formatAmount, formatTime, readableAmount, shortAddress } from "./format";
import { installDevWallet } from "./dev-wallet";
import { rememberedWallet, rememberWallet, watchWallets, type WalletChoice } from "./wallets";
import { dataTypeNames, loadGrants, permissionsOf, sharingContractsOf } from "./sharing";
import { DATA_TYPES } from "../../lib/data-types";
import { SOURCES, type Source } from "../../lib/rewards/sources";
import type { AccessLogEntry } from "../../lib/consent/access-log";
import { explainNodeError, loadAccessLog, nodeBase, NodeRequestError, signIn, type OwnerToken } from "./access-log";

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html has no element #${id}`);
  return node as T;
}
const el = {
  loading: $("loading"),
  account: $("account"),
  wallets: $("wallets"),
  alert: $("alert"),
  alertText: $("alert-text"),
  switchNetwork: $<HTMLButtonElement>("switch-network"),
  status: $("status"),
  claimSection: $("claim-section"),
  claimable: $<HTMLOutputElement>("claimable"),
  claimNote: $("claim-note"),
  claimed: $("claimed"),
  balance: $("balance"),
  activeWeek: $("active-week"),
  checkedBy: $("checked-by"),
  howChecked: $("how-checked-text"),
  intro: $("intro"),
  chart: $("earnings-chart"),
  claim: $<HTMLButtonElement>("claim"),
  claimToForm: $<HTMLFormElement>("claim-to-form"),
  recipient: $<HTMLInputElement>("recipient"),
  recipientError: $("recipient-error"),
  claimTo: $<HTMLButtonElement>("claim-to"),
  pendingSection: $("pending-section"),
  pendingText: $("pending-text"),
  activate: $<HTMLButtonElement>("activate"),
  historySection: $("history-section"),
  history: $("history"),
  moreWeeks: $<HTMLButtonElement>("more-weeks"),
  vehiclesSection: $("vehicles-section"),
  vehicles: $("vehicles"),
  sharingSection: $("sharing-section"),
  grantsBody: $("grants-body"),
  grantsTable: $("grants"),
  noGrants: $("no-grants"),
  grantForm: $<HTMLFormElement>("grant-form"),
  grantVehicle: $<HTMLSelectElement>("grant-vehicle"),
  grantConsumer: $<HTMLInputElement>("grant-consumer"),
  grantTypes: $("grant-types"),
  grantDays: $<HTMLInputElement>("grant-days"),
  accessLogs: $("access-logs"),
  accessLogList: $("access-log-list"),
  footer: $("footer"),
};

let record: DeploymentRecord | undefined;
let account: string | undefined;
let state: AccountState | undefined;
let busy = false;
let generation = 0; // drops results of a refresh overtaken by a newer one (account or chain changed)

let wallets: WalletChoice[] = [];
let chosen: WalletChoice | undefined;
const eth = (): Eip1193Provider | undefined => chosen?.provider;
/** Weeks of history read at first, and added by "Show earlier weeks" (`DIMO_APP_HISTORY_PAGE`). */
const HISTORY_PAGE: number = __DIMO_HISTORY_PAGE__;
let historyWeeks = HISTORY_PAGE;
/** How often the page re-reads the chain while it is in view (`DIMO_APP_REFRESH_SECONDS`, 15 s). */
const AUTO_REFRESH_MS: number = __DIMO_REFRESH_SECONDS__ * 1000;

function show(node: HTMLElement, visible: boolean) {
  node.hidden = !visible;
}

function alertMessage(text: string | undefined, opts: { switchNetwork?: boolean; reason?: string } = {}) {
  show(el.alert, text !== undefined);
  el.alert.dataset.reason = opts.reason ?? "";
  el.alertText.textContent = text ?? "";
  show(el.switchNetwork, !!opts.switchNetwork);
}

type StatusKind = "waiting" | "pending" | "success" | "failed" | "rejected";
function status(kind: StatusKind | undefined, text = "") {
  show(el.status, kind !== undefined);
  el.status.setAttribute("aria-live", kind === "failed" || kind === "rejected" ? "assertive" : "polite");
  el.status.dataset.state = kind ?? "";
  el.status.textContent = text;
}

/**
 * Shows an amount readably (readableAmount); a hover shows the exact amount and wei (title), a tap, a click or
 * Enter on the focused amount switches between the readable and the exact figure.
 */
function setWei(node: HTMLElement, wei: bigint) {
  node.dataset.wei = wei.toString();
  node.title = exactAmountText(wei);
  node.setAttribute("aria-label", `${readableAmount(wei)} DIMO, ${exactAmountText(wei)}`);
  if (!node.dataset.toggle) {
    node.dataset.toggle = "1";
    node.tabIndex = 0;
    node.classList.add("amount-toggle");
    const flip = () => {
      node.dataset.exact = node.dataset.exact === "1" ? "0" : "1";
      drawWei(node);
    };
    node.addEventListener("click", flip);
    node.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        flip();
      }
    });
  }
  drawWei(node);
}

function drawWei(node: HTMLElement) {
  const wei = BigInt(node.dataset.wei ?? "0");
  if (node.dataset.exact === "1") node.replaceChildren(...amountNodes(wei));
  else node.textContent = readableAmount(wei);
}

function hideAccountSections() {
  for (const s of [el.claimSection, el.pendingSection, el.historySection, el.vehiclesSection, el.sharingSection])
    show(s, false);
}

function setBusy(b: boolean) {
  busy = b;
  renderButtons();
}

function renderButtons() {
  const nothing = !state || state.claimable === 0n;
  el.claim.disabled = busy || nothing;
  el.claimTo.disabled = busy || nothing;
  el.recipient.disabled = busy || nothing;
  el.activate.disabled = busy;
  el.claim.textContent = nothing ? "Nothing to claim" : `Claim ${formatAmount(state!.claimable)} DIMO`;
}

function render(s: AccountState) {
  state = s;
  setWei(el.claimable, s.claimable);
  setWei(el.claimed, s.claimed);
  setWei(el.balance, s.balance);
  el.activeWeek.textContent = s.active ? `week ${s.active.week}` : "none yet";
  const checkedBy = s.active?.file.checkedBy;
  el.checkedBy.dataset.by = checkedBy ?? "";
  el.checkedBy.textContent = checkedBy
    ? "these amounts match what was published on the blockchain"
    : "nothing to check yet";
  el.howChecked.textContent =
    checkedBy === "content hash"
      ? "The week's file was read whole and its SHA-256 equals the content hash posted on chain with the week's root; your Merkle proof from that file reaches the root. The page shows no amount the chain does not commit to."
      : checkedBy === "proofs"
        ? "The week's file is large, so only your line and its proof were read (HTTP range requests); your Merkle proof reaches the root published on chain, week by week. The page shows no amount the chain does not commit to."
        : "Once a week is active, its amounts are checked against the root published on chain before they are shown.";
  if (!s.active) el.claimNote.textContent = "No week has been activated yet: nothing can be claimed so far.";
  else if (s.claimable === 0n)
    el.claimNote.textContent = s.active.entry
      ? `Nothing to claim: you have claimed everything earned through week ${s.active.week}.`
      : `Nothing to claim: this account has earned no rewards through week ${s.active.week}.`;
  else el.claimNote.textContent = `Everything earned through week ${s.active.week}, minus what you already claimed.`;
  show(el.claimSection, true);

  // The pending week: in its challenge window, or ready for anyone to activate.
  const p = s.pending;
  show(el.pendingSection, !!p);
  if (p) {
    const earned = p.entry?.weekWei ?? 0n;
    const ready = s.chainTime >= p.activatesAt;
    const what =
      earned > 0n
        ? `Week ${p.week} adds ${readableAmount(earned)} DIMO for you (${exactAmountText(earned)}).`
        : `Week ${p.week} adds nothing for you.`;
    el.pendingText.textContent = ready
      ? `${what} Its challenge window ended ${formatTime(p.activatesAt)}: anyone can activate it now.`
      : `${what} It can be challenged until ${formatTime(p.activatesAt)} and becomes claimable once activated after that.`;
    el.pendingSection.dataset.week = String(p.week);
    el.pendingSection.dataset.wei = earned.toString();
    show(el.activate, ready);
    el.activate.textContent = `Activate week ${p.week}`;
  }

  el.history.replaceChildren(
    ...s.history.map((h) => {
      const tr = document.createElement("tr");
      tr.dataset.week = String(h.week);
      const label = { claimed: "Claimed", claimable: "Claimable", pending: "In challenge window" }[h.status];
      const cells: [string, string | bigint][] = [
        ["Week", String(h.week)],
        ["Earned (DIMO)", h.earnedWei],
        ["Cumulative (DIMO)", h.cumulativeWei],
        ["Status", label],
      ];
      for (const [name, value] of cells) {
        const td = document.createElement("td");
        td.dataset.label = name;
        if (typeof value === "bigint") {
          td.dataset.wei = value.toString();
          td.textContent = readableAmount(value);
          td.title = exactAmountText(value);
        } else td.textContent = value;
        tr.append(td);
      }
      tr.lastElementChild!.className = `st-${h.status}`;
      tr.append(sourcesCell(h));
      return tr;
    }),
  );
  renderChart(s.history);
  show(el.historySection, s.history.length > 0 || s.olderWeeks > 0);
  show(el.moreWeeks, s.olderWeeks > 0);
  el.moreWeeks.textContent = `Show earlier weeks (${s.olderWeeks} more)`;

  el.vehicles.replaceChildren(
    ...s.vehicles.map((v) => {
      const li = document.createElement("li");
      li.dataset.vehicle = v.id.toString();
      const name = document.createElement("span");
      name.className = "vehicle-name";
      name.textContent = `#${v.id} · ${v.label}`;
      const earned = document.createElement("span");
      earned.className = "muted";
      earned.textContent = s.active ? `week ${s.active.week}: ${readableAmount(v.lastWeekWei)} DIMO` : "";
      earned.title = exactAmountText(v.lastWeekWei);
      li.append(name, earned);
      if (s.active && v.lastWeekWei === 0n) {
        const why = document.createElement("p");
        why.className = "why-zero muted";
        why.textContent =
          "Earned nothing that week: a vehicle earns when it has a paired DIMO device or a connected car app and is driven during the week. Pair or connect it, and next week counts.";
        li.append(why);
      }
      return li;
    }),
  );
  if (s.vehicles.length === 0) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "No vehicles registered to this account.";
    el.vehicles.replaceChildren(li);
  }
  show(el.vehiclesSection, true);
  renderButtons();
}

const SOURCE_LABELS: Record<Source, string> = {
  baseline: "Baseline",
  streak: "Streak",
  green: "Green",
  referrals: "Referrals",
  compensation: "Compensation",
  dataUse: "Data use",
};

/**
 * A week's "By source" cell: a list of source and amount, readable with the exact amount and wei on hover (as
 * the other cells of the row). Every source has an item carrying `data-source` and `data-wei`; the zero ones are
 * hidden, so a driver reads only what paid them and a test can still read all six.
 */
function sourcesCell(h: HistoryRow): HTMLTableCellElement {
  const td = document.createElement("td");
  td.dataset.label = "By source";
  td.className = "by-source";
  if (!h.sources) {
    td.textContent = `Not available: ${h.sourcesError ?? "no breakdown"}`;
    td.classList.add("muted", "unavailable");
    return td;
  }
  const dl = document.createElement("dl");
  dl.className = "sources";
  dl.setAttribute("aria-label", `Week ${h.week} earnings by source`);
  for (const source of SOURCES) {
    const wei = h.sources[source];
    const item = document.createElement("div");
    item.dataset.source = source;
    item.dataset.wei = wei.toString();
    item.hidden = wei === 0n;
    const dt = document.createElement("dt");
    dt.textContent = SOURCE_LABELS[source];
    const dd = document.createElement("dd");
    dd.textContent = readableAmount(wei);
    dd.title = exactAmountText(wei);
    item.append(dt, dd);
    dl.append(item);
  }
  td.append(dl);
  return td;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** A bar per week shown (oldest on the left), its height the week's earnings; each bar's title is exact. */
function renderChart(history: { week: number; earnedWei: bigint }[]) {
  const weeks = [...history].sort((x, y) => x.week - y.week);
  const max = weeks.reduce((m, h) => (h.earnedWei > m ? h.earnedWei : m), 0n);
  const W = 320;
  const H = 80;
  const gap = 4;
  const bw = weeks.length === 0 ? 0 : Math.max(4, (W - gap * (weeks.length + 1)) / weeks.length);
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H + 18}`);
  svg.setAttribute("role", "img");
  svg.setAttribute(
    "aria-label",
    `Weekly earnings: ${weeks.map((h) => `week ${h.week} ${readableAmount(h.earnedWei)} DIMO`).join(", ")}`,
  );
  weeks.forEach((h, i) => {
    // Scaled in bigint first (amounts exceed 2^53 wei), then to pixels.
    const height =
      max === 0n ? 0 : Math.max(h.earnedWei > 0n ? 2 : 0, Number((h.earnedWei * 1000n) / max) * (H / 1000));
    const x = gap + i * (bw + gap);
    const bar = document.createElementNS(SVG_NS, "rect");
    bar.setAttribute("x", String(x));
    bar.setAttribute("y", String(H - height));
    bar.setAttribute("width", String(bw));
    bar.setAttribute("height", String(height));
    bar.setAttribute("class", "chart-bar");
    bar.dataset.week = String(h.week);
    const title = document.createElementNS(SVG_NS, "title");
    title.textContent = `Week ${h.week}: ${readableAmount(h.earnedWei)} DIMO (${exactAmountText(h.earnedWei)})`;
    bar.append(title);
    const label = document.createElementNS(SVG_NS, "text");
    label.setAttribute("x", String(x + bw / 2));
    label.setAttribute("y", String(H + 14));
    label.setAttribute("text-anchor", "middle");
    label.setAttribute("class", "chart-label");
    label.textContent = String(h.week);
    svg.append(bar, label);
  });
  el.chart.replaceChildren(svg);
  show(el.chart, weeks.length > 0);
}

function freshProvider(): BrowserProvider {
  const p = new BrowserProvider(eth()!);
  p.pollingInterval = 1000;
  return p;
}

async function contracts(): Promise<Contracts> {
  return contractsOf(record!, freshProvider());
}

/** Re-reads everything for the connected account; shows the wrong-network state instead when needed. */
async function refresh(): Promise<void> {
  const my = ++generation;
  if (!record) return;
  const wallet = eth();
  if (!wallet) {
    account = undefined;
    state = undefined;
    renderWallets();
    show(el.account, false);
    hideAccountSections();
    show(el.loading, false);
    if (wallets.length === 0)
      alertMessage(
        "No wallet found. Install a browser wallet (any EIP-1193 wallet, e.g. MetaMask), then reload this page.",
        { reason: "no-wallet" },
      );
    return;
  }
  let accounts: string[];
  let chainId: number;
  try {
    accounts = (await wallet.request({ method: "eth_accounts" })) as string[];
    chainId = Number(await wallet.request({ method: "eth_chainId" }));
  } catch (e) {
    if (my !== generation) return;
    show(el.loading, false);
    alertMessage(`Your wallet did not answer (${(e as Error).message}). Unlock it, then reload this page.`);
    return;
  }
  if (my !== generation) return;
  account = accounts[0] ? getAddress(accounts[0]) : undefined;
  renderWallets();
  show(el.account, !!account);
  el.account.textContent = account ? shortAddress(account) : "";
  el.account.title = account ?? "";
  if (!account) {
    state = undefined;
    hideAccountSections();
    show(el.loading, false);
    alertMessage(undefined);
    return;
  }
  if (chainId !== record.chainId) {
    hideAccountSections();
    show(el.loading, false);
    alertMessage(
      `Wrong network: your wallet is on chain ${chainId}; DIMO rewards on ${NETWORK} are on chain ${record.chainId}.`,
      { switchNetwork: true, reason: "wrong-network" },
    );
    return;
  }
  // "Loading…" only before the first load; a shown alert stays until a load succeeds (no blinking on retries).
  if (el.alert.dataset.reason === "wrong-network") alertMessage(undefined);
  show(el.loading, !state && el.alert.hidden);
  try {
    const s = await loadAccount(await contracts(), account, historyWeeks);
    if (my !== generation) return;
    alertMessage(undefined);
    render(s);
    // The rewards are shown whatever happens to the data-sharing view: its failure is said in its own card.
    await renderSharing(s, my).catch((e: unknown) => {
      if (my !== generation) return;
      el.grantsBody.replaceChildren();
      el.noGrants.hidden = false;
      el.noGrants.textContent = `Could not load the grants on your vehicles. ${(e as Error).message}`;
      show(el.sharingSection, true);
    });
  } catch (e) {
    if (my !== generation) return;
    hideAccountSections();
    alertMessage(`Could not load your rewards. ${(e as Error).message}`);
  } finally {
    if (my === generation) show(el.loading, false);
  }
}

/** One "Connect" button per wallet found (just "Connect wallet" when there is one), while not connected. */
function renderWallets() {
  const buttons = account
    ? []
    : wallets.map((w) => {
        const b = document.createElement("button");
        b.type = "button";
        b.dataset.wallet = w.id;
        b.className = "connect";
        if (w.icon) {
          const img = document.createElement("img");
          img.src = w.icon;
          img.alt = "";
          img.width = img.height = 20;
          b.append(img);
        }
        b.append(wallets.length === 1 ? "Connect wallet" : `Connect ${w.name}`);
        b.addEventListener("click", () => void connect(w, b));
        return b;
      });
  el.wallets.replaceChildren(...buttons);
  show(el.intro, !account);
}

const listening = new Set<WalletChoice>();
let userChose = false;

/** The wallet to use: the one chosen last time, else the only one; with several, the driver picks. */
function pickWallet() {
  if (userChose) return;
  const pick = rememberedWallet(wallets) ?? (wallets.length === 1 ? wallets[0] : undefined);
  if (pick) useWallet(pick);
  else chosen = undefined;
}

function useWallet(w: WalletChoice) {
  chosen = w;
  if (listening.has(w)) return;
  listening.add(w);
  w.provider.on?.("accountsChanged", () => {
    if (chosen !== w) return;
    state = undefined;
    status(undefined);
    void refresh();
  });
  w.provider.on?.("chainChanged", () => {
    if (chosen !== w) return;
    state = undefined;
    void refresh();
  });
}

async function connect(w: WalletChoice, button: HTMLButtonElement) {
  userChose = true;
  useWallet(w);
  button.disabled = true;
  try {
    await w.provider.request({ method: "eth_requestAccounts" });
    rememberWallet(w);
    status(undefined);
  } catch (e) {
    const f = explain(e);
    status(f.kind, f.kind === "rejected" ? "You declined to connect your wallet." : f.message);
  } finally {
    button.disabled = false;
  }
  await refresh();
}

async function switchNetwork() {
  try {
    await eth()!.request({
      method: "wallet_switchEthereumChain",
      params: [{ chainId: `0x${record!.chainId.toString(16)}` }],
    });
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (code === 4902)
      alertMessage(`Your wallet does not know chain ${record!.chainId} (${NETWORK}). Add it in your wallet first.`, {
        switchNetwork: true,
      });
    else
      status(
        code === 4001 ? "rejected" : "failed",
        code === 4001 ? "You declined to switch networks." : String((e as Error).message),
      );
    return;
  }
  await refresh();
}

/** Sends one transaction through the wallet and follows it to its receipt, saying what happens. */
async function send(what: string, make: (c: Contracts) => Promise<ContractTransactionResponse>, done: string) {
  if (busy) return;
  setBusy(true);
  const c = await contracts();
  try {
    status("waiting", `Confirm ${what} in your wallet…`);
    const tx = await make(c);
    status(
      "pending",
      `${what[0].toUpperCase()}${what.slice(1)} sent (${shortAddress(tx.hash)}); waiting for confirmation…`,
    );
    el.status.dataset.tx = tx.hash;
    const receipt = await tx.wait();
    status("success", `${done} Confirmed in block ${receipt!.blockNumber}.`);
  } catch (e) {
    const f = explain(e);
    status(f.kind, f.message);
  } finally {
    setBusy(false);
  }
  await refresh();
}

const DAY = 86400; // seconds

/** The "Data sharing" view: the live grants on the account's vehicles, read from the chain. */
async function renderSharing(s: AccountState, my: number) {
  const provider = freshProvider();
  const sc = sharingContractsOf(record!, provider);
  if (!sc) return show(el.sharingSection, false);
  // From DataAccess's deployment block, in ranges when the RPC caps eth_getLogs (as the rewards views read).
  const from = record!.contracts.DataAccess?.blockNumber ?? 0;
  const latest = await provider.getBlockNumber();
  const grants = await loadGrants(
    sc,
    s.vehicles.map((v) => v.id),
    (query) => logsIn(from, latest, query),
  );
  if (my !== generation) return;
  el.grantsBody.replaceChildren(
    ...grants.map((g) => {
      const tr = document.createElement("tr");
      tr.dataset.vehicle = g.vehicleId.toString();
      tr.dataset.consumer = g.consumer;
      const cs = g.consumerState;
      const frozen = cs.frozenUntil > s.chainTime;
      const expired = g.expiresAt <= s.chainTime;
      const cells = [
        `#${g.vehicleId}`,
        shortAddress(g.consumer),
        dataTypeNames(g.permissions).join(", "),
        `${expired ? "expired " : ""}${utcDay(g.expiresAt)}`,
        `${readableAmount(cs.staked)} DIMO · ${frozen ? "frozen" : cs.covered ? "covers its grants" : "does not cover its grants"}`,
      ];
      const names = ["vehicle", "consumer", "types", "expires", "stake"];
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.dataset.field = names[i];
        td.textContent = text;
        if (i === 1) td.title = g.consumer;
        if (i === 3) td.dataset.expiresAt = String(g.expiresAt);
        if (i === 4) td.dataset.stakeWei = cs.staked.toString();
        tr.append(td);
      });
      const actions = document.createElement("td");
      const extend = rowButton(
        "extend",
        "Extend 30 days",
        `Extend the grant of vehicle #${g.vehicleId} to ${g.consumer} by 30 days`,
        () => {
          const until = Math.max(g.expiresAt, s.chainTime) + 30 * DAY;
          void send(
            `the extension of vehicle #${g.vehicleId}'s grant`,
            async (c) => (await sharingSigner(c)).access.grant(g.vehicleId, g.consumer, g.permissions, until),
            `Extended the grant of vehicle #${g.vehicleId} until ${utcDay(until)}.`,
          );
        },
      );
      const revoke = rowButton(
        "revoke",
        "Revoke",
        `Revoke the grant of vehicle #${g.vehicleId} to ${g.consumer}`,
        () => {
          void send(
            `the revocation of vehicle #${g.vehicleId}'s grant`,
            async (c) => (await sharingSigner(c)).access.revoke(g.vehicleId, g.consumer),
            `Revoked ${shortAddress(g.consumer)}'s access to vehicle #${g.vehicleId}.`,
          );
        },
      );
      actions.append(extend, revoke);
      tr.append(actions);
      return tr;
    }),
  );
  show(el.grantsTable, grants.length > 0);
  el.noGrants.textContent = "No consumer has access to your vehicles.";
  show(el.noGrants, grants.length === 0);
  const chosenVehicle = el.grantVehicle.value;
  el.grantVehicle.replaceChildren(
    ...s.vehicles.map((v) => {
      const o = document.createElement("option");
      o.value = v.id.toString();
      o.textContent = `#${v.id} · ${v.label}`;
      return o;
    }),
  );
  if (chosenVehicle) el.grantVehicle.value = chosenVehicle;
  if (el.grantTypes.querySelectorAll("input").length === 0)
    for (const t of DATA_TYPES) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = t.name;
      box.name = "data-type";
      label.append(box, ` ${t.name}`);
      label.title = t.description;
      el.grantTypes.append(label);
    }
  show(el.grantForm, s.vehicles.length > 0);
  renderAccessLogs(s);
  show(el.sharingSection, true);
}

/** Whether the page was built with a data node (`DIMO_APP_NODE`): only then are the access-log panels shown. */
const WITH_NODE: boolean = __DIMO_NODE__;

/** The owner's sign-in at the data node (one for all their vehicles), dropped when the account changes. */
let ownerToken: OwnerToken | undefined;
/** The access-log panels of `panelsAccount`'s vehicles by id: kept across refreshes, so a shown log stays shown. */
const panels = new Map<string, HTMLElement>();
let panelsAccount: string | undefined;

/** A "Who read this vehicle's data" panel per vehicle of the account (the same nodes again on a refresh). */
function renderAccessLogs(s: AccountState) {
  if (!WITH_NODE || !account) return show(el.accessLogs, false);
  if (panelsAccount !== account) {
    panels.clear();
    panelsAccount = account;
  }
  const ids = new Set(s.vehicles.map((v) => v.id.toString()));
  for (const id of [...panels.keys()]) if (!ids.has(id)) panels.delete(id);
  el.accessLogList.replaceChildren(
    ...s.vehicles.map((v) => {
      const id = v.id.toString();
      let panel = panels.get(id);
      if (!panel) {
        panel = accessLogPanel(v.id, v.label);
        panels.set(id, panel);
      }
      return panel;
    }),
  );
  show(el.accessLogs, s.vehicles.length > 0);
}

function accessLogPanel(vehicleId: bigint, label: string): HTMLElement {
  const panel = document.createElement("section");
  panel.className = "access-log";
  panel.dataset.vehicle = vehicleId.toString();
  const heading = document.createElement("h4");
  heading.id = `access-log-heading-${vehicleId}`;
  heading.textContent = `Who read this vehicle's data: #${vehicleId} · ${label}`;
  panel.setAttribute("aria-labelledby", heading.id);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.dataset.action = "access-log";
  button.textContent = "Sign in and show who read it";
  button.setAttribute("aria-label", `Show who read vehicle #${vehicleId}'s data`);
  const message = document.createElement("p");
  message.className = "access-log-message";
  message.setAttribute("role", "status");
  message.hidden = true;
  const table = document.createElement("table");
  table.className = "access-log-table";
  table.hidden = true;
  const head = document.createElement("thead");
  const hr = document.createElement("tr");
  for (const name of ["Consumer", "Data types", "Data from – to", "Read at", "Values returned"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = name;
    hr.append(th);
  }
  head.append(hr);
  table.append(head, document.createElement("tbody"));
  panel.append(heading, button, message, table);
  button.addEventListener("click", () => void showAccessLog(panel, vehicleId));
  return panel;
}

type PanelState = "working" | "rejected" | "failed" | "empty" | "loaded";

function panelMessage(panel: HTMLElement, kind: PanelState, text: string) {
  const m = panel.querySelector<HTMLElement>(".access-log-message")!;
  m.dataset.state = kind;
  m.textContent = text;
  m.hidden = false;
}

/** Signs the owner in when needed (the wallet's `personal_sign`), then reads and shows the vehicle's access log. */
async function showAccessLog(panel: HTMLElement, vehicleId: bigint) {
  const button = panel.querySelector<HTMLButtonElement>("button[data-action=access-log]")!;
  const table = panel.querySelector<HTMLTableElement>("table")!;
  const me = account;
  // Busy by a flag, not `disabled`: a disabled button loses the keyboard focus, and the owner presses it again.
  if (!me || !record || panel.dataset.busy === "1") return;
  panel.dataset.busy = "1";
  button.setAttribute("aria-disabled", "true");
  const base = nodeBase(location.href);
  const signedIn = async (): Promise<OwnerToken> => {
    if (ownerToken?.owner === me) return ownerToken;
    panelMessage(panel, "working", "Confirm the sign-in message in your wallet…");
    ownerToken = await signIn({
      base,
      page: { host: location.host, origin: location.origin, chainId: record!.chainId },
      account: me,
      sign: async (message) =>
        (await eth()!.request({ method: "personal_sign", params: [hexlify(toUtf8Bytes(message)), me] })) as string,
    });
    return ownerToken;
  };
  try {
    let token = await signedIn();
    panelMessage(panel, "working", "Reading the access log…");
    let log: Awaited<ReturnType<typeof loadAccessLog>>;
    try {
      log = await loadAccessLog(base, token.token, vehicleId);
    } catch (e) {
      // An expired token (900 s): sign in once more.
      if (!(e instanceof NodeRequestError) || !e.code.startsWith("TOKEN_")) throw e;
      ownerToken = undefined;
      token = await signedIn();
      log = await loadAccessLog(base, token.token, vehicleId);
    }
    if (account !== me) return;
    drawAccessLog(table, log.entries);
    if (log.entries.length === 0) panelMessage(panel, "empty", "No one has read this vehicle's data since you own it.");
    else
      panelMessage(
        panel,
        "loaded",
        `${log.entries.length} ${log.entries.length === 1 ? "read" : "reads"}, newest first` +
          (log.truncated ? ` (the newest ${log.entries.length} only)` : "") +
          ".",
      );
    button.textContent = "Refresh";
  } catch (e) {
    if (account !== me) return;
    table.hidden = true;
    table.tBodies[0].replaceChildren();
    const said = explainNodeError(e);
    if (said !== undefined) panelMessage(panel, "failed", said);
    else {
      const f = explain(e);
      panelMessage(
        panel,
        f.kind,
        f.kind === "rejected"
          ? "You declined to sign in, so the access log is not shown: only the vehicle's owner sees it, after signing in."
          : `Your wallet could not sign the sign-in message. ${f.message}`,
      );
    }
  } finally {
    delete panel.dataset.busy;
    button.removeAttribute("aria-disabled");
  }
}

/** One row per read, newest first: consumer, data types, the time range of the data, when, values returned. */
function drawAccessLog(table: HTMLTableElement, entries: readonly AccessLogEntry[]) {
  table.tBodies[0].replaceChildren(
    ...[...entries].reverse().map((e) => {
      const tr = document.createElement("tr");
      tr.dataset.seq = String(e.seq);
      tr.dataset.consumer = e.consumer;
      // field, column label, text, and the exact values behind the text (data attributes; a title for the address)
      const cells: [string, string, string, Record<string, string>][] = [
        ["consumer", "Consumer", shortAddress(e.consumer), {}],
        ["signals", "Data types", e.signals.join(", "), {}],
        [
          "range",
          "Data from – to",
          `${formatTime(e.from)} – ${formatTime(e.to)}`,
          { from: `${e.from}`, to: `${e.to}` },
        ],
        ["at", "Read at", formatTime(e.at), { at: `${e.at}` }],
        ["size", "Values returned", String(e.resultSize), { resultSize: `${e.resultSize}` }],
      ];
      for (const [field, label, text, data] of cells) {
        const td = document.createElement("td");
        Object.assign(td.dataset, { field, label, ...data });
        td.textContent = text;
        if (field === "consumer") td.title = e.consumer;
        tr.append(td);
      }
      return tr;
    }),
  );
  table.hidden = entries.length === 0;
}

/** A grant row's action button: its visible text, the accessible label naming the grant, `data-action`. */
function rowButton(action: string, text: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "secondary";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.dataset.action = action;
  b.addEventListener("click", onClick);
  return b;
}

/** The UTC day (YYYY-MM-DD) of a chain time in seconds. */
function utcDay(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

async function sharingSigner(c: Contracts) {
  return sharingContractsOf(record!, await signerOf(c))!;
}

async function grantAccess(ev: SubmitEvent) {
  ev.preventDefault();
  const s = state;
  if (!s) return;
  const consumer = el.grantConsumer.value.trim();
  if (!isAddress(consumer)) {
    status("failed", "The consumer address is not a valid address (0x followed by 40 hex digits).");
    return;
  }
  const types = [...el.grantTypes.querySelectorAll<HTMLInputElement>("input:checked")].map((b) => b.value);
  if (types.length === 0) {
    status("failed", "Choose at least one data type to share.");
    return;
  }
  const days = Number(el.grantDays.value);
  if (!Number.isInteger(days) || days < 1) {
    status("failed", "Days must be a whole number of at least 1.");
    return;
  }
  const vehicleId = BigInt(el.grantVehicle.value);
  const until = s.chainTime + days * DAY;
  await send(
    `the grant of vehicle #${vehicleId} to ${shortAddress(consumer)}`,
    async (c) => (await sharingSigner(c)).access.grant(vehicleId, getAddress(consumer), permissionsOf(types), until),
    `Granted ${shortAddress(consumer)} access to vehicle #${vehicleId} (${types.join(", ")}) for ${days} days.`,
  );
}

async function signerOf(c: Contracts) {
  return (c.distributor.runner as BrowserProvider).getSigner(account);
}

async function claim() {
  const s = state;
  if (!s || s.claimable === 0n || !account) return;
  const amount = formatAmount(s.claimable);
  await send(
    `the claim of ${amount} DIMO`,
    async (c) => {
      const args = s.active!.entry!.claim;
      const d = c.distributor.connect(await signerOf(c));
      return d.claim(account!, args.cumulativeWei, args.anchor, args.proof);
    },
    `Claimed ${amount} DIMO to your wallet.`,
  );
}

function recipientValue(): string | undefined {
  const v = el.recipient.value.trim();
  let problem: string | undefined;
  if (v === "") problem = "Enter the address that should receive the DIMO.";
  else if (!isAddress(v)) problem = `"${v}" is not an address (0x followed by 40 hex digits).`;
  else if (getAddress(v) === ZeroAddress) problem = "The zero address cannot receive rewards.";
  el.recipientError.textContent = problem ?? "";
  el.recipient.setAttribute("aria-invalid", String(!!problem));
  if (problem) {
    el.recipient.focus();
    return undefined;
  }
  return getAddress(v);
}

async function claimTo(ev: SubmitEvent) {
  ev.preventDefault();
  const s = state;
  if (!s || s.claimable === 0n) return;
  const to = recipientValue();
  if (!to) return;
  const amount = formatAmount(s.claimable);
  await send(
    `the claim of ${amount} DIMO to ${shortAddress(to)}`,
    async (c) => {
      const args = s.active!.entry!.claim;
      const d = c.distributor.connect(await signerOf(c));
      return d.claimTo(args.cumulativeWei, args.anchor, args.proof, to);
    },
    `Claimed ${amount} DIMO to ${to}.`,
  );
}

async function activate() {
  const week = state?.pending?.week;
  await send(
    `the activation of week ${week}`,
    async (c) => c.distributor.connect(await signerOf(c)).activateRoot(),
    `Week ${week} is active.`,
  );
}

async function start() {
  el.switchNetwork.addEventListener("click", () => void switchNetwork());
  el.claim.addEventListener("click", () => void claim());
  el.claimToForm.addEventListener("submit", (ev) => void claimTo(ev));
  el.grantForm.addEventListener("submit", (ev) => void grantAccess(ev));
  el.activate.addEventListener("click", () => void activate());
  el.moreWeeks.addEventListener("click", () => {
    historyWeeks += HISTORY_PAGE;
    void refresh();
  });
  el.recipient.addEventListener("input", () => {
    el.recipientError.textContent = "";
    el.recipient.removeAttribute("aria-invalid");
  });
  try {
    record = await loadRecord();
  } catch (e) {
    show(el.loading, false);
    alertMessage(`The page is missing its deployment record. ${(e as Error).message}`);
    return;
  }
  const c = record.contracts;
  el.footer.textContent =
    `Network ${NETWORK} (chain ${record.chainId}) · RewardDistributor ${c.RewardDistributor.address} · ` +
    `DIMO ${c.DimoToken.address}`;
  const found = (list: WalletChoice[]) => {
    wallets = list;
    if (wallets.length > 0 && el.alert.dataset.reason === "no-wallet") alertMessage(undefined);
    pickWallet();
    void refresh();
  };
  // Keep up with the chain while the page is in view (a week activated, a claim from another device).
  setInterval(() => {
    if (account && !busy && document.visibilityState === "visible") void refresh();
  }, AUTO_REFRESH_MS);
  document.addEventListener("visibilitychange", () => {
    if (account && !busy && document.visibilityState === "visible") void refresh();
  });
  if (__DIMO_DEV_RPC__) installDevWallet(__DIMO_DEV_RPC__);
  wallets = watchWallets(found);
  found(wallets);
}

void start();
