import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployWallet, deviceKey, mintDevice, registryFixture } from "./fixtures";

describe("DeviceRegistry", function () {
  describe("constructor", function () {
    it("refuses the zero admin", async function () {
      const factory = await ethers.getContractFactory("DeviceRegistry");
      await expect(factory.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(factory, "DeviceZeroAddress");
    });

    it("gives the admin DEFAULT_ADMIN_ROLE, which administers MANUFACTURER_ROLE", async function () {
      const { devices, admin } = await loadFixture(registryFixture);
      const adminRole = await devices.DEFAULT_ADMIN_ROLE();
      expect(await devices.hasRole(adminRole, admin.address)).to.equal(true);
      expect(await devices.getRoleAdmin(await devices.MANUFACTURER_ROLE())).to.equal(adminRole);
    });

    it("names the token and starts with no device", async function () {
      const { devices } = await loadFixture(registryFixture);
      expect(await devices.name()).to.equal("DIMO Hardware Device");
      expect(await devices.symbol()).to.equal("DIMOHW");
      expect(await devices.totalDevices()).to.equal(0n);
      expect(await devices.MAX_TEXT_LENGTH()).to.equal(64n);
    });
  });

  describe("supportsInterface", function () {
    for (const [name, id] of [
      ["ERC-165", "0x01ffc9a7"],
      ["ERC-721", "0x80ac58cd"],
      ["AccessControl", "0x7965db0b"],
    ]) {
      it(`supports ${name}`, async function () {
        const { devices } = await loadFixture(registryFixture);
        expect(await devices.supportsInterface(id)).to.equal(true);
      });
    }

    it("does not support the invalid interface id 0xffffffff", async function () {
      const { devices } = await loadFixture(registryFixture);
      expect(await devices.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("grantRole(MANUFACTURER_ROLE)", function () {
    it("lets the admin approve a manufacturer", async function () {
      const { devices, admin, outsider } = await loadFixture(registryFixture);
      const role = await devices.MANUFACTURER_ROLE();
      await expect(devices.connect(admin).grantRole(role, outsider.address))
        .to.emit(devices, "RoleGranted")
        .withArgs(role, outsider.address, admin.address);
      expect(await devices.hasRole(role, outsider.address)).to.equal(true);
    });

    it("reverts with AccessControlUnauthorizedAccount when a manufacturer approves another", async function () {
      const { devices, manufacturer, outsider } = await loadFixture(registryFixture);
      await expect(devices.connect(manufacturer).grantRole(await devices.MANUFACTURER_ROLE(), outsider.address))
        .to.be.revertedWithCustomError(devices, "AccessControlUnauthorizedAccount")
        .withArgs(manufacturer.address, await devices.DEFAULT_ADMIN_ROLE());
    });
  });

  describe("mintDevice", function () {
    describe("when the caller is not a manufacturer", function () {
      it("reverts with AccessControlUnauthorizedAccount", async function () {
        const { devices, outsider } = await loadFixture(registryFixture);
        await expect(devices.connect(outsider).mintDevice(outsider.address, deviceKey(1).address, "SN-1", "rev-7"))
          .to.be.revertedWithCustomError(devices, "AccessControlUnauthorizedAccount")
          .withArgs(outsider.address, await devices.MANUFACTURER_ROLE());
      });

      it("reverts with AccessControlUnauthorizedAccount for the admin itself", async function () {
        const { devices, admin } = await loadFixture(registryFixture);
        await expect(devices.connect(admin).mintDevice(admin.address, deviceKey(1).address, "SN-1", "rev-7"))
          .to.be.revertedWithCustomError(devices, "AccessControlUnauthorizedAccount")
          .withArgs(admin.address, await devices.MANUFACTURER_ROLE());
      });

      it("reverts with AccessControlUnauthorizedAccount once the manufacturer's role is revoked", async function () {
        const { devices, admin, manufacturer } = await loadFixture(registryFixture);
        const role = await devices.MANUFACTURER_ROLE();
        await devices.connect(admin).revokeRole(role, manufacturer.address);
        await expect(
          devices.connect(manufacturer).mintDevice(manufacturer.address, deviceKey(1).address, "SN-1", "rev-7"),
        )
          .to.be.revertedWithCustomError(devices, "AccessControlUnauthorizedAccount")
          .withArgs(manufacturer.address, role);
      });
    });

    describe("when a manufacturer mints a valid device", function () {
      it("mints device 1 to the recipient", async function () {
        const { devices, manufacturer, alice } = await loadFixture(registryFixture);
        await devices.connect(manufacturer).mintDevice(alice.address, deviceKey(1).address, "SN-1", "rev-7");
        expect(await devices.ownerOf(1n)).to.equal(alice.address);
        expect(await devices.totalDevices()).to.equal(1n);
      });

      it("emits DeviceMinted with the device's data", async function () {
        const { devices, manufacturer, alice } = await loadFixture(registryFixture);
        const key = deviceKey(1).address;
        await expect(devices.connect(manufacturer).mintDevice(alice.address, key, "SN-1", "rev-7"))
          .to.emit(devices, "DeviceMinted")
          .withArgs(1n, manufacturer.address, key, alice.address, "SN-1", "rev-7");
      });

      it("stores the key, the manufacturer, the serial and the hardware revision", async function () {
        const { devices, manufacturer, alice } = await loadFixture(registryFixture);
        const key = deviceKey(1).address;
        await devices.connect(manufacturer).mintDevice(alice.address, key, "SN-1", "rev-7");
        const device = await devices.device(1n);
        expect(device.deviceKey).to.equal(key);
        expect(device.manufacturer).to.equal(manufacturer.address);
        expect(device.serial).to.equal("SN-1");
        expect(device.hardwareRevision).to.equal("rev-7");
      });

      it("binds the key to the device both ways", async function () {
        const { devices, manufacturer, alice } = await loadFixture(registryFixture);
        const key = deviceKey(1).address;
        await mintDevice(devices, manufacturer, alice.address, deviceKey(9).address);
        await mintDevice(devices, manufacturer, alice.address, key);
        expect(await devices.deviceKeyOf(2n)).to.equal(key);
        expect(await devices.deviceIdOfKey(key)).to.equal(2n);
      });

      it("mints to a contract that accepts ERC-721 tokens", async function () {
        const { devices, manufacturer, carol } = await loadFixture(registryFixture);
        const wallet = await deployWallet(carol);
        await mintDevice(devices, manufacturer, await wallet.getAddress(), deviceKey(1).address);
        expect(await devices.ownerOf(1n)).to.equal(await wallet.getAddress());
      });

      it("accepts a 64-byte serial and hardware revision", async function () {
        const { devices, manufacturer, alice } = await loadFixture(registryFixture);
        const text = "S".repeat(64);
        await devices.connect(manufacturer).mintDevice(alice.address, deviceKey(1).address, text, text);
        expect((await devices.device(1n)).serial).to.equal(text);
      });
    });

    describe("when the device key is the zero address", function () {
      it("reverts with DeviceZeroKey", async function () {
        const { devices, manufacturer, alice } = await loadFixture(registryFixture);
        await expect(
          devices.connect(manufacturer).mintDevice(alice.address, ethers.ZeroAddress, "SN-1", "rev-7"),
        ).to.be.revertedWithCustomError(devices, "DeviceZeroKey");
      });
    });

    describe("when the device key is already bound", function () {
      it("reverts with DeviceKeyAlreadyBound and the device holding it", async function () {
        const { devices, manufacturer, alice } = await loadFixture(registryFixture);
        const key = deviceKey(1).address;
        await mintDevice(devices, manufacturer, alice.address, key);
        await expect(devices.connect(manufacturer).mintDevice(alice.address, key, "SN-2", "rev-7"))
          .to.be.revertedWithCustomError(devices, "DeviceKeyAlreadyBound")
          .withArgs(key, 1n);
      });
    });

    describe("when a text field is invalid", function () {
      const invalid: [string, string][] = [
        ["is empty", ""],
        ["has 65 bytes", "S".repeat(65)],
        ["holds a double quote", 'SN"1'],
        ["holds a backslash", "SN\\1"],
        ["holds a tab (0x09)", "SN\t1"],
        ["holds a non-ASCII character", "SN-№1"],
      ];
      for (const field of ["serial", "hardwareRevision"] as const) {
        for (const [what, text] of invalid) {
          it(`reverts with DeviceInvalidText("${field}") when the ${field} ${what}`, async function () {
            const { devices, manufacturer, alice } = await loadFixture(registryFixture);
            const serial = field === "serial" ? text : "SN-1";
            const revision = field === "hardwareRevision" ? text : "rev-7";
            await expect(
              devices.connect(manufacturer).mintDevice(alice.address, deviceKey(1).address, serial, revision),
            )
              .to.be.revertedWithCustomError(devices, "DeviceInvalidText")
              .withArgs(field);
          });
        }
      }
    });

    describe("when the recipient cannot hold ERC-721 tokens", function () {
      it("reverts with ERC721InvalidReceiver for the zero address", async function () {
        const { devices, manufacturer } = await loadFixture(registryFixture);
        await expect(
          devices.connect(manufacturer).mintDevice(ethers.ZeroAddress, deviceKey(1).address, "SN-1", "rev-7"),
        )
          .to.be.revertedWithCustomError(devices, "ERC721InvalidReceiver")
          .withArgs(ethers.ZeroAddress);
      });

      it("reverts with ERC721InvalidReceiver for a contract without onERC721Received", async function () {
        const { devices, manufacturer, capacity } = await loadFixture(registryFixture);
        const target = await capacity.getAddress();
        await expect(devices.connect(manufacturer).mintDevice(target, deviceKey(1).address, "SN-1", "rev-7"))
          .to.be.revertedWithCustomError(devices, "ERC721InvalidReceiver")
          .withArgs(target);
      });
    });
  });

  describe("device", function () {
    it("reverts with DeviceNotFound for an unknown id", async function () {
      const { devices, manufacturer, alice } = await loadFixture(registryFixture);
      await mintDevice(devices, manufacturer, alice.address, deviceKey(1).address);
      await expect(devices.device(2n)).to.be.revertedWithCustomError(devices, "DeviceNotFound").withArgs(2n);
    });

    it("reverts with DeviceNotFound for id 0", async function () {
      const { devices } = await loadFixture(registryFixture);
      await expect(devices.device(0n)).to.be.revertedWithCustomError(devices, "DeviceNotFound").withArgs(0n);
    });
  });

  describe("deviceKeyOf and deviceIdOfKey", function () {
    it("return zero for an unknown device and an unbound key", async function () {
      const { devices } = await loadFixture(registryFixture);
      expect(await devices.deviceKeyOf(1n)).to.equal(ethers.ZeroAddress);
      expect(await devices.deviceIdOfKey(deviceKey(1).address)).to.equal(0n);
    });
  });

  describe("transferFrom", function () {
    it("moves the device NFT but keeps its key bound", async function () {
      const { devices, manufacturer, alice, bob } = await loadFixture(registryFixture);
      const key = deviceKey(1).address;
      await mintDevice(devices, manufacturer, alice.address, key);
      await devices.connect(alice).transferFrom(alice.address, bob.address, 1n);
      expect(await devices.ownerOf(1n)).to.equal(bob.address);
      expect(await devices.deviceKeyOf(1n)).to.equal(key);
      expect(await devices.deviceIdOfKey(key)).to.equal(1n);
    });
  });
});
