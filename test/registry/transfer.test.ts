import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  ConnectionKind,
  Powertrain,
  DAY,
  GRANT_A_PERMISSIONS,
  canReadAny,
  connect,
  consentSignature,
  deadlineIn,
  equippedFixture,
  pair,
  pairSignatures,
  permissionsOf,
  vehicleInfo,
  vehiclesFixture,
  vinCommitment,
  VIN_ALICE,
  type VehicleRegistry,
} from "./fixtures";

type Transfer = (
  vehicles: VehicleRegistry,
  from: HardhatEthersSigner,
  to: HardhatEthersSigner,
  operator: HardhatEthersSigner,
  vehicleId: bigint,
) => Promise<ContractTransactionResponse>;

/** Every way a vehicle changes hands; each must clear the vehicle the same way. */
const TRANSFERS: [string, Transfer][] = [
  ["transferFrom", (v, from, to, _op, id) => v.connect(from).transferFrom(from.address, to.address, id)],
  [
    "safeTransferFrom",
    (v, from, to, _op, id) =>
      v.connect(from)["safeTransferFrom(address,address,uint256)"](from.address, to.address, id),
  ],
  [
    "safeTransferFrom with data",
    (v, from, to, _op, id) =>
      v.connect(from)["safeTransferFrom(address,address,uint256,bytes)"](from.address, to.address, id, "0x1234"),
  ],
  [
    "transferFrom by an approved operator",
    async (v, from, to, op, id) => {
      await v.connect(from).approve(op.address, id);
      return v.connect(op).transferFrom(from.address, to.address, id);
    },
  ],
  [
    "safeTransferFrom by an operator approved for all",
    async (v, from, to, op, id) => {
      await v.connect(from).setApprovalForAll(op.address, true);
      return v.connect(op)["safeTransferFrom(address,address,uint256)"](from.address, to.address, id);
    },
  ],
];

const transferByTransferFrom = TRANSFERS[0][1];

/** `equippedFixture` after Alice sold vehicle 1 to Bob with transferFrom. */
async function soldFixture() {
  const ctx = await equippedFixture();
  await ctx.vehicles.connect(ctx.alice).transferFrom(ctx.alice.address, ctx.bob.address, ctx.aliceVehicle);
  return ctx;
}

describe("VehicleRegistry and DataAccess: vehicle transfers", function () {
  for (const [name, transfer] of TRANSFERS) {
    describe(`when the vehicle changes hands with ${name}`, function () {
      it("unpairs the device and emits DeviceUnpaired with byTransfer true", async function () {
        const { vehicles, alice, bob, relayer, aliceVehicle, device1 } = await loadFixture(equippedFixture);
        await expect(transfer(vehicles, alice, bob, relayer, aliceVehicle))
          .to.emit(vehicles, "DeviceUnpaired")
          .withArgs(aliceVehicle, device1, true);
        expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(0n);
        expect(await vehicles.pairedVehicle(device1)).to.equal(0n);
      });

      it("removes every connection and emits ConnectionRemoved with byTransfer true for each", async function () {
        const { vehicles, alice, bob, relayer, software, oem, aliceVehicle } = await loadFixture(equippedFixture);
        await expect(transfer(vehicles, alice, bob, relayer, aliceVehicle))
          .to.emit(vehicles, "ConnectionRemoved")
          .withArgs(aliceVehicle, software.address, true)
          .and.to.emit(vehicles, "ConnectionRemoved")
          .withArgs(aliceVehicle, oem.address, true);
        const [integrations, kinds] = await vehicles.connections(aliceVehicle);
        expect(integrations).to.deep.equal([]);
        expect(kinds).to.deep.equal([]);
      });

      it("advances the ownership epoch and emits OwnershipEpochAdvanced", async function () {
        const { vehicles, alice, bob, relayer, aliceVehicle } = await loadFixture(equippedFixture);
        await expect(transfer(vehicles, alice, bob, relayer, aliceVehicle))
          .to.emit(vehicles, "OwnershipEpochAdvanced")
          .withArgs(aliceVehicle, 1n, alice.address, bob.address);
        expect(await vehicles.ownershipEpoch(aliceVehicle)).to.equal(1n);
      });

      it("voids every grant of the previous owner at once, for every data type", async function () {
        const { vehicles, access, alice, bob, relayer, consumerA, consumerB, aliceVehicle } =
          await loadFixture(equippedFixture);
        await transfer(vehicles, alice, bob, relayer, aliceVehicle);
        expect(await canReadAny(access, consumerA.address, aliceVehicle)).to.equal(false);
        expect(await canReadAny(access, consumerB.address, aliceVehicle)).to.equal(false);
      });

      it("keeps the stale grant records and their capacity until they are pruned", async function () {
        const { vehicles, access, capacity, alice, bob, relayer, consumerA, aliceVehicle } =
          await loadFixture(equippedFixture);
        await transfer(vehicles, alice, bob, relayer, aliceVehicle);
        expect((await access.grantOf(aliceVehicle, consumerA.address)).epoch).to.equal(0n);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(1n);
      });

      it("keeps the vehicle's data and VIN commitment", async function () {
        const { vehicles, alice, bob, relayer, aliceVehicle } = await loadFixture(equippedFixture);
        await transfer(vehicles, alice, bob, relayer, aliceVehicle);
        const before = await vehicles.vehicle(aliceVehicle);
        await transfer(vehicles, bob, alice, relayer, aliceVehicle);
        await transfer(vehicles, alice, bob, relayer, aliceVehicle);
        expect(await vehicles.ownerOf(aliceVehicle)).to.equal(bob.address);
        expect([...(await vehicles.vehicle(aliceVehicle))]).to.deep.equal([...before]);
        expect([...before]).to.deep.equal(["Tesla", "Model 3", 2021n, BigInt(Powertrain.BEV)]);
        expect(await vehicles.vehicleOfVin(vinCommitment(VIN_ALICE))).to.equal(aliceVehicle);
      });

      it("leaves the integrations approved", async function () {
        const { vehicles, alice, bob, relayer, software, oem, aliceVehicle } = await loadFixture(equippedFixture);
        await transfer(vehicles, alice, bob, relayer, aliceVehicle);
        expect(await vehicles.integrationKind(software.address)).to.equal(BigInt(ConnectionKind.Software));
        expect(await vehicles.integrationKind(oem.address)).to.equal(BigInt(ConnectionKind.Oem));
      });
    });
  }

  describe("when the vehicle has no device and no connection", function () {
    it("only advances the ownership epoch", async function () {
      const { vehicles, alice, bob, aliceVehicle } = await loadFixture(vehiclesFixture);
      const tx = vehicles.connect(alice).transferFrom(alice.address, bob.address, aliceVehicle);
      await expect(tx)
        .to.emit(vehicles, "OwnershipEpochAdvanced")
        .withArgs(aliceVehicle, 1n, alice.address, bob.address);
      await expect(tx).not.to.emit(vehicles, "DeviceUnpaired");
      await expect(tx).not.to.emit(vehicles, "ConnectionRemoved");
    });
  });

  describe("when the vehicle holds MAX_CONNECTIONS connections", function () {
    it("removes all eight", async function () {
      const { vehicles, alice, bob, extraIntegrations, aliceVehicle } = await loadFixture(vehiclesFixture);
      for (const integration of extraIntegrations) await connect(vehicles, aliceVehicle, integration, alice);
      const tx = await vehicles.connect(alice).transferFrom(alice.address, bob.address, aliceVehicle);
      const receipt = await tx.wait();
      const removed = receipt!.logs
        .map((log) => vehicles.interface.parseLog(log))
        .filter((parsed) => parsed?.name === "ConnectionRemoved")
        .map((parsed) => parsed!.args.integration as string);
      expect([...removed].sort()).to.deep.equal(extraIntegrations.map((s) => s.address).sort());
      expect((await vehicles.connections(aliceVehicle))[0]).to.deep.equal([]);
    });
  });

  describe("when the owner transfers the vehicle to themselves", function () {
    it("keeps the pairing, the connections, the epoch and the grants", async function () {
      const { vehicles, access, alice, consumerA, aliceVehicle, device1 } = await loadFixture(equippedFixture);
      await expect(vehicles.connect(alice).transferFrom(alice.address, alice.address, aliceVehicle)).not.to.emit(
        vehicles,
        "OwnershipEpochAdvanced",
      );
      expect(await vehicles.ownershipEpoch(aliceVehicle)).to.equal(0n);
      expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device1);
      expect((await vehicles.connections(aliceVehicle))[0]).to.have.length(2);
      expect(await access.canRead(consumerA.address, aliceVehicle, 0)).to.equal(true);
    });
  });

  describe("when a safe transfer is refused by the recipient", function () {
    it("reverts with TransferToNonERC721ReceiverImplementer and leaves the vehicle as it was", async function () {
      const { vehicles, access, capacity, alice, consumerA, aliceVehicle, device1 } =
        await loadFixture(equippedFixture);
      const target = await capacity.getAddress(); // a contract without onERC721Received
      await expect(
        vehicles.connect(alice)["safeTransferFrom(address,address,uint256)"](alice.address, target, aliceVehicle),
      )
        .to.be.revertedWithCustomError(vehicles, "TransferToNonERC721ReceiverImplementer")
        .withArgs();
      expect(await vehicles.ownerOf(aliceVehicle)).to.equal(alice.address);
      expect(await vehicles.ownershipEpoch(aliceVehicle)).to.equal(0n);
      expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device1);
      expect(await access.canRead(consumerA.address, aliceVehicle, 0)).to.equal(true);
    });
  });

  describe("when a vehicle is minted", function () {
    it("does not advance the ownership epoch", async function () {
      const { vehicles, bob } = await loadFixture(vehiclesFixture);
      await expect(vehicles.connect(bob).mintVehicle(vehicleInfo({}, "VIN-3"))).not.to.emit(
        vehicles,
        "OwnershipEpochAdvanced",
      );
      expect(await vehicles.ownershipEpoch(3n)).to.equal(0n);
    });
  });

  describe("other vehicles", function () {
    it("keep their grants when one vehicle is sold", async function () {
      const { vehicles, access, alice, bob, consumerA, aliceVehicle, bobVehicle } = await loadFixture(equippedFixture);
      const expiresAt = BigInt((await time.latest()) + DAY);
      await access.connect(bob).grant(bobVehicle, consumerA.address, permissionsOf(0), expiresAt);
      await vehicles.connect(alice).transferFrom(alice.address, bob.address, aliceVehicle);
      expect(await access.canRead(consumerA.address, bobVehicle, 0)).to.equal(true);
      expect(await vehicles.ownershipEpoch(bobVehicle)).to.equal(0n);
    });
  });

  describe("stale grants after a sale", function () {
    describe("prune", function () {
      it("lets anyone delete a stale grant and emits AccessRevoked by them", async function () {
        const { access, outsider, consumerA, aliceVehicle } = await loadFixture(soldFixture);
        await expect(access.connect(outsider).prune(aliceVehicle, consumerA.address))
          .to.emit(access, "AccessRevoked")
          .withArgs(aliceVehicle, consumerA.address, outsider.address);
        expect((await access.grantOf(aliceVehicle, consumerA.address)).permissions).to.equal(0n);
      });

      it("releases the capacity exactly once", async function () {
        const { access, capacity, outsider, consumerA, aliceVehicle } = await loadFixture(soldFixture);
        await access.connect(outsider).prune(aliceVehicle, consumerA.address);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(0n);
        await expect(access.connect(outsider).prune(aliceVehicle, consumerA.address))
          .to.be.revertedWithCustomError(access, "AccessNoGrant")
          .withArgs(aliceVehicle, consumerA.address);
        await expect(access.connect(consumerA).revoke(aliceVehicle, consumerA.address))
          .to.be.revertedWithCustomError(access, "AccessNoGrant")
          .withArgs(aliceVehicle, consumerA.address);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(0n);
      });

      it("prunes each consumer's grant separately", async function () {
        const { access, capacity, outsider, consumerA, consumerB, aliceVehicle } = await loadFixture(soldFixture);
        await access.connect(outsider).prune(aliceVehicle, consumerA.address);
        expect(await capacity.vehiclesAccessed(consumerB.address)).to.equal(1n);
        await access.connect(outsider).prune(aliceVehicle, consumerB.address);
        expect(await capacity.vehiclesAccessed(consumerB.address)).to.equal(0n);
      });
    });

    describe("revoke", function () {
      it("reverts with AccessNotOwnerOrConsumer for the previous owner", async function () {
        const { access, alice, consumerA, aliceVehicle } = await loadFixture(soldFixture);
        await expect(access.connect(alice).revoke(aliceVehicle, consumerA.address))
          .to.be.revertedWithCustomError(access, "AccessNotOwnerOrConsumer")
          .withArgs(aliceVehicle, consumerA.address, alice.address);
      });

      it("lets the new owner delete the stale grant", async function () {
        const { access, capacity, bob, consumerA, aliceVehicle } = await loadFixture(soldFixture);
        await expect(access.connect(bob).revoke(aliceVehicle, consumerA.address))
          .to.emit(access, "AccessRevoked")
          .withArgs(aliceVehicle, consumerA.address, bob.address);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(0n);
      });

      it("lets the consumer drop the stale grant", async function () {
        const { access, capacity, consumerB, aliceVehicle } = await loadFixture(soldFixture);
        await access.connect(consumerB).revoke(aliceVehicle, consumerB.address);
        expect(await capacity.vehiclesAccessed(consumerB.address)).to.equal(0n);
      });
    });

    describe("grant", function () {
      it("reverts with AccessNotVehicleOwner for the previous owner", async function () {
        const { access, alice, consumerC, aliceVehicle, expiresAt } = await loadFixture(soldFixture);
        await expect(access.connect(alice).grant(aliceVehicle, consumerC.address, permissionsOf(0), expiresAt))
          .to.be.revertedWithCustomError(access, "AccessNotVehicleOwner")
          .withArgs(aliceVehicle, alice.address);
      });

      it("lets the new owner grant over the stale record without reserving again", async function () {
        const { access, capacity, bob, consumerA, aliceVehicle, expiresAt } = await loadFixture(soldFixture);
        await expect(access.connect(bob).grant(aliceVehicle, consumerA.address, permissionsOf(1), expiresAt))
          .to.emit(access, "AccessGranted")
          .withArgs(aliceVehicle, consumerA.address, bob.address, permissionsOf(1), expiresAt, 1n);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(1n);
        expect(await access.canRead(consumerA.address, aliceVehicle, 1)).to.equal(true);
        expect(await access.canRead(consumerA.address, aliceVehicle, 0)).to.equal(false);
      });

      it("reserves capacity when the new owner grants a new consumer", async function () {
        const { access, capacity, bob, consumerC, aliceVehicle, expiresAt } = await loadFixture(soldFixture);
        await access.connect(bob).grant(aliceVehicle, consumerC.address, permissionsOf(0), expiresAt);
        expect(await capacity.vehiclesAccessed(consumerC.address)).to.equal(1n);
        expect((await access.grantOf(aliceVehicle, consumerC.address)).epoch).to.equal(1n);
      });

      it("is blocked by the consumer's stale records until they are pruned", async function () {
        const { access, capacity, bob, outsider, consumerA, bobVehicle, aliceVehicle, expiresAt } =
          await loadFixture(soldFixture);
        await capacity.setLimit(consumerA.address, 1);
        await expect(access.connect(bob).grant(bobVehicle, consumerA.address, permissionsOf(0), expiresAt))
          .to.be.revertedWithCustomError(capacity, "CapacityExceeded")
          .withArgs(consumerA.address, 1n, 1n);
        await access.connect(outsider).prune(aliceVehicle, consumerA.address);
        await access.connect(bob).grant(bobVehicle, consumerA.address, permissionsOf(0), expiresAt);
        expect(await access.canRead(consumerA.address, bobVehicle, 0)).to.equal(true);
      });
    });
  });

  describe("when the vehicle is sold back (A → B → A)", function () {
    async function soldBackFixture() {
      const ctx = await soldFixture();
      await ctx.vehicles.connect(ctx.bob).transferFrom(ctx.bob.address, ctx.alice.address, ctx.aliceVehicle);
      return ctx;
    }

    it("is at ownership epoch 2", async function () {
      const { vehicles, aliceVehicle } = await loadFixture(soldBackFixture);
      expect(await vehicles.ownershipEpoch(aliceVehicle)).to.equal(2n);
    });

    it("still voids the grants Alice gave before the sale", async function () {
      const { access, consumerA, consumerB, aliceVehicle } = await loadFixture(soldBackFixture);
      expect(await canReadAny(access, consumerA.address, aliceVehicle)).to.equal(false);
      expect(await canReadAny(access, consumerB.address, aliceVehicle)).to.equal(false);
    });

    it("lets anyone prune those grants", async function () {
      const { access, capacity, outsider, consumerA, aliceVehicle } = await loadFixture(soldBackFixture);
      await access.connect(outsider).prune(aliceVehicle, consumerA.address);
      expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(0n);
    });

    it("voids Bob's grants too", async function () {
      const ctx = await loadFixture(soldFixture);
      const { vehicles, access, alice, bob, consumerC, aliceVehicle, expiresAt } = ctx;
      await access.connect(bob).grant(aliceVehicle, consumerC.address, permissionsOf(0), expiresAt);
      await vehicles.connect(bob).transferFrom(bob.address, alice.address, aliceVehicle);
      expect(await canReadAny(access, consumerC.address, aliceVehicle)).to.equal(false);
    });

    it("lets Alice grant again under the new epoch without reserving again", async function () {
      const { access, capacity, alice, consumerA, aliceVehicle, expiresAt } = await loadFixture(soldBackFixture);
      await access.connect(alice).grant(aliceVehicle, consumerA.address, GRANT_A_PERMISSIONS, expiresAt);
      expect((await access.grantOf(aliceVehicle, consumerA.address)).epoch).to.equal(2n);
      expect(await access.canRead(consumerA.address, aliceVehicle, 0)).to.equal(true);
      expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(1n);
    });
  });

  describe("the new owner", function () {
    it("re-pairs the device with their own and the device's new signatures", async function () {
      const { vehicles, bob, key1, relayer, aliceVehicle, device1 } = await loadFixture(soldFixture);
      await pair(vehicles, aliceVehicle, device1, bob, key1, relayer);
      expect(await vehicles.pairedDevice(aliceVehicle)).to.equal(device1);
    });

    it("emits DevicePaired with the new owner", async function () {
      const { vehicles, bob, key1, relayer, aliceVehicle, device1 } = await loadFixture(soldFixture);
      const deadline = await deadlineIn();
      const s = await pairSignatures(vehicles, aliceVehicle, device1, bob, key1, deadline);
      await expect(
        vehicles.connect(relayer).pairDevice(aliceVehicle, device1, deadline, s.ownerSignature, s.deviceSignature),
      )
        .to.emit(vehicles, "DevicePaired")
        .withArgs(aliceVehicle, device1, bob.address);
    });

    it("re-connects an integration with their own consent", async function () {
      const { vehicles, bob, software, aliceVehicle } = await loadFixture(soldFixture);
      const deadline = await deadlineIn();
      const signature = await consentSignature(vehicles, aliceVehicle, software.address, bob, deadline);
      await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature))
        .to.emit(vehicles, "ConnectionAttested")
        .withArgs(aliceVehicle, software.address, ConnectionKind.Software, bob.address);
    });

    it("may unpair and disconnect, while the previous owner no longer may", async function () {
      const { vehicles, alice, bob, key1, relayer, software, aliceVehicle, device1 } = await loadFixture(soldFixture);
      await pair(vehicles, aliceVehicle, device1, bob, key1, relayer);
      await connect(vehicles, aliceVehicle, software, bob);
      await expect(vehicles.connect(alice).unpairDevice(aliceVehicle))
        .to.be.revertedWithCustomError(vehicles, "RegistryNotVehicleOwner")
        .withArgs(aliceVehicle, alice.address, bob.address);
      await expect(vehicles.connect(alice).disconnect(aliceVehicle, software.address))
        .to.be.revertedWithCustomError(vehicles, "RegistryNotVehicleOwner")
        .withArgs(aliceVehicle, alice.address, bob.address);
      await vehicles.connect(bob).unpairDevice(aliceVehicle);
      await vehicles.connect(bob).disconnect(aliceVehicle, software.address);
    });
  });

  describe("signatures the previous owner made before the sale", function () {
    /** Alice signs a pairing and a consent for her vehicle 1 (same nonces Bob would use), then sells it to Bob. */
    async function presignedFixture() {
      const ctx = await vehiclesFixture();
      const { vehicles, alice, bob, key1, software, aliceVehicle, device1 } = ctx;
      const deadline = await deadlineIn(7 * DAY);
      const pairing = await pairSignatures(vehicles, aliceVehicle, device1, alice, key1, deadline);
      const consent = await consentSignature(vehicles, aliceVehicle, software.address, alice, deadline);
      await vehicles.connect(alice).transferFrom(alice.address, bob.address, aliceVehicle);
      expect(await vehicles.nonces(bob.address)).to.equal(await vehicles.nonces(alice.address));
      return { ...ctx, deadline, pairing, consent };
    }

    it("cannot pair a device with the vehicle now owned by Bob", async function () {
      const { vehicles, bob, relayer, aliceVehicle, device1, deadline, pairing } = await loadFixture(presignedFixture);
      await expect(
        vehicles
          .connect(relayer)
          .pairDevice(aliceVehicle, device1, deadline, pairing.ownerSignature, pairing.deviceSignature),
      )
        .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
        .withArgs(bob.address);
    });

    it("cannot connect an integration to the vehicle now owned by Bob", async function () {
      const { vehicles, bob, software, aliceVehicle, deadline, consent } = await loadFixture(presignedFixture);
      await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, consent))
        .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
        .withArgs(bob.address);
    });

    it("works again once Alice buys the vehicle back, if her nonce was never used", async function () {
      // Documents current behaviour: the signed messages do not carry the ownership epoch.
      const { vehicles, alice, bob, software, aliceVehicle, deadline, consent } = await loadFixture(presignedFixture);
      await vehicles.connect(bob).transferFrom(bob.address, alice.address, aliceVehicle);
      await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, consent))
        .to.emit(vehicles, "ConnectionAttested")
        .withArgs(aliceVehicle, software.address, ConnectionKind.Software, alice.address);
    });
  });

  describe("when the vehicle is sold twice (A → B → C)", function () {
    it("is at epoch 2 and the first owner's grants stay prunable", async function () {
      const { vehicles, access, capacity, alice, bob, carol, outsider, consumerA, consumerB, aliceVehicle } =
        await loadFixture(equippedFixture);
      await transferByTransferFrom(vehicles, alice, bob, outsider, aliceVehicle);
      await transferByTransferFrom(vehicles, bob, carol, outsider, aliceVehicle);
      expect(await vehicles.ownershipEpoch(aliceVehicle)).to.equal(2n);
      for (const consumer of [consumerA, consumerB]) {
        await access.connect(outsider).prune(aliceVehicle, consumer.address);
        expect(await capacity.vehiclesAccessed(consumer.address)).to.equal(0n);
      }
    });
  });
});
