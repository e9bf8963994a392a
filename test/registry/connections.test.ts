import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { signConnectionConsent } from "../helpers/eip712";
import {
  ConnectionKind,
  connect,
  consentSignature,
  deadlineIn,
  deployWallet,
  vehicleInfo,
  vehiclesFixture,
} from "./fixtures";

/** Alice's consent to the software integration for vehicle 1, ready to be attested. */
async function consentFixture() {
  const ctx = await vehiclesFixture();
  const deadline = await deadlineIn();
  const signature = await consentSignature(ctx.vehicles, ctx.aliceVehicle, ctx.software.address, ctx.alice, deadline);
  return { ...ctx, deadline, signature };
}

/** Vehicle 1 connected to the software and the OEM integrations. */
async function connectedFixture() {
  const ctx = await vehiclesFixture();
  await connect(ctx.vehicles, ctx.aliceVehicle, ctx.software, ctx.alice);
  await connect(ctx.vehicles, ctx.aliceVehicle, ctx.oem, ctx.alice);
  return ctx;
}

describe("VehicleRegistry: software connections", function () {
  describe("integrationKind", function () {
    it("is None for an address without an integration role", async function () {
      const { vehicles, outsider } = await loadFixture(vehiclesFixture);
      expect(await vehicles.integrationKind(outsider.address)).to.equal(BigInt(ConnectionKind.None));
    });

    it("is Software for a holder of SOFTWARE_INTEGRATION_ROLE", async function () {
      const { vehicles, software } = await loadFixture(vehiclesFixture);
      expect(await vehicles.integrationKind(software.address)).to.equal(BigInt(ConnectionKind.Software));
    });

    it("is Oem for a holder of OEM_INTEGRATION_ROLE", async function () {
      const { vehicles, oem } = await loadFixture(vehiclesFixture);
      expect(await vehicles.integrationKind(oem.address)).to.equal(BigInt(ConnectionKind.Oem));
    });

    it("is Oem for a holder of both roles", async function () {
      const { vehicles, admin, software } = await loadFixture(vehiclesFixture);
      await vehicles.connect(admin).grantRole(await vehicles.OEM_INTEGRATION_ROLE(), software.address);
      expect(await vehicles.integrationKind(software.address)).to.equal(BigInt(ConnectionKind.Oem));
    });

    it("goes back to None when the admin revokes the role", async function () {
      const { vehicles, admin, software } = await loadFixture(vehiclesFixture);
      await vehicles.connect(admin).revokeRole(await vehicles.SOFTWARE_INTEGRATION_ROLE(), software.address);
      expect(await vehicles.integrationKind(software.address)).to.equal(BigInt(ConnectionKind.None));
    });
  });

  describe("grantRole(integration roles)", function () {
    it("reverts with AccessControlUnauthorizedAccount when an integration approves another", async function () {
      const { vehicles, software, outsider } = await loadFixture(vehiclesFixture);
      await expect(vehicles.connect(software).grantRole(await vehicles.SOFTWARE_INTEGRATION_ROLE(), outsider.address))
        .to.be.revertedWithCustomError(vehicles, "AccessControlUnauthorizedAccount")
        .withArgs(software.address, await vehicles.DEFAULT_ADMIN_ROLE());
    });

    it("reverts with AccessControlUnauthorizedAccount when a vehicle owner approves an OEM integration", async function () {
      const { vehicles, alice, outsider } = await loadFixture(vehiclesFixture);
      await expect(vehicles.connect(alice).grantRole(await vehicles.OEM_INTEGRATION_ROLE(), outsider.address))
        .to.be.revertedWithCustomError(vehicles, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, await vehicles.DEFAULT_ADMIN_ROLE());
    });
  });

  describe("attestConnection", function () {
    describe("when an approved integration carries the owner's consent", function () {
      it("emits ConnectionAttested with the Software kind and the owner", async function () {
        const { vehicles, alice, software, aliceVehicle, deadline, signature } = await loadFixture(consentFixture);
        await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature))
          .to.emit(vehicles, "ConnectionAttested")
          .withArgs(aliceVehicle, software.address, ConnectionKind.Software, alice.address);
      });

      it("emits ConnectionAttested with the Oem kind for an OEM integration", async function () {
        const { vehicles, alice, oem, aliceVehicle } = await loadFixture(vehiclesFixture);
        const deadline = await deadlineIn();
        const signature = await consentSignature(vehicles, aliceVehicle, oem.address, alice, deadline);
        await expect(vehicles.connect(oem).attestConnection(aliceVehicle, deadline, signature))
          .to.emit(vehicles, "ConnectionAttested")
          .withArgs(aliceVehicle, oem.address, ConnectionKind.Oem, alice.address);
      });

      it("lists the integration and its kind in connections()", async function () {
        const { vehicles, alice, software, oem, aliceVehicle } = await loadFixture(vehiclesFixture);
        await connect(vehicles, aliceVehicle, software, alice);
        await connect(vehicles, aliceVehicle, oem, alice);
        const [integrations, kinds] = await vehicles.connections(aliceVehicle);
        expect(integrations).to.deep.equal([software.address, oem.address]);
        expect(kinds).to.deep.equal([BigInt(ConnectionKind.Software), BigInt(ConnectionKind.Oem)]);
      });

      it("uses one of the owner's nonces", async function () {
        const { vehicles, alice, software, aliceVehicle, deadline, signature } = await loadFixture(consentFixture);
        await vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature);
        expect(await vehicles.nonces(alice.address)).to.equal(1n);
      });

      it("leaves other vehicles' connections alone", async function () {
        const { vehicles, software, aliceVehicle, bobVehicle, deadline, signature } = await loadFixture(consentFixture);
        await vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature);
        const [integrations] = await vehicles.connections(bobVehicle);
        expect(integrations).to.deep.equal([]);
      });

      it("accepts the consent in the block whose timestamp equals the deadline", async function () {
        const { vehicles, software, aliceVehicle, deadline, signature } = await loadFixture(consentFixture);
        await time.setNextBlockTimestamp(deadline);
        await vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature);
        expect((await vehicles.connections(aliceVehicle))[0]).to.deep.equal([software.address]);
      });
    });

    describe("when the caller is not an approved integration", function () {
      it("reverts with RegistryNotIntegration for an outsider carrying a consent", async function () {
        const { vehicles, alice, outsider, aliceVehicle } = await loadFixture(vehiclesFixture);
        const deadline = await deadlineIn();
        const signature = await consentSignature(vehicles, aliceVehicle, outsider.address, alice, deadline);
        await expect(vehicles.connect(outsider).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryNotIntegration")
          .withArgs(outsider.address);
      });

      it("reverts with RegistryNotIntegration for the vehicle owner", async function () {
        const { vehicles, alice, aliceVehicle } = await loadFixture(vehiclesFixture);
        const deadline = await deadlineIn();
        const signature = await consentSignature(vehicles, aliceVehicle, alice.address, alice, deadline);
        await expect(vehicles.connect(alice).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryNotIntegration")
          .withArgs(alice.address);
      });

      it("reverts with RegistryNotIntegration for an integration whose role was revoked", async function () {
        const { vehicles, admin, software, aliceVehicle, deadline, signature } = await loadFixture(consentFixture);
        await vehicles.connect(admin).revokeRole(await vehicles.SOFTWARE_INTEGRATION_ROLE(), software.address);
        await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryNotIntegration")
          .withArgs(software.address);
      });
    });

    describe("when the integration is already connected", function () {
      it("reverts with RegistryAlreadyConnected", async function () {
        const { vehicles, alice, software, aliceVehicle } = await loadFixture(connectedFixture);
        const deadline = await deadlineIn();
        const signature = await consentSignature(vehicles, aliceVehicle, software.address, alice, deadline);
        await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryAlreadyConnected")
          .withArgs(aliceVehicle, software.address);
      });
    });

    describe("when the vehicle holds MAX_CONNECTIONS connections", function () {
      it("accepts exactly 8 connections", async function () {
        const { vehicles, alice, extraIntegrations, aliceVehicle } = await loadFixture(vehiclesFixture);
        for (const integration of extraIntegrations) await connect(vehicles, aliceVehicle, integration, alice);
        const [integrations, kinds] = await vehicles.connections(aliceVehicle);
        expect(integrations).to.have.length(8);
        expect(kinds.every((k) => k === BigInt(ConnectionKind.Software))).to.equal(true);
      });

      it("reverts with RegistryTooManyConnections for a 9th", async function () {
        const { vehicles, alice, oem, extraIntegrations, aliceVehicle } = await loadFixture(vehiclesFixture);
        for (const integration of extraIntegrations) await connect(vehicles, aliceVehicle, integration, alice);
        const deadline = await deadlineIn();
        const signature = await consentSignature(vehicles, aliceVehicle, oem.address, alice, deadline);
        await expect(vehicles.connect(oem).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryTooManyConnections")
          .withArgs(aliceVehicle, 8n);
      });

      it("accepts a new connection once one is removed", async function () {
        const { vehicles, alice, oem, extraIntegrations, aliceVehicle } = await loadFixture(vehiclesFixture);
        for (const integration of extraIntegrations) await connect(vehicles, aliceVehicle, integration, alice);
        await vehicles.connect(alice).disconnect(aliceVehicle, extraIntegrations[3].address);
        await connect(vehicles, aliceVehicle, oem, alice);
        const [integrations] = await vehicles.connections(aliceVehicle);
        expect(integrations).to.have.length(8);
        expect(integrations).to.include(oem.address);
        expect(integrations).not.to.include(extraIntegrations[3].address);
      });
    });

    describe("when the vehicle does not exist", function () {
      it("reverts with RegistryVehicleNotFound", async function () {
        const { vehicles, alice, software } = await loadFixture(vehiclesFixture);
        const deadline = await deadlineIn();
        const signature = await consentSignature(vehicles, 99n, software.address, alice, deadline);
        await expect(vehicles.connect(software).attestConnection(99n, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryVehicleNotFound")
          .withArgs(99n);
      });
    });

    describe("when the consent is not valid", function () {
      it("reverts with RegistrySignatureExpired after the deadline", async function () {
        const { vehicles, software, aliceVehicle, deadline, signature } = await loadFixture(consentFixture);
        await time.setNextBlockTimestamp(deadline + 1n);
        await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistrySignatureExpired")
          .withArgs(deadline, deadline + 1n);
      });

      it("reverts with RegistryInvalidSignature when it is replayed after a disconnection", async function () {
        const { vehicles, alice, software, aliceVehicle, deadline, signature } = await loadFixture(consentFixture);
        await vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature);
        await vehicles.connect(software).disconnect(aliceVehicle, software.address);
        await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature when someone other than the owner signed", async function () {
        const { vehicles, alice, bob, software, aliceVehicle } = await loadFixture(vehiclesFixture);
        const deadline = await deadlineIn();
        const signature = await consentSignature(
          vehicles,
          aliceVehicle,
          software.address,
          bob,
          deadline,
          alice.address,
        );
        await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature when it was signed for another chain id", async function () {
        const { vehicles, alice, software, aliceVehicle } = await loadFixture(vehiclesFixture);
        const deadline = await deadlineIn();
        const signature = await consentSignature(vehicles, aliceVehicle, software.address, alice, deadline, undefined, {
          chainId: 1n,
        });
        await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature when it was signed for another registry", async function () {
        const { vehicles, devices, admin, alice, software, aliceVehicle } = await loadFixture(vehiclesFixture);
        const other = await ethers.deployContract("VehicleRegistry", [await devices.getAddress(), admin.address]);
        const deadline = await deadlineIn();
        const signature = await consentSignature(vehicles, aliceVehicle, software.address, alice, deadline, undefined, {
          verifyingContract: await other.getAddress(),
        });
        await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature when another integration submits the consent", async function () {
        const { vehicles, alice, oem, aliceVehicle, deadline, signature } = await loadFixture(consentFixture);
        await expect(vehicles.connect(oem).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature when the consent was for another vehicle", async function () {
        const { vehicles, alice, software, aliceVehicle } = await loadFixture(vehiclesFixture);
        await vehicles.connect(alice).mintVehicle(vehicleInfo({}, "VIN-3"));
        const deadline = await deadlineIn();
        const signature = await consentSignature(vehicles, 3n, software.address, alice, deadline);
        await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature when it was signed with a future nonce", async function () {
        const { vehicles, alice, software, aliceVehicle } = await loadFixture(vehiclesFixture);
        const deadline = await deadlineIn();
        const signature = await signConnectionConsent(alice, vehicles, {
          vehicleId: aliceVehicle,
          integration: software.address,
          nonce: 1n,
          deadline,
        });
        await expect(vehicles.connect(software).attestConnection(aliceVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });
    });

    describe("when the owner is a contract wallet (ERC-1271)", function () {
      async function walletFixture() {
        const ctx = await vehiclesFixture();
        const wallet = await deployWallet(ctx.carol);
        const data = ctx.vehicles.interface.encodeFunctionData("mintVehicle", [vehicleInfo({}, "VIN-WALLET")]);
        await wallet.connect(ctx.carol).execute(await ctx.vehicles.getAddress(), data);
        return { ...ctx, wallet, walletAddress: await wallet.getAddress(), walletVehicle: 3n };
      }

      it("connects with the wallet owner's consent", async function () {
        const { vehicles, carol, oem, walletAddress, walletVehicle } = await loadFixture(walletFixture);
        const deadline = await deadlineIn();
        const signature = await consentSignature(vehicles, walletVehicle, oem.address, carol, deadline, walletAddress);
        await expect(vehicles.connect(oem).attestConnection(walletVehicle, deadline, signature))
          .to.emit(vehicles, "ConnectionAttested")
          .withArgs(walletVehicle, oem.address, ConnectionKind.Oem, walletAddress);
      });

      it("reverts with RegistryInvalidSignature(wallet) when the wallet's owner did not sign", async function () {
        const { vehicles, outsider, oem, walletAddress, walletVehicle } = await loadFixture(walletFixture);
        const deadline = await deadlineIn();
        const signature = await consentSignature(
          vehicles,
          walletVehicle,
          oem.address,
          outsider,
          deadline,
          walletAddress,
        );
        await expect(vehicles.connect(oem).attestConnection(walletVehicle, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(walletAddress);
      });

      it("lets the wallet disconnect through its owner", async function () {
        const { vehicles, carol, oem, wallet, walletAddress, walletVehicle } = await loadFixture(walletFixture);
        const deadline = await deadlineIn();
        const signature = await consentSignature(vehicles, walletVehicle, oem.address, carol, deadline, walletAddress);
        await vehicles.connect(oem).attestConnection(walletVehicle, deadline, signature);
        const data = vehicles.interface.encodeFunctionData("disconnect", [walletVehicle, oem.address]);
        await expect(wallet.connect(carol).execute(await vehicles.getAddress(), data))
          .to.emit(vehicles, "ConnectionRemoved")
          .withArgs(walletVehicle, oem.address, false);
      });
    });
  });

  describe("disconnect", function () {
    describe("when the owner disconnects an integration", function () {
      it("emits ConnectionRemoved with byTransfer false", async function () {
        const { vehicles, alice, software, aliceVehicle } = await loadFixture(connectedFixture);
        await expect(vehicles.connect(alice).disconnect(aliceVehicle, software.address))
          .to.emit(vehicles, "ConnectionRemoved")
          .withArgs(aliceVehicle, software.address, false);
      });

      it("removes only that integration from connections()", async function () {
        const { vehicles, alice, software, oem, aliceVehicle } = await loadFixture(connectedFixture);
        await vehicles.connect(alice).disconnect(aliceVehicle, software.address);
        const [integrations, kinds] = await vehicles.connections(aliceVehicle);
        expect(integrations).to.deep.equal([oem.address]);
        expect(kinds).to.deep.equal([BigInt(ConnectionKind.Oem)]);
      });

      it("keeps the integration's approval", async function () {
        const { vehicles, alice, software, aliceVehicle } = await loadFixture(connectedFixture);
        await vehicles.connect(alice).disconnect(aliceVehicle, software.address);
        expect(await vehicles.integrationKind(software.address)).to.equal(BigInt(ConnectionKind.Software));
      });

      it("lets the integration connect again with a fresh consent", async function () {
        const { vehicles, alice, software, aliceVehicle } = await loadFixture(connectedFixture);
        await vehicles.connect(alice).disconnect(aliceVehicle, software.address);
        await connect(vehicles, aliceVehicle, software, alice);
        expect((await vehicles.connections(aliceVehicle))[0]).to.include(software.address);
      });
    });

    describe("when the integration disconnects itself", function () {
      it("emits ConnectionRemoved with byTransfer false", async function () {
        const { vehicles, oem, aliceVehicle } = await loadFixture(connectedFixture);
        await expect(vehicles.connect(oem).disconnect(aliceVehicle, oem.address))
          .to.emit(vehicles, "ConnectionRemoved")
          .withArgs(aliceVehicle, oem.address, false);
        expect((await vehicles.connections(aliceVehicle))[0]).not.to.include(oem.address);
      });

      it("works after its role was revoked", async function () {
        const { vehicles, admin, oem, aliceVehicle } = await loadFixture(connectedFixture);
        await vehicles.connect(admin).revokeRole(await vehicles.OEM_INTEGRATION_ROLE(), oem.address);
        await vehicles.connect(oem).disconnect(aliceVehicle, oem.address);
        expect((await vehicles.connections(aliceVehicle))[0]).not.to.include(oem.address);
      });
    });

    describe("when the caller is neither the owner nor the integration", function () {
      it("reverts with RegistryNotVehicleOwner for an outsider", async function () {
        const { vehicles, alice, outsider, software, aliceVehicle } = await loadFixture(connectedFixture);
        await expect(vehicles.connect(outsider).disconnect(aliceVehicle, software.address))
          .to.be.revertedWithCustomError(vehicles, "RegistryNotVehicleOwner")
          .withArgs(aliceVehicle, outsider.address, alice.address);
      });

      it("reverts with RegistryNotVehicleOwner for another connected integration", async function () {
        const { vehicles, alice, software, oem, aliceVehicle } = await loadFixture(connectedFixture);
        await expect(vehicles.connect(oem).disconnect(aliceVehicle, software.address))
          .to.be.revertedWithCustomError(vehicles, "RegistryNotVehicleOwner")
          .withArgs(aliceVehicle, oem.address, alice.address);
      });

      it("reverts with RegistryNotVehicleOwner for the admin", async function () {
        const { vehicles, admin, alice, software, aliceVehicle } = await loadFixture(connectedFixture);
        await expect(vehicles.connect(admin).disconnect(aliceVehicle, software.address))
          .to.be.revertedWithCustomError(vehicles, "RegistryNotVehicleOwner")
          .withArgs(aliceVehicle, admin.address, alice.address);
      });
    });

    describe("when the integration is not connected", function () {
      it("reverts with RegistryNotConnected when the owner asks", async function () {
        const { vehicles, alice, extraIntegrations, aliceVehicle } = await loadFixture(connectedFixture);
        await expect(vehicles.connect(alice).disconnect(aliceVehicle, extraIntegrations[0].address))
          .to.be.revertedWithCustomError(vehicles, "RegistryNotConnected")
          .withArgs(aliceVehicle, extraIntegrations[0].address);
      });

      it("reverts with RegistryNotConnected when the integration asks", async function () {
        const { vehicles, software, bobVehicle } = await loadFixture(connectedFixture);
        await expect(vehicles.connect(software).disconnect(bobVehicle, software.address))
          .to.be.revertedWithCustomError(vehicles, "RegistryNotConnected")
          .withArgs(bobVehicle, software.address);
      });
    });

    describe("when the vehicle does not exist", function () {
      it("reverts with RegistryVehicleNotFound", async function () {
        const { vehicles, software } = await loadFixture(connectedFixture);
        await expect(vehicles.connect(software).disconnect(99n, software.address))
          .to.be.revertedWithCustomError(vehicles, "RegistryVehicleNotFound")
          .withArgs(99n);
      });
    });
  });

  describe("connections", function () {
    it("is empty for a vehicle without connections", async function () {
      const { vehicles, aliceVehicle } = await loadFixture(vehiclesFixture);
      const [integrations, kinds] = await vehicles.connections(aliceVehicle);
      expect(integrations).to.deep.equal([]);
      expect(kinds).to.deep.equal([]);
    });

    it("keeps the kind recorded at attestation after the integration's role is revoked", async function () {
      // Documents current behaviour: de-approving an integration does not end its existing connections.
      const { vehicles, admin, software, aliceVehicle } = await loadFixture(connectedFixture);
      await vehicles.connect(admin).revokeRole(await vehicles.SOFTWARE_INTEGRATION_ROLE(), software.address);
      const [integrations, kinds] = await vehicles.connections(aliceVehicle);
      expect(integrations[0]).to.equal(software.address);
      expect(kinds[0]).to.equal(BigInt(ConnectionKind.Software));
    });
  });
});
