/**
 * Deploys and wires the DIMO suite, idempotently: every step first looks at the chain and at the
 * deployment record, and does nothing when its work is already there. The record
 * `deployments/<network>.json` is rewritten (atomically) after every step, so an interrupted deploy
 * resumes where it stopped.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { BaseContract, ContractTransactionResponse, Signer } from "ethers";
import { InputError } from "../lib/errors";
import { parseJsonFile } from "../lib/json-file";
import { z } from "zod";
import {
  type DeployConfig,
  genesisQuorumWei,
  genesisVotableWei,
  parseDeployConfig,
  resolveDeployAccounts,
  resolveGenesis,
} from "../lib/deploy-config";
import { isoUtc } from "../lib/issuance";
import { parsePolicy, policyHash } from "../lib/rewards/policy";
import { formatDimoRounded } from "../lib/units";
import type {
  ConsumerStaking,
  DataCredits,
  DataAccess,
  DeviceRegistry,
  DimoGovernor,
  DimoTimelock,
  DimoToken,
  IssuanceVault,
  RewardDistributor,
  VehicleRegistry,
} from "../typechain-types";

export interface ContractRecord {
  address: string;
  txHash: string;
  blockNumber: number;
  constructorArgs: unknown[];
}

export interface StepRecord {
  txHash: string;
  blockNumber: number;
}

export interface DeploymentRecord {
  network: string;
  chainId: number;
  deployer: string;
  gitCommit: string;
  config: string;
  configSha256: string;
  genesis: number;
  genesisIso: string;
  guardian: string;
  contracts: Record<string, ContractRecord>;
  steps: Record<string, StepRecord>;
}

export interface DeployOptions {
  /** Config file; default `config/deploy/<network>.json`, else `config/deploy/default.json`. */
  configPath?: string;
  /** Rewards policy whose hash the distributor starts with; default `config/rewards-policy.json`. */
  policyPath?: string;
  /** Record file; default `deployments/<network>.json`. */
  recordPath?: string;
  /** Ignore an existing record and deploy everything again. */
  reset?: boolean;
  /** Stop right after this contract or step, as an interrupted run would (tests and rehearsals). */
  haltAfter?: string;
  /** Print progress lines (default true). */
  log?: (line: string) => void;
}

export interface DeployResult {
  record: DeploymentRecord;
  recordPath: string;
  deployed: string[];
  stepsSent: string[];
}

/** Thrown by `haltAfter`. */
export class DeployHalted extends Error {
  constructor(readonly after: string) {
    super(`deploy halted after ${after}`);
  }
}

const LOCAL_NETWORKS = new Set(["hardhat", "localhost"]);

export function isLocalNetwork(name: string): boolean {
  return LOCAL_NETWORKS.has(name);
}

export function defaultConfigPath(root: string, network: string): string {
  const own = path.join(root, "config", "deploy", `${network}.json`);
  return fs.existsSync(own) ? own : path.join(root, "config", "deploy", "default.json");
}

function gitCommit(root: string): string {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
}

function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}

export function loadDeployConfig(root: string, network: string, configPath?: string): DeployConfig {
  const file = configPath ?? defaultConfigPath(root, network);
  if (!fs.existsSync(file)) throw new InputError(file, "(file)", "config file not found");
  return parseDeployConfig(fs.readFileSync(file, "utf8"), path.relative(root, file));
}

/** Reads the deployment record of a network, or undefined when there is none. */
/** The record at `file`, undefined when there is none; a truncated or malformed one is an InputError naming it. */
export function readDeploymentRecord(file: string): DeploymentRecord | undefined {
  if (!fs.existsSync(file)) return undefined;
  return parseJsonFile(fs.readFileSync(file, "utf8"), file, z.custom<DeploymentRecord>(isRecordShaped, RECORD_SHAPE));
}

const RECORD_SHAPE = "expected a deployment record (chainId and contracts)";

function isRecordShaped(v: unknown): boolean {
  const r = v as Partial<DeploymentRecord> | null;
  return typeof r === "object" && r !== null && typeof r.chainId === "number" && typeof r.contracts === "object";
}

/**
 * DataCredits' initial parameters (the Timelock changes them): 0.001 DIMO per signal value read, a 7-day
 * withdrawal notice, 75% burned, 5% to the treasury, 20% (and every rounding remainder) to the drivers.
 */
export const DATA_CREDITS_DEFAULTS = {
  pricePerCredit: 10n ** 15n, // wei per credit
  noticePeriodSeconds: 7 * 86_400,
  burnBps: 7_500,
  treasuryBps: 500,
} as const;

export async function deploySuite(hre: HardhatRuntimeEnvironment, opts: DeployOptions = {}): Promise<DeployResult> {
  const { ethers, network } = hre;
  const root = hre.config.paths.root;
  const log = opts.log ?? ((line: string) => console.log(line));
  const configFile = opts.configPath ?? defaultConfigPath(root, network.name);
  // 1. Everything a person wrote is validated before anything is sent.
  const config = loadDeployConfig(root, network.name, configFile);
  const configText = fs.readFileSync(configFile, "utf8");
  const policyFile = opts.policyPath ?? path.join(root, "config", "rewards-policy.json");
  const rewardsPolicyHash = policyHash(parsePolicy(fs.readFileSync(policyFile, "utf8"), path.basename(policyFile)));
  const signers = await ethers.getSigners();
  if (signers.length === 0)
    throw new Error(`network ${network.name} has no deployer account (set DEPLOYER_PRIVATE_KEY)`);
  const deployer = signers[0];
  const { guardian, recipients, registryApprovals, rewardsPublisher } = resolveDeployAccounts(config, {
    deployer: deployer.address,
    accounts: signers.map((s) => s.address),
    env: process.env,
  });
  const chainId = Number((await ethers.provider.getNetwork()).chainId);
  const recordPath = opts.recordPath ?? path.join(root, "deployments", `${network.name}.json`);

  const record = opts.reset ? undefined : readDeploymentRecord(recordPath);
  if (record) {
    if (record.chainId !== chainId) {
      throw new InputError(
        path.relative(root, recordPath),
        "chainId",
        `record is for chain ${record.chainId} but ${network.name} is chain ${chainId}; pass --reset to start over`,
      );
    }
    for (const [name, c] of Object.entries(record.contracts)) {
      if ((await ethers.provider.getCode(c.address)) === "0x") {
        throw new InputError(
          path.relative(root, recordPath),
          `contracts.${name}.address`,
          `no code at ${c.address} on ${network.name} (was the node restarted?); pass --reset to deploy afresh`,
        );
      }
    }
  }
  const now = (await ethers.provider.getBlock("latest"))!.timestamp;
  const genesis = record?.genesis ?? resolveGenesis(config.genesis, now);
  const rec: DeploymentRecord = record ?? {
    network: network.name,
    chainId,
    deployer: deployer.address,
    gitCommit: gitCommit(root),
    config: config.source,
    configSha256: createHash("sha256").update(configText).digest("hex"),
    genesis,
    genesisIso: isoUtc(genesis),
    guardian,
    contracts: {},
    steps: {},
  };
  rec.gitCommit = gitCommit(root);
  const save = () => writeAtomic(recordPath, toJson(rec));
  const deployed: string[] = [];
  const stepsSent: string[] = [];

  async function deploy<T extends BaseContract>(name: string, args: unknown[], from: Signer = deployer): Promise<T> {
    const existing = rec.contracts[name];
    if (existing) {
      log(`  = ${name} already at ${existing.address}`);
      return (await ethers.getContractAt(name, existing.address)) as unknown as T;
    }
    const contract = await ethers.deployContract(name, args, from);
    const tx = contract.deploymentTransaction()!;
    const receipt = (await tx.wait())!;
    rec.contracts[name] = {
      address: await contract.getAddress(),
      txHash: receipt.hash,
      blockNumber: receipt.blockNumber,
      constructorArgs: args,
    };
    save();
    deployed.push(name);
    log(`  + ${name} deployed at ${rec.contracts[name].address} (gas ${receipt.gasUsed})`);
    if (opts.haltAfter === name) throw new DeployHalted(name);
    return contract as unknown as T;
  }

  async function step(name: string, done: () => Promise<boolean>, send: () => Promise<ContractTransactionResponse>) {
    if (await done()) {
      log(`  = ${name}`);
      return;
    }
    const receipt = (await (await send()).wait())!;
    rec.steps[name] = { txHash: receipt.hash, blockNumber: receipt.blockNumber };
    save();
    stepsSent.push(name);
    log(`  + ${name} (gas ${receipt.gasUsed})`);
    if (opts.haltAfter === name) throw new DeployHalted(name);
  }

  log(`Deploying the DIMO suite to ${network.name} (chain ${chainId}) from ${deployer.address}`);
  log(`  config ${config.source}; genesis ${isoUtc(genesis)}; guardian ${guardian}`);
  log(
    `  votes possible at genesis ${formatDimoRounded(genesisVotableWei(config.allocation))} DIMO (quorum ${formatDimoRounded(genesisQuorumWei(config.governance.quorumPercent))} DIMO): they count once their holders delegate`,
  );

  const g = config.governance;
  const timelock = await deploy<DimoTimelock>("DimoTimelock", [
    g.timelockDelay,
    [],
    [ethers.ZeroAddress],
    deployer.address,
  ]);
  const timelockAddress = await timelock.getAddress();

  let vaultAddress = rec.contracts.IssuanceVault?.address;
  if (!rec.contracts.DimoToken) {
    // The vault is deployed right after the token; its address goes into the genesis allocation.
    vaultAddress = ethers.getCreateAddress({ from: deployer.address, nonce: (await deployer.getNonce()) + 1 });
  } else if (!vaultAddress) {
    vaultAddress = String((rec.contracts.DimoToken.constructorArgs[0] as string[])[0]);
    const expected = ethers.getCreateAddress({ from: deployer.address, nonce: await deployer.getNonce() });
    if (expected !== vaultAddress) {
      throw new Error(
        `the token allocated the pool to ${vaultAddress}, which the deployer can no longer create (next address ${expected}); redeploy with --reset`,
      );
    }
  }
  // The vault entry goes first so its address is easy to find in the record.
  const order = [...config.allocation.keys()].sort(
    (a, b) => Number(recipients[b] === "issuanceVault") - Number(recipients[a] === "issuanceVault"),
  );
  const allocTo = order.map((i) =>
    recipients[i] === "issuanceVault" ? vaultAddress! : recipients[i] === "treasury" ? timelockAddress : recipients[i],
  );
  const allocAmounts = order.map((i) => config.allocation[i].amount);
  const token = await deploy<DimoToken>("DimoToken", [allocTo, allocAmounts]);
  const tokenAddress = await token.getAddress();
  const vault = await deploy<IssuanceVault>("IssuanceVault", [
    tokenAddress,
    genesis,
    config.scheduleParams,
    deployer.address,
  ]);
  if ((await vault.getAddress()) !== vaultAddress) {
    throw new Error(`vault deployed at ${await vault.getAddress()} but the token funded ${vaultAddress}`);
  }
  const governor = await deploy<DimoGovernor>("DimoGovernor", [
    tokenAddress,
    timelockAddress,
    g.votingDelay,
    g.votingPeriod,
    g.proposalThreshold,
    g.quorumPercent,
  ]);
  const governorAddress = await governor.getAddress();

  // Vehicle registry (issue 3): devices, vehicles, data-access grants. The deployer administers them only
  // until the genesis approvals of the config are granted, then hands admin to the Timelock.
  const devices = await deploy<DeviceRegistry>("DeviceRegistry", [deployer.address]);
  const vehicles = await deploy<VehicleRegistry>("VehicleRegistry", [await devices.getAddress(), deployer.address]);
  // The capacity provider (the staking contract) is set once, later, by the Timelock or the staking deploy.
  const access = await deploy<DataAccess>("DataAccess", [
    await vehicles.getAddress(),
    ethers.ZeroAddress,
    deployer.address,
  ]);

  // Reward distributor (issue 4): the Timelock administers it; the publisher (rewards oracle), the guardian
  // and the dispute bond come from the config, the initial policy hash from the rewards policy.
  const distributor = await deploy<RewardDistributor>("RewardDistributor", [
    tokenAddress,
    await vault.getAddress(),
    timelockAddress,
    rewardsPublisher,
    guardian,
    config.rewards.challengeWindowSeconds,
    rewardsPolicyHash,
    config.rewards.disputeBond,
  ]);
  const distributorAddress = await distributor.getAddress();

  // Data-consumer staking (issue 5): the capacity provider of DataAccess.
  const st = config.staking;
  const staking = await deploy<ConsumerStaking>("ConsumerStaking", [
    {
      token: tokenAddress,
      governor: governorAddress,
      timelock: timelockAddress,
      distributor: distributorAddress,
      guardian,
      baseStake: st.baseStake,
      perVehicleStake: st.perVehicleStake,
      unbondingPeriod: st.unbondingPeriodSeconds,
      freezeDuration: st.freezeDurationSeconds,
      minGrantAge: st.minGrantAgeSeconds,
    },
    deployer.address,
  ]);
  const stakingAddress = await staking.getAddress();

  // Data credits (issue 15): consumers' pre-funded balances and receipts. The Timelock is the admin from the
  // constructor (price, notice and split are its parameters) and the treasury; the drivers' share funds the
  // distributor. Defaults: DATA_CREDITS_DEFAULTS.
  const dc = DATA_CREDITS_DEFAULTS;
  await deploy<DataCredits>("DataCredits", [
    {
      token: tokenAddress,
      vault: await vault.getAddress(),
      distributor: distributorAddress,
      treasury: timelockAddress,
      pricePerCredit: dc.pricePerCredit,
      noticePeriod: dc.noticePeriodSeconds,
      burnBps: dc.burnBps,
      treasuryBps: dc.treasuryBps,
    },
    timelockAddress,
  ]);
  const accessAddress = await access.getAddress();

  // Wiring. Later issues add their contracts' steps before the final renounces.
  const PROPOSER = await timelock.PROPOSER_ROLE();
  const CANCELLER = await timelock.CANCELLER_ROLE();
  const ADMIN = await timelock.DEFAULT_ADMIN_ROLE();
  await step(
    "timelock.grantProposer.governor",
    () => timelock.hasRole(PROPOSER, governorAddress),
    () => timelock.grantRole(PROPOSER, governorAddress),
  );
  await step(
    "timelock.grantCanceller.governor",
    () => timelock.hasRole(CANCELLER, governorAddress),
    () => timelock.grantRole(CANCELLER, governorAddress),
  );
  await step(
    "timelock.grantCanceller.guardian",
    () => timelock.hasRole(CANCELLER, guardian),
    () => timelock.grantRole(CANCELLER, guardian),
  );
  const VAULT_ADMIN = await vault.DEFAULT_ADMIN_ROLE();
  await step(
    "vault.grantAdmin.timelock",
    () => vault.hasRole(VAULT_ADMIN, timelockAddress),
    () => vault.grantRole(VAULT_ADMIN, timelockAddress),
  );
  await step(
    "staking.setAccessRegistry",
    async () => (await staking.accessRegistry()) === accessAddress,
    () => staking.setAccessRegistry(accessAddress),
  );
  await step(
    "access.setCapacity.staking",
    async () => (await access.capacity()) === stakingAddress,
    () => access.setCapacity(stakingAddress),
  );
  const vehiclesAddress = await vehicles.getAddress();
  await step(
    "devices.setVehicleRegistry",
    async () => (await devices.vehicleRegistry()) === vehiclesAddress,
    () => devices.setVehicleRegistry(vehiclesAddress),
  );
  const MANUFACTURER = await devices.MANUFACTURER_ROLE();
  for (const [i, m] of registryApprovals.manufacturers.entries()) {
    await step(
      `devices.grantManufacturer.${i}`,
      () => devices.hasRole(MANUFACTURER, m),
      () => devices.grantRole(MANUFACTURER, m),
    );
  }
  const SOFTWARE = await vehicles.SOFTWARE_INTEGRATION_ROLE();
  for (const [i, a] of registryApprovals.softwareIntegrations.entries()) {
    await step(
      `vehicles.grantSoftwareIntegration.${i}`,
      () => vehicles.hasRole(SOFTWARE, a),
      () => vehicles.grantRole(SOFTWARE, a),
    );
  }
  const OEM = await vehicles.OEM_INTEGRATION_ROLE();
  for (const [i, a] of registryApprovals.oemIntegrations.entries()) {
    await step(
      `vehicles.grantOemIntegration.${i}`,
      () => vehicles.hasRole(OEM, a),
      () => vehicles.grantRole(OEM, a),
    );
  }
  for (const [name, c] of [
    ["devices", devices],
    ["vehicles", vehicles],
    ["access", access],
    ["staking", staking],
  ] as const) {
    const role = await c.DEFAULT_ADMIN_ROLE();
    await step(
      `${name}.grantAdmin.timelock`,
      () => c.hasRole(role, timelockAddress),
      () => c.grantRole(role, timelockAddress),
    );
    await step(
      `${name}.renounceAdmin.deployer`,
      async () => !(await c.hasRole(role, deployer.address)),
      () => c.renounceRole(role, deployer.address),
    );
  }

  const DISTRIBUTOR = await vault.DISTRIBUTOR_ROLE();
  await step(
    "vault.grantDistributor.distributor",
    () => vault.hasRole(DISTRIBUTOR, distributorAddress),
    () => vault.grantRole(DISTRIBUTOR, distributorAddress),
  );

  // The deployer gives up every power.
  await step(
    "vault.renounceAdmin.deployer",
    async () => !(await vault.hasRole(VAULT_ADMIN, deployer.address)),
    () => vault.renounceRole(VAULT_ADMIN, deployer.address),
  );
  await step(
    "timelock.renounceAdmin.deployer",
    async () => !(await timelock.hasRole(ADMIN, deployer.address)),
    () => timelock.renounceRole(ADMIN, deployer.address),
  );
  save();

  log(
    deployed.length + stepsSent.length === 0
      ? "Nothing to do: every contract and step is already on chain."
      : `Deployed ${deployed.length} contract(s), sent ${stepsSent.length} wiring transaction(s).`,
  );
  log(`  treasury (Timelock) ${timelockAddress}: ${formatDimoRounded(await token.balanceOf(timelockAddress))} DIMO`);
  log(`  issuance vault ${vaultAddress}: ${formatDimoRounded(await token.balanceOf(vaultAddress!))} DIMO`);
  log(`Record: ${path.relative(root, recordPath)}`);
  return { record: JSON.parse(toJson(rec)) as DeploymentRecord, recordPath, deployed, stepsSent };
}
