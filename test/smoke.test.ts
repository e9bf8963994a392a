import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { foundationFixture, POOL } from "./helpers/fixtures";

describe("foundation fixture", function () {
  it("funds the vault with the pool", async function () {
    const { token, vault } = await loadFixture(foundationFixture);
    expect(await token.balanceOf(await vault.getAddress())).to.equal(POOL);
    expect(await vault.scheduleTotal()).to.equal(POOL);
  });
});
