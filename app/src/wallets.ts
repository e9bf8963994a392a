/**
 * Finding the browser's wallets: EIP-6963 (each wallet announces itself, so several can live side by side)
 * with the legacy `window.ethereum` as a fallback. The page remembers the wallet last chosen (by its
 * reverse-DNS id) so that a returning driver is not asked again.
 */

export interface WalletChoice {
  /** EIP-6963 `rdns` (e.g. "io.metamask"), or "injected" for `window.ethereum`. */
  id: string;
  name: string;
  /** A data: URI image, when the wallet gave one. */
  icon?: string;
  provider: Eip1193Provider;
}

interface AnnounceDetail {
  info: { uuid: string; name: string; icon?: string; rdns: string };
  provider: Eip1193Provider;
}

const REMEMBER_KEY = "dimo-claim.wallet";

/**
 * Asks the wallets to announce themselves and calls `onChange` with the list whenever it grows (wallets answer
 * the request at once, or announce themselves later while they load). `window.ethereum` is listed only when
 * no wallet announced itself, as it is then the same wallet under another name.
 */
export function watchWallets(onChange: (wallets: WalletChoice[]) => void): WalletChoice[] {
  const announced = new Map<string, WalletChoice>();
  const list = (): WalletChoice[] => {
    if (announced.size > 0) return [...announced.values()];
    return window.ethereum ? [{ id: "injected", name: "Browser wallet", provider: window.ethereum }] : [];
  };
  window.addEventListener("eip6963:announceProvider", (ev) => {
    const d = (ev as CustomEvent<AnnounceDetail>).detail;
    if (!d?.info?.rdns || !d.provider || announced.has(d.info.rdns)) return;
    const icon = typeof d.info.icon === "string" && d.info.icon.startsWith("data:image/") ? d.info.icon : undefined;
    announced.set(d.info.rdns, { id: d.info.rdns, name: d.info.name || d.info.rdns, icon, provider: d.provider });
    onChange(list());
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  return list();
}

/** The wallet chosen last time, if it is among `wallets`. */
export function rememberedWallet(wallets: readonly WalletChoice[]): WalletChoice | undefined {
  let id: string | null = null;
  try {
    id = localStorage.getItem(REMEMBER_KEY);
  } catch {
    // storage disabled: nothing remembered
  }
  return wallets.find((w) => w.id === id);
}

export function rememberWallet(w: WalletChoice): void {
  try {
    localStorage.setItem(REMEMBER_KEY, w.id);
  } catch {
    // storage disabled: the driver chooses again next time
  }
}
