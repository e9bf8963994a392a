/**
 * `npm run app`: the driver claim page against a local chain loaded with demo data, ready to click through.
 *
 * Starts `hardhat node` on 127.0.0.1 (port 8545, or `--rpc-port N`), runs the demo against it (deploy, fleet,
 * weeks of rewards; the last week is left in its challenge window), builds the page (`app/`) and serves it
 * with the demo's deployment record and distribution files on http://127.0.0.1:5173 (or `--port N`), with a
 * local demo wallet built in (app/src/dev-wallet.ts), so no wallet extension is needed. A data node on the demo's
 * store serves the page's access logs (`node/` beside the page, scripts/demo-node.ts).
 * Demo options (`--vehicles`, `--weeks`, `--seed`) work as in `npm run demo`. Ctrl-C stops everything.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { HDNodeWallet, Mnemonic } from "ethers";
import { demoOptions } from "../lib/demo/fleet";
import { InputError } from "../lib/errors";
import { formatDimoRounded, parsePositiveInt } from "../lib/units";
import { accountIndex, readDistribution } from "../lib/rewards/distribution";
import { buildApp, portInUse, previewApp } from "./app-server";
import { consentNodeContracts, startDemoNode } from "./demo-node";
import { APP_CLI, checkCliArgs, DEMO_FAIL_AT_ENV, usage } from "../lib/demo/cli-args";

const ROOT = path.resolve(__dirname, "..");
/** Hardhat's public test mnemonic: the local node's accounts (never use these keys on a real network). */
const TEST_MNEMONIC = "test test test test test test test test test test test junk";

function option(argv: string[], name: string, fallback: number): number {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const raw = argv[i].includes("=") ? argv[i].split("=")[1] : argv[i + 1];
  return parsePositiveInt(raw ?? "", { source: "npm run app", field: `--${name}` }, 65535);
}

async function startNode(port: number): Promise<ChildProcess> {
  if (await portInUse(port))
    throw new InputError(
      "npm run app",
      "--rpc-port",
      `127.0.0.1:${port} is already in use (another node?); stop it or pass --rpc-port <free port>`,
    );
  const child = spawn(
    path.join(ROOT, "node_modules", ".bin", "hardhat"),
    ["node", "--hostname", "127.0.0.1", "--port", String(port)],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, HARDHAT_NETWORK: "hardhat" } },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => {
      output += b.toString();
      if (output.includes("Started HTTP")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`hardhat node exited (${code}):\n${output}`)));
  });
  child.stdout!.removeAllListeners("data");
  child.stdout!.resume();
  return child;
}

/** Stops the node child and waits until it has exited (SIGKILL after 5 s). */
async function stopNode(node: ChildProcess): Promise<void> {
  if (node.exitCode !== null || node.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => node.once("exit", () => resolve()));
  node.kill("SIGTERM");
  const timer = setTimeout(() => node.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

async function main() {
  const argv = process.argv.slice(2);
  try {
    if (checkCliArgs(argv, APP_CLI) === "help") {
      console.log(usage(APP_CLI));
      process.exit(0);
    }
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    console.error(`\n${usage(APP_CLI)}`);
    process.exit(1);
  }
  const rpcPort = option(argv, "rpc-port", 8545);
  const port = option(argv, "port", 5173);
  const demo = demoOptions(argv, process.env);
  if (await portInUse(port))
    throw new InputError("npm run app", "--port", `127.0.0.1:${port} is already in use; pass --port <free port>`);

  const rpcUrl = `http://127.0.0.1:${rpcPort}`;
  process.env.HARDHAT_NETWORK = "localhost";
  process.env.LOCALHOST_RPC_URL = rpcUrl;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hre = require("hardhat") as HardhatRuntimeEnvironment;
  await hre.run("compile", { quiet: true });

  console.log(`Starting a local chain on ${rpcUrl} …`);
  const node = await startNode(rpcPort);
  const stops: (() => Promise<void> | void)[] = [() => stopNode(node)];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(0)));
  process.once("SIGTERM", () => void stopAll().then(() => process.exit(0)));
  try {
    const { runDemo } = await import("./demo");
    const r = await runDemo(hre, {
      ...demo,
      pendingWeek: true,
      keepDir: true,
      failAt: process.env[DEMO_FAIL_AT_ENV],
    });
    stops.push(() => fs.rmSync(r.dir, { recursive: true, force: true }));
    if (!r.ok) throw new Error("the demo did not reconcile; not serving the page");

    // The data node of the page's access-log panels, on the demo's store (its consumer's reads are logged there):
    // the page forwards `node/` to it, so it expects sign-ins for the page's host.
    const deployed = JSON.parse(fs.readFileSync(path.join(r.dir, "localhost.json"), "utf8")) as {
      chainId: number;
      contracts: Record<string, { address: string; blockNumber: number }>;
    };
    const dataNode = await startDemoNode({
      provider: hre.ethers.provider,
      chainId: deployed.chainId,
      ...consentNodeContracts(deployed.contracts),
      sqliteFile: path.join(r.dir, "telemetry.sqlite"),
      siwe: { domain: `127.0.0.1:${port}`, uri: `http://127.0.0.1:${port}` },
    });
    stops.push(() => dataNode.close());

    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-app-"));
    const data = {
      network: "localhost",
      deploymentsDir: r.dir,
      distributionsDir: r.distributionsDir,
      outDir,
      devRpc: rpcUrl,
      node: dataNode.url,
    };
    buildApp(data);
    const served = await previewApp(data, port);
    stops.push(served.stop, () => fs.rmSync(outDir, { recursive: true, force: true }));

    const distributor = await hre.ethers.getContractAt(
      "RewardDistributor",
      JSON.parse(fs.readFileSync(path.join(r.dir, "localhost.json"), "utf8")).contracts.RewardDistributor.address,
    );
    const active = readDistribution(
      path.join(r.distributionsDir, `week-${(await distributor.activeRoot()).week}.json`),
      { keepEarnings: false },
    );
    const signers = await hre.ethers.getSigners();
    const mnemonic = Mnemonic.fromPhrase(TEST_MNEMONIC);
    console.log(`\nClaim page: ${served.url}`);
    console.log(`Data node (the access logs, signed in with the wallet): ${dataNode.url}, at ${served.url}node/`);
    console.log(
      "No wallet extension needed: the page offers a local demo account (it forwards to the node, whose accounts\n" +
        "are unlocked). Open a driver's link below to be that driver. With a browser wallet instead: add the network\n" +
        `RPC ${rpcUrl}, chain id 31337, and import a key (Hardhat's public test keys: local use only).`,
    );
    console.log("Drivers (local accounts that own demo vehicles), what each can claim now:");
    for (let i = 10; i < 20; i++) {
      const a = signers[i].address;
      const key = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`).privateKey;
      const at = accountIndex(active, a);
      const due = at < 0 ? 0n : active.accounts[at].cumulativeWei - (await distributor.claimed(a));
      console.log(`  ${formatDimoRounded(due, 6).padStart(16)} DIMO  ${served.url}?as=${a}`);
      console.log(`  ${" ".repeat(21)} key ${key}`);
    }
    console.log("\nCtrl-C stops the page and the chain.");
  } catch (e) {
    await stopAll();
    throw e;
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  // Everything was stopped (node, page, bars); exit now rather than wait on anything left open.
  process.exit(1);
});
