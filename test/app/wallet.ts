/// <reference lib="dom" />
/**
 * A test wallet for the claim page: an EIP-1193 provider injected into the page (`window.ethereum`) whose
 * requests are answered in Node by the Hardhat network, for one of its accounts. The test decides what a
 * person would: whether to connect, which chain the wallet is on, and whether to reject the next request.
 */
import type { Page } from "playwright-core";

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

export interface WalletRpcError {
  code: number;
  message: string;
  data?: unknown;
}

export class TestWallet {
  /** The chain the wallet is on (the page must see it through `eth_chainId`). */
  chainId = 31337;
  connected = false;
  /** The next `eth_sendTransaction` / `eth_requestAccounts` is rejected by "the user" (EIP-1193 code 4001). */
  rejectNext = false;
  /** Like many public RPCs: refuse `eth_getLogs` over more than this many blocks. */
  maxLogBlocks?: number;
  /** The wallet is locked or broken: every request fails with an internal error. */
  broken = false;
  /**
   * Opt-in: `personal_sign` and `eth_sign` are signed with the wallet's account by the Hardhat network (whose
   * accounts are unlocked; `rejectNext` refuses one like a transaction). Off by default: the wallet refuses them
   * (4200), so a page that asks for a signature where it should not fails its tests.
   */
  signsMessages = false;
  /** Every method the page called, in order. */
  readonly calls: string[] = [];
  private readonly pages: Page[] = [];

  /**
   * `announce`: the wallet announces itself through EIP-6963 under this name and reverse-DNS id (and then, like
   * a modern wallet beside others, does not claim `window.ethereum`); without it, it is `window.ethereum`.
   */
  constructor(
    private readonly node: Eip1193,
    public account: string,
    readonly announce?: { name: string; rdns: string },
    private readonly nodeChainId = 31337,
  ) {}

  private get binding(): string {
    return `__testWallet_${(this.announce?.rdns ?? "injected").replace(/\W/g, "_")}`;
  }

  /** Injects the provider into `page` (before any of its scripts run). */
  async install(page: Page): Promise<void> {
    this.pages.push(page);
    await page.exposeBinding(this.binding, (_source, method: string, params: unknown[]) => this.answer(method, params));
    await page.addInitScript(
      ([binding, announce]) => {
        const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
        const w = window as unknown as Record<string, unknown> & { ethereum?: unknown };
        const call = w[binding] as (
          method: string,
          params: unknown[],
        ) => Promise<{ result?: unknown; error?: WalletRpcError }>;
        w[`${binding}_emit`] = (event: string, value: unknown) => listeners.get(event)?.forEach((fn) => fn(value));
        const provider = {
          async request({ method, params }: { method: string; params?: unknown[] }) {
            const r = await call(method, params ?? []);
            if (r.error) throw Object.assign(new Error(r.error.message), r.error);
            return r.result;
          },
          on(event: string, fn: (...args: unknown[]) => void) {
            if (!listeners.has(event)) listeners.set(event, new Set());
            listeners.get(event)!.add(fn);
          },
          removeListener(event: string, fn: (...args: unknown[]) => void) {
            listeners.get(event)?.delete(fn);
          },
        };
        if (!announce) {
          w.ethereum = provider;
          return;
        }
        const info = { uuid: crypto.randomUUID(), name: announce.name, rdns: announce.rdns, icon: "" };
        const detail = Object.freeze({ info: Object.freeze(info), provider });
        const announceIt = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
        window.addEventListener("eip6963:requestProvider", announceIt);
        announceIt();
      },
      [this.binding, this.announce ?? null] as const,
    );
  }

  /** Emits a wallet event (`accountsChanged`, `chainChanged`) in every page the wallet is installed in. */
  async emit(event: "accountsChanged" | "chainChanged", value: unknown): Promise<void> {
    for (const p of this.pages)
      await p.evaluate(([fn, e, v]) => (window as any)[fn](e, v), [`${this.binding}_emit`, event, value] as const);
  }

  async switchAccount(account: string): Promise<void> {
    this.account = account;
    await this.emit("accountsChanged", [account]);
  }

  private rejected(): { error: WalletRpcError } {
    this.rejectNext = false;
    return { error: { code: 4001, message: "User rejected the request." } };
  }

  private async answer(method: string, params: unknown[]): Promise<{ result?: unknown; error?: WalletRpcError }> {
    this.calls.push(method);
    if (this.broken) return { error: { code: -32603, message: "The wallet is locked" } };
    switch (method) {
      case "eth_accounts":
        return { result: this.connected ? [this.account] : [] };
      case "eth_requestAccounts":
        if (this.rejectNext) return this.rejected();
        this.connected = true;
        return { result: [this.account] };
      case "eth_chainId":
        return { result: `0x${this.chainId.toString(16)}` };
      case "net_version":
        return { result: String(this.chainId) };
      case "wallet_switchEthereumChain": {
        const target = Number((params[0] as { chainId: string }).chainId);
        if (target !== this.nodeChainId) return { error: { code: 4902, message: "Unrecognized chain ID." } };
        this.chainId = target;
        // A wallet answers first, then tells the page.
        setTimeout(() => void this.emit("chainChanged", `0x${target.toString(16)}`), 0);
        return { result: null };
      }
      case "eth_sendTransaction": {
        if (!this.connected) return { error: { code: 4100, message: "Unauthorized." } };
        if (this.rejectNext) return this.rejected();
        const tx = params[0] as { from?: string };
        if (tx.from?.toLowerCase() !== this.account.toLowerCase())
          return { error: { code: 4100, message: `Unauthorized sender ${tx.from}.` } };
        break;
      }
      case "eth_getLogs": {
        if (this.maxLogBlocks === undefined) break;
        const f = params[0] as { fromBlock?: string; toBlock?: string };
        const latest = Number(await this.node.request({ method: "eth_blockNumber" }));
        const block = (b: string | undefined) => (b === undefined || b === "latest" ? latest : Number(b));
        if (block(f.toBlock) - block(f.fromBlock) + 1 > this.maxLogBlocks)
          return { error: { code: -32005, message: `query exceeds the limit of ${this.maxLogBlocks} blocks` } };
        break;
      }
      case "eth_sign":
      case "personal_sign": {
        if (!this.signsMessages)
          return { error: { code: 4200, message: `${method} is not supported by the test wallet.` } };
        if (!this.connected) return { error: { code: 4100, message: "Unauthorized." } };
        if (this.rejectNext) return this.rejected();
        // personal_sign is [message, address]; eth_sign is [address, message].
        const signer = String(method === "personal_sign" ? params[1] : params[0]);
        if (signer.toLowerCase() !== this.account.toLowerCase())
          return { error: { code: 4100, message: `Unauthorized signer ${signer}.` } };
        break;
      }
      case "eth_signTypedData_v4":
        return { error: { code: 4200, message: `${method} is not supported by the test wallet.` } };
    }
    try {
      return { result: await this.node.request({ method, params }) };
    } catch (e) {
      const err = e as { code?: number; message?: string; data?: unknown };
      return { error: { code: err.code ?? -32603, message: err.message ?? String(e), data: err.data } };
    }
  }
}
