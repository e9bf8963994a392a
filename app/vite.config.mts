/**
 * The claim page's build and its local server (`npm run app` and the browser tests drive both through the Vite CLI, see scripts/app-server.ts).
 *
 * The page is static; at run time it fetches two kinds of data files from beside itself:
 *   `data/deployments/<network>.json`      the deployment record (addresses, chain id, blocks)
 *   `data/distributions/week-<N>.json|.tree` the published weekly distribution files
 * In production they are uploaded next to the built page. Here both the dev server and `vite preview` serve
 * them from the repository (or any folder) with sirv, which answers HTTP Range requests (the page reads
 * single proof nodes from `.tree` files that way). Settings, from the environment:
 *   DIMO_APP_NETWORK        network name baked into the page (default "localhost")
 *   DIMO_APP_DEPLOYMENTS    folder holding `<network>.json` (default `deployments/`)
 *   DIMO_APP_DISTRIBUTIONS  folder holding `week-<N>.json` (default `distributions/<network>/`)
 *   DIMO_APP_WHOLE_FILE_LIMIT  week files up to this many bytes are read whole and checked against their
 *                           content hash; larger ones by Range requests and proofs (default 1048576)
 *   DIMO_APP_HISTORY_PAGE   weeks of history read at first and per "Show earlier weeks" (default 12)
 *   DIMO_APP_REFRESH_SECONDS  seconds between re-reads of the chain while the page is in view (default 15)
 *   DIMO_APP_DEV_RPC        `npm run app` only: a local node URL; builds in the demo wallet (app/src/dev-wallet.ts)
 *   DIMO_APP_NODE           the data node's URL (docs/data-api.md): the page shows each vehicle's access log, read
 *                           from `node/` beside the page, which the dev and preview servers forward to this URL. The
 *                           node is put on the page's own origin rather than called across origins with CORS: the
 *                           owner's sign-in message names the page's host (what the wallet shows and checks, and
 *                           what the node must be set to expect: its SIWE domain and URI), the bearer token and the
 *                           owner's log stay on that origin, and the node needs no CORS policy to get right. In
 *                           production the page's host forwards `node/` the same way (a reverse proxy).
 *   DIMO_APP_OUT            build output folder (default `app/dist/`)
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import sirv from "sirv";
import { defineConfig, type Connect, type Plugin } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const network = process.env.DIMO_APP_NETWORK ?? "localhost";
if (!/^[a-z0-9-]+$/.test(network))
  throw new Error(`DIMO_APP_NETWORK: expected a network name like "localhost", got "${network}"`);
const wholeFileLimit = Number(process.env.DIMO_APP_WHOLE_FILE_LIMIT ?? 1024 * 1024);
if (!Number.isSafeInteger(wholeFileLimit) || wholeFileLimit < 0)
  throw new Error(
    `DIMO_APP_WHOLE_FILE_LIMIT: expected a number of bytes, got "${process.env.DIMO_APP_WHOLE_FILE_LIMIT}"`,
  );
const historyPage = Number(process.env.DIMO_APP_HISTORY_PAGE ?? 12);
if (!Number.isSafeInteger(historyPage) || historyPage < 1)
  throw new Error(`DIMO_APP_HISTORY_PAGE: expected a number of weeks, got "${process.env.DIMO_APP_HISTORY_PAGE}"`);
const refreshSeconds = Number(process.env.DIMO_APP_REFRESH_SECONDS ?? 15);
if (!Number.isFinite(refreshSeconds) || refreshSeconds <= 0)
  throw new Error(
    `DIMO_APP_REFRESH_SECONDS: expected a number of seconds, got "${process.env.DIMO_APP_REFRESH_SECONDS}"`,
  );
const devRpc = process.env.DIMO_APP_DEV_RPC ?? "";
if (devRpc && !/^http:\/\/(127\.0\.0\.1|localhost):\d+\/?$/.test(devRpc))
  throw new Error(`DIMO_APP_DEV_RPC: expected a local node URL like http://127.0.0.1:8545, got "${devRpc}"`);
const dataNode = process.env.DIMO_APP_NODE ?? "";
if (dataNode && !/^https?:\/\/[^/?#\s]+\/?$/.test(dataNode))
  throw new Error(`DIMO_APP_NODE: expected the data node's base URL like http://127.0.0.1:8645, got "${dataNode}"`);
/** `node/…` → the data node (its routes are at its root: `/v1/…`). */
const nodeProxy = dataNode
  ? { "/node/": { target: dataNode.replace(/\/$/, ""), rewrite: (p: string) => p.slice("/node".length) } }
  : undefined;
const deployments = path.resolve(process.env.DIMO_APP_DEPLOYMENTS ?? path.join(repo, "deployments"));
const distributions = path.resolve(process.env.DIMO_APP_DISTRIBUTIONS ?? path.join(repo, "distributions", network));

/** Serves the data folders under `/data/` (no caching: a week's files appear while the server runs). */
function dimoData(): Plugin {
  const options = { dev: true, etag: true, dotfiles: false } as const;
  const mounts: [string, Connect.NextHandleFunction][] = [
    ["/data/deployments", sirv(deployments, options)],
    ["/data/distributions", sirv(distributions, options)],
  ];
  const install = (server: { middlewares: Connect.Server }) => {
    for (const [prefix, handler] of mounts) server.middlewares.use(prefix, handler);
  };
  return { name: "dimo-data", configureServer: install, configurePreviewServer: install };
}

export default defineConfig({
  root: here,
  base: "./",
  define: {
    __DIMO_NETWORK__: JSON.stringify(network),
    __DIMO_WHOLE_FILE_LIMIT__: String(wholeFileLimit),
    __DIMO_HISTORY_PAGE__: String(historyPage),
    __DIMO_DEV_RPC__: JSON.stringify(devRpc),
    __DIMO_REFRESH_SECONDS__: String(refreshSeconds),
    __DIMO_NODE__: String(dataNode !== ""),
  },
  plugins: [dimoData()],
  build: {
    outDir: path.resolve(process.env.DIMO_APP_OUT ?? path.join(here, "dist")),
    emptyOutDir: true,
    target: "es2022",
  },
  server: { host: "127.0.0.1", fs: { allow: [repo] }, proxy: nodeProxy },
  preview: { host: "127.0.0.1", proxy: nodeProxy },
  logLevel: "warn",
});
