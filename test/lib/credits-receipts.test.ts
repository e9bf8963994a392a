import { expect } from "chai";
import { Wallet, TypedDataEncoder, id } from "ethers";
import {
  RECEIPT_TYPES,
  canServe,
  checkReceipt,
  creditsDomain,
  receiptDigest,
  signReceipt,
  verifyReceipt,
} from "../../lib/credits/receipts";

/** docs/data-credits.md's test vector. */
const KEY = "0x" + "11".repeat(32);
const DOMAIN = creditsDomain(1n, "0x00000000000000000000000000000000000000c1");
const RECEIPT = {
  consumer: "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A",
  node: "0x0000000000000000000000000000000000000de1",
  cumulativeCredits: 12345n,
  sequence: 7n,
  maxPricePerCredit: 10n ** 15n,
};

describe("lib/credits/receipts", function () {
  it("matches the documented vector (type hash, domain separator, struct hash, digest, signature)", async function () {
    expect(TypedDataEncoder.from(RECEIPT_TYPES).encodeType("Receipt")).to.equal(
      "Receipt(address consumer,address node,uint256 cumulativeCredits,uint256 sequence,uint256 maxPricePerCredit)",
    );
    expect(id(TypedDataEncoder.from(RECEIPT_TYPES).encodeType("Receipt"))).to.match(/^0x[0-9a-f]{64}$/);
    expect(TypedDataEncoder.hashDomain(DOMAIN)).to.equal(
      "0x1c36219c158bbe9b809adce69bd3fb819eacb8d2b1336f7a1d8dade76ffc17f4",
    );
    expect(TypedDataEncoder.from(RECEIPT_TYPES).hash(RECEIPT)).to.equal(
      "0x60f76dddf4b2911c3ebb0693fd092dc33f35809a15c11e24f62b21ea9bc6d1ba",
    );
    expect(receiptDigest(DOMAIN, RECEIPT)).to.equal(
      "0x92569b7ac230bcc47dc39528ed4c35cd212027965077c08bd68cfc4bc8cfd654",
    );
    const sig = await signReceipt(new Wallet(KEY), DOMAIN, RECEIPT);
    expect(sig).to.equal(
      "0xbb95e392b54c3d6c80af456a1217a808c34325899cc18c3a70434a3557d4b65e03af2669f533a5e61070923df4367946434821f6692474f059b54c4b03ef528c1c",
    );
    expect(verifyReceipt(DOMAIN, RECEIPT, sig)).to.equal(true);
    expect(verifyReceipt(DOMAIN, { ...RECEIPT, cumulativeCredits: 12346n }, sig)).to.equal(false);
  });

  it("bad fields are refused by name", function () {
    expect(() => checkReceipt({ ...RECEIPT, node: "nope" })).to.throw("receipt.node: not an address (nope)");
    expect(() => checkReceipt({ ...RECEIPT, sequence: 0n })).to.throw("receipt.sequence: must be at least 1");
    expect(() => checkReceipt({ ...RECEIPT, cumulativeCredits: -1n })).to.throw(
      "receipt.cumulativeCredits: not a uint256",
    );
  });

  it("canServe: serves exactly up to the available balance", function () {
    const base = { available: 100n, pricePerCredit: 10n, redeemedCredits: 2n, signedCredits: 5n };
    expect(canServe({ ...base, credits: 7n })).to.equal(true); // (5 − 2 + 7) · 10 = 100
    expect(canServe({ ...base, credits: 8n })).to.equal(false);
  });
});
