import { expect } from "chai";
import { scrypt as scryptWasm } from "hash-wasm";
import { concat, keccak256, toUtf8Bytes } from "ethers";
import { InputError } from "../../lib/errors";
import { hasValidCheckDigit, normalizeVin, VIN_COMMITMENT_TAG, vinCommitment, vinCommitmentAsync } from "../../lib/vin";

function errorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

/** Fixed vectors: a change here breaks duplicate detection against every commitment already on chain. */
const VECTORS: [string, string][] = [
  ["1HGCM82633A004352", "0xb8abd485c546b0920ae75461e73f663be6fc6fa352feb8d7232388b0e30fb3b0"],
  ["1M8GDM9AXKP042788", "0xbb173a0c7e9be9f2f39091f5cb6198a107ac739bb58a28979f46e65b27c0425e"],
  ["11111111111111111", "0x5c95defc56cec43596206195876f8697f90100af4df5a27f63f1203df4a616ee"],
  ["WVWZZZ1JZXW000001", "0x5d26ce8f4c09f7ab770d085de5f113733b4786d91ed49d3874c2e1cd8c9cad0e"],
];

describe("lib/vin", function () {
  describe("normalizeVin", function () {
    it("trims and upper-cases", function () {
      expect(normalizeVin("  1hgcm82633a004352\n")).to.equal("1HGCM82633A004352");
    });

    it("rejects a VIN that is not 17 characters, naming source and field", function () {
      const e = errorOf(() => normalizeVin("1HGCM82633A00435", { source: "vehicle:register", field: "--vin" }));
      expect(e.message).to.equal("vehicle:register --vin: a VIN has 17 characters, got 16");
      expect(errorOf(() => normalizeVin("   ")).message).to.match(/got 0 \(empty\)/);
      expect(errorOf(() => normalizeVin("1HGCM82633A0043521")).message).to.match(/got 18/);
    });

    it("rejects I, O and Q with a hint, and anything outside 0-9 A-Z", function () {
      expect(errorOf(() => normalizeVin("1HGCM82633A0O4352")).message).to.match(
        /character "O" at position 13 is not allowed \(VINs never use I, O or Q\)/,
      );
      expect(errorOf(() => normalizeVin("1hgcm82633a00435i")).message).to.match(/"I" at position 17/);
      expect(errorOf(() => normalizeVin("1HGCM8263-A004352")).message).to.match(/"-" at position 10 is not allowed;/);
      expect(errorOf(() => normalizeVin("1HGCM82633A00435Ä")).message).to.match(/"Ä" at position 17/);
    });

    it("carries the file line when given one", function () {
      const e = errorOf(() => normalizeVin("short", { source: "vins.csv", field: "vin", line: 7 }));
      expect(e.message).to.match(/^vins\.csv:7 vin: /);
      expect(e.line).to.equal(7);
    });
  });

  describe("hasValidCheckDigit", function () {
    it("accepts VINs whose position 9 is the ISO 3779 check digit, including X for 10", function () {
      for (const vin of ["1HGCM82633A004352", "1M8GDM9AXKP042788", "11111111111111111", "JH4KA7561PC008269"]) {
        expect(hasValidCheckDigit(vin), vin).to.equal(true);
      }
      expect(hasValidCheckDigit(" 1m8gdm9axkp042788 ")).to.equal(true);
    });

    it("is false for a wrong check digit and for malformed input, and never throws", function () {
      expect(hasValidCheckDigit("1HGCM82643A004352")).to.equal(false);
      expect(hasValidCheckDigit("1M8GDM9A1KP042788")).to.equal(false);
      expect(hasValidCheckDigit("WVWZZZ1JZXW000001")).to.equal(false); // European VIN: no check digit
      expect(hasValidCheckDigit("")).to.equal(false);
      expect(hasValidCheckDigit("1HGCM82633A00435O")).to.equal(false);
    });

    it("does not stop a VIN without a check digit from being normalized and committed", function () {
      expect(normalizeVin("WVWZZZ1JZXW000001")).to.equal("WVWZZZ1JZXW000001");
    });
  });

  describe("vinCommitment", function () {
    it("matches the fixed test vectors", function () {
      for (const [vin, commitment] of VECTORS) expect(vinCommitment(vin), vin).to.equal(commitment);
    });

    it("is keccak256(abi.encodePacked(tag, scrypt(vin))) — checked with an independent scrypt (hash-wasm)", async function () {
      const vin = VECTORS[0][0];
      const derived = await scryptWasm({
        password: vin,
        salt: VIN_COMMITMENT_TAG,
        costFactor: 2 ** 15,
        blockSize: 8,
        parallelism: 1,
        hashLength: 32,
        outputType: "binary",
      });
      expect(keccak256(concat([toUtf8Bytes("DIMO-VIN-v1"), derived]))).to.equal(VECTORS[0][1]);
    });

    it("is the same for every spelling of one VIN, so duplicates collide", function () {
      expect(vinCommitment(" 1hgcm82633a004352 ")).to.equal(VECTORS[0][1]);
    });

    it("differs for VINs that differ in one character", function () {
      expect(vinCommitment("1HGCM82633A004353")).to.not.equal(VECTORS[0][1]);
    });

    it("has an async form with the same result", async function () {
      expect(await vinCommitmentAsync(VECTORS[1][0].toLowerCase())).to.equal(VECTORS[1][1]);
    });

    it("validates before hashing", async function () {
      expect(errorOf(() => vinCommitment("nope")).message).to.match(/a VIN has 17 characters/);
      let rejected: unknown;
      await vinCommitmentAsync("nope").catch((e: unknown) => (rejected = e));
      expect(rejected).to.be.instanceOf(InputError);
    });
  });
});
