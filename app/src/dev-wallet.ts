/**
 * The local demo wallet of `npm run app`, so the page can be clicked through without a wallet extension.
 * It announces itself through EIP-6963 as "Local demo account" and forwards every request to the local
 * Hardhat node, whose accounts are unlocked: it holds no key and signs nothing itself. The account is the
 * `?as=0x…` address of the page's URL (`npm run app` prints one link per driver), else the node's 11th
 * account (the first demo driver).
 *
 * Built into the page only when `DIMO_APP_DEV_RPC` is set (see vite.config.mts): any other build has no trace
 * of it, and it refuses to run against a node that is not on 127.0.0.1 or localhost.
 */
import { getAddress, isAddress } from "ethers";

const CONNECTED_KEY = "dimo-claim.dev-wallet-connected";

export function installDevWallet(rpcUrl: string): void {
  const host = new URL(rpcUrl).hostname;
  if (host !== "127.0.0.1" && host !== "localhost")
    throw new Error(`the demo wallet only talks to a local node, not ${host}`);
  let id = 0;
  const rpc = async (method: string, params: unknown[] = []): Promise<unknown> => {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
    });
    const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
    if (body.error) throw Object.assign(new Error(body.error.message), body.error);
    return body.result;
  };
  const asParam = new URLSearchParams(location.search).get("as");
  let account: string | undefined = asParam && isAddress(asParam) ? getAddress(asParam) : undefined;
  const theAccount = async (): Promise<string> => {
    account ??= getAddress(((await rpc("eth_accounts")) as string[])[10]);
    return account;
  };
  const connected = () => sessionStorage.getItem(CONNECTED_KEY) === "1";
  const provider: Eip1193Provider = {
    async request({ method, params }) {
      const p = (params ?? []) as unknown[];
      switch (method) {
        case "eth_requestAccounts":
          sessionStorage.setItem(CONNECTED_KEY, "1");
          return [await theAccount()];
        case "eth_accounts":
          return connected() ? [await theAccount()] : [];
        case "wallet_switchEthereumChain": {
          const want = Number((p[0] as { chainId: string }).chainId);
          if (want !== Number(await rpc("eth_chainId")))
            throw Object.assign(new Error(`the local node is not chain ${want}`), { code: 4902 });
          return null;
        }
        case "eth_sendTransaction": {
          const from = (p[0] as { from?: string }).from;
          if (!connected() || !from || getAddress(from) !== (await theAccount()))
            throw Object.assign(new Error("Unauthorized"), { code: 4100 });
          return rpc(method, p);
        }
        default:
          return rpc(method, p);
      }
    },
  };
  const detail = Object.freeze({
    info: Object.freeze({
      uuid: "5f1f1d0e-0d1a-4c7e-9d5e-000000000031",
      name: "Local demo account",
      rdns: "local.dimo.demo",
    }),
    provider,
  });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
}
