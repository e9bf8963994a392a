import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  DAY,
  canReadAny,
  grantRecords,
  mintVehicle,
  permissionsOf,
  registryFixture,
  vehicleInfo,
  vehiclesFixture,
} from "./fixtures";

const PERMISSIONS = permissionsOf(0, 1); // location, odometer

/** Alice owns vehicles 1, 3, 4, 5 (Bob owns 2); consumer A's limit is 3. No grant yet. */
async function fleetFixture() {
  const ctx = await vehiclesFixture();
  const { vehicles, alice, capacity, consumerA } = ctx;
  const aliceFleet = [ctx.aliceVehicle];
  for (let i = 3; i <= 5; i++) aliceFleet.push(await mintVehicle(vehicles, alice, vehicleInfo({}, `VIN-${i}`)));
  await capacity.setLimit(consumerA.address, 3);
  const expiresAt = BigInt((await time.latest()) + 30 * DAY);
  return { ...ctx, aliceFleet, expiresAt };
}

/** Consumer A holds a 30-day location+odometer grant on Alice's vehicle 1. */
async function grantedFixture() {
  const ctx = await vehiclesFixture();
  const expiresAt = BigInt((await time.latest()) + 30 * DAY);
  await ctx.access.connect(ctx.alice).grant(ctx.aliceVehicle, ctx.consumerA.address, PERMISSIONS, expiresAt);
  return { ...ctx, expiresAt };
}

/** A DataAccess whose capacity provider is not set yet. */
async function noCapacityFixture() {
  const ctx = await vehiclesFixture();
  const fresh = await ethers.deployContract("DataAccess", [
    await ctx.vehicles.getAddress(),
    ethers.ZeroAddress,
    ctx.admin.address,
  ]);
  return { ...ctx, fresh };
}

describe("DataAccess", function () {
  describe("constructor", function () {
    it("reverts with AccessZeroAddress when the vehicle registry is the zero address", async function () {
      const { access, capacity, admin } = await loadFixture(registryFixture);
      await expect(
        ethers.deployContract("DataAccess", [ethers.ZeroAddress, await capacity.getAddress(), admin.address]),
      ).to.be.revertedWithCustomError(access, "AccessZeroAddress");
    });

    it("reverts with AccessZeroAddress when the admin is the zero address", async function () {
      const { access, vehicles, capacity } = await loadFixture(registryFixture);
      await expect(
        ethers.deployContract("DataAccess", [
          await vehicles.getAddress(),
          await capacity.getAddress(),
          ethers.ZeroAddress,
        ]),
      ).to.be.revertedWithCustomError(access, "AccessZeroAddress");
    });

    it("sets the capacity provider and emits CapacitySet when one is given", async function () {
      const { vehicles, capacity, admin } = await loadFixture(registryFixture);
      const fresh = await ethers.deployContract("DataAccess", [
        await vehicles.getAddress(),
        await capacity.getAddress(),
        admin.address,
      ]);
      await expect(fresh.deploymentTransaction())
        .to.emit(fresh, "CapacitySet")
        .withArgs(await capacity.getAddress());
      expect(await fresh.capacity()).to.equal(await capacity.getAddress());
    });

    it("leaves the capacity provider unset when zero is given", async function () {
      const { fresh } = await loadFixture(noCapacityFixture);
      expect(await fresh.capacity()).to.equal(ethers.ZeroAddress);
    });

    it("records the vehicle registry and gives the admin DEFAULT_ADMIN_ROLE", async function () {
      const { access, vehicles, admin } = await loadFixture(registryFixture);
      expect(await access.vehicles()).to.equal(await vehicles.getAddress());
      expect(await access.hasRole(await access.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
    });
  });

  describe("setCapacity", function () {
    it("sets the provider and emits CapacitySet", async function () {
      const { fresh, admin, capacity } = await loadFixture(noCapacityFixture);
      await expect(fresh.connect(admin).setCapacity(await capacity.getAddress()))
        .to.emit(fresh, "CapacitySet")
        .withArgs(await capacity.getAddress());
      expect(await fresh.capacity()).to.equal(await capacity.getAddress());
    });

    it("reverts with AccessControlUnauthorizedAccount when the caller is not the admin", async function () {
      const { fresh, outsider, capacity } = await loadFixture(noCapacityFixture);
      await expect(fresh.connect(outsider).setCapacity(await capacity.getAddress()))
        .to.be.revertedWithCustomError(fresh, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, await fresh.DEFAULT_ADMIN_ROLE());
    });

    it("reverts with AccessZeroAddress for the zero address", async function () {
      const { fresh, admin } = await loadFixture(noCapacityFixture);
      await expect(fresh.connect(admin).setCapacity(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        fresh,
        "AccessZeroAddress",
      );
    });

    it("reverts with AccessCapacityAlreadySet the second time", async function () {
      const { access, admin, capacity } = await loadFixture(registryFixture);
      const other = await ethers.deployContract("CapacityDouble");
      await expect(access.connect(admin).setCapacity(await other.getAddress()))
        .to.be.revertedWithCustomError(access, "AccessCapacityAlreadySet")
        .withArgs(await capacity.getAddress());
    });

    it("reverts with AccessCapacityAlreadySet when the constructor set it", async function () {
      const { vehicles, capacity, admin } = await loadFixture(registryFixture);
      const fresh = await ethers.deployContract("DataAccess", [
        await vehicles.getAddress(),
        await capacity.getAddress(),
        admin.address,
      ]);
      await expect(fresh.connect(admin).setCapacity(await capacity.getAddress()))
        .to.be.revertedWithCustomError(fresh, "AccessCapacityAlreadySet")
        .withArgs(await capacity.getAddress());
    });
  });

  describe("grant", function () {
    describe("when the owner grants a consumer", function () {
      it("emits AccessGranted with the owner, permissions, expiry and epoch", async function () {
        const { access, alice, consumerA, aliceVehicle } = await loadFixture(vehiclesFixture);
        const expiresAt = BigInt((await time.latest()) + DAY);
        await expect(access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt))
          .to.emit(access, "AccessGranted")
          .withArgs(aliceVehicle, consumerA.address, alice.address, PERMISSIONS, expiresAt, 0n);
      });

      it("stores the grant record", async function () {
        const { access, aliceVehicle, consumerA, expiresAt } = await loadFixture(grantedFixture);
        const g = await access.grantOf(aliceVehicle, consumerA.address);
        expect(g.permissions).to.equal(PERMISSIONS);
        expect(g.expiresAt).to.equal(expiresAt);
        expect(g.epoch).to.equal(0n);
      });

      it("reserves one unit of the consumer's capacity", async function () {
        const { capacity, consumerA } = await loadFixture(grantedFixture);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(1n);
      });

      it("lets the consumer read the granted data types at once", async function () {
        const { access, aliceVehicle, consumerA } = await loadFixture(grantedFixture);
        expect(await access.canRead(consumerA.address, aliceVehicle, 0)).to.equal(true);
        expect(await access.canRead(consumerA.address, aliceVehicle, 1)).to.equal(true);
      });

      it("gives nothing to other consumers or other vehicles", async function () {
        const { access, aliceVehicle, bobVehicle, consumerA, consumerB } = await loadFixture(grantedFixture);
        expect(await canReadAny(access, consumerB.address, aliceVehicle)).to.equal(false);
        expect(await canReadAny(access, consumerA.address, bobVehicle)).to.equal(false);
      });

      it("lets a contract wallet owner grant through its wallet", async function () {
        const { access, vehicles, carol, consumerA } = await loadFixture(vehiclesFixture);
        const wallet = await ethers.deployContract("ERC1271WalletDouble", [carol.address]);
        const mint = vehicles.interface.encodeFunctionData("mintVehicle", [vehicleInfo({}, "VIN-WALLET")]);
        await wallet.connect(carol).execute(await vehicles.getAddress(), mint);
        await access.connect(consumerA).setOwnerAcceptance(await wallet.getAddress(), true);
        const expiresAt = BigInt((await time.latest()) + DAY);
        const data = access.interface.encodeFunctionData("grant", [3n, consumerA.address, PERMISSIONS, expiresAt]);
        await expect(wallet.connect(carol).execute(await access.getAddress(), data))
          .to.emit(access, "AccessGranted")
          .withArgs(3n, consumerA.address, await wallet.getAddress(), PERMISSIONS, expiresAt, 0n);
      });
    });

    describe("when the permissions select data types", function () {
      for (const dataTypes of [[0], [1, 4], [7, 8], [254, 255], [0, 128, 255]]) {
        it(`lets the consumer read exactly data types ${dataTypes.join(", ")}`, async function () {
          const { access, alice, consumerA, aliceVehicle } = await loadFixture(vehiclesFixture);
          const expiresAt = BigInt((await time.latest()) + DAY);
          await access.connect(alice).grant(aliceVehicle, consumerA.address, permissionsOf(...dataTypes), expiresAt);
          const readable: number[] = [];
          for (let t = 0; t < 256; t++) if (await access.canRead(consumerA.address, aliceVehicle, t)) readable.push(t);
          expect(readable).to.deep.equal(dataTypes);
        });
      }

      it("lets the consumer read all 256 data types when every bit is set", async function () {
        const { access, alice, consumerA, aliceVehicle } = await loadFixture(vehiclesFixture);
        const expiresAt = BigInt((await time.latest()) + DAY);
        await access.connect(alice).grant(aliceVehicle, consumerA.address, ethers.MaxUint256, expiresAt);
        for (let t = 0; t < 256; t++) expect(await access.canRead(consumerA.address, aliceVehicle, t)).to.equal(true);
      });
    });

    describe("when the grant reaches its expiry", function () {
      it("counts one second before expiresAt", async function () {
        const { access, aliceVehicle, consumerA, expiresAt } = await loadFixture(grantedFixture);
        await time.increaseTo(expiresAt - 1n);
        expect(await access.canRead(consumerA.address, aliceVehicle, 0)).to.equal(true);
      });

      it("stops counting at expiresAt", async function () {
        const { access, aliceVehicle, consumerA, expiresAt } = await loadFixture(grantedFixture);
        await time.increaseTo(expiresAt);
        expect(await canReadAny(access, consumerA.address, aliceVehicle)).to.equal(false);
      });

      it("keeps the record (and its capacity) until it is pruned or revoked", async function () {
        const { access, capacity, aliceVehicle, consumerA, expiresAt } = await loadFixture(grantedFixture);
        await time.increaseTo(expiresAt + 1n);
        expect((await access.grantOf(aliceVehicle, consumerA.address)).permissions).to.equal(PERMISSIONS);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(1n);
      });
    });

    describe("when the caller is not the vehicle owner", function () {
      it("reverts with AccessNotVehicleOwner for an outsider", async function () {
        const { access, outsider, consumerA, aliceVehicle } = await loadFixture(vehiclesFixture);
        const expiresAt = BigInt((await time.latest()) + DAY);
        await expect(access.connect(outsider).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt))
          .to.be.revertedWithCustomError(access, "AccessNotVehicleOwner")
          .withArgs(aliceVehicle, outsider.address);
      });

      it("reverts with AccessNotVehicleOwner for the consumer itself", async function () {
        const { access, consumerA, aliceVehicle } = await loadFixture(vehiclesFixture);
        const expiresAt = BigInt((await time.latest()) + DAY);
        await expect(access.connect(consumerA).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt))
          .to.be.revertedWithCustomError(access, "AccessNotVehicleOwner")
          .withArgs(aliceVehicle, consumerA.address);
      });

      it("reverts with AccessNotVehicleOwner for an operator approved for the vehicle", async function () {
        const { vehicles, access, alice, bob, consumerA, aliceVehicle } = await loadFixture(vehiclesFixture);
        await vehicles.connect(alice).setApprovalForAll(bob.address, true);
        const expiresAt = BigInt((await time.latest()) + DAY);
        await expect(access.connect(bob).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt))
          .to.be.revertedWithCustomError(access, "AccessNotVehicleOwner")
          .withArgs(aliceVehicle, bob.address);
      });
    });

    describe("when the vehicle does not exist", function () {
      it("reverts with TokenDoesNotExist (the registry's ownerOf)", async function () {
        const { access, vehicles, alice, consumerA } = await loadFixture(vehiclesFixture);
        const expiresAt = BigInt((await time.latest()) + DAY);
        await expect(access.connect(alice).grant(99n, consumerA.address, PERMISSIONS, expiresAt))
          .to.be.revertedWithCustomError(vehicles, "TokenDoesNotExist")
          .withArgs();
      });
    });

    describe("when the grant is invalid", function () {
      it("reverts with AccessZeroAddress for the zero-address consumer", async function () {
        const { access, alice, aliceVehicle } = await loadFixture(vehiclesFixture);
        const expiresAt = BigInt((await time.latest()) + DAY);
        await expect(
          access.connect(alice).grant(aliceVehicle, ethers.ZeroAddress, PERMISSIONS, expiresAt),
        ).to.be.revertedWithCustomError(access, "AccessZeroAddress");
      });

      it("reverts with AccessInvalidGrant for zero permissions", async function () {
        const { access, alice, consumerA, aliceVehicle } = await loadFixture(vehiclesFixture);
        const expiresAt = BigInt((await time.latest()) + DAY);
        await expect(access.connect(alice).grant(aliceVehicle, consumerA.address, 0n, expiresAt))
          .to.be.revertedWithCustomError(access, "AccessInvalidGrant")
          .withArgs(0n, expiresAt);
      });

      it("reverts with AccessInvalidGrant for an expiry in the past", async function () {
        const { access, alice, consumerA, aliceVehicle } = await loadFixture(vehiclesFixture);
        const expiresAt = BigInt((await time.latest()) - 1);
        await expect(access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt))
          .to.be.revertedWithCustomError(access, "AccessInvalidGrant")
          .withArgs(PERMISSIONS, expiresAt);
      });

      it("reverts with AccessInvalidGrant for an expiry equal to the block timestamp", async function () {
        const { access, alice, consumerA, aliceVehicle } = await loadFixture(vehiclesFixture);
        const expiresAt = BigInt((await time.latest()) + 10);
        await time.setNextBlockTimestamp(expiresAt);
        await expect(access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt))
          .to.be.revertedWithCustomError(access, "AccessInvalidGrant")
          .withArgs(PERMISSIONS, expiresAt);
      });

      it("accepts an expiry one second after the block timestamp", async function () {
        const { access, alice, consumerA, aliceVehicle } = await loadFixture(vehiclesFixture);
        const expiresAt = BigInt((await time.latest()) + 10);
        await time.setNextBlockTimestamp(expiresAt - 1n);
        await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt);
        expect(await access.canRead(consumerA.address, aliceVehicle, 0)).to.equal(true);
      });
    });

    describe("when the capacity provider is not set", function () {
      it("reverts with AccessCapacityNotSet", async function () {
        const { fresh, alice, consumerA, aliceVehicle } = await loadFixture(noCapacityFixture);
        const expiresAt = BigInt((await time.latest()) + DAY);
        await expect(
          fresh.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt),
        ).to.be.revertedWithCustomError(fresh, "AccessCapacityNotSet");
      });
    });

    describe("when the consumer's capacity is limited", function () {
      it("allows exactly as many vehicles as the limit", async function () {
        const { access, capacity, alice, consumerA, aliceFleet, expiresAt } = await loadFixture(fleetFixture);
        for (const id of aliceFleet.slice(0, 3)) {
          await access.connect(alice).grant(id, consumerA.address, PERMISSIONS, expiresAt);
        }
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(3n);
        expect(await grantRecords(access, consumerA.address, aliceFleet)).to.equal(3);
      });

      it("reverts the grant beyond the limit with the capacity's CapacityExceeded", async function () {
        const { access, capacity, alice, consumerA, aliceFleet, expiresAt } = await loadFixture(fleetFixture);
        for (const id of aliceFleet.slice(0, 3)) {
          await access.connect(alice).grant(id, consumerA.address, PERMISSIONS, expiresAt);
        }
        await expect(access.connect(alice).grant(aliceFleet[3], consumerA.address, PERMISSIONS, expiresAt))
          .to.be.revertedWithCustomError(capacity, "CapacityExceeded")
          .withArgs(consumerA.address, 3n, 3n);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(3n);
      });

      it("reverts every grant for a consumer without capacity", async function () {
        const { access, capacity, alice, consumerA, aliceVehicle, expiresAt } = await loadFixture(fleetFixture);
        await capacity.setLimit(consumerA.address, 0);
        await expect(access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt))
          .to.be.revertedWithCustomError(capacity, "CapacityExceeded")
          .withArgs(consumerA.address, 0n, 0n);
      });

      it("counts grants from different owners against the same consumer", async function () {
        const { access, capacity, alice, bob, consumerA, aliceFleet, bobVehicle, expiresAt } =
          await loadFixture(fleetFixture);
        for (const id of aliceFleet.slice(0, 2)) {
          await access.connect(alice).grant(id, consumerA.address, PERMISSIONS, expiresAt);
        }
        await access.connect(bob).grant(bobVehicle, consumerA.address, PERMISSIONS, expiresAt);
        await expect(access.connect(alice).grant(aliceFleet[2], consumerA.address, PERMISSIONS, expiresAt))
          .to.be.revertedWithCustomError(capacity, "CapacityExceeded")
          .withArgs(consumerA.address, 3n, 3n);
      });

      it("does not reserve again when an existing grant is updated at the limit", async function () {
        const { access, capacity, alice, consumerA, aliceFleet, expiresAt } = await loadFixture(fleetFixture);
        for (const id of aliceFleet.slice(0, 3)) {
          await access.connect(alice).grant(id, consumerA.address, PERMISSIONS, expiresAt);
        }
        await access.connect(alice).grant(aliceFleet[0], consumerA.address, permissionsOf(5), expiresAt + 1n);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(3n);
      });

      it("does not reserve again when an expired grant is renewed", async function () {
        const { access, capacity, alice, consumerA, aliceVehicle, expiresAt } = await loadFixture(fleetFixture);
        await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt);
        await time.increaseTo(expiresAt + 1n);
        await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt + 30n * BigInt(DAY));
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(1n);
        expect(await access.canRead(consumerA.address, aliceVehicle, 0)).to.equal(true);
      });

      it("frees a unit on revoke, so another vehicle can be granted at the limit", async function () {
        const { access, capacity, alice, consumerA, aliceFleet, expiresAt } = await loadFixture(fleetFixture);
        for (const id of aliceFleet.slice(0, 3)) {
          await access.connect(alice).grant(id, consumerA.address, PERMISSIONS, expiresAt);
        }
        await access.connect(alice).revoke(aliceFleet[1], consumerA.address);
        await access.connect(alice).grant(aliceFleet[3], consumerA.address, PERMISSIONS, expiresAt);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(3n);
        expect(await grantRecords(access, consumerA.address, aliceFleet)).to.equal(3);
      });

      it("keeps the records when the limit is lowered below them, but none of them counts for reading", async function () {
        const { access, capacity, alice, consumerA, aliceFleet, expiresAt } = await loadFixture(fleetFixture);
        for (const id of aliceFleet.slice(0, 3)) {
          await access.connect(alice).grant(id, consumerA.address, PERMISSIONS, expiresAt);
        }
        await capacity.setLimit(consumerA.address, 1);
        expect(await capacity.isCovered(consumerA.address)).to.equal(false);
        for (const id of aliceFleet.slice(0, 3)) {
          expect((await access.grantOf(id, consumerA.address)).permissions).to.equal(PERMISSIONS);
          expect(await canReadAny(access, consumerA.address, id)).to.equal(false);
        }
        await expect(access.connect(alice).grant(aliceFleet[3], consumerA.address, PERMISSIONS, expiresAt))
          .to.be.revertedWithCustomError(capacity, "CapacityExceeded")
          .withArgs(consumerA.address, 3n, 1n);
      });
    });

    describe("when an existing grant is updated", function () {
      it("replaces the permissions and the expiry", async function () {
        const { access, alice, aliceVehicle, consumerA, expiresAt } = await loadFixture(grantedFixture);
        await access.connect(alice).grant(aliceVehicle, consumerA.address, permissionsOf(4), expiresAt + 10n);
        const g = await access.grantOf(aliceVehicle, consumerA.address);
        expect(g.permissions).to.equal(permissionsOf(4));
        expect(g.expiresAt).to.equal(expiresAt + 10n);
        expect(await access.canRead(consumerA.address, aliceVehicle, 0)).to.equal(false);
        expect(await access.canRead(consumerA.address, aliceVehicle, 4)).to.equal(true);
      });

      it("emits AccessGranted again", async function () {
        const { access, alice, aliceVehicle, consumerA, expiresAt } = await loadFixture(grantedFixture);
        await expect(access.connect(alice).grant(aliceVehicle, consumerA.address, permissionsOf(4), expiresAt))
          .to.emit(access, "AccessGranted")
          .withArgs(aliceVehicle, consumerA.address, alice.address, permissionsOf(4), expiresAt, 0n);
      });

      it("does not reserve capacity again", async function () {
        const { access, capacity, alice, aliceVehicle, consumerA, expiresAt } = await loadFixture(grantedFixture);
        await access.connect(alice).grant(aliceVehicle, consumerA.address, permissionsOf(4), expiresAt);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(1n);
      });
    });
  });

  describe("revoke", function () {
    describe("when the owner revokes", function () {
      it("deletes the grant record", async function () {
        const { access, alice, aliceVehicle, consumerA } = await loadFixture(grantedFixture);
        await access.connect(alice).revoke(aliceVehicle, consumerA.address);
        const g = await access.grantOf(aliceVehicle, consumerA.address);
        expect([g.permissions, g.expiresAt, g.epoch]).to.deep.equal([0n, 0n, 0n]);
      });

      it("releases the consumer's capacity", async function () {
        const { access, capacity, alice, aliceVehicle, consumerA } = await loadFixture(grantedFixture);
        await access.connect(alice).revoke(aliceVehicle, consumerA.address);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(0n);
      });

      it("emits AccessRevoked with the owner as the revoker", async function () {
        const { access, alice, aliceVehicle, consumerA } = await loadFixture(grantedFixture);
        await expect(access.connect(alice).revoke(aliceVehicle, consumerA.address))
          .to.emit(access, "AccessRevoked")
          .withArgs(aliceVehicle, consumerA.address, alice.address);
      });

      it("stops the consumer reading at once", async function () {
        const { access, alice, aliceVehicle, consumerA } = await loadFixture(grantedFixture);
        await access.connect(alice).revoke(aliceVehicle, consumerA.address);
        expect(await canReadAny(access, consumerA.address, aliceVehicle)).to.equal(false);
      });

      it("works on an expired grant", async function () {
        const { access, capacity, alice, aliceVehicle, consumerA, expiresAt } = await loadFixture(grantedFixture);
        await time.increaseTo(expiresAt + 1n);
        await access.connect(alice).revoke(aliceVehicle, consumerA.address);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(0n);
      });
    });

    describe("when the consumer drops its own grant", function () {
      it("deletes the record, releases capacity and emits AccessRevoked by the consumer", async function () {
        const { access, capacity, aliceVehicle, consumerA } = await loadFixture(grantedFixture);
        await expect(access.connect(consumerA).revoke(aliceVehicle, consumerA.address))
          .to.emit(access, "AccessRevoked")
          .withArgs(aliceVehicle, consumerA.address, consumerA.address);
        expect((await access.grantOf(aliceVehicle, consumerA.address)).permissions).to.equal(0n);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(0n);
      });
    });

    describe("when the caller is neither the owner nor the consumer", function () {
      it("reverts with AccessNotOwnerOrConsumer for an outsider", async function () {
        const { access, outsider, aliceVehicle, consumerA } = await loadFixture(grantedFixture);
        await expect(access.connect(outsider).revoke(aliceVehicle, consumerA.address))
          .to.be.revertedWithCustomError(access, "AccessNotOwnerOrConsumer")
          .withArgs(aliceVehicle, consumerA.address, outsider.address);
      });

      it("reverts with AccessNotOwnerOrConsumer for another consumer", async function () {
        const { access, consumerB, aliceVehicle, consumerA } = await loadFixture(grantedFixture);
        await expect(access.connect(consumerB).revoke(aliceVehicle, consumerA.address))
          .to.be.revertedWithCustomError(access, "AccessNotOwnerOrConsumer")
          .withArgs(aliceVehicle, consumerA.address, consumerB.address);
      });
    });

    describe("when there is no grant record", function () {
      it("reverts with AccessNoGrant", async function () {
        const { access, alice, aliceVehicle, consumerB } = await loadFixture(grantedFixture);
        await expect(access.connect(alice).revoke(aliceVehicle, consumerB.address))
          .to.be.revertedWithCustomError(access, "AccessNoGrant")
          .withArgs(aliceVehicle, consumerB.address);
      });

      it("reverts with AccessNoGrant the second time, releasing capacity once", async function () {
        const { access, capacity, alice, aliceVehicle, consumerA } = await loadFixture(grantedFixture);
        await access.connect(alice).revoke(aliceVehicle, consumerA.address);
        await expect(access.connect(consumerA).revoke(aliceVehicle, consumerA.address))
          .to.be.revertedWithCustomError(access, "AccessNoGrant")
          .withArgs(aliceVehicle, consumerA.address);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(0n);
      });
    });

    describe("when the vehicle does not exist", function () {
      it("reverts with TokenDoesNotExist (the registry's ownerOf)", async function () {
        const { access, vehicles, consumerA } = await loadFixture(grantedFixture);
        await expect(access.connect(consumerA).revoke(99n, consumerA.address))
          .to.be.revertedWithCustomError(vehicles, "TokenDoesNotExist")
          .withArgs();
      });
    });
  });

  describe("prune", function () {
    describe("when the grant still counts", function () {
      it("reverts with AccessGrantStillValid", async function () {
        const { access, outsider, aliceVehicle, consumerA } = await loadFixture(grantedFixture);
        await expect(access.connect(outsider).prune(aliceVehicle, consumerA.address))
          .to.be.revertedWithCustomError(access, "AccessGrantStillValid")
          .withArgs(aliceVehicle, consumerA.address);
      });

      it("reverts with AccessGrantStillValid one second before expiry", async function () {
        const { access, outsider, aliceVehicle, consumerA, expiresAt } = await loadFixture(grantedFixture);
        await time.setNextBlockTimestamp(expiresAt - 1n);
        await expect(access.connect(outsider).prune(aliceVehicle, consumerA.address))
          .to.be.revertedWithCustomError(access, "AccessGrantStillValid")
          .withArgs(aliceVehicle, consumerA.address);
      });
    });

    describe("when the grant has expired", function () {
      it("lets anyone delete it at expiresAt and emits AccessRevoked by them", async function () {
        const { access, outsider, aliceVehicle, consumerA, expiresAt } = await loadFixture(grantedFixture);
        await time.setNextBlockTimestamp(expiresAt);
        await expect(access.connect(outsider).prune(aliceVehicle, consumerA.address))
          .to.emit(access, "AccessRevoked")
          .withArgs(aliceVehicle, consumerA.address, outsider.address);
        expect((await access.grantOf(aliceVehicle, consumerA.address)).permissions).to.equal(0n);
      });

      it("releases the capacity exactly once", async function () {
        const { access, capacity, outsider, aliceVehicle, consumerA, expiresAt } = await loadFixture(grantedFixture);
        await time.increaseTo(expiresAt);
        await access.connect(outsider).prune(aliceVehicle, consumerA.address);
        expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(0n);
        await expect(access.connect(outsider).prune(aliceVehicle, consumerA.address))
          .to.be.revertedWithCustomError(access, "AccessNoGrant")
          .withArgs(aliceVehicle, consumerA.address);
      });
    });

    describe("when there is no grant record", function () {
      it("reverts with AccessNoGrant", async function () {
        const { access, outsider, aliceVehicle, consumerB } = await loadFixture(grantedFixture);
        await expect(access.connect(outsider).prune(aliceVehicle, consumerB.address))
          .to.be.revertedWithCustomError(access, "AccessNoGrant")
          .withArgs(aliceVehicle, consumerB.address);
      });
    });
  });

  describe("canRead", function () {
    it("is false without a grant", async function () {
      const { access, aliceVehicle, consumerA } = await loadFixture(vehiclesFixture);
      expect(await canReadAny(access, consumerA.address, aliceVehicle)).to.equal(false);
    });

    it("is false for a vehicle that does not exist", async function () {
      const { access, consumerA } = await loadFixture(vehiclesFixture);
      expect(await access.canRead(consumerA.address, 99n, 0)).to.equal(false);
    });

    describe("when the consumer's capacity no longer covers its grants (a slash or a parameter rise)", function () {
      /** Consumer A reads vehicles 1, 3 and 4 (limit 3), then its limit drops to 1. */
      async function uncoveredFixture() {
        const ctx = await fleetFixture();
        for (const id of ctx.aliceFleet.slice(0, 3)) {
          await ctx.access.connect(ctx.alice).grant(id, ctx.consumerA.address, PERMISSIONS, ctx.expiresAt);
        }
        await ctx.capacity.setLimit(ctx.consumerA.address, 1);
        return ctx;
      }

      it("is false for every grant of that consumer, whatever the type", async function () {
        const { access, consumerA, aliceFleet } = await loadFixture(uncoveredFixture);
        for (const id of aliceFleet.slice(0, 3)) {
          expect(await access.canRead(consumerA.address, id, 0)).to.equal(false);
          expect(await access.canRead(consumerA.address, id, 1)).to.equal(false);
        }
      });

      it("does not affect other consumers of the same vehicles", async function () {
        const { access, alice, consumerB, aliceFleet, expiresAt } = await loadFixture(uncoveredFixture);
        await access.connect(alice).grant(aliceFleet[0], consumerB.address, PERMISSIONS, expiresAt);
        expect(await access.canRead(consumerB.address, aliceFleet[0], 0)).to.equal(true);
      });

      it("is true again once the capacity covers the grants again (a top-up)", async function () {
        const { access, capacity, consumerA, aliceFleet } = await loadFixture(uncoveredFixture);
        await capacity.setLimit(consumerA.address, 3);
        for (const id of aliceFleet.slice(0, 3)) expect(await access.canRead(consumerA.address, id, 0)).to.equal(true);
      });

      it("is true again for the grants left once enough are revoked or pruned", async function () {
        const { access, vehicles, alice, bob, outsider, consumerA, aliceFleet } = await loadFixture(uncoveredFixture);
        await access.connect(consumerA).revoke(aliceFleet[0], consumerA.address);
        expect(await access.canRead(consumerA.address, aliceFleet[2], 0)).to.equal(false); // 2 records, limit 1
        // A stale record counts until pruned.
        await vehicles.connect(alice).transferFrom(alice.address, bob.address, aliceFleet[1]);
        expect(await access.canRead(consumerA.address, aliceFleet[2], 0)).to.equal(false);
        await access.connect(outsider).prune(aliceFleet[1], consumerA.address);
        expect(await access.canRead(consumerA.address, aliceFleet[2], 0)).to.equal(true);
        expect(await access.canRead(consumerA.address, aliceFleet[2], 1)).to.equal(true);
      });
    });
  });

  describe("capacity bookkeeping", function () {
    it("keeps vehiclesAccessed equal to the live grant records through grants, updates, revokes and prunes", async function () {
      const { access, capacity, alice, bob, consumerA, consumerB, outsider, aliceFleet, bobVehicle, expiresAt } =
        await loadFixture(fleetFixture);
      const all = [...aliceFleet, bobVehicle];
      const check = async () => {
        for (const c of [consumerA, consumerB]) {
          expect(await capacity.vehiclesAccessed(c.address)).to.equal(
            BigInt(await grantRecords(access, c.address, all)),
          );
        }
      };
      await access.connect(alice).grant(aliceFleet[0], consumerA.address, PERMISSIONS, expiresAt);
      await check();
      await access.connect(bob).grant(bobVehicle, consumerA.address, PERMISSIONS, expiresAt - 100n);
      await access.connect(alice).grant(aliceFleet[1], consumerB.address, PERMISSIONS, expiresAt);
      await check();
      await access.connect(alice).grant(aliceFleet[0], consumerA.address, permissionsOf(9), expiresAt + 5n);
      await check();
      await access.connect(consumerB).revoke(aliceFleet[1], consumerB.address);
      await check();
      await time.increaseTo(expiresAt - 100n);
      await access.connect(outsider).prune(bobVehicle, consumerA.address);
      await check();
      expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(1n);
    });
  });
});
