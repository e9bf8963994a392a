import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { signMintVehicle, type VehicleInfoInput } from "../helpers/eip712";
import {
  HOUR,
  Powertrain,
  VIN_ALICE,
  VIN_BOB,
  deadlineIn,
  deployWallet,
  mintVehicle,
  registryFixture,
  vehicleInfo,
  vinCommitment,
} from "./fixtures";

const TOKEN_URI_PREFIX = "data:application/json;base64,";

interface Metadata {
  name: string;
  description: string;
  attributes: { trait_type: string; value: string | number; display_type?: string }[];
}

function decodeTokenUri(uri: string): Metadata {
  expect(uri.startsWith(TOKEN_URI_PREFIX)).to.equal(true);
  return JSON.parse(Buffer.from(uri.slice(TOKEN_URI_PREFIX.length), "base64").toString("utf8")) as Metadata;
}

/** Lower-case hex (no 0x) of everything a transaction put on chain: calldata, logs, and every storage write. */
async function onChainFootprint(txHash: string): Promise<string> {
  const tx = await ethers.provider.getTransaction(txHash);
  const receipt = await ethers.provider.getTransactionReceipt(txHash);
  const parts: string[] = [tx!.data];
  for (const log of receipt!.logs) parts.push(log.data, ...log.topics);
  const trace = (await ethers.provider.send("debug_traceTransaction", [txHash])) as {
    structLogs: { op: string; stack?: string[]; storage?: Record<string, string> }[];
  };
  for (const step of trace.structLogs) {
    if (step.op === "SSTORE" && step.stack) parts.push(step.stack[step.stack.length - 2]);
    if (step.storage) parts.push(...Object.values(step.storage));
  }
  return parts.map((p) => p.replace(/^0x/, "").toLowerCase()).join("|");
}

function hexOf(text: string): string {
  return ethers.hexlify(ethers.toUtf8Bytes(text)).slice(2);
}

describe("VehicleRegistry: vehicles", function () {
  describe("constructor", function () {
    it("reverts with RegistryZeroAddress when the device registry is the zero address", async function () {
      const { vehicles, admin } = await loadFixture(registryFixture);
      await expect(
        ethers.deployContract("VehicleRegistry", [ethers.ZeroAddress, admin.address]),
      ).to.be.revertedWithCustomError(vehicles, "RegistryZeroAddress");
    });

    it("reverts with RegistryZeroAddress when the admin is the zero address", async function () {
      const { vehicles, devices } = await loadFixture(registryFixture);
      await expect(
        ethers.deployContract("VehicleRegistry", [await devices.getAddress(), ethers.ZeroAddress]),
      ).to.be.revertedWithCustomError(vehicles, "RegistryZeroAddress");
    });

    it("gives the admin DEFAULT_ADMIN_ROLE, which administers both integration roles", async function () {
      const { vehicles, admin } = await loadFixture(registryFixture);
      const adminRole = await vehicles.DEFAULT_ADMIN_ROLE();
      expect(await vehicles.hasRole(adminRole, admin.address)).to.equal(true);
      expect(await vehicles.getRoleAdmin(await vehicles.SOFTWARE_INTEGRATION_ROLE())).to.equal(adminRole);
      expect(await vehicles.getRoleAdmin(await vehicles.OEM_INTEGRATION_ROLE())).to.equal(adminRole);
    });

    it("names the token and records the device registry", async function () {
      const { vehicles, devices } = await loadFixture(registryFixture);
      expect(await vehicles.name()).to.equal("DIMO Vehicle");
      expect(await vehicles.symbol()).to.equal("DIMOV");
      expect(await vehicles.deviceRegistry()).to.equal(await devices.getAddress());
      expect(await vehicles.totalVehicles()).to.equal(0n);
    });

    it("publishes its limits", async function () {
      const { vehicles } = await loadFixture(registryFixture);
      expect(await vehicles.MAX_CONNECTIONS()).to.equal(8n);
      expect(await vehicles.MAX_TEXT_LENGTH()).to.equal(32n);
      expect(await vehicles.MIN_YEAR()).to.equal(1886n);
      expect(await vehicles.MAX_YEAR()).to.equal(2100n);
    });
  });

  describe("supportsInterface", function () {
    for (const [name, id] of [
      ["ERC-165", "0x01ffc9a7"],
      ["ERC-721", "0x80ac58cd"],
      ["ERC-721 metadata", "0x5b5e139f"],
      ["AccessControl", "0x7965db0b"],
    ]) {
      it(`supports ${name}`, async function () {
        const { vehicles } = await loadFixture(registryFixture);
        expect(await vehicles.supportsInterface(id)).to.equal(true);
      });
    }

    it("does not support the invalid interface id 0xffffffff", async function () {
      const { vehicles } = await loadFixture(registryFixture);
      expect(await vehicles.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("mintVehicle", function () {
    describe("when the data is valid", function () {
      it("mints vehicle 1 to the caller", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        await vehicles.connect(alice).mintVehicle(vehicleInfo());
        expect(await vehicles.ownerOf(1n)).to.equal(alice.address);
        expect(await vehicles.balanceOf(alice.address)).to.equal(1n);
        expect(await vehicles.totalVehicles()).to.equal(1n);
      });

      it("numbers vehicles from 1 upwards", async function () {
        const { vehicles, alice, bob } = await loadFixture(registryFixture);
        expect(await mintVehicle(vehicles, alice, vehicleInfo({}, VIN_ALICE))).to.equal(1n);
        expect(await mintVehicle(vehicles, bob, vehicleInfo({}, VIN_BOB))).to.equal(2n);
        expect(await vehicles.ownerOf(2n)).to.equal(bob.address);
      });

      it("emits VehicleMinted with the vehicle's data", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        const info = vehicleInfo();
        await expect(vehicles.connect(alice).mintVehicle(info))
          .to.emit(vehicles, "VehicleMinted")
          .withArgs(1n, alice.address, info.vinCommitment, "Tesla", "Model 3", 2021, Powertrain.BEV);
      });

      it("stores the vehicle's data", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        const info = vehicleInfo({ make: "Toyota", model: "Prius Prime", year: 2023, powertrain: Powertrain.PHEV });
        await vehicles.connect(alice).mintVehicle(info);
        const stored = await vehicles.vehicle(1n);
        expect(stored.make).to.equal("Toyota");
        expect(stored.model).to.equal("Prius Prime");
        expect(stored.year).to.equal(2023n);
        expect(stored.powertrain).to.equal(BigInt(Powertrain.PHEV));
      });

      it("records which vehicle holds the VIN commitment", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        await vehicles.connect(alice).mintVehicle(vehicleInfo());
        expect(await vehicles.vehicleOfVin(vinCommitment(VIN_ALICE))).to.equal(1n);
        expect(await vehicles.vehicleOfVin(vinCommitment(VIN_BOB))).to.equal(0n);
      });

      it("does not advance the ownership epoch", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        await expect(vehicles.connect(alice).mintVehicle(vehicleInfo())).not.to.emit(
          vehicles,
          "OwnershipEpochAdvanced",
        );
        expect(await vehicles.ownershipEpoch(1n)).to.equal(0n);
      });

      it("does not use the caller's signature nonce", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        await vehicles.connect(alice).mintVehicle(vehicleInfo());
        expect(await vehicles.nonces(alice.address)).to.equal(0n);
      });

      it("lets a contract wallet mint a vehicle to itself", async function () {
        const { vehicles, carol } = await loadFixture(registryFixture);
        const wallet = await deployWallet(carol);
        const data = vehicles.interface.encodeFunctionData("mintVehicle", [vehicleInfo()]);
        await wallet.connect(carol).execute(await vehicles.getAddress(), data);
        expect(await vehicles.ownerOf(1n)).to.equal(await wallet.getAddress());
      });
    });

    describe("when the VIN commitment is already registered", function () {
      it("reverts with RegistryDuplicateVin and the existing vehicle's id", async function () {
        const { vehicles, alice, bob } = await loadFixture(registryFixture);
        await mintVehicle(vehicles, bob, vehicleInfo({}, VIN_BOB));
        await mintVehicle(vehicles, alice, vehicleInfo({}, VIN_ALICE));
        const duplicate = vehicleInfo({ make: "Other", model: "Car", year: 1999 }, VIN_ALICE);
        await expect(vehicles.connect(bob).mintVehicle(duplicate))
          .to.be.revertedWithCustomError(vehicles, "RegistryDuplicateVin")
          .withArgs(vinCommitment(VIN_ALICE), 2n);
      });
    });

    describe("when the VIN commitment is zero", function () {
      it("reverts with RegistryZeroVinCommitment", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        await expect(
          vehicles.connect(alice).mintVehicle(vehicleInfo({ vinCommitment: ethers.ZeroHash })),
        ).to.be.revertedWithCustomError(vehicles, "RegistryZeroVinCommitment");
      });
    });

    describe("when a text field is invalid", function () {
      const invalid: [string, string][] = [
        ["is empty", ""],
        ["has 33 bytes", "A".repeat(33)],
        ['holds a double quote (")', 'Model "S"'],
        ["holds a backslash (\\)", "Model\\S"],
        ["holds a newline (0x0a)", "Model\nS"],
        ["holds the control character 0x1f", "Model\x1fS"],
        ["holds DEL (0x7f)", "Model\x7fS"],
        ["holds a non-ASCII character", "Citroën"],
      ];
      for (const field of ["make", "model"] as const) {
        for (const [what, text] of invalid) {
          it(`reverts with RegistryInvalidText("${field}") when the ${field} ${what}`, async function () {
            const { vehicles, alice } = await loadFixture(registryFixture);
            await expect(vehicles.connect(alice).mintVehicle(vehicleInfo({ [field]: text })))
              .to.be.revertedWithCustomError(vehicles, "RegistryInvalidText")
              .withArgs(field);
          });
        }
      }

      it("names the make first when both make and model are invalid", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        await expect(vehicles.connect(alice).mintVehicle(vehicleInfo({ make: "", model: "" })))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidText")
          .withArgs("make");
      });
    });

    describe("when a text field is at the edge of the rules", function () {
      it("accepts a 1-byte make and a 32-byte model", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        await vehicles.connect(alice).mintVehicle(vehicleInfo({ make: "X", model: "M".repeat(32) }));
        expect((await vehicles.vehicle(1n)).model).to.equal("M".repeat(32));
      });

      it("accepts every printable ASCII character except the double quote and the backslash", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        let printable = "";
        for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x22 && c !== 0x5c) printable += String.fromCharCode(c);
        const chunks = printable.match(/.{1,32}/g)!;
        for (let i = 0; i < chunks.length; i += 2) {
          const model = chunks[i + 1] ?? "end";
          await vehicles.connect(alice).mintVehicle(vehicleInfo({ make: chunks[i], model }, `VIN-${i}`));
        }
        expect(await vehicles.totalVehicles()).to.equal(BigInt(Math.ceil(chunks.length / 2)));
      });
    });

    describe("when the model year is at or outside the bounds", function () {
      for (const year of [1885, 2101, 0, 65_535]) {
        it(`reverts with RegistryInvalidYear(${year})`, async function () {
          const { vehicles, alice } = await loadFixture(registryFixture);
          await expect(vehicles.connect(alice).mintVehicle(vehicleInfo({ year })))
            .to.be.revertedWithCustomError(vehicles, "RegistryInvalidYear")
            .withArgs(year);
        });
      }

      for (const year of [1886, 2100]) {
        it(`accepts the year ${year}`, async function () {
          const { vehicles, alice } = await loadFixture(registryFixture);
          await vehicles.connect(alice).mintVehicle(vehicleInfo({ year }));
          expect((await vehicles.vehicle(1n)).year).to.equal(BigInt(year));
        });
      }
    });

    describe("when the powertrain is outside ICE..BEV", function () {
      it("reverts while decoding the call", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        await expect(vehicles.connect(alice).mintVehicle(vehicleInfo({ powertrain: 4 }))).to.be.reverted;
        expect(await vehicles.totalVehicles()).to.equal(0n);
      });
    });

    describe("when the vehicle is minted with a VIN commitment", function () {
      it("never puts the raw VIN in the calldata, the logs or any storage write", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        const tx = await vehicles.connect(alice).mintVehicle(vehicleInfo({}, VIN_ALICE));
        const footprint = await onChainFootprint(tx.hash);
        expect(footprint).to.include(vinCommitment(VIN_ALICE).slice(2)); // the commitment itself is public
        expect(footprint).not.to.include(hexOf(VIN_ALICE));
        expect(footprint).not.to.include(hexOf(VIN_ALICE.toLowerCase()));
      });

      it("finds the make in the same footprint (control for the VIN check)", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        const tx = await vehicles.connect(alice).mintVehicle(vehicleInfo({ make: VIN_BOB }, VIN_ALICE));
        expect(await onChainFootprint(tx.hash)).to.include(hexOf(VIN_BOB));
      });

      it("never returns the raw VIN from vehicle() or tokenURI()", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        await vehicles.connect(alice).mintVehicle(vehicleInfo({}, VIN_ALICE));
        const stored = await vehicles.vehicle(1n);
        expect(stored.map(String).join("|")).not.to.include(VIN_ALICE);
        expect(JSON.stringify(decodeTokenUri(await vehicles.tokenURI(1n)))).not.to.include(VIN_ALICE);
      });
    });
  });

  describe("mintVehicleFor", function () {
    async function signedMint(overrides: Partial<VehicleInfoInput> = {}) {
      const ctx = await loadFixture(registryFixture);
      const info = vehicleInfo(overrides);
      const deadline = await deadlineIn(HOUR);
      const nonce = await ctx.vehicles.nonces(ctx.alice.address);
      const signature = await signMintVehicle(ctx.alice, ctx.vehicles, {
        owner: ctx.alice.address,
        info,
        nonce,
        deadline,
      });
      return { ...ctx, info, deadline, nonce, signature };
    }

    describe("when a relayer carries the owner's signature", function () {
      it("mints the vehicle to the owner, not to the relayer", async function () {
        const { vehicles, alice, relayer, info, deadline, signature } = await signedMint();
        await vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature);
        expect(await vehicles.ownerOf(1n)).to.equal(alice.address);
        expect(await vehicles.balanceOf(relayer.address)).to.equal(0n);
      });

      it("emits VehicleMinted with the owner", async function () {
        const { vehicles, alice, relayer, info, deadline, signature } = await signedMint();
        await expect(vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature))
          .to.emit(vehicles, "VehicleMinted")
          .withArgs(1n, alice.address, info.vinCommitment, "Tesla", "Model 3", 2021, Powertrain.BEV);
      });

      it("increments the owner's nonce", async function () {
        const { vehicles, alice, relayer, info, deadline, signature } = await signedMint();
        await vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature);
        expect(await vehicles.nonces(alice.address)).to.equal(1n);
      });

      it("accepts a second signature made with the next nonce", async function () {
        const { vehicles, alice, relayer, info, deadline, signature } = await signedMint();
        await vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature);
        const second = vehicleInfo({ model: "Model Y" }, VIN_BOB);
        const sig2 = await signMintVehicle(alice, vehicles, {
          owner: alice.address,
          info: second,
          nonce: 1n,
          deadline,
        });
        await vehicles.connect(relayer).mintVehicleFor(alice.address, second, deadline, sig2);
        expect(await vehicles.ownerOf(2n)).to.equal(alice.address);
        expect(await vehicles.nonces(alice.address)).to.equal(2n);
      });

      it("accepts the signature in the block whose timestamp equals the deadline", async function () {
        const { vehicles, alice, relayer, info, deadline, signature } = await signedMint();
        await time.setNextBlockTimestamp(deadline);
        await vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature);
        expect(await vehicles.ownerOf(1n)).to.equal(alice.address);
      });
    });

    describe("when the VIN commitment is already registered", function () {
      it("reverts with RegistryDuplicateVin and the existing vehicle's id", async function () {
        const { vehicles, bob, alice, relayer, info, deadline, signature } = await signedMint();
        await vehicles.connect(bob).mintVehicle(info);
        await expect(vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryDuplicateVin")
          .withArgs(info.vinCommitment, 1n);
      });
    });

    describe("when the signed data is invalid", function () {
      it("reverts with RegistryInvalidText for a signed empty make", async function () {
        const { vehicles, alice, relayer, info, deadline, signature } = await signedMint({ make: "" });
        await expect(vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidText")
          .withArgs("make");
      });

      it("reverts with RegistryZeroVinCommitment for a signed zero commitment", async function () {
        const { vehicles, alice, relayer, info, deadline, signature } = await signedMint({
          vinCommitment: ethers.ZeroHash,
        });
        await expect(
          vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature),
        ).to.be.revertedWithCustomError(vehicles, "RegistryZeroVinCommitment");
      });
    });

    describe("when the signature is not valid", function () {
      it("reverts with RegistryInvalidSignature when the same signature is replayed", async function () {
        const { vehicles, alice, relayer, info, deadline, signature } = await signedMint();
        await vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature);
        await expect(vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistrySignatureExpired after the deadline", async function () {
        const { vehicles, alice, relayer, info, deadline, signature } = await signedMint();
        await time.setNextBlockTimestamp(deadline + 1n);
        await expect(vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistrySignatureExpired")
          .withArgs(deadline, deadline + 1n);
      });

      it("reverts with RegistryInvalidSignature when someone else signed", async function () {
        const { vehicles, alice, bob, relayer, info, deadline, nonce } = await signedMint();
        const signature = await signMintVehicle(bob, vehicles, { owner: alice.address, info, nonce, deadline });
        await expect(vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature when it was signed for another chain id", async function () {
        const { vehicles, alice, relayer, info, deadline, nonce } = await signedMint();
        const signature = await signMintVehicle(
          alice,
          vehicles,
          { owner: alice.address, info, nonce, deadline },
          { chainId: 1n },
        );
        await expect(vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature when it was signed for another registry", async function () {
        const { vehicles, devices, admin, alice, relayer, info, deadline, nonce } = await signedMint();
        const other = await ethers.deployContract("VehicleRegistry", [await devices.getAddress(), admin.address]);
        const signature = await signMintVehicle(
          alice,
          vehicles,
          { owner: alice.address, info, nonce, deadline },
          { verifyingContract: await other.getAddress() },
        );
        await expect(vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
        // ...while the registry it was signed for accepts it.
        await other.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature);
        expect(await other.ownerOf(1n)).to.equal(alice.address);
      });

      it("reverts with RegistryInvalidSignature when the submitted data differs from the signed data", async function () {
        const { vehicles, alice, relayer, info, deadline, signature } = await signedMint();
        await expect(
          vehicles.connect(relayer).mintVehicleFor(alice.address, { ...info, year: 2022 }, deadline, signature),
        )
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature when the submitted deadline differs from the signed one", async function () {
        const { vehicles, alice, relayer, info, deadline, signature } = await signedMint();
        await expect(vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline + 1n, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature when it was signed with a future nonce", async function () {
        const { vehicles, alice, relayer, info, deadline } = await signedMint();
        const signature = await signMintVehicle(alice, vehicles, { owner: alice.address, info, nonce: 1n, deadline });
        await expect(vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryInvalidSignature when the signature is not 65 bytes", async function () {
        const { vehicles, alice, relayer, info, deadline, signature } = await signedMint();
        await expect(vehicles.connect(relayer).mintVehicleFor(alice.address, info, deadline, signature.slice(0, -2)))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(alice.address);
      });

      it("reverts with RegistryZeroAddress for the zero-address owner, before looking at the signature", async function () {
        const { vehicles, relayer, info, deadline, signature } = await signedMint();
        await expect(
          vehicles.connect(relayer).mintVehicleFor(ethers.ZeroAddress, info, deadline, signature),
        ).to.be.revertedWithCustomError(vehicles, "RegistryZeroAddress");
      });
    });

    describe("when the owner is a contract wallet (ERC-1271)", function () {
      it("mints to the wallet with its owner's signature", async function () {
        const { vehicles, carol, relayer } = await loadFixture(registryFixture);
        const wallet = await deployWallet(carol);
        const owner = await wallet.getAddress();
        const info = vehicleInfo();
        const deadline = await deadlineIn();
        const signature = await signMintVehicle(carol, vehicles, { owner, info, nonce: 0n, deadline });
        await expect(vehicles.connect(relayer).mintVehicleFor(owner, info, deadline, signature))
          .to.emit(vehicles, "VehicleMinted")
          .withArgs(1n, owner, info.vinCommitment, "Tesla", "Model 3", 2021, Powertrain.BEV);
        expect(await vehicles.ownerOf(1n)).to.equal(owner);
        expect(await vehicles.nonces(owner)).to.equal(1n);
      });

      it("reverts with RegistryInvalidSignature when the wallet's owner did not sign", async function () {
        const { vehicles, carol, outsider, relayer } = await loadFixture(registryFixture);
        const wallet = await deployWallet(carol);
        const owner = await wallet.getAddress();
        const info = vehicleInfo();
        const deadline = await deadlineIn();
        const signature = await signMintVehicle(outsider, vehicles, { owner, info, nonce: 0n, deadline });
        await expect(vehicles.connect(relayer).mintVehicleFor(owner, info, deadline, signature))
          .to.be.revertedWithCustomError(vehicles, "RegistryInvalidSignature")
          .withArgs(owner);
      });
    });
  });

  describe("model catalogue", function () {
    describe("when a vehicle's make and model are not catalogued yet", function () {
      it("enters them under the next id in the same mint (ModelCatalogued before VehicleMinted)", async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        const tx = vehicles.connect(alice).mintVehicle(vehicleInfo());
        await expect(tx).to.emit(vehicles, "ModelCatalogued").withArgs(1n, "Tesla", "Model 3");
        const receipt = await (await tx).wait();
        const names = receipt!.logs.map((l) => vehicles.interface.parseLog(l)?.name);
        expect(names).to.deep.equal(["ModelCatalogued", "Transfer", "VehicleMinted"]);
        expect(await vehicles.totalModels()).to.equal(1n);
        expect(await vehicles.catalogue(1n)).to.deep.equal(["Tesla", "Model 3"]);
        expect(await vehicles.modelIdOf("Tesla", "Model 3")).to.equal(1n);
      });
    });

    describe("when the model is catalogued", function () {
      it("refers to the entry: no new entry, each vehicle keeps its own year and powertrain", async function () {
        const { vehicles, alice, bob } = await loadFixture(registryFixture);
        await mintVehicle(vehicles, alice, vehicleInfo({ year: 2019, powertrain: Powertrain.BEV }, VIN_ALICE));
        const second = vehicles
          .connect(bob)
          .mintVehicle(vehicleInfo({ year: 2024, powertrain: Powertrain.HEV }, VIN_BOB));
        await expect(second).not.to.emit(vehicles, "ModelCatalogued");
        await expect(second)
          .to.emit(vehicles, "VehicleMinted")
          .withArgs(2n, bob.address, vinCommitment(VIN_BOB), "Tesla", "Model 3", 2024, Powertrain.HEV);
        expect(await vehicles.totalModels()).to.equal(1n);
        expect(await vehicles.vehicle(1n)).to.deep.equal(["Tesla", "Model 3", 2019n, BigInt(Powertrain.BEV)]);
        expect(await vehicles.vehicle(2n)).to.deep.equal(["Tesla", "Model 3", 2024n, BigInt(Powertrain.HEV)]);
      });

      it("keeps a vehicle's model, year and powertrain through transfers (they live in its ownership word)", async function () {
        const { vehicles, alice, bob, carol } = await loadFixture(registryFixture);
        await mintVehicle(vehicles, alice, vehicleInfo({ make: "Kia", model: "EV6", year: 2100 }));
        await mintVehicle(vehicles, bob, vehicleInfo({ year: 1886, powertrain: Powertrain.ICE }, VIN_BOB));
        await vehicles.connect(alice).transferFrom(alice.address, bob.address, 1n);
        await vehicles.connect(bob).transferFrom(bob.address, carol.address, 1n);
        await vehicles.connect(bob).transferFrom(bob.address, carol.address, 2n);
        expect(await vehicles.vehicle(1n)).to.deep.equal(["Kia", "EV6", 2100n, BigInt(Powertrain.BEV)]);
        expect(await vehicles.vehicle(2n)).to.deep.equal(["Tesla", "Model 3", BigInt(1886), 0n]);
        expect(await vehicles.balanceOf(carol.address)).to.equal(2n);
      });

      it("writes four words for a catalogued model: the ownership word, the owner's balance, the VIN and the id counter", async function () {
        const { vehicles, alice, bob } = await loadFixture(registryFixture);
        await mintVehicle(vehicles, alice);
        const tx = await vehicles.connect(bob).mintVehicle(vehicleInfo({}, VIN_BOB));
        const trace = (await ethers.provider.send("debug_traceTransaction", [tx.hash])) as {
          structLogs: { op: string; stack?: string[] }[];
        };
        const written = new Set<string>();
        for (const step of trace.structLogs) {
          if (step.op === "SSTORE" && step.stack) written.add(step.stack[step.stack.length - 1]);
        }
        // Three new words and the id counter; no text is written again.
        expect(written.size).to.equal(4);
      });
    });

    describe("catalogueModel", function () {
      it("lets anyone enter a model ahead of its vehicles, and returns the id it already has on a second call", async function () {
        const { vehicles, carol, alice } = await loadFixture(registryFixture);
        await expect(vehicles.connect(carol).catalogueModel("Rivian", "R1T"))
          .to.emit(vehicles, "ModelCatalogued")
          .withArgs(1n, "Rivian", "R1T");
        expect(await vehicles.connect(alice).catalogueModel.staticCall("Rivian", "R1T")).to.equal(1n);
        await expect(vehicles.connect(alice).catalogueModel("Rivian", "R1T")).not.to.emit(vehicles, "ModelCatalogued");
        await expect(vehicles.connect(alice).mintVehicle(vehicleInfo({ make: "Rivian", model: "R1T" }))).not.to.emit(
          vehicles,
          "ModelCatalogued",
        );
        expect(await vehicles.totalModels()).to.equal(1n);
      });

      it("tells makes and models apart however their bytes split ('AB' + 'C' is not 'A' + 'BC')", async function () {
        const { vehicles, carol } = await loadFixture(registryFixture);
        await vehicles.connect(carol).catalogueModel("AB", "C");
        await vehicles.connect(carol).catalogueModel("A", "BC");
        expect(await vehicles.modelIdOf("AB", "C")).to.equal(1n);
        expect(await vehicles.modelIdOf("A", "BC")).to.equal(2n);
        expect(await vehicles.catalogue(2n)).to.deep.equal(["A", "BC"]);
        expect(await vehicles.modelIdOf("ABC", "")).to.equal(0n);
      });

      for (const [what, make, model, field] of [
        ["an empty make", "", "R1T", "make"],
        ["a 33-byte model", "Rivian", "R".repeat(33), "model"],
        ["a double quote in the model", "Rivian", 'R1"T', "model"],
      ] as const) {
        it(`refuses ${what} with RegistryInvalidText("${field}") and enters nothing`, async function () {
          const { vehicles, carol } = await loadFixture(registryFixture);
          await expect(vehicles.connect(carol).catalogueModel(make, model))
            .to.be.revertedWithCustomError(vehicles, "RegistryInvalidText")
            .withArgs(field);
          expect(await vehicles.totalModels()).to.equal(0n);
        });
      }
    });

    describe("catalogue", function () {
      it("returns the last id and refuses id 0 and the one after it with RegistryModelNotFound", async function () {
        const { vehicles, carol } = await loadFixture(registryFixture);
        await vehicles.connect(carol).catalogueModel("Rivian", "R1T");
        await vehicles.connect(carol).catalogueModel("Rivian", "R1S");
        expect(await vehicles.catalogue(2n)).to.deep.equal(["Rivian", "R1S"]);
        await expect(vehicles.catalogue(0n))
          .to.be.revertedWithCustomError(vehicles, "RegistryModelNotFound")
          .withArgs(0n);
        await expect(vehicles.catalogue(3n))
          .to.be.revertedWithCustomError(vehicles, "RegistryModelNotFound")
          .withArgs(3n);
      });
    });
  });

  describe("vehicle", function () {
    it("reverts with RegistryVehicleNotFound for an unknown id", async function () {
      const { vehicles, alice } = await loadFixture(registryFixture);
      await mintVehicle(vehicles, alice);
      await expect(vehicles.vehicle(2n))
        .to.be.revertedWithCustomError(vehicles, "RegistryVehicleNotFound")
        .withArgs(2n);
    });

    it("reverts with RegistryVehicleNotFound for id 0", async function () {
      const { vehicles, alice } = await loadFixture(registryFixture);
      await mintVehicle(vehicles, alice);
      await expect(vehicles.vehicle(0n))
        .to.be.revertedWithCustomError(vehicles, "RegistryVehicleNotFound")
        .withArgs(0n);
    });
  });

  describe("tokenURI", function () {
    it("is base64 JSON with the vehicle's name, description and attributes", async function () {
      const { vehicles, alice } = await loadFixture(registryFixture);
      await mintVehicle(vehicles, alice);
      expect(decodeTokenUri(await vehicles.tokenURI(1n))).to.deep.equal({
        name: "2021 Tesla Model 3",
        description: "DIMO vehicle #1",
        attributes: [
          { trait_type: "Make", value: "Tesla" },
          { trait_type: "Model", value: "Model 3" },
          { trait_type: "Year", display_type: "number", value: 2021 },
          { trait_type: "Powertrain", value: "BEV" },
        ],
      });
    });

    for (const [name, powertrain] of Object.entries(Powertrain)) {
      it(`names the ${name} powertrain`, async function () {
        const { vehicles, alice } = await loadFixture(registryFixture);
        await mintVehicle(vehicles, alice, vehicleInfo({ powertrain }));
        const { attributes } = decodeTokenUri(await vehicles.tokenURI(1n));
        expect(attributes.find((a) => a.trait_type === "Powertrain")?.value).to.equal(name);
      });
    }

    it("stays valid JSON with the awkward printable characters a make or model may hold", async function () {
      const { vehicles, alice } = await loadFixture(registryFixture);
      const make = "{}[]:,'<>&/%#";
      const model = " }, x: ~`^|$!*";
      await mintVehicle(vehicles, alice, vehicleInfo({ make, model, year: 1886 }));
      const metadata = decodeTokenUri(await vehicles.tokenURI(1n));
      expect(metadata.name).to.equal(`1886 ${make} ${model}`);
      expect(metadata.attributes[0].value).to.equal(make);
      expect(metadata.attributes[1].value).to.equal(model);
    });

    it("gives each vehicle its own id in the description", async function () {
      const { vehicles, alice, bob } = await loadFixture(registryFixture);
      await mintVehicle(vehicles, alice, vehicleInfo({}, VIN_ALICE));
      await mintVehicle(vehicles, bob, vehicleInfo({ make: "Honda", model: "Accord", year: 2003 }, VIN_BOB));
      const metadata = decodeTokenUri(await vehicles.tokenURI(2n));
      expect(metadata.name).to.equal("2003 Honda Accord");
      expect(metadata.description).to.equal("DIMO vehicle #2");
    });

    it("reverts with RegistryVehicleNotFound for an unknown id", async function () {
      const { vehicles } = await loadFixture(registryFixture);
      await expect(vehicles.tokenURI(1n))
        .to.be.revertedWithCustomError(vehicles, "RegistryVehicleNotFound")
        .withArgs(1n);
    });
  });
});
