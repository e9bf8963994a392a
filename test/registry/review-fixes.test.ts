import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { signMintVehicle, signPairDevice } from "../helpers/eip712";
import {
  connect,
  consentSignature,
  deadlineIn,
  equippedFixture,
  mintVehicle,
  pair,
  pairSignatures,
  Powertrain,
  registryFixture,
  vehicleInfo,
  vehiclesFixture,
  VIN_BOB,
} from "./fixtures";

/**
 * Issue 11, "also from the review": signatures bound to the vehicle's ownership epoch, cancellable nonces,
 * device transfers, de-approved manufacturers; L-5: the Timelock removes an integration's connections.
 */
describe("VehicleRegistry: review fixes", function () {
  describe("pairDevice after the vehicle changed hands", function () {
    it("refuses the device's signature made for the previous owner at the same nonce (the attack)", async function () {
      // Device 1's key signs a pairing with Alice's vehicle at Alice's nonce 0; Alice sells before it is used.
      // Carol (nonce 0 too) signs the same message for the new epoch and submits the device's old signature.
      const { vehicles, alice, carol, relayer, key1, aliceVehicle, device1 } = await loadFixture(vehiclesFixture);
      const deadline = await deadlineIn();
      const old = {
        vehicleId: aliceVehicle,
        vehicleEpoch: 0n,
        deviceId: device1,
        ownerNonce: 0n,
        deviceNonce: 0n,
        deadline,
      };
      const deviceSignature = await signPairDevice(key1, vehicles, old);
      await vehicles.connect(alice).transferFrom(alice.address, carol.address, aliceVehicle);
      expect(await vehicles.nonces(carol.address)).to.equal(0n);
      const carolSignature = await signPairDevice(carol, vehicles, { ...old, vehicleEpoch: 1n });
      await expect(
        vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, carolSignature, deviceSignature),
      )
        .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
        .withArgs(key1.address);
      // Nor can Carol replay both halves of the old epoch.
      const carolOld = await signPairDevice(carol, vehicles, old);
      await expect(vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, carolOld, deviceSignature))
        .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
        .withArgs(carol.address);
    });

    it("pairs when both sign for the current epoch", async function () {
      const { vehicles, alice, carol, relayer, key1, aliceVehicle, device1 } = await loadFixture(vehiclesFixture);
      await vehicles.connect(alice).transferFrom(alice.address, carol.address, aliceVehicle);
      await pair(vehicles, aliceVehicle, device1, carol, key1, relayer);
      expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device1);
    });
  });

  describe("invalidateNonces", function () {
    it("cancels a pending pairing: the owner's cancellation voids the device's half too", async function () {
      const { vehicles, alice, relayer, key1, aliceVehicle, device1 } = await loadFixture(vehiclesFixture);
      const deadline = await deadlineIn();
      const s = await pairSignatures(vehicles, aliceVehicle, device1, alice, key1, deadline);
      await expect(vehicles.connect(alice).invalidateNonces(1))
        .to.emit(vehicles, "NoncesInvalidated")
        .withArgs(alice.address, 0n, 1n);
      expect(await vehicles.nonces(alice.address)).to.equal(1n);
      await expect(
        vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, s.ownerSignature, s.deviceSignature),
      )
        .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
        .withArgs(alice.address);
    });

    it("cancels a signed MintVehicle before its deadline", async function () {
      const { vehicles, alice, relayer } = await loadFixture(registryFixture);
      const info = vehicleInfo();
      const deadline = await deadlineIn();
      const signature = await signMintVehicle(alice, vehicles, { owner: alice.address, info, nonce: 0n, deadline });
      await vehicles.connect(alice).invalidateNonces(1);
      await expect(vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature))
        .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
        .withArgs(alice.address);
    });

    it("cancels a connection consent before its deadline", async function () {
      const { vehicles, alice, software, aliceVehicle } = await loadFixture(vehiclesFixture);
      const deadline = await deadlineIn();
      const signature = await consentSignature(vehicles, aliceVehicle, software.address, alice, deadline);
      await vehicles.connect(alice).invalidateNonces(1);
      await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature))
        .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
        .withArgs(alice.address);
    });

    it("cancels signatures made ahead at later nonces in one call, without activating any of them", async function () {
      const { vehicles, alice, relayer } = await loadFixture(registryFixture);
      const deadline = await deadlineIn();
      const infos = [vehicleInfo(), vehicleInfo({}, VIN_BOB)];
      const signatures = await Promise.all(
        infos.map((info, nonce) => signMintVehicle(alice, vehicles, { owner: alice.address, info, nonce, deadline })),
      );
      await expect(vehicles.connect(alice).invalidateNonces(2))
        .to.emit(vehicles, "NoncesInvalidated")
        .withArgs(alice.address, 0n, 2n);
      for (const [i, info] of infos.entries()) {
        await expect(
          vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signatures[i]),
        ).to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature");
      }
    });

    it(`accepts exactly MAX_NONCES_INVALIDATED (256) nonces`, async function () {
      const { vehicles, alice } = await loadFixture(registryFixture);
      expect(await vehicles.MAX_NONCES_INVALIDATED()).to.equal(256n);
      await vehicles.connect(alice).invalidateNonces(256);
      expect(await vehicles.nonces(alice.address)).to.equal(256n);
    });

    for (const count of [0n, 257n]) {
      it(`reverts with RegistryInvalidNonceCount(${count}, 256)`, async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        await expect(vehicles.connect(alice).invalidateNonces(count))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidNonceCount")
          .withArgs(count, 256n);
      });
    }
  });

  describe("a device NFT transfer", function () {
    it("ends the device's pairing (DeviceUnpaired byTransfer), so a sold device stops reporting for the vehicle", async function () {
      const { vehicles, devices, alice, carol, relayer, key1, aliceVehicle, device1 } =
        await loadFixture(vehiclesFixture);
      await pair(vehicles, aliceVehicle, device1, alice, key1, relayer);
      await expect(devices.connect(alice).transferFrom(alice.address, carol.address, device1))
        .to.emit(vehicles, "DeviceUnpaired")
        .withArgs(aliceVehicle, device1, true);
      expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(0n);
      expect(await vehicles.pairedVehicle(device1)).to.equal(0n);
    });

    it("lets the device's new owner pair it with their own vehicle", async function () {
      const { vehicles, devices, alice, carol, relayer, key1, aliceVehicle, device1 } =
        await loadFixture(vehiclesFixture);
      await pair(vehicles, aliceVehicle, device1, alice, key1, relayer);
      await devices.connect(alice).transferFrom(alice.address, carol.address, device1);
      const carolVehicle = await mintVehicle(vehicles, carol, vehicleInfo({}, "CAROL-VIN"));
      await pair(vehicles, carolVehicle, device1, carol, key1, relayer);
      expect(await vehicles.pairedVehicle(device1)).to.equal(carolVehicle);
    });

    it("of an unpaired device emits no DeviceUnpaired", async function () {
      const { vehicles, devices, alice, carol, device1 } = await loadFixture(vehiclesFixture);
      await expect(devices.connect(alice).transferFrom(alice.address, carol.address, device1)).not.to.emit(
        vehicles,
        "DeviceUnpaired",
      );
    });

    it("to the same owner keeps the pairing", async function () {
      const { vehicles, devices, alice, relayer, key1, aliceVehicle, device1 } = await loadFixture(vehiclesFixture);
      await pair(vehicles, aliceVehicle, device1, alice, key1, relayer);
      await devices.connect(alice).transferFrom(alice.address, alice.address, device1);
      expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device1);
    });

    it("is reported only by the device registry: deviceTransferred from anyone else reverts", async function () {
      const { vehicles, outsider, device1 } = await loadFixture(vehiclesFixture);
      await expect(vehicles.connect(outsider).deviceTransferred(device1))
        .to.be.revertedWithCustomError(vehicles, "RegistryNotDeviceRegistry")
        .withArgs(outsider.address);
    });
  });

  describe("DeviceRegistry.setVehicleRegistry", function () {
    async function freshDevices() {
      const [admin, outsider, manufacturer, alice, bob] = await ethers.getSigners();
      const devices = await ethers.deployContract("DeviceRegistry", [admin.address]);
      return { admin, outsider, manufacturer, alice, bob, devices };
    }

    it("is set once by the admin, with VehicleRegistrySet", async function () {
      const { admin, devices } = await loadFixture(freshDevices);
      const target = ethers.Wallet.createRandom().address;
      await expect(devices.connect(admin).setVehicleRegistry(target))
        .to.emit(devices, "VehicleRegistrySet")
        .withArgs(target);
      expect(await devices.vehicleRegistry()).to.equal(target);
      await expect(devices.connect(admin).setVehicleRegistry(admin.address))
        .to.be.revertedWithCustomError(devices, "DeviceVehicleRegistryAlreadySet")
        .withArgs(target);
    });

    it("reverts for anyone but the admin", async function () {
      const { outsider, devices } = await loadFixture(freshDevices);
      await expect(devices.connect(outsider).setVehicleRegistry(outsider.address))
        .to.be.revertedWithCustomError(devices, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, await devices.DEFAULT_ADMIN_ROLE());
    });

    it("reverts with DeviceZeroAddress for the zero address", async function () {
      const { admin, devices } = await loadFixture(freshDevices);
      await expect(devices.connect(admin).setVehicleRegistry(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        devices,
        "DeviceZeroAddress",
      );
    });

    it("until set, device transfers call nothing", async function () {
      const { admin, manufacturer, alice, bob, devices } = await loadFixture(freshDevices);
      await devices.connect(admin).grantRole(await devices.MANUFACTURER_ROLE(), manufacturer.address);
      await devices.connect(manufacturer).mintDevice(alice.address, bob.address, "SN-1", "1");
      await devices.connect(alice).transferFrom(alice.address, bob.address, 1n);
      expect(await devices.ownerOf(1n)).to.equal(bob.address);
    });
  });

  describe("a device of a de-approved manufacturer", function () {
    it("cannot be paired (RegistryManufacturerNotApproved), and can again once the DAO re-approves", async function () {
      const { vehicles, devices, admin, manufacturer, alice, relayer, key1, aliceVehicle, device1 } =
        await loadFixture(vehiclesFixture);
      const role = await devices.MANUFACTURER_ROLE();
      await devices.connect(admin).revokeRole(role, manufacturer.address);
      const deadline = await deadlineIn();
      const s = await pairSignatures(vehicles, aliceVehicle, device1, alice, key1, deadline);
      await expect(
        vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, s.ownerSignature, s.deviceSignature),
      )
        .to.be.revertedWithCustomError(vehicles, "RegistryManufacturerNotApproved")
        .withArgs(device1, manufacturer.address);
      await devices.connect(admin).grantRole(role, manufacturer.address);
      await vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, s.ownerSignature, s.deviceSignature);
      expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device1);
    });

    it("is reported by pairingInfo with its manufacturer and approval", async function () {
      const { devices, admin, manufacturer, key1, device1 } = await loadFixture(vehiclesFixture);
      expect([...(await devices.pairingInfo(device1))]).to.deep.equal([key1.address, manufacturer.address, true]);
      await devices.connect(admin).revokeRole(await devices.MANUFACTURER_ROLE(), manufacturer.address);
      expect([...(await devices.pairingInfo(device1))]).to.deep.equal([key1.address, manufacturer.address, false]);
      expect([...(await devices.pairingInfo(99n))]).to.deep.equal([ethers.ZeroAddress, ethers.ZeroAddress, false]);
    });

    it("never reports an unknown device as approved, even if the zero address were granted the role", async function () {
      const { devices, admin } = await loadFixture(vehiclesFixture);
      await devices.connect(admin).grantRole(await devices.MANUFACTURER_ROLE(), ethers.ZeroAddress);
      expect((await devices.pairingInfo(99n)).manufacturerApproved).to.equal(false);
    });
  });

  describe("removeConnections (L-5)", function () {
    it("lets the Timelock remove a de-approved integration's connections in one batch, skipping vehicles without one", async function () {
      const ctx = await loadFixture(equippedFixture);
      const { vehicles, admin, software, oem, bob, aliceVehicle, bobVehicle } = ctx;
      await connect(vehicles, bobVehicle, software, bob);
      await vehicles.connect(admin).revokeRole(await vehicles.SOFTWARE_INTEGRATION_ROLE(), software.address);
      const third = await mintVehicle(vehicles, bob, vehicleInfo({}, "THIRD-VIN"));
      const ids = [aliceVehicle, third, bobVehicle];
      expect(await vehicles.connect(admin).removeConnections.staticCall(software.address, ids)).to.equal(2n);
      const tx = vehicles.connect(admin).removeConnections(software.address, ids);
      await expect(tx).to.emit(vehicles, "ConnectionRemoved").withArgs(aliceVehicle, software.address, false);
      await expect(tx).to.emit(vehicles, "ConnectionRemoved").withArgs(bobVehicle, software.address, false);
      expect((await vehicles.connections(aliceVehicle)).integrations).to.deep.equal([oem.address]);
      expect((await vehicles.connections(bobVehicle)).integrations).to.deep.equal([]);
    });

    it("reverts for anyone but the admin (an integration cannot purge another's connections)", async function () {
      const { vehicles, oem, software, aliceVehicle } = await loadFixture(equippedFixture);
      await expect(vehicles.connect(oem).removeConnections(software.address, [aliceVehicle]))
        .to.be.revertedWithCustomError(vehicles, "AccessControlUnauthorizedAccount")
        .withArgs(oem.address, await vehicles.DEFAULT_ADMIN_ROLE());
    });
  });

  describe("the packed vehicle record", function () {
    // The catalogue's model record (ModelRecord): a 2-byte header, so a make and model of 30 bytes together fill
    // the first word, 31 spill into a second, 62 fill two, 63 spill into a third, 64 (the longest) use three.
    for (const [makeLength, modelLength] of [
      [1, 1],
      [1, 29],
      [1, 30],
      [30, 32],
      [32, 31],
      [32, 32],
    ]) {
      it(`stores and shows a ${makeLength}-byte make and a ${modelLength}-byte model exactly`, async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        const make = "M".repeat(makeLength - 1) + "k";
        const model = "~".repeat(modelLength - 1) + "z";
        await vehicles.connect(alice).mintVehicle(vehicleInfo({ make, model, year: 2100, powertrain: Powertrain.HEV }));
        expect([...(await vehicles.vehicle(1n))]).to.deep.equal([make, model, 2100n, BigInt(Powertrain.HEV)]);
        const uri = await vehicles.tokenURI(1n);
        const json = JSON.parse(Buffer.from(uri.split(",")[1], "base64").toString("utf8"));
        expect(json.name).to.equal(`2100 ${make} ${model}`);
      });
    }

    it("keeps neighbouring vehicles apart", async function () {
      const { vehicles, alice } = await loadFixture(registryFixture);
      await vehicles.connect(alice).mintVehicle(vehicleInfo({ make: "A".repeat(32), model: "B".repeat(32) }));
      await vehicles.connect(alice).mintVehicle(vehicleInfo({ make: "C", model: "D", year: 1886 }, VIN_BOB));
      expect((await vehicles.vehicle(1n)).model).to.equal("B".repeat(32));
      expect([...(await vehicles.vehicle(2n))]).to.deep.equal(["C", "D", 1886n, BigInt(Powertrain.BEV)]);
    });
  });
});
