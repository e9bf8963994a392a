#!/usr/bin/env node
/**
 * Provisions the system packages the test suite needs, from Debian's archive only (never a browser or
 * database download by a test tool). Run as `npm test`'s pretest step and by .ci/run.
 *
 *   node scripts/provision.js [provider ...]     (default: every provider in PROVIDERS)
 *
 * Each provider says which Debian packages it needs and how to tell they are present. A missing package
 * is installed with apt-get when the user may install packages (root, or passwordless sudo); otherwise
 * the script stops with one line naming the command to run. Nothing is installed when everything is
 * already present, so a provisioned machine pays one `stat` per provider.
 *
 * Adding a provider (e.g. PostgreSQL for the telemetry node's tests): add an entry to PROVIDERS with
 * `name`, `debPackages`, `present()` and, if the tests need a running service, `prepare()`. `prepare()`
 * runs after the packages are present, on every run; it may write what the tests read (for example a
 * throwaway cluster's data directory and port in an env file under a temporary directory), and must
 * not start anything that outlives the test run unless the test run stops it.
 */
"use strict";

const fs = require("node:fs");
const { spawnSync } = require("node:child_process");

/** @typedef {{ name: string, debPackages: string[], present(): boolean, describe(): string, prepare?(): void }} Provider */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** @type {Provider[]} */
const PROVIDERS = [
  {
    name: "chromium",
    // The claim page's browser tests (test/app/claim-page.test.ts) drive it through playwright-core.
    debPackages: ["chromium"],
    present: () => isExecutable(CHROMIUM),
    describe: () => run(CHROMIUM, ["--version"]).stdout.trim() || CHROMIUM,
  },
  {
    name: "postgresql",
    // The telemetry store's tests run against PostgreSQL too: test/helpers/telemetry-db.ts starts a throwaway
    // cluster on a free 127.0.0.1 port through scripts/pg-test-server.sh (unless TEST_DATABASE_URL is set) and
    // stops it when the run ends; here only the server binaries must be present.
    debPackages: ["postgresql"],
    present: () => process.env.TEST_DATABASE_URL !== undefined || postgresBin() !== undefined,
    describe: () => (process.env.TEST_DATABASE_URL ? "TEST_DATABASE_URL" : `${postgresBin()}/postgres`),
  },
];

/** The newest installed PostgreSQL server's bin directory (Debian layout), or undefined. */
function postgresBin() {
  const root = "/usr/lib/postgresql";
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => isExecutable(`${root}/${v}/bin/pg_ctl`))
    .sort((a, b) => Number(a) - Number(b));
  return versions.length === 0 ? undefined : `${root}/${versions[versions.length - 1]}/bin`;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: "utf8", ...options });
  return { status: result.error ? -1 : result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** The command prefix that lets this user install packages, or undefined when it may not. */
function installer() {
  if (!isExecutable("/usr/bin/apt-get")) return undefined;
  if (process.getuid && process.getuid() === 0) return [];
  if (run("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0) return ["sudo", "-n"];
  return undefined;
}

function aptGet(prefix, args) {
  const [cmd, ...rest] = [...prefix, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", ...args];
  const result = spawnSync(cmd, rest, { stdio: ["ignore", "ignore", "inherit"] });
  if (result.status !== 0) throw new Error(`provision: \`apt-get ${args.join(" ")}\` failed (exit ${result.status})`);
}

function main(argv) {
  const unknown = argv.filter((name) => !PROVIDERS.some((p) => p.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `provision: unknown provider ${unknown.join(", ")} (known: ${PROVIDERS.map((p) => p.name).join(", ")})`,
    );
  }
  const wanted = argv.length > 0 ? PROVIDERS.filter((p) => argv.includes(p.name)) : PROVIDERS;
  const missing = wanted.filter((p) => !p.present());
  if (missing.length > 0) {
    const packages = missing.flatMap((p) => p.debPackages);
    const prefix = installer();
    if (prefix === undefined) {
      throw new Error(
        `provision: the tests need Debian package(s) ${packages.join(" ")}, which are missing, and this user may not ` +
          `install packages; run \`sudo apt-get install -y ${packages.join(" ")}\` once, then \`npm test\` again`,
      );
    }
    console.log(`provision: installing ${packages.join(" ")} from Debian (apt-get)`);
    aptGet(prefix, ["update", "-qq"]);
    aptGet(prefix, ["install", "-y", "-qq", ...packages]);
    const still = missing.filter((p) => !p.present());
    if (still.length > 0) {
      throw new Error(
        `provision: installed ${packages.join(" ")} but ${still.map((p) => p.name).join(", ")} is still missing`,
      );
    }
  }
  for (const p of wanted) {
    p.prepare?.();
    console.log(`provision: ${p.name}: ${p.describe()}`);
  }
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
