import { expect } from "chai";
import { ethers } from "hardhat";
import { Wallet, ZeroAddress } from "ethers";
import {
  creditsDomain,
  decodeReceiptHeader,
  encodeReceiptHeader,
  isReceiptSigned,
  planRedemption,
  receiptDigest,
  ReceiptHeaderError,
  signReceipt,
  type HeldReceipt,
} from "../../lib/credits/receipts";
import {
  accountOf,
  applyCreditsEvent,
  availableOf,
  channelOf,
  CREDITS_EVENTS,
  decodeCreditsLog,
  emptyCreditsState,
} from "../../lib/credits/credits-state";

/** docs/data-credits.md's test vector, and its X-Dimo-Receipt header (docs/data-api.md). */
const SIGNATURE =
  "0xbb95e392b54c3d6c80af456a1217a808c34325899cc18c3a70434a3557d4b65e03af2669f533a5e61070923df4367946434821f6692474f059b54c4b03ef528c1c";
const HEADER =
  "eyJzZXF1ZW5jZSI6IjciLCJjdW11bGF0aXZlQ3JlZGl0cyI6IjEyMzQ1IiwibWF4UHJpY2VQZXJDcmVkaXQiOiIxMDAwMDAwMDAwMDAwMDAwIiwic2lnbmF0dXJlIjoiMHhiYjk1ZTM5MmI1NGMzZDZjODBhZjQ1NmExMjE3YTgwOGMzNDMyNTg5OWNjMThjM2E3MDQzNGEzNTU3ZDRiNjVlMDNhZjI2NjlmNTMzYTVlNjEwNzA5MjNkZjQzNjc5NDY0MzQ4MjFmNjY5MjQ3NGYwNTliNTRjNGIwM2VmNTI4YzFjIn0";
const NUMBERS = { sequence: 7n, cumulativeCredits: 12345n, maxPricePerCredit: 10n ** 15n };
const b64 = (json: string) => Buffer.from(json).toString("base64url");

describe("lib/credits: the X-Dimo-Receipt header", function () {
  it("encodes the documented vector to the documented header and back", function () {
    expect(encodeReceiptHeader({ ...NUMBERS, signature: SIGNATURE })).to.equal(HEADER);
    expect(decodeReceiptHeader(HEADER)).to.deep.equal({ ...NUMBERS, signature: SIGNATURE });
  });

  it("refuses a bad header naming the field at fault", function () {
    const field = (value: string) => {
      try {
        decodeReceiptHeader(value);
      } catch (e) {
        expect(e).to.be.instanceOf(ReceiptHeaderError);
        return (e as ReceiptHeaderError).field;
      }
      expect.fail("accepted");
    };
    const ok = { sequence: "1", cumulativeCredits: "2", maxPricePerCredit: "3", signature: "0x12" };
    expect(field("a+b")).to.equal("receipt");
    expect(field(b64("[1]"))).to.equal("receipt");
    expect(field("A".repeat(4_097))).to.equal("receipt");
    expect(field(b64(JSON.stringify({ ...ok, sequence: 1 })))).to.equal("receipt.sequence");
    expect(field(b64(JSON.stringify({ ...ok, cumulativeCredits: "-1" })))).to.equal("receipt.cumulativeCredits");
    expect(field(b64(JSON.stringify({ ...ok, maxPricePerCredit: "01" })))).to.equal("receipt.maxPricePerCredit");
    expect(field(b64(JSON.stringify({ ...ok, sequence: (1n << 256n).toString() })))).to.equal("receipt.sequence");
    expect(field(b64(JSON.stringify({ ...ok, signature: "12" })))).to.equal("receipt.signature");
    expect(field(b64(JSON.stringify({ ...ok, node: ZeroAddress })))).to.equal("receipt.node");
  });
});

describe("lib/credits: isReceiptSigned", function () {
  it("accepts the consumer's ECDSA signature and an ERC-1271 wallet's, refuses any other", async function () {
    const [, , , , , , , , , , , , , , , owner, other] = await ethers.getSigners();
    const wallet = await (await ethers.getContractFactory("ERC1271WalletDouble")).deploy(owner.address);
    const { chainId } = await ethers.provider.getNetwork();
    const domain = creditsDomain(chainId, "0x00000000000000000000000000000000000000c1");
    const node = "0x0000000000000000000000000000000000000de1";
    const eoa = { consumer: owner.address, node, ...NUMBERS };
    expect(await isReceiptSigned(domain, eoa, await signReceipt(owner, domain, eoa))).to.equal(true);
    expect(await isReceiptSigned(domain, eoa, await signReceipt(other, domain, eoa), ethers.provider)).to.equal(false);
    const contract = { ...eoa, consumer: await wallet.getAddress() };
    // The wallet double accepts its owner's raw ECDSA signature of the digest (a key held here, to sign raw).
    const key = new Wallet("0x" + "22".repeat(32));
    const ownerWallet = await (await ethers.getContractFactory("ERC1271WalletDouble")).deploy(key.address);
    const viaKey = { ...eoa, consumer: await ownerWallet.getAddress() };
    const sig = key.signingKey.sign(receiptDigest(domain, viaKey)).serialized;
    expect(await isReceiptSigned(domain, viaKey, sig, ethers.provider)).to.equal(true);
    expect(await isReceiptSigned(domain, viaKey, sig)).to.equal(false); // no provider: ECDSA only
    expect(await isReceiptSigned(domain, { ...viaKey, cumulativeCredits: 1n }, sig, ethers.provider)).to.equal(false);
    const stranger = new Wallet("0x" + "33".repeat(32)).signingKey.sign(receiptDigest(domain, contract)).serialized;
    expect(await isReceiptSigned(domain, contract, stranger, ethers.provider)).to.equal(false);
  });
});

describe("lib/credits: planRedemption", function () {
  const A = "0x00000000000000000000000000000000000000A1";
  const B = "0x00000000000000000000000000000000000000b2";
  const N = "0x0000000000000000000000000000000000000de1";
  const held = (consumer: string, sequence: bigint, credits: bigint, max = 10n): HeldReceipt => ({
    receipt: { consumer, node: N, sequence, cumulativeCredits: credits, maxPricePerCredit: max },
    signature: "0x",
  });

  it("charges the credits above the channel's at the price, and skips what the contract would refuse", function () {
    const channels: Record<string, { credits: bigint; sequence: bigint }> = {
      [A]: { credits: 5n, sequence: 2n },
      [B]: { credits: 0n, sequence: 0n },
    };
    const plan = planRedemption([held(A, 4n, 9n), held(B, 1n, 3n, 9n)], {
      pricePerCredit: 10n,
      channel: (c) => channels[c],
      balance: () => 1_000n,
    });
    expect(plan.redeem.map((x) => [x.receipt.consumer, x.credits, x.charge])).to.deep.equal([[A, 4n, 40n]]);
    expect(plan.skipped.map((x) => x.reason)).to.deep.equal(["price-above-signed"]);
    const again = planRedemption([held(A, 2n, 5n), held(A, 3n, 5n)], {
      pricePerCredit: 10n,
      channel: () => channels[A],
      balance: () => 1_000n,
    });
    expect(again.skipped.map((x) => x.reason)).to.deep.equal(["already-redeemed", "no-new-credits"]);
    const poor = planRedemption([held(A, 4n, 9n)], {
      pricePerCredit: 10n,
      channel: () => channels[A],
      balance: () => 39n,
    });
    expect(poor.skipped.map((x) => x.reason)).to.deep.equal(["balance-too-low"]);
    const exact = planRedemption([held(A, 4n, 9n)], {
      pricePerCredit: 10n,
      channel: () => channels[A],
      balance: () => 40n,
    });
    expect(exact.redeem).to.have.length(1);
  });
});

describe("lib/credits/credits-state", function () {
  const A = "0x00000000000000000000000000000000000000A1";
  const N = "0x0000000000000000000000000000000000000de1";
  const log = (name: string, args: unknown[]) => CREDITS_EVENTS.encodeEventLog(name, args);

  it("follows deposits, a withdrawal request, a redeem and a withdrawal as the contract does", function () {
    const s = emptyCreditsState();
    for (const [name, args] of [
      ["PriceSet", [10n]],
      ["Deposited", [A, A, 1_000n, 1_000n]],
      ["Deposited", [A, N, 500n, 1_500n]],
      ["WithdrawalRequested", [A, 1_400n, 99n]],
      ["ReceiptRedeemed", [A, N, 3n, 4n, 30n, 30n, 10n, 300n]],
      ["Withdrawn", [A, 1_200n, 1_400n]],
    ] as const) {
      const e = decodeCreditsLog(log(name, [...args]));
      expect(e, name).to.not.equal(undefined);
      applyCreditsEvent(s, e!);
      if (name === "WithdrawalRequested") expect(availableOf(accountOf(s, A))).to.equal(100n);
      if (name === "ReceiptRedeemed") expect(availableOf(accountOf(s, A))).to.equal(0n); // 1,200 < 1,400 pending
    }
    expect(s.pricePerCredit).to.equal(10n);
    expect(accountOf(s, A)).to.deep.equal({
      balance: 0n,
      pendingWithdrawal: 0n,
      releaseAt: 0n,
      deposited: 1_500n,
      redeemed: 300n,
      withdrawn: 1_200n,
    });
    expect(channelOf(s, A, N)).to.deep.equal({ credits: 30n, sequence: 4n });
  });
});
