import { expect } from "chai";
import path from "node:path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { DIMO, creditsFixture, deposit, receipt, signed } from "./fixtures";
import { runQuietly } from "../helpers/tasks";
import { rejects } from "../helpers/rejects";

describe("data:credits task", function () {
  it("prints balance, redeemed, pending withdrawal and remaining", async function () {
    const f = await loadFixture(creditsFixture);
    await deposit(f, f.consumerA, DIMO(10));
    const { r, sig } = await signed(f, f.consumerA, receipt(f.consumerA, f.node1, 2_000n, 1n));
    await f.credits.connect(f.node1).redeem(r, sig);
    await f.credits.connect(f.consumerA).requestWithdrawal(DIMO(3));
    process.env.DIMO_DEPLOYMENTS_DIR = path.dirname(f.recordPath);
    try {
      const lines = (await runQuietly("data:credits", { consumer: f.consumerA.address })) as string[];
      expect(lines[1]).to.contain("balance            8.0 DIMO (deposited 10.0, redeemed 2.0, withdrawn 0.0)");
      expect(lines[2]).to.contain("pending withdrawal 3.0 DIMO (from ");
      expect(lines[3]).to.equal("  remaining          5.0 DIMO = 5000 credits at 0.001 DIMO each");
    } finally {
      delete process.env.DIMO_DEPLOYMENTS_DIR;
    }
  });

  it("a bad --consumer is refused by name", async function () {
    await rejects(hre.run("data:credits", { consumer: "0x12" }), /^data:credits --consumer: not an address \(0x12\)$/);
  });
});
