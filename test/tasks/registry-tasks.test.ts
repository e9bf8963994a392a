import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ethers } from "hardhat";
import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { hexlify, toUtf8Bytes } from "ethers";
import type { DeploymentRecord } from "../../scripts/deploy-suite";
import { DEPLOYMENTS_DIR_ENV, REGISTRY_TYPES } from "../../scripts/registry-context";
import { InputError } from "../../lib/errors";
import { vinCommitment } from "../../lib/vin";
import { parseRegistrySnapshot, SNAPSHOT_COLUMNS } from "../../lib/registry-snapshot";
import type { ConsumerStaking, DataAccess, DeviceRegistry, VehicleRegistry } from "../../typechain-types";
import { expectTaskFails, runHardhatCli, runTask as run, useTaskDeployment } from "../helpers/tasks";

const VIN1 = "1HGCM82633A004352";
const VIN2 = "WVWZZZ1JZXW000001";
const VIN3 = "1M8GDM9AXKP042788";
const HEADER = SNAPSHOT_COLUMNS.join(",");

/** Fails with an Error (of any kind, any number of lines) matching `pattern`, mining nothing. */
const fails = (name: string, args: Record<string, unknown>, pattern: RegExp) =>
  expectTaskFails(name, args, pattern, { oneLinePluginError: false, nonces: [] });

describe("registry tasks", function () {
  const deployment = useTaskDeployment("dimo-registry-tasks-");
  let dir: string;
  let record: DeploymentRecord;
  let signers: HardhatEthersSigner[];
  let vehicles: VehicleRegistry;
  let devices: DeviceRegistry;
  let access: DataAccess;

  const car = (extra: Record<string, unknown> = {}) => ({
    make: "Tesla",
    model: "Model 3",
    year: "2022",
    powertrain: "BEV",
    vin: VIN1,
    owner: "7",
    ...extra,
  });

  before(async function () {
    ({ dir, record } = deployment);
    signers = await ethers.getSigners();
    vehicles = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
    devices = await ethers.getContractAt("DeviceRegistry", record.contracts.DeviceRegistry.address);
    access = await ethers.getContractAt("DataAccess", record.contracts.DataAccess.address);
  });

  describe("deployment record", function () {
    it("without a record on the in-process network (no --network), says tasks need a running node", async function () {
      const empty = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-no-record-"));
      process.env[DEPLOYMENTS_DIR_ENV] = empty;
      try {
        const err = await fails(
          "registry:snapshot",
          { out: path.join(empty, "v.csv") },
          /^tasks need a running network: start one with `npx hardhat node --hostname 127\.0\.0\.1` .* add `--network localhost` to every task$/,
        );
        expect(err).to.be.instanceOf(HardhatPluginError);
      } finally {
        process.env[DEPLOYMENTS_DIR_ENV] = dir;
      }
    });

    it("on the command line, a bad argument prints the error and exits non-zero", function () {
      this.timeout(120_000);
      const cli = runHardhatCli(
        [
          "vehicle:register",
          ...["--make", "Tesla", "--model", "Model 3", "--year", "2022", "--powertrain", "DIESEL", "--vin", VIN1],
        ],
        dir,
      );
      expect(cli.status).to.equal(1);
      expect(cli.stderr).to.contain(
        'Error in plugin dimo-registry: vehicle:register --powertrain: expected one of ICE, HEV, PHEV, BEV, got "DIESEL"',
      );
    });
  });

  describe("vehicle:register", function () {
    it("mints to the owner and prints id, tx and gas; only the VIN commitment goes on chain", async function () {
      const { result, out } = await run("vehicle:register", car({ vin: ` ${VIN1.toLowerCase()} ` }));
      expect(result.vehicleId).to.equal(1n);
      expect(result.vinCommitment).to.equal(vinCommitment(VIN1));
      expect(out).to.match(/mintVehicle: tx 0x[0-9a-f]{64} \(block \d+, gas \d+, from 0x/);
      expect(out).to.contain("Vehicle #1 minted to");
      expect(out).to.not.contain(VIN1);
      expect(await vehicles.ownerOf(1)).to.equal(signers[7].address);
      const v = await vehicles.vehicle(1);
      expect([v.make, v.model, v.year, v.powertrain]).to.deep.equal(["Tesla", "Model 3", 2022n, 3n]);
      expect(await vehicles.vehicleOfVin(vinCommitment(VIN1))).to.equal(1n);
      const tx = await ethers.provider.getTransaction(result.txHash);
      expect(tx!.from).to.equal(signers[7].address);
      expect(tx!.data.toLowerCase()).to.not.contain(hexlify(toUtf8Bytes(VIN1)).slice(2));
    });

    it("with --relayer, the owner only signs MintVehicle and the relayer sends", async function () {
      const owner = signers[8];
      const sentBefore = await ethers.provider.getTransactionCount(owner.address);
      const { result, out } = await run("vehicle:register", car({ owner: owner.address, relayer: "0", vin: VIN2 }));
      expect(out).to.match(/mintVehicleFor: tx 0x[0-9a-f]{64} .*gas \d+/);
      expect(await vehicles.ownerOf(result.vehicleId)).to.equal(owner.address);
      expect((await ethers.provider.getTransaction(result.txHash))!.from).to.equal(signers[0].address);
      expect(await ethers.provider.getTransactionCount(owner.address)).to.equal(sentBefore);
      expect(await vehicles.nonces(owner.address)).to.equal(1n);
    });

    it("notes a VIN without a North-American check digit but registers it", async function () {
      const { out } = await run("vehicle:register", car({ vin: VIN2 }));
      expect(out).to.match(/check digit .* does not verify/);
    });

    it("refuses a VIN already registered, in any spelling, before sending", async function () {
      await run("vehicle:register", car());
      const err = await fails(
        "vehicle:register",
        car({ vin: VIN1.toLowerCase(), owner: "9", make: "Honda", model: "Accord" }),
        /^vehicle:register --vin: this VIN is already registered as vehicle #1$/,
      );
      expect((err as HardhatPluginError).parent).to.be.instanceOf(InputError);
    });

    const bad: [string, Record<string, unknown>, RegExp][] = [
      ["an unknown powertrain", { powertrain: "DIESEL" }, /^vehicle:register --powertrain: expected one of ICE, HEV, PHEV, BEV, got "DIESEL"$/],
      ["a year before 1886", { year: "1885" }, /^vehicle:register --year: expected a model year from 1886 to 2100, got "1885"$/],
      ["a year that is not a number", { year: "20x4" }, /^vehicle:register --year: /],
      ["a bad owner address", { owner: "0x1234" }, /^vehicle:register --owner: expected a 0x address/],
      ["an owner that is not a local account", { owner: "0x000000000000000000000000000000000000dEaD" }, /^vehicle:register --owner: 0x0+dEaD is not a local account/],
      ["an account index out of range", { owner: "99" }, /^vehicle:register --owner: account 99 does not exist/],
      ["a VIN with the letter O", { vin: "1HGCM82633A0O4352" }, /^vehicle:register --vin: character "O" at position 13/],
      ["a short VIN", { vin: "1HGCM8263" }, /^vehicle:register --vin: a VIN has 17 characters, got 9$/],
      ["a make with a quote", { make: 'Tes"la' }, /^vehicle:register --make: character "\\"" is not allowed/],
      ["a model too long", { model: "M".repeat(33) }, /^vehicle:register --model: at most 32 bytes, got 33$/],
      ["a bad relayer", { relayer: "x" }, /^vehicle:register --relayer: expected a local account index/],
    ]; // prettier-ignore
    for (const [what, extra, pattern] of bad) {
      it(`rejects ${what}, naming the argument, and sends nothing`, async function () {
        await fails("vehicle:register", car(extra), pattern);
      });
    }

    it("--dry-run validates and prints but sends nothing", async function () {
      const block = await ethers.provider.getBlockNumber();
      const { result, out } = await run("vehicle:register", car({ dryRun: true }));
      expect(result.dryRun).to.equal(true);
      expect(out).to.match(/Dry run: would send mintVehicle\. Nothing was sent\./);
      expect(await ethers.provider.getBlockNumber()).to.equal(block);
    });
  });

  describe("device:mint", function () {
    it("mints as manufacturer account 4 by default, to the manufacturer or to --to", async function () {
      const key = ethers.Wallet.createRandom().address;
      const { result, out } = await run("device:mint", { key, serial: "AP-000001", hwRevision: "7.2" });
      expect(result.deviceId).to.equal(1n);
      expect(out).to.match(/mintDevice: tx 0x[0-9a-f]{64} .*gas \d+/);
      const d = await devices.device(1);
      expect([d.deviceKey, d.manufacturer, d.serial, d.hardwareRevision]).to.deep.equal([
        key,
        signers[4].address,
        "AP-000001",
        "7.2",
      ]);
      expect(await devices.ownerOf(1)).to.equal(signers[4].address);
      const second = await run("device:mint", {
        key: ethers.Wallet.createRandom().address,
        serial: "AP-000002",
        hwRevision: "7.2",
        to: "7",
      });
      expect(await devices.ownerOf(second.result.deviceId)).to.equal(signers[7].address);
    });

    it("refuses a manufacturer without the role, a key already bound and a bad key, before sending", async function () {
      const key = ethers.Wallet.createRandom().address;
      await fails(
        "device:mint",
        { key, serial: "S", hwRevision: "1", manufacturer: "7" },
        /^device:mint --manufacturer: account 7 \(0x[0-9a-fA-F]{40}\) is not an approved manufacturer/,
      );
      await run("device:mint", { key, serial: "S1", hwRevision: "1" });
      await fails("device:mint", { key, serial: "S2", hwRevision: "1" }, /^device:mint --key: .* is already bound to device #1$/);
      await fails("device:mint", { key: "0xnope", serial: "S", hwRevision: "1" }, /^device:mint --key: expected a 0x address/);
      await fails(
        "device:mint",
        { key: ethers.Wallet.createRandom().address, serial: "S".repeat(65), hwRevision: "1" },
        /^device:mint --serial: at most 64 bytes/,
      );
    }); // prettier-ignore
  });

  describe("device:pair and device:sign-pair", function () {
    beforeEach(async function () {
      await run("vehicle:register", car()); // vehicle 1, owner 7
    });

    it("signs with both local keys and pairs", async function () {
      await run("device:mint", { key: signers[8].address, serial: "AP-1", hwRevision: "7.2", to: "7" });
      const { out } = await run("device:pair", { vehicle: "1", device: "1" });
      expect(out).to.match(/pairDevice: tx 0x[0-9a-f]{64} \(block \d+, gas \d+, from 0x/);
      expect(await vehicles.pairedDevice(1)).to.equal(1n);
      expect(await vehicles.nonces(signers[7].address)).to.equal(1n);
      expect(await vehicles.nonces(signers[8].address)).to.equal(1n);
    });

    it("takes signatures produced elsewhere (device:sign-pair, the device's own key) and a relayer submits", async function () {
      const deviceKey = ethers.Wallet.createRandom();
      await run("device:mint", { key: deviceKey.address, serial: "AP-2", hwRevision: "7.2", to: "7" });
      const signed = await run("device:sign-pair", { vehicle: "1", device: "1", signer: "7", deadline: "+2h" });
      expect(signed.result.role).to.equal("owner");
      expect(signed.out).to.contain(`--owner-signature ${signed.result.signature}`);
      const deadline = signed.result.deadline as bigint;
      const domain = {
        name: "DIMO VehicleRegistry",
        version: "1",
        chainId: 31337n,
        verifyingContract: await vehicles.getAddress(),
      };
      const deviceSignature = await deviceKey.signTypedData(domain, REGISTRY_TYPES.PairDevice, {
        vehicleId: 1n,
        vehicleEpoch: 0n,
        deviceId: 1n,
        ownerNonce: 0n,
        deviceNonce: 0n,
        deadline,
      });
      const { result } = await run("device:pair", {
        vehicle: "1",
        device: "1",
        deadline: deadline.toString(),
        ownerSignature: signed.result.signature,
        deviceSignature,
        relayer: "2",
      });
      expect((await ethers.provider.getTransaction(result.txHash))!.from).to.equal(signers[2].address);
      expect(await vehicles.pairedVehicle(1)).to.equal(1n);
    });

    it("rejects a signature from the wrong key, before sending", async function () {
      const deviceKey = ethers.Wallet.createRandom();
      await run("device:mint", { key: deviceKey.address, serial: "AP-3", hwRevision: "7.2" });
      const signed = await run("device:sign-pair", { vehicle: "1", device: "1", signer: "7", deadline: "+2h" });
      const impostor = ethers.Wallet.createRandom();
      const deviceSignature = await impostor.signTypedData(
        { name: "DIMO VehicleRegistry", version: "1", chainId: 31337n, verifyingContract: await vehicles.getAddress() },
        REGISTRY_TYPES.PairDevice,
        { vehicleId: 1n, vehicleEpoch: 0n, deviceId: 1n, ownerNonce: 0n, deviceNonce: 0n, deadline: signed.result.deadline },
      );
      const args = {
        vehicle: "1",
        device: "1",
        deadline: String(signed.result.deadline),
        ownerSignature: signed.result.signature,
        deviceSignature,
      };
      await fails("device:pair", args, new RegExp(`^device:pair --device-signature: signed by ${impostor.address}, not by the device key ${deviceKey.address}`));
      await fails("device:pair", { ...args, deadline: undefined }, /^device:pair --deadline: required with a given signature/);
      await fails("device:pair", { ...args, deviceSignature: "0x1234" }, /^device:pair --device-signature: not a valid 65-byte ECDSA signature$/);
      await fails("device:pair", { vehicle: "1", device: "1" }, /^device:pair --device-signature: the key .* is not a local account/);
    }); // prettier-ignore

    it("checks ids, owners and pairing state before signing or sending", async function () {
      await run("device:mint", { key: signers[8].address, serial: "AP-4", hwRevision: "7.2" });
      await fails("device:pair", { vehicle: "2", device: "1" }, /^device:pair --vehicle: no vehicle #2 \(the registry has 1\)$/);
      await fails("device:pair", { vehicle: "1", device: "9" }, /^device:pair --device: no device #9/);
      await fails("device:pair", { vehicle: "0", device: "1" }, /^device:pair --vehicle: expected a positive integer id/);
      await fails("device:pair", { vehicle: "1", device: "1", ownerAccount: "9" }, /^device:pair --owner-account: account 9 .* does not own vehicle #1/);
      await fails("device:sign-pair", { vehicle: "1", device: "1", signer: "9" }, /^device:sign-pair --signer: account 9 .* is neither the owner/);
      await run("device:pair", { vehicle: "1", device: "1" });
      await fails("device:pair", { vehicle: "1", device: "1" }, /^device:pair --vehicle: vehicle #1 is already paired with device #1$/);
    }); // prettier-ignore
  });

  describe("connection:attest", function () {
    beforeEach(async function () {
      await run("vehicle:register", car());
    });

    it("the software integration (account 5, default) and the OEM integration (account 6) attest with the owner's consent", async function () {
      const software = await run("connection:attest", { vehicle: "1" });
      expect(software.result.kind).to.equal("software");
      expect(software.out).to.match(/attestConnection: tx 0x[0-9a-f]{64} .*gas \d+, from 0x/);
      const oem = await run("connection:attest", { vehicle: "1", integration: "6", ownerAccount: "7" });
      expect(oem.result.kind).to.equal("oem");
      const [integrations, kinds] = await vehicles.connections(1);
      expect(integrations).to.deep.equal([signers[5].address, signers[6].address]);
      expect(kinds).to.deep.equal([1n, 2n]);
    });

    it("refuses an account that is not an integration and a repeated attestation, before sending", async function () {
      await fails("connection:attest", { vehicle: "1", integration: "7" }, /^connection:attest --integration: account 7 .* is not an approved integration/);
      await run("connection:attest", { vehicle: "1" });
      await fails("connection:attest", { vehicle: "1" }, /^connection:attest --integration: .* is already connected to vehicle #1$/);
      await fails("connection:attest", { vehicle: "1", ownerAccount: "8" }, /^connection:attest --owner-account: account 8 .* does not own vehicle #1/);
    }); // prettier-ignore
  });

  describe("access:grant and access:revoke", function () {
    let consumer: string;
    beforeEach(async function () {
      consumer = signers[12].address;
      await run("vehicle:register", car());
    });

    /**
     * The consumer (account 12) stakes, in deploySuite's ConsumerStaking (DataAccess's capacity provider), enough
     * for `vehicles` vehicles: 10,000 + 10 per vehicle DIMO (config/deploy/hardhat.json), received from DAO member A
     * (account 2).
     */
    async function stakeFor(vehicles: number): Promise<ConsumerStaking> {
      const staking = await ethers.getContractAt("ConsumerStaking", record.contracts.ConsumerStaking.address);
      expect(await access.capacity()).to.equal(await staking.getAddress());
      const amount = await staking.requiredStake(vehicles);
      expect(amount).to.equal(ethers.parseEther(String(10_000 + 10 * vehicles)));
      const token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
      await token.connect(signers[2]).transfer(consumer, amount);
      await token.connect(signers[12]).approve(await staking.getAddress(), amount);
      await staking.connect(signers[12]).stake(amount);
      return staking;
    }

    const grant = (extra: Record<string, unknown> = {}) => ({
      vehicle: "1",
      consumer,
      types: "location,odometer,battery_level",
      expires: "+30d",
      ...extra,
    });

    it("refuses to grant while no capacity provider is set (the staking contract is not wired)", async function () {
      // A record whose DataAccess is a fresh one, not wired to the staking contract (deploySuite always wires it).
      const unwired = await ethers.deployContract("DataAccess", [
        record.contracts.VehicleRegistry.address,
        ethers.ZeroAddress,
        record.contracts.DimoTimelock.address,
      ]);
      const other = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-unwired-"));
      const copy = JSON.parse(fs.readFileSync(path.join(dir, "hardhat.json"), "utf8"));
      copy.contracts.DataAccess.address = await unwired.getAddress();
      fs.writeFileSync(path.join(other, "hardhat.json"), JSON.stringify(copy, null, 2));
      process.env[DEPLOYMENTS_DIR_ENV] = other;
      try {
        await fails("access:grant", grant(), /^access:grant: DataAccess has no capacity provider yet/);
      } finally {
        process.env[DEPLOYMENTS_DIR_ENV] = dir;
        fs.rmSync(other, { recursive: true, force: true });
      }
    });

    it("grants the named data types until the expiry, then revokes", async function () {
      const staking = await stakeFor(1);
      const { result, out } = await run("access:grant", grant());
      expect(out).to.contain("location, odometer, fuel_level (permissions 0x7)");
      expect(out).to.match(/grant: tx 0x[0-9a-f]{64} .*gas \d+/);
      const now = (await ethers.provider.getBlock("latest"))!.timestamp;
      const g = await access.grantOf(1, consumer);
      expect(g.permissions).to.equal(7n);
      expect(Number(g.expiresAt)).to.be.within(now + 30 * 86400 - 5, now + 30 * 86400);
      expect(result.permissions).to.equal(7n);
      expect(await access.canRead(consumer, 1, 0)).to.equal(true);
      expect(await access.canRead(consumer, 1, 3)).to.equal(false);
      expect(await staking.vehiclesAccessed(consumer)).to.equal(1n);

      const revoked = await run("access:revoke", { vehicle: "1", consumer });
      expect(revoked.out).to.match(/revoke: tx 0x[0-9a-f]{64} .*gas \d+/);
      expect((await access.grantOf(1, consumer)).permissions).to.equal(0n);
      expect(await staking.vehiclesAccessed(consumer)).to.equal(0n);
      await fails("access:revoke", { vehicle: "1", consumer }, /^access:revoke --consumer: .* has no grant record on vehicle #1$/);
    }); // prettier-ignore

    it("rejects unknown data types, bad consumers, past expiries and a stake that is full, before sending", async function () {
      await stakeFor(0);
      await fails("access:grant", grant({ types: "location,altitude" }), /^access:grant --types: unknown data type "altitude"; known: location, odometer/);
      await fails("access:grant", grant({ consumer: "0xabc" }), /^access:grant --consumer: expected a 0x address/);
      await fails("access:grant", grant({ expires: "2020-01-01" }), /^access:grant --expires: 2020-01-01T00:00:00Z is not in the future/);
      await fails("access:grant", grant({ expires: "soon" }), /^access:grant --expires: expected \+<n>/);
      await fails("access:grant", grant({ vehicle: "5" }), /^access:grant --vehicle: no vehicle #5/);
      await fails("access:grant", grant(), /^access:grant --consumer: the stake of .* does not cover one more vehicle/);
    }); // prettier-ignore

    it("grants with the consumer's offer printed by access:offer, and refuses a wrong, partial or used offer", async function () {
      const staking = await stakeFor(1);
      const offer = await run("access:offer", { vehicle: "1", consumer: "12", types: "location", expires: "+30d" });
      expect(offer.out).to.contain("--consumer-signature 0x");
      const o = offer.result as { expiresAt: bigint; nonce: bigint; deadline: bigint; signature: string };
      const signed = (extra: Record<string, unknown> = {}) => grant({ types: "location", expires: String(o.expiresAt), consumerSignature: o.signature, consentNonce: String(o.nonce), consentDeadline: String(o.deadline), ...extra });
      await fails("access:grant", signed({ types: "location,odometer" }), /^access:grant --consumer-signature: not 0x[0-9a-fA-F]{40}'s offer of vehicle #1 to /);
      await fails("access:grant", grant({ consumerSignature: o.signature }), /^access:grant --consent-nonce: a signed offer needs --consumer-signature, --consent-nonce and --consent-deadline$/);
      await fails("access:grant", signed({ consentNonce: "-1" }), /^access:grant --consent-nonce: expected a non-negative integer/);
      const { out } = await run("access:grant", signed());
      expect(out).to.match(/with 0x[0-9a-fA-F]{40}'s signed offer \(nonce \d+\)/);
      expect(await staking.vehiclesAccessed(consumer)).to.equal(1n);
      expect(await access.consentNonceUsed(consumer, o.nonce)).to.equal(true);
      await fails("access:grant", signed(), /^access:grant --consent-nonce: nonce \d+ of 0x[0-9a-fA-F]{40} was already used or cancelled$/);
      const before = await signers[0].getNonce();
      await fails("access:grant", signed({ consentDeadline: "1" }), /^access:grant --consent-deadline: the offer expired at 1970-01-01T00:00:01Z/);
      expect(await signers[0].getNonce()).to.equal(before);
    }); // prettier-ignore

    it("refuses a consumer that is not a local account and accepted nothing, naming the way to get its offer", async function () {
      const stranger = ethers.Wallet.createRandom().address;
      await fails("access:grant", grant({ consumer: stranger }), /^access:grant --consumer-signature: 0x[0-9a-fA-F]{40} has not accepted grants from 0x[0-9a-fA-F]{40}: give its signed offer \(access:offer/);
    }); // prettier-ignore

    it("grants under the consumer's on-chain acceptance of the owner, with no signature", async function () {
      const staking = await stakeFor(1);
      const owner = await (
        await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address)
      ).ownerOf(1);
      await access.connect(signers[12]).setOwnerAcceptance(owner, true);
      const { out } = await run("access:grant", grant());
      expect(out).to.contain(`under ${consumer}'s acceptance of every grant from ${owner}`);
      expect(await staking.vehiclesAccessed(consumer)).to.equal(1n);
    });

    it("access:prune deletes the consumer's expired records (which block its unstaking) and says when there is nothing", async function () {
      const staking = await stakeFor(1);
      await run("access:grant", grant({ expires: "+1d" }));
      const none = await run("access:prune", { consumer: "12" });
      expect(none.out).to.match(/Nothing to prune: .* holds no expired or stale grant/);
      await ethers.provider.send("evm_increaseTime", [86_400]);
      await ethers.provider.send("evm_mine", []);
      await expect(staking.connect(signers[12]).requestUnstake(await staking.requiredStake(1))).to.be.revertedWithCustomError(staking, "StakingInsufficientStake");
      const { out } = await run("access:prune", { consumer: "12", from: "3" });
      expect(out).to.contain("Pruning 1 grant(s)");
      expect(out).to.match(/pruneMany: tx 0x[0-9a-f]{64}/);
      expect(await staking.vehiclesAccessed(consumer)).to.equal(0n);
      await staking.connect(signers[12]).requestUnstake(await staking.requiredStake(1));
    }); // prettier-ignore
  });

  describe("registry:snapshot", function () {
    const csv = (rows: string[]) => [HEADER, ...rows, ""].join("\n");

    it("exports every vehicle at a past block and at the latest block", async function () {
      const [a, b, c] = [signers[7].address, signers[8].address, signers[9].address];
      await run("vehicle:register", car()); // 1: owner 7
      await run("vehicle:register", car({ make: "Toyota", model: "Prius, Prime", year: "2019", powertrain: "PHEV", vin: VIN2, owner: "8" }));
      await run("device:mint", { key: signers[10].address, serial: "AP-1", hwRevision: "7.2", to: "7" });
      await run("device:pair", { vehicle: "1", device: "1" });
      await run("connection:attest", { vehicle: "1", integration: "6" });
      await run("connection:attest", { vehicle: "1", integration: "5" });
      const past = await ethers.provider.getBlockNumber();

      await vehicles.connect(signers[7]).transferFrom(a, c, 1); // unpairs and disconnects vehicle 1
      await run("vehicle:register", car({ make: "Ford", model: "F-150", year: "1999", powertrain: "ICE", vin: VIN3, owner: "7" }));
      await run("device:pair", { vehicle: "3", device: "1" });
      await run("connection:attest", { vehicle: "2" });

      const pastFile = path.join(dir, "past.csv");
      const latestFile = path.join(dir, "latest.csv");
      const before = await run("registry:snapshot", { out: pastFile, block: String(past) });
      expect(before.out).to.match(new RegExp(`^Wrote 2 vehicle\\(s\\) at block ${past} \\(`));
      expect(before.out).to.match(/sha256 [0-9a-f]{64}/);
      expect(fs.readFileSync(pastFile, "utf8")).to.equal(
        csv([`1,${a},BEV,Tesla,Model 3,2022,1,oem;software`, `2,${b},PHEV,Toyota,"Prius, Prime",2019,,`]),
      );
      const latest = await run("registry:snapshot", { out: latestFile });
      expect(latest.result.block).to.equal(await ethers.provider.getBlockNumber());
      const text = fs.readFileSync(latestFile, "utf8");
      expect(text).to.equal(
        csv([
          `1,${c},BEV,Tesla,Model 3,2022,,`,
          `2,${b},PHEV,Toyota,"Prius, Prime",2019,,software`,
          `3,${a},ICE,Ford,F-150,1999,1,`,
        ]),
      );
      expect(parseRegistrySnapshot(text, latestFile)).to.have.length(3);
      expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp-"))).to.deep.equal([]);

      // One block per page replays to the same bytes.
      const paged = await run("registry:snapshot", { out: path.join(dir, "paged.csv"), pageSize: "1" });
      expect(paged.result.pages).to.be.greaterThan(10);
      expect(paged.result.sha256).to.equal(latest.result.sha256);
    }); // prettier-ignore

    it("leaves out connections of an integration and devices of a manufacturer that lost their role at that block (L-5)", async function () {
      await run("vehicle:register", car()); // 1: owner 7
      await run("device:mint", { key: signers[10].address, serial: "AP-1", hwRevision: "7.2", to: "7" }); // by 4
      await run("device:pair", { vehicle: "1", device: "1" });
      await run("connection:attest", { vehicle: "1" }); // integration 5, software
      await run("connection:attest", { vehicle: "1", integration: "6" }); // OEM
      await run("device:mint", { key: signers[11].address, serial: "AP-2", hwRevision: "7.2", to: "7" });
      const timelock = record.contracts.DimoTimelock.address;
      await ethers.provider.send("hardhat_impersonateAccount", [timelock]);
      await ethers.provider.send("hardhat_setBalance", [timelock, "0xde0b6b3a7640000"]);
      const dao = await ethers.getSigner(timelock);
      const software = await vehicles.SOFTWARE_INTEGRATION_ROLE();
      const manufacturer = await devices.MANUFACTURER_ROLE();
      const before = await ethers.provider.getBlockNumber();
      await vehicles.connect(dao).revokeRole(software, signers[5].address);
      await devices.connect(dao).revokeRole(manufacturer, signers[4].address);
      try {
        const a = signers[7].address;
        await run("vehicle:register", car({ vin: VIN2 })); // 2: owner 7
        await fails("device:pair", { vehicle: "2", device: "2" }, new RegExp(`^device:pair --device: device #2 was made by ${signers[4].address}, which is no longer an approved manufacturer`));
        const file = path.join(dir, "revoked.csv");
        await run("registry:snapshot", { out: file });
        expect(fs.readFileSync(file, "utf8")).to.equal(csv([`1,${a},BEV,Tesla,Model 3,2022,,oem`, `2,${a},BEV,Tesla,Model 3,2022,,`]));
        // Still on chain (the Timelock's removeConnections clears them); still counted before the revocation.
        expect((await vehicles.connections(1)).integrations).to.include(signers[5].address);
        expect(await vehicles.pairedDevice(1)).to.equal(1n);
        await run("registry:snapshot", { out: file, block: String(before) });
        expect(fs.readFileSync(file, "utf8")).to.equal(csv([`1,${a},BEV,Tesla,Model 3,2022,1,oem;software`]));
      } finally {
        await vehicles.connect(dao).grantRole(software, signers[5].address);
        await devices.connect(dao).grantRole(manufacturer, signers[4].address);
        await ethers.provider.send("hardhat_stopImpersonatingAccount", [timelock]);
      }
    }); // prettier-ignore

    it("rejects a block not yet mined, a block before the deployment, a bad page size and a missing directory", async function () {
      const out = path.join(dir, "v.csv");
      const latest = await ethers.provider.getBlockNumber();
      await fails("registry:snapshot", { out, block: String(latest + 10) }, /^registry:snapshot --block: block \d+ is not mined yet/);
      const deployed = record.contracts.VehicleRegistry.blockNumber;
      await fails("registry:snapshot", { out, block: String(deployed - 1) }, /^registry:snapshot --block: block \d+ is before the VehicleRegistry was deployed/);
      await fails("registry:snapshot", { out, block: "latest" }, /^registry:snapshot --block: expected an integer/);
      await fails("registry:snapshot", { out, pageSize: "0" }, /^registry:snapshot --page-size: expected an integer from 1/);
      await fails("registry:snapshot", { out: path.join(dir, "nope", "v.csv") }, /^registry:snapshot --out: directory .* does not exist$/);
      expect(fs.existsSync(out)).to.equal(false);
    }); // prettier-ignore
  });
});
