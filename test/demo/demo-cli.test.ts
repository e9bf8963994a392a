import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import hre from "hardhat";
import { portInUse } from "../../scripts/app-server";
import { DEMO_FAIL_AT_ENV } from "../../lib/demo/cli-args";

const ROOT = hre.config.paths.root;
/** A run that has not ended by then is a hang. */
const HANG_MS = 150_000;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  hung: boolean;
}

/** Runs `npm run <script> -- <args>` as a driver would (ts-node), killing it as hung after HANG_MS. */
function runScript(script: "demo" | "app", args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [require.resolve("ts-node/dist/bin"), "--transpile-only", `scripts/${script}.ts`, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, FORCE_COLOR: "0", ...env },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      process.kill(-child.pid!, "SIGKILL");
    }, HANG_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, hung });
    });
  });
}

/** A port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const demoDirs = () => new Set(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("dimo-demo-")));

describe("npm run demo / npm run app on the command line", function () {
  this.timeout(HANG_MS + 60_000);

  for (const script of ["demo", "app"] as const) {
    it(`${script}: --help prints the usage and exits 0 without running anything`, async function () {
      const r = await runScript(script, ["--help"]);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(new RegExp(`^Usage: npm run ${script} -- \\[options\\]`));
      expect(r.stdout).to.include("--vehicles <v>");
      expect(r.stdout).not.to.include("DIMO demo on");
    });

    it(`${script}: an unknown option is named, with the usage, exit 1`, async function () {
      const r = await runScript(script, ["--vehicle", "30"]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(new RegExp(`^npm run ${script} --vehicle: unknown option \\(known: --vehicles,`));
      expect(r.stderr).to.include(`Usage: npm run ${script}`);
    });
  }

  it("demo: a step failing mid-run stops the bars and exits 1 instead of hanging; no work folder is left", async function () {
    const before = demoDirs();
    const r = await runScript("demo", ["--vehicles", "20", "--weeks", "3", "--owners", "10"], {
      [DEMO_FAIL_AT_ENV]: "week:1",
    });
    expect(r.hung, "the demo hung after the failure").to.equal(false);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include("injected failure at week 1");
    expect(r.stdout, "the telemetry node had started").to.match(/Telemetry node on http:\/\/127\.0\.0\.1:\d+ /);
    const left = [...demoDirs()].filter((d) => !before.has(d));
    expect(left, "temporary folders left behind").to.deep.equal([]);
  });

  it("app: a failed demo step kills the node child and exits 1 instead of hanging; no work folder is left", async function () {
    const before = demoDirs();
    const rpcPort = await freePort();
    const port = await freePort();
    const r = await runScript(
      "app",
      ["--vehicles", "20", "--weeks", "3", "--owners", "10", "--rpc-port", String(rpcPort), "--port", String(port)],
      { [DEMO_FAIL_AT_ENV]: "week:1" },
    );
    expect(r.hung, "npm run app hung after the failure").to.equal(false);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include("injected failure at week 1");
    expect(await portInUse(rpcPort), "the node child still listens").to.equal(false);
    const left = [...demoDirs()].filter((d) => !before.has(d));
    expect(left, "temporary folders left behind").to.deep.equal([]);
  });
});
