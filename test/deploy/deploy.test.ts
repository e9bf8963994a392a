import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { DeployHalted, deploySuite } from "../../scripts/deploy-suite";
import { InputError } from "../../lib/errors";

const ROOT = hre.config.paths.root;
const silent = () => undefined;
const CONTRACTS = [
  "DimoTimelock",
  "DimoToken",
  "IssuanceVault",
  "DimoGovernor",
  "DeviceRegistry",
  "VehicleRegistry",
  "DataAccess",
  "RewardDistributor",
  "ConsumerStaking",
];
// 6 governance/vault wiring steps, 3 genesis approvals (config/deploy/hardhat.json), 3 × 2 registry handovers,
// the distributor's role on the vault, staking ↔ DataAccess (2) and the staking handover (2).
const STEPS = 6 + 3 + 6 + 1 + 2 + 2;

async function rejects(promise: Promise<unknown>, type: new (...args: never[]) => Error, pattern: RegExp) {
  let err: unknown;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  expect(err, "expected a rejection").to.be.instanceOf(type);
  expect((err as Error).message).to.match(pattern);
}

function tmpFile(name: string): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dimo-deploy-")), name);
}

describe("deploy", function () {
  let snapshot: string;
  beforeEach(async function () {
    snapshot = await ethers.provider.send("evm_snapshot", []);
  });
  afterEach(async function () {
    await ethers.provider.send("evm_revert", [snapshot]);
  });

  it("deploys and wires the suite, then a second run deploys and sends nothing", async function () {
    const recordPath = tmpFile("hardhat.json");
    const [deployer] = await ethers.getSigners();
    const first = await deploySuite(hre, { recordPath, reset: true, log: silent });
    expect(first.deployed).to.deep.equal(CONTRACTS);
    expect(first.stepsSent).to.have.length(STEPS);
    const nonce = await deployer.getNonce();

    const second = await deploySuite(hre, { recordPath, log: silent });
    expect(second.deployed).to.deep.equal([]);
    expect(second.stepsSent).to.deep.equal([]);
    expect(await deployer.getNonce()).to.equal(nonce);
    expect(second.record.contracts).to.deep.equal(first.record.contracts);
  });

  it("writes a complete record: chain id, addresses, tx hashes, blocks, constructor args, git commit", async function () {
    const recordPath = tmpFile("hardhat.json");
    await deploySuite(hre, { recordPath, reset: true, log: silent });
    const record = JSON.parse(fs.readFileSync(recordPath, "utf8"));
    expect(record.chainId).to.equal(31337);
    expect(record.network).to.equal("hardhat");
    expect(record.gitCommit).to.match(/^([0-9a-f]{40}|unknown)$/);
    expect(record.configSha256).to.match(/^[0-9a-f]{64}$/);
    expect(record.genesisIso).to.match(/^\d{4}-\d{2}-\d{2}T05:00:00Z$/);
    expect(new Date(record.genesis * 1000).getUTCDay()).to.equal(1); // Monday
    for (const name of CONTRACTS) {
      const c = record.contracts[name];
      expect(c.address, name).to.match(/^0x[0-9a-fA-F]{40}$/);
      expect(c.txHash, name).to.match(/^0x[0-9a-f]{64}$/);
      expect(c.blockNumber, name).to.be.a("number");
      expect(c.constructorArgs, name).to.be.an("array").that.is.not.empty;
      const receipt = await ethers.provider.getTransactionReceipt(c.txHash);
      expect(receipt!.contractAddress, name).to.equal(c.address);
      expect(receipt!.blockNumber, name).to.equal(c.blockNumber);
    }
    expect(Object.keys(record.steps)).to.have.length(STEPS);
  });

  it("funds the vault and treasury as configured and leaves the deployer without any power", async function () {
    const recordPath = tmpFile("hardhat.json");
    const { record } = await deploySuite(hre, { recordPath, reset: true, log: silent });
    const [deployer, guardian] = await ethers.getSigners();
    const token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
    const vault = await ethers.getContractAt("IssuanceVault", record.contracts.IssuanceVault.address);
    const timelock = await ethers.getContractAt("DimoTimelock", record.contracts.DimoTimelock.address);
    const governor = await ethers.getContractAt("DimoGovernor", record.contracts.DimoGovernor.address);
    expect(await token.totalSupply()).to.equal(ethers.parseEther("1000000000"));
    expect(await token.balanceOf(vault)).to.equal(ethers.parseEther("450000000"));
    expect(await token.balanceOf(timelock)).to.equal(ethers.parseEther("470000000"));
    expect(await vault.scheduleTotal()).to.equal(ethers.parseEther("450000000"));
    expect(await vault.genesis()).to.equal(record.genesis);
    expect(await timelock.hasRole(await timelock.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(false);
    expect(await vault.hasRole(await vault.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(false);
    expect(await vault.hasRole(await vault.DEFAULT_ADMIN_ROLE(), timelock)).to.equal(true);
    expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), governor)).to.equal(true);
    expect(await timelock.hasRole(await timelock.CANCELLER_ROLE(), guardian.address)).to.equal(true);
    expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), guardian.address)).to.equal(false);
    expect(await governor.votingPeriod()).to.equal(7 * 86400);
    const devices = await ethers.getContractAt("DeviceRegistry", record.contracts.DeviceRegistry.address);
    const vehicles = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
    const access = await ethers.getContractAt("DataAccess", record.contracts.DataAccess.address);
    for (const c of [devices, vehicles, access]) {
      expect(await c.hasRole(await c.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(false);
      expect(await c.hasRole(await c.DEFAULT_ADMIN_ROLE(), timelock)).to.equal(true);
    }
    const signers = await ethers.getSigners();
    expect(await devices.hasRole(await devices.MANUFACTURER_ROLE(), signers[4].address)).to.equal(true);
    expect(await vehicles.integrationKind(signers[5].address)).to.equal(1); // Software
    expect(await vehicles.integrationKind(signers[6].address)).to.equal(2); // Oem
    expect(await vehicles.deviceRegistry()).to.equal(devices);
    expect(await access.vehicles()).to.equal(vehicles);
    const distributor = await ethers.getContractAt("RewardDistributor", record.contracts.RewardDistributor.address);
    expect(await vault.hasRole(await vault.DISTRIBUTOR_ROLE(), distributor)).to.equal(true);
    expect(await distributor.hasRole(await distributor.DEFAULT_ADMIN_ROLE(), timelock)).to.equal(true);
    expect(await distributor.hasRole(await distributor.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(false);
    expect(await distributor.hasRole(await distributor.PUBLISHER_ROLE(), signers[7].address)).to.equal(true);
    expect(await distributor.hasRole(await distributor.GUARDIAN_ROLE(), guardian.address)).to.equal(true);
    expect(await distributor.challengeWindow()).to.equal(86400);
    const staking = await ethers.getContractAt("ConsumerStaking", record.contracts.ConsumerStaking.address);
    expect(await access.capacity()).to.equal(staking);
    expect(await staking.accessRegistry()).to.equal(access);
    expect(await staking.hasRole(await staking.DEFAULT_ADMIN_ROLE(), timelock)).to.equal(true);
    expect(await staking.hasRole(await staking.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(false);
    expect(await staking.hasRole(await staking.GUARDIAN_ROLE(), guardian.address)).to.equal(true);
    expect(await staking.requiredStake(3)).to.equal(ethers.parseEther("10030"));
    expect(await staking.minGrantAge()).to.equal(7 * 86400); // staking.minGrantAgeSeconds
    expect(await staking.governanceCycle()).to.equal(86400 + 7 * 86400 + 2 * 86400);
  });

  for (const haltAfter of [
    "DimoToken",
    "IssuanceVault",
    "timelock.grantCanceller.guardian",
    "DataAccess",
    "vehicles.grantOemIntegration.0",
    "RewardDistributor",
    "vault.grantDistributor.distributor",
    "vault.renounceAdmin.deployer",
  ]) {
    it(`resumes a deploy interrupted after ${haltAfter} without redoing what is done`, async function () {
      const recordPath = tmpFile("hardhat.json");
      await rejects(deploySuite(hre, { recordPath, reset: true, haltAfter, log: silent }), DeployHalted, /halted/);
      const partial = JSON.parse(fs.readFileSync(recordPath, "utf8"));
      const resumed = await deploySuite(hre, { recordPath, log: silent });
      for (const name of Object.keys(partial.contracts)) expect(resumed.deployed).not.to.include(name);
      for (const name of Object.keys(partial.steps)) expect(resumed.stepsSent).not.to.include(name);
      expect(Object.keys(resumed.record.contracts)).to.deep.equal(CONTRACTS);
      expect(Object.keys(resumed.record.steps)).to.have.length(STEPS);
      const vault = await ethers.getContractAt("IssuanceVault", resumed.record.contracts.IssuanceVault.address);
      const token = await ethers.getContractAt("DimoToken", resumed.record.contracts.DimoToken.address);
      expect(await token.balanceOf(vault)).to.equal(await vault.scheduleTotal());
    });
  }

  it("refuses a config whose genesis allocation is 1 wei short, before sending anything", async function () {
    const recordPath = tmpFile("hardhat.json");
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, "config/deploy/hardhat.json"), "utf8"));
    config.genesisAllocation[3].amount = "469999999.999999999999999999";
    const configPath = tmpFile("bad.json");
    fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
    const [deployer] = await ethers.getSigners();
    const nonce = await deployer.getNonce();
    let err: unknown;
    try {
      await deploySuite(hre, { recordPath, configPath, reset: true, log: silent });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InputError);
    expect((err as Error).message).to.match(/bad\.json genesisAllocation: .*short by 0\.000000000000000001/);
    expect(await deployer.getNonce()).to.equal(nonce);
    expect(fs.existsSync(recordPath)).to.equal(false);
  });

  it("refuses a record of another chain or whose contracts have no code", async function () {
    const recordPath = tmpFile("hardhat.json");
    const { record } = await deploySuite(hre, { recordPath, reset: true, log: silent });
    fs.writeFileSync(recordPath, JSON.stringify({ ...record, chainId: 1 }));
    await rejects(deploySuite(hre, { recordPath, log: silent }), InputError, /chainId: record is for chain 1/);
    const gone = {
      ...record,
      contracts: {
        ...record.contracts,
        DimoToken: { ...record.contracts.DimoToken, address: ethers.Wallet.createRandom().address },
      },
    };
    fs.writeFileSync(recordPath, JSON.stringify(gone));
    await rejects(deploySuite(hre, { recordPath, log: silent }), InputError, /contracts\.DimoToken\.address: no code/);
  });
});
