import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { deploySuite } from "../../scripts/deploy-suite";
import { DEPLOYMENTS_DIR_ENV } from "../../scripts/registry-context";
import { connect } from "../registry/fixtures";
import { asTimelock } from "../rewards/fixtures";
import { runQuietly as run } from "../helpers/tasks";

const DAY = 86_400;
const MIN_GRANT_AGE = 7 * DAY;

/**
 * staking:compensation applies lib/rewards/compensation.ts to the chain as of the freeze: the integration's role and
 * the grant's age are read at that time, to the second.
 */
describe("staking:compensation, the rule at its boundaries", function () {
  this.timeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-compensation-rule-"));
  const saved = process.env[DEPLOYMENTS_DIR_ENV];
  let snapshotId: string;

  before(async function () {
    snapshotId = await ethers.provider.send("evm_snapshot", []);
    process.env[DEPLOYMENTS_DIR_ENV] = dir;
  });

  after(async function () {
    await ethers.provider.send("evm_revert", [snapshotId]);
    if (saved === undefined) delete process.env[DEPLOYMENTS_DIR_ENV];
    else process.env[DEPLOYMENTS_DIR_ENV] = saved;
  });

  it("pays a grant exactly minGrantAge old, not one a second younger, nor a vehicle whose integration lost its role", async function () {
    const { record } = await deploySuite(hre, {
      recordPath: path.join(dir, "hardhat.json"),
      reset: true,
      log: () => undefined,
    });
    const signers = await ethers.getSigners();
    const [guardian, memberA, software, oem, consumer] = [signers[1], signers[2], signers[5], signers[6], signers[8]];
    const drivers = [signers[10], signers[11], signers[12]];
    const token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
    const staking = await ethers.getContractAt("ConsumerStaking", record.contracts.ConsumerStaking.address);
    const vehicles = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
    const access = await ethers.getContractAt("DataAccess", record.contracts.DataAccess.address);
    const timelock = record.contracts.DimoTimelock.address;

    // Vehicles 1 and 3 connected through the software integration, vehicle 2 through the OEM integration.
    for (const [i, d] of drivers.entries()) {
      await vehicles.connect(d).mintVehicle({
        make: "Make",
        model: `M${i}`,
        year: 2024,
        powertrain: 3,
        vinCommitment: ethers.id(`rule-${i}`),
      });
    }
    await connect(vehicles, 1n, software, drivers[0]);
    await connect(vehicles, 2n, oem, drivers[1]);
    await connect(vehicles, 3n, software, drivers[2]);
    await token.connect(memberA).transfer(consumer.address, ethers.parseEther("20000"));
    await token.connect(consumer).approve(await staking.getAddress(), ethers.parseEther("20000"));
    await staking.connect(consumer).stake(ethers.parseEther("20000"));
    for (const d of drivers) await access.connect(consumer).setOwnerAcceptance(d.address, true);
    const expiresAt = BigInt((await time.latest()) + 90 * DAY);
    await access.connect(drivers[1]).grant(2n, consumer.address, 1n, expiresAt);
    await access.connect(drivers[0]).grant(1n, consumer.address, 1n, expiresAt);
    const first = (await access.grantOf(1n, consumer.address)).grantedAt;
    await time.setNextBlockTimestamp(first + 1n);
    await access.connect(drivers[2]).grant(3n, consumer.address, 1n, expiresAt);
    // The DAO removes the OEM integration's role a day before the freeze.
    await time.setNextBlockTimestamp(first + BigInt(MIN_GRANT_AGE - DAY));
    await asTimelock(timelock, async (tl) =>
      vehicles.connect(tl).revokeRole(await vehicles.OEM_INTEGRATION_ROLE(), oem.address),
    );
    // The freeze comes exactly minGrantAge after vehicle 1's grant, one second short of vehicle 3's.
    await time.setNextBlockTimestamp(first + BigInt(MIN_GRANT_AGE));
    await staking.connect(guardian).freeze(consumer.address);
    expect(await staking.frozenAt(consumer.address)).to.equal(first + BigInt(MIN_GRANT_AGE));
    await asTimelock(timelock, (tl) =>
      staking
        .connect(tl)
        .slash(
          consumer.address,
          ethers.parseEther("3000"),
          ethers.parseEther("3000"),
          0,
          0,
          ethers.ZeroHash,
          "ipfs://x",
        ),
    );

    const out = path.join(dir, "credits.csv");
    const result = await run<{ vehicles: { vehicleId: bigint }[]; excluded: { vehicleId: bigint; reason: string }[] }>(
      "staking:compensation",
      { slash: "1", out },
    );
    expect(result.vehicles.map((v) => v.vehicleId)).to.deep.equal([1n]);
    expect(result.excluded).to.deep.equal([
      { vehicleId: 2n, reason: "not-readable" },
      { vehicleId: 3n, reason: "granted-too-late" },
    ]);
    expect(fs.readFileSync(out, "utf8")).to.equal(
      `account,amount_wei,reason\n${drivers[0].address},${ethers.parseEther("3000")},slash:1\n`,
    );
  });
});
