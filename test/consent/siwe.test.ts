import { expect } from "chai";
import { ethers } from "hardhat";
import { Wallet } from "ethers";
import { ConsentError, type ConsentCode } from "../../lib/consent/errors";
import {
  buildSignInMessage,
  issueNonce,
  issueToken,
  MAX_SIGNATURE_BYTES,
  MemoryNonceStore,
  parseTokenKey,
  SIWE_DEFAULTS,
  verifySignIn,
  verifyToken,
  type SiweSettings,
} from "../../lib/consent/siwe";

const NOW = 1_800_000_000; // 2027-01-15T08:00:00Z
const SETTINGS: SiweSettings = {
  ...SIWE_DEFAULTS,
  domain: "data.dimo.test",
  uri: "https://data.dimo.test",
  chainId: 31337,
};
const KEY = parseTokenKey(`0x${"11".repeat(32)}`, "test", "key");
// A fixed key so a failure can be replayed; any key works.
const consumer = new Wallet("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba");

async function rejectsWith(p: Promise<unknown>, code: ConsentCode): Promise<ConsentError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(ConsentError);
    expect((e as ConsentError).code).to.equal(code);
    return e as ConsentError;
  }
  expect.fail(`expected ${code}, nothing was thrown`);
}

describe("lib/consent/siwe", function () {
  let nonces: MemoryNonceStore;
  beforeEach(function () {
    nonces = new MemoryNonceStore(4);
  });

  async function signed(over: Partial<Parameters<typeof buildSignInMessage>[0]> = {}, signer: Wallet = consumer) {
    const { nonce } = await issueNonce(nonces, SETTINGS, NOW);
    const message = buildSignInMessage({
      domain: SETTINGS.domain,
      uri: `${SETTINGS.uri}/v1/auth/siwe`,
      chainId: SETTINGS.chainId,
      address: signer.address,
      nonce,
      issuedAt: NOW,
      expiresAt: NOW + 300,
      ...over,
    });
    return { message, signature: await signer.signMessage(message), nonce };
  }
  const verify = (m: { message: string; signature: string }, now = NOW + 10) =>
    verifySignIn(m.message, m.signature, { settings: SETTINGS, nonces, now });

  describe("verifySignIn", function () {
    it("accepts an EOA's sign-in and returns its checksummed address, chain and expiry", async function () {
      const m = await signed();
      expect(await verify(m)).to.deep.equal({
        address: consumer.address,
        chainId: 31337,
        nonce: m.nonce,
        expiresAt: NOW + 300,
      });
    });

    it("refuses a replayed sign-in (the same message and signature twice)", async function () {
      const m = await signed();
      await verify(m);
      const e = await rejectsWith(verify(m, NOW + 11), "SIWE_REPLAYED");
      expect(e.details).to.deep.equal({ nonce: m.nonce });
      expect(e.status).to.equal(401);
    });

    it("refuses a message for another domain", async function () {
      const e = await rejectsWith(verify(await signed({ domain: "evil.test" })), "SIWE_WRONG_DOMAIN");
      expect(e.details).to.deep.equal({ given: "evil.test", expected: "data.dimo.test" });
    });

    it("refuses a message whose URI is on another origin", async function () {
      const e = await rejectsWith(verify(await signed({ uri: "https://evil.test/v1/auth/siwe" })), "SIWE_WRONG_URI");
      expect(e.details).to.deep.equal({ given: "https://evil.test/v1/auth/siwe", expected: "https://data.dimo.test" });
    });

    it("refuses a message for another chain", async function () {
      const e = await rejectsWith(verify(await signed({ chainId: 1 })), "SIWE_WRONG_CHAIN");
      expect(e.details).to.deep.equal({ given: 1, expected: 31337 });
    });

    it("accepts until one second before the expiry and refuses exactly at it", async function () {
      const a = await signed({ expiresAt: NOW + 100 });
      expect((await verify(a, NOW + 99)).expiresAt).to.equal(NOW + 100);
      const b = await signed({ expiresAt: NOW + 100 });
      const e = await rejectsWith(verify(b, NOW + 100), "SIWE_EXPIRED");
      expect(e.details).to.deep.equal({ expiresAt: NOW + 100, now: NOW + 100 });
    });

    it("accepts a lifetime of exactly the maximum and refuses one second more", async function () {
      const max = SETTINGS.maxMessageLifetimeSeconds;
      await verify(await signed({ expiresAt: NOW + max }));
      const e = await rejectsWith(verify(await signed({ expiresAt: NOW + max + 1 })), "SIWE_BAD_EXPIRY");
      expect(e.details).to.deep.equal({ lifetime: max + 1, max });
    });

    it("refuses a message without an expiry", async function () {
      const { nonce } = await issueNonce(nonces, SETTINGS, NOW);
      const full = buildSignInMessage({
        domain: SETTINGS.domain,
        uri: SETTINGS.uri,
        chainId: 31337,
        address: consumer.address,
        nonce,
        issuedAt: NOW,
        expiresAt: NOW + 300,
      });
      const message = full.replace(/\nExpiration Time: .*/, "");
      expect(message).not.to.include("Expiration Time");
      await rejectsWith(verify({ message, signature: await consumer.signMessage(message) }), "SIWE_BAD_EXPIRY");
    });

    it("refuses before notBefore and accepts exactly at it", async function () {
      const a = await signed({ notBefore: NOW + 50 });
      await rejectsWith(verify(a, NOW + 49), "SIWE_NOT_YET_VALID");
      expect((await verify(a, NOW + 50)).address).to.equal(consumer.address);
    });

    it("accepts an issuedAt up to the clock skew ahead and refuses one second more", async function () {
      const skew = SETTINGS.clockSkewSeconds;
      await verify(await signed({ issuedAt: NOW + skew, expiresAt: NOW + skew + 60 }), NOW);
      await rejectsWith(
        verify(await signed({ issuedAt: NOW + skew + 1, expiresAt: NOW + skew + 60 }), NOW),
        "SIWE_NOT_YET_VALID",
      );
    });

    it("refuses a nonce this node never issued", async function () {
      const message = buildSignInMessage({
        domain: SETTINGS.domain,
        uri: SETTINGS.uri,
        chainId: 31337,
        address: consumer.address,
        nonce: "notIssued12345",
        issuedAt: NOW,
        expiresAt: NOW + 300,
      });
      await rejectsWith(verify({ message, signature: await consumer.signMessage(message) }), "SIWE_NONCE_UNKNOWN");
    });

    it("accepts a nonce until its time to live ends and refuses it exactly then", async function () {
      const ttl = SETTINGS.nonceTtlSeconds;
      const a = await signed({ expiresAt: NOW + ttl + 100 });
      expect((await verify(a, NOW + ttl - 1)).nonce).to.equal(a.nonce);
      const b = await signed({ expiresAt: NOW + ttl + 100 });
      await rejectsWith(verify(b, NOW + ttl), "SIWE_NONCE_EXPIRED");
    });

    it("refuses another key's signature and leaves the nonce usable by its owner", async function () {
      const m = await signed();
      const forged = await Wallet.createRandom().signMessage(m.message);
      const e = await rejectsWith(verify({ message: m.message, signature: forged }), "SIWE_BAD_SIGNATURE");
      expect(e.details).to.deep.equal({ address: consumer.address });
      expect((await verify(m)).address).to.equal(consumer.address);
    });

    it("refuses text that is not an EIP-4361 message", async function () {
      await rejectsWith(verify({ message: "hello", signature: "0x" }), "SIWE_MALFORMED");
    });

    it("refuses a signature that is not hex, empty or longer than the maximum, leaving the nonce usable", async function () {
      const m = await signed();
      for (const signature of ["0x", "hello", `0x${"ab".repeat(MAX_SIGNATURE_BYTES + 1)}`]) {
        const e = await rejectsWith(verify({ message: m.message, signature }), "SIWE_MALFORMED");
        expect(e.field).to.equal("signature");
      }
      // Exactly the maximum is accepted as a format (and then refused as not the consumer's signature).
      await rejectsWith(
        verify({ message: m.message, signature: `0x${"ab".repeat(MAX_SIGNATURE_BYTES)}` }),
        "SIWE_BAD_SIGNATURE",
      );
      expect((await verify(m)).address).to.equal(consumer.address);
    });

    it("refuses to issue beyond the outstanding-nonce bound, and issues again once old ones expired", async function () {
      for (let i = 0; i < 4; i++) await issueNonce(nonces, SETTINGS, NOW);
      await rejectsWith(issueNonce(nonces, SETTINGS, NOW + SETTINGS.nonceTtlSeconds - 1), "SIWE_TOO_MANY_NONCES");
      await issueNonce(nonces, SETTINGS, NOW + SETTINGS.nonceTtlSeconds);
      expect(nonces.size).to.equal(1);
    });

    it("uses a nonce once when two sign-ins race with it", async function () {
      const m = await signed();
      const results = await Promise.allSettled([verify(m), verify(m)]);
      expect(results.map((r) => r.status).sort()).to.deep.equal(["fulfilled", "rejected"]);
      const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect((refused.reason as ConsentError).code).to.equal("SIWE_REPLAYED");
    });

    describe("contract wallets (ERC-1271)", function () {
      it("accepts a contract wallet's sign-in through the provider, and refuses it without one", async function () {
        const [owner] = await ethers.getSigners();
        const wallet = await (await ethers.getContractFactory("ERC1271WalletDouble")).deploy(owner.address);
        const walletAddress = await wallet.getAddress();
        const { nonce } = await issueNonce(nonces, SETTINGS, NOW);
        const message = buildSignInMessage({
          domain: SETTINGS.domain,
          uri: SETTINGS.uri,
          chainId: 31337,
          address: walletAddress,
          nonce,
          issuedAt: NOW,
          expiresAt: NOW + 300,
        });
        const signature = await owner.signMessage(message);
        await rejectsWith(
          verifySignIn(message, signature, { settings: SETTINGS, nonces, now: NOW + 1 }),
          "SIWE_BAD_SIGNATURE",
        );
        const signIn = await verifySignIn(message, signature, {
          settings: SETTINGS,
          nonces,
          now: NOW + 1,
          provider: ethers.provider,
        });
        expect(signIn.address).to.equal(walletAddress);
      });

      it("refuses a contract wallet's sign-in signed by a key that is not its owner, or in a form it does not accept", async function () {
        const [owner, other] = await ethers.getSigners();
        const wallet = await (await ethers.getContractFactory("ERC1271WalletDouble")).deploy(owner.address);
        const { nonce } = await issueNonce(nonces, SETTINGS, NOW);
        const message = buildSignInMessage({
          domain: SETTINGS.domain,
          uri: SETTINGS.uri,
          chainId: 31337,
          address: await wallet.getAddress(),
          nonce,
          issuedAt: NOW,
          expiresAt: NOW + 300,
        });
        await rejectsWith(
          verifySignIn(message, await other.signMessage(message), {
            settings: SETTINGS,
            nonces,
            now: NOW + 1,
            provider: ethers.provider,
          }),
          "SIWE_BAD_SIGNATURE",
        );
        // A signature of another length goes to the wallet alone (not ECDSA); this wallet accepts 65 bytes only.
        const longer = `${await owner.signMessage(message)}00`;
        await rejectsWith(
          verifySignIn(message, longer, { settings: SETTINGS, nonces, now: NOW + 1, provider: ethers.provider }),
          "SIWE_BAD_SIGNATURE",
        );
      });
    });
  });

  describe("tokens", function () {
    const signIn = { address: consumer.address, chainId: 31337 };

    it("issues a token that verifies to the consumer until one second before its expiry", async function () {
      const { token, expiresAt } = await issueToken(signIn, KEY, SETTINGS, NOW);
      expect(expiresAt).to.equal(NOW + 900);
      expect(await verifyToken(token, KEY, SETTINGS, NOW + 899)).to.deep.equal({
        consumer: consumer.address,
        chainId: 31337,
        issuedAt: NOW,
        expiresAt: NOW + 900,
      });
    });

    it("refuses a token exactly at its expiry", async function () {
      const { token } = await issueToken(signIn, KEY, SETTINGS, NOW);
      const e = await rejectsWith(verifyToken(token, KEY, SETTINGS, NOW + 900), "TOKEN_EXPIRED");
      expect(e.details).to.deep.equal({ exp: NOW + 900, now: NOW + 900 });
    });

    it("refuses no token", async function () {
      await rejectsWith(verifyToken(undefined, KEY, SETTINGS, NOW), "TOKEN_MISSING");
      await rejectsWith(verifyToken("", KEY, SETTINGS, NOW), "TOKEN_MISSING");
    });

    it("refuses a token signed with another key, a tampered one, one for another audience and one for another chain", async function () {
      const other = parseTokenKey(`0x${"22".repeat(32)}`, "test", "key");
      const { token } = await issueToken(signIn, other, SETTINGS, NOW);
      await rejectsWith(verifyToken(token, KEY, SETTINGS, NOW), "TOKEN_INVALID");

      const good = (await issueToken(signIn, KEY, SETTINGS, NOW)).token;
      const [h, p, s] = good.split(".");
      const claims = JSON.parse(Buffer.from(p, "base64url").toString());
      const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: Wallet.createRandom().address })).toString(
        "base64url",
      );
      await rejectsWith(verifyToken(`${h}.${forgedPayload}.${s}`, KEY, SETTINGS, NOW), "TOKEN_INVALID");

      const aud = (await issueToken(signIn, KEY, { ...SETTINGS, tokenAudience: "other-api" }, NOW)).token;
      await rejectsWith(verifyToken(aud, KEY, SETTINGS, NOW), "TOKEN_INVALID");

      const chain = (await issueToken({ ...signIn, chainId: 1 }, KEY, SETTINGS, NOW)).token;
      await rejectsWith(verifyToken(chain, KEY, SETTINGS, NOW), "TOKEN_INVALID");
    });

    it("refuses an unsigned token (alg none)", async function () {
      const good = (await issueToken(signIn, KEY, SETTINGS, NOW)).token;
      const payload = good.split(".")[1];
      const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.`;
      await rejectsWith(verifyToken(none, KEY, SETTINGS, NOW), "TOKEN_INVALID");
    });
  });

  describe("parseTokenKey", function () {
    it("refuses a missing, non-hex or short key, naming the setting and never the value", function () {
      expect(() => parseTokenKey(undefined, "env", "CONSENT_TOKEN_KEY")).to.throw("env CONSENT_TOKEN_KEY: missing");
      expect(() => parseTokenKey("secret", "env", "CONSENT_TOKEN_KEY")).to.throw("env CONSENT_TOKEN_KEY: not 0x");
      expect(() => parseTokenKey(`0x${"ab".repeat(31)}`, "env", "CONSENT_TOKEN_KEY")).to.throw(
        "env CONSENT_TOKEN_KEY: 31 bytes; at least 32 are needed",
      );
      expect(parseTokenKey(`0x${"ab".repeat(32)}`, "env", "K")).to.have.length(32);
    });
  });
});
