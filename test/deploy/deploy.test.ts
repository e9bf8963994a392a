import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
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
  "DataCredits",
];
// 6 governance/vault wiring steps, 3 genesis approvals (config/deploy/hardhat.json), 3 × 2 registry handovers,
// the distributor's role on the vault, staking ↔ DataAccess (2), the staking handover (2) and the device registry
// told about the vehicle registry (device transfers end pairings).
const STEPS = 6 + 3 + 6 + 1 + 2 + 2 + 1;

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
    const devices = await ethers.getContractAt("DeviceRegistry", first.record.contracts.DeviceRegistry.address);
    expect(await devices.vehicleRegistry()).to.equal(first.record.contracts.VehicleRegistry.address);
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

  /** Writes config/deploy/hardhat.json changed by `change` to a temporary file. */
  function hardhatConfigWith(change: (c: any) => void): string {
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, "config/deploy/hardhat.json"), "utf8"));
    change(config);
    const configPath = tmpFile("bad.json");
    fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
    return configPath;
  }

  /** The deploy fails with an InputError matching `pattern`; no account's nonce moved and no record was written. */
  async function refusesBeforeSending(configPath: string, pattern: RegExp) {
    const recordPath = tmpFile("hardhat.json");
    const signers = await ethers.getSigners();
    const nonces = await Promise.all(signers.map((s) => s.getNonce()));
    const block = await ethers.provider.getBlockNumber();
    await rejects(deploySuite(hre, { recordPath, configPath, reset: true, log: silent }), InputError, pattern);
    expect(await Promise.all(signers.map((s) => s.getNonce()))).to.deep.equal(nonces);
    expect(await ethers.provider.getBlockNumber()).to.equal(block);
    expect(fs.existsSync(recordPath)).to.equal(false);
  }

  describe("refuses, before sending anything", function () {
    it("a guardian equal to the deployer", async function () {
      await refusesBeforeSending(
        hardhatConfigWith((c) => (c.guardian = "account:0")),
        /bad\.json:\d+ guardian: 0x[0-9a-fA-F]{40} is the deployer/,
      );
    });

    it("a rewards publisher equal to the deployer", async function () {
      const [deployer] = await ethers.getSigners();
      await refusesBeforeSending(
        hardhatConfigWith((c) => (c.rewards.publisher = deployer.address.toLowerCase())),
        /bad\.json:\d+ rewards\.publisher: 0x[0-9a-f]{40} is the deployer/,
      );
    });

    it("a zero-address guardian", async function () {
      await refusesBeforeSending(
        hardhatConfigWith((c) => (c.guardian = ethers.ZeroAddress)),
        /bad\.json guardian: the zero address cannot hold a role or tokens/,
      );
    });

    it("a zero-address publisher from the environment", async function () {
      process.env.DIMO_TEST_ZERO_PUBLISHER = ethers.ZeroAddress;
      try {
        await refusesBeforeSending(
          hardhatConfigWith((c) => (c.rewards.publisher = "env:DIMO_TEST_ZERO_PUBLISHER")),
          /rewards\.publisher: environment variable DIMO_TEST_ZERO_PUBLISHER holds the zero address/,
        );
      } finally {
        delete process.env.DIMO_TEST_ZERO_PUBLISHER;
      }
    });

    it("a config under which the quorum is unreachable (the early members' 8% moved to the treasury)", async function () {
      await refusesBeforeSending(
        hardhatConfigWith((c) => {
          c.genesisAllocation.splice(1, 2);
          c.genesisAllocation[1].amount = "550000000";
        }),
        /bad\.json:\d+ genesisAllocation: only 0 DIMO can vote at genesis .* quorum is 4% of the supply = 40000000 DIMO/,
      );
    });
  });

  it("the default config gives a governance that acts from day one: the community pool alone passes a vote", async function () {
    const signers = await ethers.getSigners();
    const [, guardian, , , , , , publisher, pool] = signers;
    const env = {
      GUARDIAN_ADDRESS: guardian.address,
      REWARDS_PUBLISHER_ADDRESS: publisher.address,
      COMMUNITY_POOL_ADDRESS: pool.address,
    };
    Object.assign(process.env, env);
    let record;
    try {
      ({ record } = await deploySuite(hre, {
        recordPath: tmpFile("hardhat.json"),
        configPath: path.join(ROOT, "config/deploy/default.json"),
        reset: true,
        log: silent,
      }));
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
    const token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
    const governor = await ethers.getContractAt("DimoGovernor", record.contracts.DimoGovernor.address);
    const timelock = record.contracts.DimoTimelock.address;
    expect(await token.balanceOf(pool.address)).to.equal(ethers.parseEther("80000000"));
    expect(await token.balanceOf(timelock)).to.equal(ethers.parseEther("470000000"));
    await token.connect(pool).delegate(pool.address);
    await time.increase(1);

    const governorAddress = await governor.getAddress();
    const targets = [governorAddress];
    const calldatas = [governor.interface.encodeFunctionData("updateQuorumNumerator", [5])];
    const description = "Raise the quorum to 5%";
    const id = await governor.hashProposal(targets, [0n], calldatas, ethers.id(description));
    await governor.connect(pool).propose(targets, [0n], calldatas, description);
    await time.increaseTo((await governor.proposalSnapshot(id)) + 1n);
    await governor.connect(pool).castVote(id, 1);
    await time.increaseTo((await governor.proposalDeadline(id)) + 1n);
    expect(await governor.quorum(await governor.proposalSnapshot(id))).to.equal(ethers.parseEther("40000000"));
    await governor.queue(targets, [0n], calldatas, ethers.id(description));
    await time.increaseTo(await governor.proposalEta(id));
    await expect(governor.execute(targets, [0n], calldatas, ethers.id(description)))
      .to.emit(governor, "QuorumNumeratorUpdated")
      .withArgs(4, 5);
  });

  describe("the dry run on a non-local network (npx hardhat deploy, no --yes)", function () {
    this.timeout(120_000);
    // Hardhat's public test key of local account 0 and nothing listening at the RPC URL: a dry run sends nothing.
    const DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    const DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    const OTHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const POOL = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
    function dryRun(guardian: string) {
      const cli = spawnSync(
        process.execPath,
        [require.resolve("hardhat/internal/cli/cli"), "deploy", "--network", "dryrun"],
        {
          cwd: ROOT,
          encoding: "utf8",
          env: {
            ...process.env,
            RPC_URL: "http://127.0.0.1:1",
            NETWORK_NAME: "dryrun",
            DEPLOYER_PRIVATE_KEY: DEPLOYER_KEY,
            GUARDIAN_ADDRESS: guardian,
            REWARDS_PUBLISHER_ADDRESS: OTHER,
            COMMUNITY_POOL_ADDRESS: POOL,
            FORCE_COLOR: "0",
            NO_COLOR: "1",
          },
        },
      );
      return { status: cli.status, stdout: cli.stdout, stderr: cli.stderr };
    }

    it("refuses a guardian equal to the deployer in one line naming the file, line and field", function () {
      const line =
        fs
          .readFileSync(path.join(ROOT, "config/deploy/default.json"), "utf8")
          .split("\n")
          .findIndex((l) => l.includes('"guardian"')) + 1;
      const cli = dryRun(DEPLOYER);
      expect(cli.status).to.equal(1);
      expect(cli.stderr).to.contain(
        `Error in plugin dimo-deploy: config/deploy/default.json:${line} guardian: ${DEPLOYER} is the deployer, which must keep no power after the deploy; use a separate account`,
      );
      expect(cli.stdout).not.to.contain("Dry run");
    });

    it("prints the resolved accounts and the votes possible at genesis, and sends nothing", function () {
      const cli = dryRun(OTHER);
      expect(cli.status, cli.stderr).to.equal(0);
      expect(cli.stdout).to.contain(`genesis env:COMMUNITY_POOL_ADDRESS (${POOL}): 80000000 DIMO`);
      expect(cli.stdout).to.contain(`deployer ${DEPLOYER}; guardian ${OTHER}; publisher ${OTHER}`);
      expect(cli.stdout).to.contain("votes possible at genesis 80000000 DIMO (quorum 40000000 DIMO)");
      expect(cli.stdout).to.contain("Nothing was sent. Re-run with --yes to deploy.");
    });
  });
});
