import { expect } from "chai";
import type { BigNumberish, Signer } from "ethers";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { signPairDevice, type PairDeviceMessage } from "../helpers/eip712";
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

type SignedPairing = Awaited<ReturnType<typeof signedPairingFixture>>;

/**
 * `owner` (for `ownerAddress`, by default its own) and device key `key` sign the pairing of `deviceId` with
 * `vehicleId` for the next hour; the relayer submits it. Returns the transaction, for `expect`.
 */
async function signAndPair(
  { vehicles, relayer }: Pick<SignedPairing, "vehicles" | "relayer">,
  vehicleId: BigNumberish,
  deviceId: BigNumberish,
  owner: Signer,
  key: Signer,
  ownerAddress?: string,
) {
  const deadline = await deadlineIn();
  const signatures = await pairSignatures(vehicles, vehicleId, deviceId, owner, key, deadline, ownerAddress);
  return vehicles
    .connect(relayer)
    .pairDevice(vehicleId, deviceId, deadline, signatures.ownerSignature, signatures.deviceSignature);
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
        const message = {
          vehicleId: aliceVehicle,
          vehicleEpoch: 0n,
          deviceId: device,
          ownerNonce: 0n,
          deviceNonce: 1n,
          deadline,
        };
        const signature = await signPairDevice(alice, vehicles, message);
        await vehicles.connect(relayer).pairDevice(aliceVehicle, device, deadline, signature, signature);
        expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device);
        expect(await vehicles.nonces(alice.address)).to.equal(2n);
      });
    });

    describe("when the vehicle already has a device", function () {
      it("reverts with RegistryVehicleAlreadyPaired and the paired device", async function () {
        const ctx = await loadFixture(pairedFixture);
        const { vehicles, alice, key2, aliceVehicle, device1, device2 } = ctx;
        await expect(signAndPair(ctx, aliceVehicle, device2, alice, key2))
          .to.be.revertedWithCustomError(vehicles, "RegistryVehicleAlreadyPaired")
          .withArgs(aliceVehicle, device1);
      });
    });

    describe("when the device is already paired with another vehicle", function () {
      it("reverts with RegistryDeviceAlreadyPaired and the other vehicle", async function () {
        const ctx = await loadFixture(pairedFixture);
        const { vehicles, bob, key1, aliceVehicle, bobVehicle, device1 } = ctx;
        await expect(signAndPair(ctx, bobVehicle, device1, bob, key1))
          .to.be.revertedWithCustomError(vehicles, "RegistryDeviceAlreadyPaired")
          .withArgs(device1, aliceVehicle);
      });
    });

    describe("when the device does not exist", function () {
      for (const deviceId of [0n, 99n]) {
        it(`reverts with RegistryDeviceNotFound for device ${deviceId}`, async function () {
          const ctx = await loadFixture(vehiclesFixture);
          await expect(signAndPair(ctx, ctx.aliceVehicle, deviceId, ctx.alice, deviceKey(99)))
            .to.be.revertedWithCustomError(ctx.vehicles, "RegistryDeviceNotFound")
            .withArgs(deviceId);
        });
      }
    });

    describe("when the vehicle does not exist", function () {
      it("reverts with RegistryVehicleNotFound", async function () {
        const ctx = await loadFixture(vehiclesFixture);
        const { vehicles, alice, key1, device1 } = ctx;
        await expect(signAndPair(ctx, 99n, device1, alice, key1))
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

    /**
     * Each signature is checked against its own signer: the same bad signatures, once as the owner's (with the
     * device key's valid) and once as the device key's (with the owner's valid). `signer` must have signed, `other`
     * is the other party, `impostor` signs in `signer`'s place.
     */
    const signatureCases = [
      { party: "owner", whose: "the owner's", signer: "alice", other: "key1", impostor: "bob", otherChainId: 1n },
      {
        party: "device key",
        whose: "the device's",
        signer: "key1",
        other: "alice",
        impostor: "key2",
        otherChainId: 137n,
      },
    ] as const;

    for (const { party, whose, signer, other, impostor, otherChainId } of signatureCases) {
      describe(`when ${whose} signature is not valid`, function () {
        const isOwner = party === "owner";

        /** This party's valid signature from the fixture, then the other party's. */
        function signatures(ctx: SignedPairing): [own: string, theirs: string] {
          return isOwner ? [ctx.ownerSignature, ctx.deviceSignature] : [ctx.deviceSignature, ctx.ownerSignature];
        }

        /** The message both fixture signatures sign, with `changes`. */
        function message(ctx: SignedPairing, changes: Partial<PairDeviceMessage> = {}): PairDeviceMessage {
          const { aliceVehicle, device1, deadline } = ctx;
          return {
            vehicleId: aliceVehicle,
            vehicleEpoch: 0n,
            deviceId: device1,
            ownerNonce: 0n,
            deviceNonce: 0n,
            deadline,
            ...changes,
          };
        }

        /** The relayer submits Alice's pairing of device 1 with `own` as this party's signature. */
        function submit(ctx: SignedPairing, own: string, theirs: string, deadline = ctx.deadline) {
          const [ownerSignature, deviceSignature] = isOwner ? [own, theirs] : [theirs, own];
          return ctx.vehicles
            .connect(ctx.relayer)
            .pairDevice(ctx.aliceVehicle, ctx.device1, deadline, ownerSignature, deviceSignature);
        }

        /** `tx` is refused with RegistryInvalidSignature naming this party's signer. */
        async function expectRefused(ctx: SignedPairing, tx: Promise<unknown>) {
          await expect(tx)
            .to.be.revertedWithCustomError(ctx.vehicles, "RegistryInvalidSignature")
            .withArgs(ctx[signer].address);
        }

        it(`reverts with RegistryInvalidSignature(${party}) when it is replayed after an unpairing`, async function () {
          const ctx = await loadFixture(signedPairingFixture);
          const [own, theirs] = signatures(ctx);
          await submit(ctx, own, theirs);
          await ctx.vehicles.connect(ctx.alice).unpairDevice(ctx.aliceVehicle);
          // The other party signs afresh; this party's old signature is replayed.
          const fresh = await signPairDevice(
            ctx[other],
            ctx.vehicles,
            message(ctx, { ownerNonce: 1n, deviceNonce: 1n }),
          );
          await expectRefused(ctx, submit(ctx, own, fresh));
        });

        it(`reverts with RegistryInvalidSignature(${party}) when someone else signed for the ${party}`, async function () {
          const ctx = await loadFixture(signedPairingFixture);
          const [, theirs] = signatures(ctx);
          const forged = await signPairDevice(ctx[impostor], ctx.vehicles, message(ctx));
          await expectRefused(ctx, submit(ctx, forged, theirs));
        });

        it(`reverts with RegistryInvalidSignature(${party}) when it was signed for another chain id`, async function () {
          const ctx = await loadFixture(signedPairingFixture);
          const [, theirs] = signatures(ctx);
          const own = await signPairDevice(ctx[signer], ctx.vehicles, message(ctx), { chainId: otherChainId });
          await expectRefused(ctx, submit(ctx, own, theirs));
        });

        it(`reverts with RegistryInvalidSignature(${party}) when it was signed for another registry`, async function () {
          const ctx = await loadFixture(signedPairingFixture);
          const [, theirs] = signatures(ctx);
          const otherRegistry = await ethers.deployContract("VehicleRegistry", [
            await ctx.devices.getAddress(),
            ctx.admin.address,
          ]);
          const own = await signPairDevice(ctx[signer], ctx.vehicles, message(ctx), {
            verifyingContract: await otherRegistry.getAddress(),
          });
          await expectRefused(ctx, submit(ctx, own, theirs));
        });

        for (const [what, changes] of [
          ["device", (ctx: SignedPairing) => ({ deviceId: ctx.device2 })],
          ["vehicle", (ctx: SignedPairing) => ({ vehicleId: ctx.bobVehicle })],
        ] as const) {
          it(`reverts with RegistryInvalidSignature(${party}) when it was signed for another ${what}`, async function () {
            const ctx = await loadFixture(signedPairingFixture);
            const [, theirs] = signatures(ctx);
            const own = await signPairDevice(ctx[signer], ctx.vehicles, message(ctx, changes(ctx)));
            await expectRefused(ctx, submit(ctx, own, theirs));
          });
        }

        // The owner's signature is checked first, so only it is found wrong when both are.
        if (isOwner) {
          it("reverts with RegistryInvalidSignature(owner) when the two signatures are swapped", async function () {
            const ctx = await loadFixture(signedPairingFixture);
            const [own, theirs] = signatures(ctx);
            await expectRefused(ctx, submit(ctx, theirs, own));
          });

          it("reverts with RegistryInvalidSignature(owner) when the submitted deadline differs from the signed one", async function () {
            const ctx = await loadFixture(signedPairingFixture);
            const [own, theirs] = signatures(ctx);
            await expectRefused(ctx, submit(ctx, own, theirs, ctx.deadline + 1n));
          });
        }
      });
    }

    describe("when the owner is a contract wallet (ERC-1271)", function () {
      it("pairs with the wallet owner's signature", async function () {
        const ctx = await loadFixture(walletVehicleFixture);
        const { vehicles, carol, walletAddress, walletVehicle, key3, device3 } = ctx;
        await expect(signAndPair(ctx, walletVehicle, device3, carol, key3, walletAddress))
          .to.emit(vehicles, "DevicePaired")
          .withArgs(walletVehicle, device3, walletAddress);
        expect(await vehicles.nonces(walletAddress)).to.equal(1n);
      });

      it("reverts with RegistryInvalidSignature(wallet) when the wallet's owner did not sign", async function () {
        const ctx = await loadFixture(walletVehicleFixture);
        const { vehicles, outsider, walletAddress, walletVehicle, key3, device3 } = ctx;
        await expect(signAndPair(ctx, walletVehicle, device3, outsider, key3, walletAddress))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(walletAddress);
      });

      it("lets the wallet unpair through its owner", async function () {
        const ctx = await loadFixture(walletVehicleFixture);
        const { vehicles, carol, wallet, walletAddress, walletVehicle, key3, device3 } = ctx;
        await signAndPair(ctx, walletVehicle, device3, carol, key3, walletAddress);
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
