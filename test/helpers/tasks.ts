import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { HardhatPluginError } from "hardhat/plugins";
import { InputError } from "../../lib/errors";
import { deploySuite, type DeploymentRecord } from "../../scripts/deploy-suite";
import { DEPLOYMENTS_DIR_ENV } from "../../scripts/registry-context";

/** Runs a task in process, capturing what it prints. */
export async function runTask(name: string, args: Record<string, unknown>): Promise<{ result: any; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => lines.push(parts.join(" "));
  try {
    const result = await hre.run(name, args);
    return { result, out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

/** Runs a task in process with what it prints discarded; returns its result. */
export async function runQuietly<T = unknown>(name: string, args: Record<string, unknown>): Promise<T> {
  return (await runTask(name, args)).result as T;
}

/** What `expectTaskFails` checks besides the message matching and no block being mined. */
export interface TaskFailureChecks {
  /** The error is a HardhatPluginError with a one-line message (false: any Error, any number of lines). */
  oneLinePluginError: boolean;
  /** Whose transaction counts must not move: every local signer ("all"), or the addresses listed. */
  nonces: "all" | readonly string[];
}

/** Asserts the task fails with a message matching `pattern` and sends nothing: no block is mined, no nonce moves. */
export async function expectTaskFails(
  name: string,
  args: Record<string, unknown>,
  pattern: RegExp,
  checks: TaskFailureChecks,
): Promise<Error> {
  const accounts = checks.nonces === "all" ? (await ethers.getSigners()).map((s) => s.address) : checks.nonces;
  const nonces = () => Promise.all(accounts.map((a) => ethers.provider.getTransactionCount(a)));
  const block = await ethers.provider.getBlockNumber();
  const noncesBefore = await nonces();
  let err: unknown;
  try {
    await runTask(name, args);
  } catch (e) {
    err = e;
  }
  expect(err, `${name} should fail`).to.be.instanceOf(checks.oneLinePluginError ? HardhatPluginError : Error);
  expect((err as Error).message).to.match(pattern);
  if (checks.oneLinePluginError) expect((err as Error).message).not.to.include("\n");
  expect(await ethers.provider.getBlockNumber(), "a transaction was sent").to.equal(block);
  expect(await nonces(), "nonce moved").to.deep.equal(noncesBefore);
  return err as Error;
}

/** A suite's deployment: its record and the directory DEPLOYMENTS_DIR_ENV points the tasks to. */
export interface TaskDeployment {
  dir: string;
  record: DeploymentRecord;
}

/**
 * Call in a `describe` body: registers the hooks that deploy the suite into a fresh temporary deployments directory
 * (named `prefix` + random) for the tasks to find, and that revert the chain after each test and after the suite,
 * restore DEPLOYMENTS_DIR_ENV and remove the directory. The returned object is filled in by the first `before`
 * hook; hooks the caller registers afterwards run after it.
 */
export function useTaskDeployment(prefix: string): TaskDeployment {
  const deployment = {} as TaskDeployment;
  const saved = process.env[DEPLOYMENTS_DIR_ENV];
  let base: string;
  let snapshot: string;

  before(async function () {
    base = await ethers.provider.send("evm_snapshot", []);
    deployment.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    process.env[DEPLOYMENTS_DIR_ENV] = deployment.dir;
    const { record } = await deploySuite(hre, {
      recordPath: path.join(deployment.dir, "hardhat.json"),
      reset: true,
      log: () => undefined,
    });
    deployment.record = record;
  });

  after(async function () {
    await ethers.provider.send("evm_revert", [base]);
    if (saved === undefined) delete process.env[DEPLOYMENTS_DIR_ENV];
    else process.env[DEPLOYMENTS_DIR_ENV] = saved;
    fs.rmSync(deployment.dir, { recursive: true, force: true });
  });

  beforeEach(async function () {
    snapshot = await ethers.provider.send("evm_snapshot", []);
  });

  afterEach(async function () {
    await ethers.provider.send("evm_revert", [snapshot]);
  });

  return deployment;
}

/**
 * Runs `hardhat <args>` in a child process with the deployments in `deploymentsDir`, colours off, the environment
 * changed by `envChanges` (an undefined value removes the variable). Its stdout and
 * stderr come back without colour codes: Hardhat colours errors when it believes it runs in CI.
 */
export function runHardhatCli(
  args: string[],
  deploymentsDir: string,
  envChanges: Record<string, string | undefined> = {},
): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [DEPLOYMENTS_DIR_ENV]: deploymentsDir,
    FORCE_COLOR: "0",
    NO_COLOR: "1",
  };
  for (const [k, v] of Object.entries(envChanges)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const cli = spawnSync(process.execPath, [require.resolve("hardhat/internal/cli/cli"), ...args], {
    cwd: hre.config.paths.root,
    encoding: "utf8",
    env,
  });
  // eslint-disable-next-line no-control-regex
  const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "");
  return { status: cli.status, stdout: plain(cli.stdout), stderr: plain(cli.stderr) };
}

/** Calls `f`, expecting it to throw an InputError, and returns that error. */
export function expectInputError(f: () => unknown, notThrown = "expected an InputError"): InputError {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(InputError);
    return e as InputError;
  }
  throw new Error(notThrown);
}

/** The message of the InputError `f` throws. */
export function problem(f: () => unknown): string {
  return expectInputError(f).message;
}
