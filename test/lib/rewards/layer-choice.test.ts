import { expect } from "chai";
import { InputError } from "../../../lib/errors";
import {
  chooseLayer,
  claimProof,
  claimsPerWeek,
  layerGasModel,
  parseLayerMode,
} from "../../../lib/rewards/layer-choice";

const SNAPSHOT = {
  "rewards.publish.layer": 9_216_832,
  "rewards.publish.noLayer": 61_676,
  "claim.repeat.depth20": 62_180,
  "claim.repeat.depth20.fullProof": 65_350,
};

describe("layer choice (rewards:publish --layer)", function () {
  const model = layerGasModel(SNAPSHOT, "gas-snapshot.json");
  const full = { nodes: 1024, levelsSkipped: 10 };

  it("derives the break-even from the measured figures: a 1,024-node layer 10 levels up pays above 2,888 claims", function () {
    const c = chooseLayer("auto", model, full, 0);
    expect(c.publishExtraGas).to.equal(9_216_832 - 61_676);
    expect(c.savingPerClaimGas).to.equal(65_350 - 62_180);
    expect(c.breakEvenClaims).to.equal(Math.ceil((9_216_832 - 61_676) / (65_350 - 62_180)));
    expect(c.breakEvenClaims).to.equal(2_889);
  });

  it("auto posts the layer only above the break-even (both sides pinned)", function () {
    const b = chooseLayer("auto", model, full, 0).breakEvenClaims;
    expect(chooseLayer("auto", model, full, b).useLayer).to.equal(false);
    expect(chooseLayer("auto", model, full, b + 1).useLayer).to.equal(true);
  });

  it("always and never force the answer; an empty layer is never posted", function () {
    expect(chooseLayer("always", model, full, 0).useLayer).to.equal(true);
    expect(chooseLayer("never", model, full, 1e9).useLayer).to.equal(false);
    expect(chooseLayer("always", model, { nodes: 0, levelsSkipped: 0 }, 1e9).useLayer).to.equal(false);
    expect(chooseLayer("auto", model, { nodes: 1, levelsSkipped: 0 }, 1e9).breakEvenClaims).to.equal(Infinity);
  });

  it("averages the claims of the last four weeks' activations", function () {
    expect(claimsPerWeek([], [1, 2, 3])).to.equal(0);
    // Activations at blocks 10, 20, 30, 40, 50: the last four start at 20; claims at 15 do not count.
    expect(claimsPerWeek([50, 10, 30, 20, 40], [15, 20, 25, 35, 45, 55, 56, 57])).to.equal(2);
  });

  it("uses the short proof only when the layer is on chain", function () {
    const p = { anchor: 3, shortProof: ["0x01"], proof: ["0x01", "0x02"] };
    expect(claimProof(p, true)).to.deep.equal({ anchor: 3, proof: ["0x01"] });
    expect(claimProof(p, false)).to.deep.equal({ anchor: 0, proof: ["0x01", "0x02"] });
  });

  it("names the argument or the snapshot entry that is wrong", function () {
    expect(parseLayerMode("auto")).to.equal("auto");
    expect(() => parseLayerMode("sometimes")).to.throw(
      InputError,
      /--layer.*"sometimes" is not one of always, never, auto/,
    );
    expect(() => layerGasModel({ ...SNAPSHOT, "rewards.publish.noLayer": undefined }, "gas-snapshot.json")).to.throw(
      InputError,
      /gas-snapshot\.json rewards\.publish\.noLayer/,
    );
  });
});
