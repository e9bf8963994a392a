/**
 * Builds the claim page (`app/`) and serves it with `vite preview`, through the Vite CLI in child processes
 * (Vite is an ES module; this repository's scripts are CommonJS). Used by `npm run app` and the browser tests.
 */
import { spawn, spawnSync } from "node:child_process";
import net from "node:net";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const VITE = path.join(ROOT, "node_modules", ".bin", "vite");
const CONFIG = path.join(ROOT, "app", "vite.config.mts");

export interface AppData {
  /** Network name baked into the page: it fetches `data/deployments/<network>.json`. */
  network: string;
  /** Folder holding `<network>.json`. */
  deploymentsDir: string;
  /** Folder holding the network's `week-<N>.json` and `.tree` files. */
  distributionsDir: string;
  /** Build output folder. */
  outDir: string;
  /** Week files up to this many bytes are read whole (checked by content hash); larger by Range requests. */
  wholeFileLimit?: number;
  /** Weeks of history the page reads at first and per "Show earlier weeks". */
  historyPage?: number;
  /** A local node URL: builds in the demo wallet that forwards to it (`npm run app` only). */
  devRpc?: string;
  /** Seconds between the page's re-reads of the chain while in view. */
  refreshSeconds?: number;
  /**
   * The data node's URL: the page shows the access logs, read from `node/` beside it, which `vite preview` forwards
   * here (so the node's SIWE domain must be the preview's host, 127.0.0.1:<port>).
   */
  node?: string;
}

function viteEnv(d: AppData): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DIMO_APP_NETWORK: d.network,
    DIMO_APP_DEPLOYMENTS: d.deploymentsDir,
    DIMO_APP_DISTRIBUTIONS: d.distributionsDir,
    DIMO_APP_OUT: d.outDir,
    ...(d.wholeFileLimit === undefined ? {} : { DIMO_APP_WHOLE_FILE_LIMIT: String(d.wholeFileLimit) }),
    ...(d.historyPage === undefined ? {} : { DIMO_APP_HISTORY_PAGE: String(d.historyPage) }),
    ...(d.devRpc === undefined ? {} : { DIMO_APP_DEV_RPC: d.devRpc }),
    ...(d.refreshSeconds === undefined ? {} : { DIMO_APP_REFRESH_SECONDS: String(d.refreshSeconds) }),
    ...(d.node === undefined ? {} : { DIMO_APP_NODE: d.node }),
    NO_COLOR: "1",
  };
}

/** `vite build` of the page into `d.outDir` (throws with Vite's output when it fails). */
export function buildApp(d: AppData): void {
  const r = spawnSync(VITE, ["build", "--config", CONFIG], { env: viteEnv(d), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something already listens on 127.0.0.1:`port`. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits until `url` answers (any HTTP status), for at most `ms`. */
export async function waitForHttp(url: string, ms: number, alive: () => boolean = () => true): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await fetch(url, { method: "HEAD" });
      return;
    } catch {
      if (!alive()) throw new Error(`${url}: the server exited`);
      if (Date.now() > until) throw new Error(`${url}: no answer within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export interface Served {
  url: string;
  stop: () => Promise<void>;
}

/** `vite preview` of a built page on 127.0.0.1:`port` (a free one by default), serving the data folders. */
export async function previewApp(d: AppData, port?: number): Promise<Served> {
  const p = port ?? (await freePort());
  const child = spawn(VITE, ["preview", "--config", CONFIG, "--port", String(p), "--strictPort"], {
    env: viteEnv(d),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (b: Buffer) => (output += b.toString()));
  child.stderr.on("data", (b: Buffer) => (output += b.toString()));
  const url = `http://127.0.0.1:${p}/`;
  try {
    await waitForHttp(url, 20_000, () => child.exitCode === null);
  } catch (e) {
    child.kill();
    throw new Error(`${(e as Error).message}\n${output}`);
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill();
      }),
  };
}
