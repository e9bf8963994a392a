import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { signPairDevice } from "../helpers/eip712";
import {
  deadlineIn,
  deployWallet,
  deviceKey,
  mintDevice,
  mintVehicle,
  pair,
  pairSignatures,
  vehicleInfo,
  vehiclesFixture,
} from "./fixtures";

/** Alice's vehicle 1 and device 1 with both pairing signatures ready. */
async function signedPairingFixture() {
  const ctx = await vehiclesFixture();
  const deadline = await deadlineIn();
  const signatures = await pairSignatures(ctx.vehicles, ctx.aliceVehicle, ctx.device1, ctx.alice, ctx.key1, deadline);
  return { ...ctx, deadline, ...signatures };
}

/** Alice's vehicle 1 paired with device 1. */
async function pairedFixture() {
  const ctx = await vehiclesFixture();
  await pair(ctx.vehicles, ctx.aliceVehicle, ctx.device1, ctx.alice, ctx.key1, ctx.relayer);
  return ctx;
}

/** Carol's contract wallet owns vehicle 3; device 3 (device key 3) is unpaired. */
async function walletVehicleFixture() {
  const ctx = await vehiclesFixture();
  const { vehicles, devices, manufacturer, carol } = ctx;
  const wallet = await deployWallet(carol);
  const walletAddress = await wallet.getAddress();
  const mint = vehicles.interface.encodeFunctionData("mintVehicle", [vehicleInfo({ model: "Model Y" }, "VIN-WALLET")]);
  await wallet.connect(carol).execute(await vehicles.getAddress(), mint);
  const key3 = deviceKey(3);
  const device3 = await mintDevice(devices, manufacturer, walletAddress, key3.address);
  return { ...ctx, wallet, walletAddress, walletVehicle: await vehicles.totalVehicles(), key3, device3 };
}

describe("VehicleRegistry: pairing", function () {
  describe("pairDevice", function () {
    describe("when the owner and the device key both signed", function () {
      it("pairs the device with the vehicle both ways", async function () {
        const { vehicles, relayer, aliceVehicle, device1, deadline, ownerSignature, deviceSignature } =
          await loadFixture(signedPairingFixture);
        await vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature);
        expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device1);
        expect(await vehicles.pairedVehicle(device1)).to.equal(aliceVehicle);
      });

      it("emits DevicePaired with the owner", async function () {
        const { vehicles, alice, relayer, aliceVehicle, device1, deadline, ownerSignature, deviceSignature } =
          await loadFixture(signedPairingFixture);
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature),
        )
          .to.emit(vehicles, "DevicePaired")
          .withArgs(aliceVehicle, device1, alice.address);
      });

      it("uses one nonce of the owner and one of the device key", async function () {
        const { vehicles, alice, key1, relayer, aliceVehicle, device1, deadline, ownerSignature, deviceSignature } =
          await loadFixture(signedPairingFixture);
        await vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature);
        expect(await vehicles.nonces(alice.address)).to.equal(1n);
        expect(await vehicles.nonces(key1.address)).to.equal(1n);
      });

      it("lets the owner submit the pairing too", async function () {
        const { vehicles, alice, aliceVehicle, device1, deadline, ownerSignature, deviceSignature } =
          await loadFixture(signedPairingFixture);
        await vehicles.connect(alice).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature);
        expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device1);
      });

      it("does not require the vehicle owner to hold the device NFT", async function () {
        // Device 2 belongs to Bob; its key and Alice sign, and it pairs with Alice's vehicle.
        const { vehicles, alice, key2, relayer, aliceVehicle, device2 } = await loadFixture(vehiclesFixture);
        await pair(vehicles, aliceVehicle, device2, alice, key2, relayer);
        expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device2);
      });

      it("accepts the signatures in the block whose timestamp equals the deadline", async function () {
        const { vehicles, relayer, aliceVehicle, device1, deadline, ownerSignature, deviceSignature } =
          await loadFixture(signedPairingFixture);
        await time.setNextBlockTimestamp(deadline);
        await vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature);
        expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device1);
      });
    });

    describe("when the vehicle owner also holds the device key", function () {
      it("pairs with the owner's next two nonces", async function () {
        const { vehicles, devices, manufacturer, alice, relayer, aliceVehicle } = await loadFixture(vehiclesFixture);
        const device = await mintDevice(devices, manufacturer, alice.address, alice.address);
        const deadline = await deadlineIn();
        const message = { vehicleId: aliceVehicle, deviceId: device, ownerNonce: 0n, deviceNonce: 1n, deadline };
        const signature = await signPairDevice(alice, vehicles, message);
        await vehicles.connect(relayer).pairDevice(aliceVehicle, device, deadline, signature, signature);
        expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device);
        expect(await vehicles.nonces(alice.address)).to.equal(2n);
      });
    });

    describe("when the vehicle already has a device", function () {
      it("reverts with RegistryVehicleAlreadyPaired and the paired device", async function () {
        const { vehicles, alice, key2, relayer, aliceVehicle, device1, device2 } = await loadFixture(pairedFixture);
        const deadline = await deadlineIn();
        const { ownerSignature, deviceSignature } = await pairSignatures(
          vehicles,
          aliceVehicle,
          device2,
          alice,
          key2,
          deadline,
        );
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device2, deadline, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryVehicleAlreadyPaired")
          .withArgs(aliceVehicle, device1);
      });
    });

    describe("when the device is already paired with another vehicle", function () {
      it("reverts with RegistryDeviceAlreadyPaired and the other vehicle", async function () {
        const { vehicles, bob, key1, relayer, aliceVehicle, bobVehicle, device1 } = await loadFixture(pairedFixture);
        const deadline = await deadlineIn();
        const { ownerSignature, deviceSignature } = await pairSignatures(
          vehicles,
          bobVehicle,
          device1,
          bob,
          key1,
          deadline,
        );
        await expect(
          vehicles.connect(relayer).pairDevice(bobVehicle, device1, deadline, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryDeviceAlreadyPaired")
          .withArgs(device1, aliceVehicle);
      });
    });

    describe("when the device does not exist", function () {
      for (const deviceId of [0n, 99n]) {
        it(`reverts with RegistryDeviceNotFound for device ${deviceId}`, async function () {
          const { vehicles, alice, relayer, aliceVehicle } = await loadFixture(vehiclesFixture);
          const deadline = await deadlineIn();
          const { ownerSignature, deviceSignature } = await pairSignatures(
            vehicles,
            aliceVehicle,
            deviceId,
            alice,
            deviceKey(99),
            deadline,
          );
          await expect(
            vehicles.connect(relayer).pairDevice(aliceVehicle, deviceId, deadline, ownerSignature, deviceSignature),
          )
            .to.be.revertedWithCustomError(vehicles, "RegistryDeviceNotFound")
            .withArgs(deviceId);
        });
      }
    });

    describe("when the vehicle does not exist", function () {
      it("reverts with RegistryVehicleNotFound", async function () {
        const { vehicles, alice, key1, relayer, device1 } = await loadFixture(vehiclesFixture);
        const deadline = await deadlineIn();
        const { ownerSignature, deviceSignature } = await pairSignatures(vehicles, 99n, device1, alice, key1, deadline);
        await expect(vehicles.connect(relayer).pairDevice(99n, device1, deadline, ownerSignature, deviceSignature))
          .to.be.revertedWithCustomError(vehicles, "RegistryVehicleNotFound")
          .withArgs(99n);
      });
    });

    describe("when the deadline has passed", function () {
      it("reverts with RegistrySignatureExpired", async function () {
        const { vehicles, relayer, aliceVehicle, device1, deadline, ownerSignature, deviceSignature } =
          await loadFixture(signedPairingFixture);
        await time.setNextBlockTimestamp(deadline + 1n);
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistrySignatureExpired")
          .withArgs(deadline, deadline + 1n);
      });
    });

    describe("when the owner's signature is not valid", function () {
      it("reverts with RegistryInvalidSignature(owner) when it is replayed after an unpairing", async function () {
        const { vehicles, alice, key1, relayer, aliceVehicle, device1, deadline, ownerSignature, deviceSignature } =
          await loadFixture(signedPairingFixture);
        await vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature);
        await vehicles.connect(alice).unpairDevice(aliceVehicle);
        // The device signs afresh; the owner's old signature is replayed.
        const nonces = { ownerNonce: 1n, deviceNonce: 1n };
        const freshDevice = await signPairDevice(key1, vehicles, {
          vehicleId: aliceVehicle,
          deviceId: device1,
          ...nonces,
          deadline,
        });
        await expect(vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, freshDevice))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature(owner) when someone else signed for the owner", async function () {
        const { vehicles, alice, bob, key1, relayer, aliceVehicle, device1 } = await loadFixture(vehiclesFixture);
        const deadline = await deadlineIn();
        const { ownerSignature, deviceSignature } = await pairSignatures(
          vehicles,
          aliceVehicle,
          device1,
          bob,
          key1,
          deadline,
          alice.address,
        );
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature(owner) when it was signed for another chain id", async function () {
        const { vehicles, alice, key1, relayer, aliceVehicle, device1, deadline, deviceSignature } =
          await loadFixture(signedPairingFixture);
        const { ownerSignature } = await pairSignatures(
          vehicles,
          aliceVehicle,
          device1,
          alice,
          key1,
          deadline,
          undefined,
          { chainId: 1n },
        );
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature(owner) when it was signed for another registry", async function () {
        const { vehicles, devices, admin, alice, key1, relayer, aliceVehicle, device1, deadline, deviceSignature } =
          await loadFixture(signedPairingFixture);
        const other = await ethers.deployContract("VehicleRegistry", [await devices.getAddress(), admin.address]);
        const { ownerSignature } = await pairSignatures(
          vehicles,
          aliceVehicle,
          device1,
          alice,
          key1,
          deadline,
          undefined,
          { verifyingContract: await other.getAddress() },
        );
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature(owner) when it was signed for another device", async function () {
        const { vehicles, alice, key1, relayer, aliceVehicle, device1, device2, deadline, deviceSignature } =
          await loadFixture(signedPairingFixture);
        const ownerSignature = await signPairDevice(alice, vehicles, {
          vehicleId: aliceVehicle,
          deviceId: device2,
          ownerNonce: 0n,
          deviceNonce: await vehicles.nonces(key1.address),
          deadline,
        });
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature(owner) when the two signatures are swapped", async function () {
        const { vehicles, alice, relayer, aliceVehicle, device1, deadline, ownerSignature, deviceSignature } =
          await loadFixture(signedPairingFixture);
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, deviceSignature, ownerSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature(owner) when the submitted deadline differs from the signed one", async function () {
        const { vehicles, alice, relayer, aliceVehicle, device1, deadline, ownerSignature, deviceSignature } =
          await loadFixture(signedPairingFixture);
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline + 1n, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });
    });

    describe("when the device's signature is not valid", function () {
      it("reverts with RegistryInvalidSignature(device key) when it is replayed after an unpairing", async function () {
        const { vehicles, alice, key1, relayer, aliceVehicle, device1, deadline, ownerSignature, deviceSignature } =
          await loadFixture(signedPairingFixture);
        await vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature);
        await vehicles.connect(alice).unpairDevice(aliceVehicle);
        const freshOwner = await signPairDevice(alice, vehicles, {
          vehicleId: aliceVehicle,
          deviceId: device1,
          ownerNonce: 1n,
          deviceNonce: 1n,
          deadline,
        });
        await expect(vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, freshOwner, deviceSignature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(key1.address);
      });

      it("reverts with RegistryInvalidSignature(device key) when another key signed for the device", async function () {
        const { vehicles, key1, key2, relayer, aliceVehicle, device1, deadline, ownerSignature } =
          await loadFixture(signedPairingFixture);
        const deviceSignature = await signPairDevice(key2, vehicles, {
          vehicleId: aliceVehicle,
          deviceId: device1,
          ownerNonce: 0n,
          deviceNonce: 0n,
          deadline,
        });
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(key1.address);
      });

      it("reverts with RegistryInvalidSignature(device key) when it was signed for another chain id", async function () {
        const { vehicles, alice, key1, relayer, aliceVehicle, device1, deadline, ownerSignature } =
          await loadFixture(signedPairingFixture);
        const { deviceSignature } = await pairSignatures(
          vehicles,
          aliceVehicle,
          device1,
          alice,
          key1,
          deadline,
          undefined,
          { chainId: 137n },
        );
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(key1.address);
      });

      it("reverts with RegistryInvalidSignature(device key) when it was signed for another registry", async function () {
        const { vehicles, devices, admin, alice, key1, relayer, aliceVehicle, device1, deadline, ownerSignature } =
          await loadFixture(signedPairingFixture);
        const other = await ethers.deployContract("VehicleRegistry", [await devices.getAddress(), admin.address]);
        const { deviceSignature } = await pairSignatures(
          vehicles,
          aliceVehicle,
          device1,
          alice,
          key1,
          deadline,
          undefined,
          { verifyingContract: await other.getAddress() },
        );
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(key1.address);
      });

      it("reverts with RegistryInvalidSignature(device key) when it was signed for another vehicle", async function () {
        const { vehicles, key1, relayer, aliceVehicle, bobVehicle, device1, deadline, ownerSignature } =
          await loadFixture(signedPairingFixture);
        const deviceSignature = await signPairDevice(key1, vehicles, {
          vehicleId: bobVehicle,
          deviceId: device1,
          ownerNonce: 0n,
          deviceNonce: 0n,
          deadline,
        });
        await expect(
          vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(key1.address);
      });
    });

    describe("when the owner is a contract wallet (ERC-1271)", function () {
      it("pairs with the wallet owner's signature", async function () {
        const { vehicles, carol, relayer, walletAddress, walletVehicle, key3, device3 } =
          await loadFixture(walletVehicleFixture);
        const deadline = await deadlineIn();
        const { ownerSignature, deviceSignature } = await pairSignatures(
          vehicles,
          walletVehicle,
          device3,
          carol,
          key3,
          deadline,
          walletAddress,
        );
        await expect(
          vehicles.connect(relayer).pairDevice(walletVehicle, device3, deadline, ownerSignature, deviceSignature),
        )
          .to.emit(vehicles, "DevicePaired")
          .withArgs(walletVehicle, device3, walletAddress);
        expect(await vehicles.nonces(walletAddress)).to.equal(1n);
      });

      it("reverts with RegistryInvalidSignature(wallet) when the wallet's owner did not sign", async function () {
        const { vehicles, outsider, relayer, walletAddress, walletVehicle, key3, device3 } =
          await loadFixture(walletVehicleFixture);
        const deadline = await deadlineIn();
        const { ownerSignature, deviceSignature } = await pairSignatures(
          vehicles,
          walletVehicle,
          device3,
          outsider,
          key3,
          deadline,
          walletAddress,
        );
        await expect(
          vehicles.connect(relayer).pairDevice(walletVehicle, device3, deadline, ownerSignature, deviceSignature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(walletAddress);
      });

      it("lets the wallet unpair through its owner", async function () {
        const { vehicles, carol, relayer, wallet, walletAddress, walletVehicle, key3, device3 } =
          await loadFixture(walletVehicleFixture);
        const deadline = await deadlineIn();
        const signatures = await pairSignatures(vehicles, walletVehicle, device3, carol, key3, deadline, walletAddress);
        await vehicles
          .connect(relayer)
          .pairDevice(walletVehicle, device3, deadline, signatures.ownerSignature, signatures.deviceSignature);
        const data = vehicles.interface.encodeFunctionData("unpairDevice", [walletVehicle]);
        await expect(wallet.connect(carol).execute(await vehicles.getAddress(), data))
          .to.emit(vehicles, "DeviceUnpaired")
          .withArgs(walletVehicle, device3, false);
      });
    });
  });

  describe("unpairDevice", function () {
    describe("when the owner unpairs a paired vehicle", function () {
      it("clears the pairing both ways", async function () {
        const { vehicles, alice, aliceVehicle, device1 } = await loadFixture(pairedFixture);
        await vehicles.connect(alice).unpairDevice(aliceVehicle);
        expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(0n);
        expect(await vehicles.pairedVehicle(device1)).to.equal(0n);
      });

      it("emits DeviceUnpaired with byTransfer false", async function () {
        const { vehicles, alice, aliceVehicle, device1 } = await loadFixture(pairedFixture);
        await expect(vehicles.connect(alice).unpairDevice(aliceVehicle))
          .to.emit(vehicles, "DeviceUnpaired")
          .withArgs(aliceVehicle, device1, false);
      });

      it("lets the same device pair again with fresh signatures", async function () {
        const { vehicles, alice, key1, relayer, aliceVehicle, device1 } = await loadFixture(pairedFixture);
        await vehicles.connect(alice).unpairDevice(aliceVehicle);
        await pair(vehicles, aliceVehicle, device1, alice, key1, relayer);
        expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device1);
        expect(await vehicles.nonces(alice.address)).to.equal(2n);
      });

      it("frees the device to pair with another vehicle", async function () {
        const { vehicles, alice, bob, key1, relayer, aliceVehicle, bobVehicle, device1 } =
          await loadFixture(pairedFixture);
        await vehicles.connect(alice).unpairDevice(aliceVehicle);
        await pair(vehicles, bobVehicle, device1, bob, key1, relayer);
        expect(await vehicles.pairedVehicle(device1)).to.equal(bobVehicle);
      });

      it("frees the vehicle to pair with another device", async function () {
        const { vehicles, alice, key2, relayer, aliceVehicle, device2 } = await loadFixture(pairedFixture);
        await vehicles.connect(alice).unpairDevice(aliceVehicle);
        await pair(vehicles, aliceVehicle, device2, alice, key2, relayer);
        expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device2);
      });
    });

    describe("when the caller is not the owner", function () {
      it("reverts with RegistryNotVehicleOwner for an outsider", async function () {
        const { vehicles, alice, outsider, aliceVehicle } = await loadFixture(pairedFixture);
        await expect(vehicles.connect(outsider).unpairDevice(aliceVehicle))
          .to.be.revertedWithCustomError(vehicles, "RegistryNotVehicleOwner")
          .withArgs(aliceVehicle, outsider.address, alice.address);
      });

      it("reverts with RegistryNotVehicleOwner for the holder of the device NFT", async function () {
        // Device 2 (Bob's NFT) paired with Alice's vehicle: Bob may not end it.
        const { vehicles, alice, bob, key2, relayer, aliceVehicle, device2 } = await loadFixture(vehiclesFixture);
        await pair(vehicles, aliceVehicle, device2, alice, key2, relayer);
        await expect(vehicles.connect(bob).unpairDevice(aliceVehicle))
          .to.be.revertedWithCustomError(vehicles, "RegistryNotVehicleOwner")
          .withArgs(aliceVehicle, bob.address, alice.address);
      });

      it("reverts with RegistryNotVehicleOwner for an operator approved for the vehicle", async function () {
        const { vehicles, alice, bob, aliceVehicle } = await loadFixture(pairedFixture);
        await vehicles.connect(alice).approve(bob.address, aliceVehicle);
        await expect(vehicles.connect(bob).unpairDevice(aliceVehicle))
          .to.be.revertedWithCustomError(vehicles, "RegistryNotVehicleOwner")
          .withArgs(aliceVehicle, bob.address, alice.address);
      });
    });

    describe("when the vehicle has no device", function () {
      it("reverts with RegistryVehicleNotPaired", async function () {
        const { vehicles, alice, aliceVehicle } = await loadFixture(vehiclesFixture);
        await expect(vehicles.connect(alice).unpairDevice(aliceVehicle))
          .to.be.revertedWithCustomError(vehicles, "RegistryVehicleNotPaired")
          .withArgs(aliceVehicle);
      });
    });

    describe("when the vehicle does not exist", function () {
      it("reverts with RegistryVehicleNotFound", async function () {
        const { vehicles, alice } = await loadFixture(vehiclesFixture);
        await expect(vehicles.connect(alice).unpairDevice(99n))
          .to.be.revertedWithCustomError(vehicles, "RegistryVehicleNotFound")
          .withArgs(99n);
      });
    });
  });

  describe("pairedDevice and pairedVehicle", function () {
    it("return zero when nothing is paired", async function () {
      const { vehicles, alice, aliceVehicle, device1 } = await loadFixture(vehiclesFixture);
      expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(0n);
      expect(await vehicles.pairedVehicle(device1)).to.equal(0n);
      expect(await mintVehicle(vehicles, alice, vehicleInfo({}, "VIN-3"))).to.equal(3n);
      expect(await vehicles.pairedDevice(3n)).to.equal(0n);
    });
  });
});
