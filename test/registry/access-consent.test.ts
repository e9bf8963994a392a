import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { signAccessConsent } from "../../lib/access-consent";
import {
  DAY,
  deployWallet,
  mintVehicle,
  permissionsOf,
  vehicleInfo,
  vehiclesFixture,
  type DataAccess,
} from "./fixtures";

const PERMISSIONS = permissionsOf(0, 1); // location, odometer

interface Offer {
  vehicleId: bigint;
  owner: string;
  permissions: bigint;
  expiresAt: bigint;
  nonce: bigint;
  deadline: bigint;
}

/** `signer`'s AccessConsent signature of `offer`, for `access` unless the domain is overridden. */
async function sign(
  signer: HardhatEthersSigner,
  access: DataAccess,
  offer: Offer,
  domain: { chainId?: bigint; verifyingContract?: string } = {},
): Promise<string> {
  const { chainId } = await ethers.provider.getNetwork();
  return signAccessConsent(
    signer,
    { chainId: domain.chainId ?? chainId, verifyingContract: domain.verifyingContract ?? (await access.getAddress()) },
    offer,
  );
}

/**
 * `vehiclesFixture` plus the outsider's own vehicle 3 (an owner no consumer accepts) and consumer A's offer of it
 * (location + odometer for 30 days, nonce 7, valid for a day), signed by consumer A.
 */
async function offerFixture() {
  const ctx = await vehiclesFixture();
  const outsiderVehicle = await mintVehicle(ctx.vehicles, ctx.outsider, vehicleInfo({}, "VIN-OUTSIDER"));
  const now = BigInt(await time.latest());
  const offer: Offer = {
    vehicleId: outsiderVehicle,
    owner: ctx.outsider.address,
    permissions: PERMISSIONS,
    expiresAt: now + 30n * BigInt(DAY),
    nonce: 7n,
    deadline: now + BigInt(DAY),
  };
  const signature = await sign(ctx.consumerA, ctx.access, offer);
  return { ...ctx, outsiderVehicle, offer, signature };
}

type OfferContext = Awaited<ReturnType<typeof offerFixture>>;

/** The owner (outsider) submits `offer` with `signature` for `consumer` (consumer A by default). */
function submit(f: OfferContext, offer: Offer = f.offer, signature = f.signature, consumer = f.consumerA.address) {
  return f.access
    .connect(f.outsider)
    .grantWithConsent(
      offer.vehicleId,
      consumer,
      offer.permissions,
      offer.expiresAt,
      offer.nonce,
      offer.deadline,
      signature,
    );
}

describe("DataAccess consent (a grant reserves capacity only for vehicles the consumer accepted)", function () {
  describe("grant (the consumer's on-chain rule)", function () {
    it("reverts with AccessNotAccepted when the consumer does not accept the owner", async function () {
      const { access, outsider, consumerA, outsiderVehicle, offer, capacity } = await loadFixture(offerFixture);
      await expect(access.connect(outsider).grant(outsiderVehicle, consumerA.address, PERMISSIONS, offer.expiresAt))
        .to.be.revertedWithCustomError(access, "AccessNotAccepted")
        .withArgs(outsiderVehicle, consumerA.address, outsider.address);
      expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(0n);
    });

    it("succeeds once the consumer accepts the owner, and emits OwnerAcceptanceSet", async function () {
      const { access, outsider, consumerA, outsiderVehicle, offer } = await loadFixture(offerFixture);
      await expect(access.connect(consumerA).setOwnerAcceptance(outsider.address, true))
        .to.emit(access, "OwnerAcceptanceSet")
        .withArgs(consumerA.address, outsider.address, true);
      expect(await access.acceptsOwner(consumerA.address, outsider.address)).to.equal(true);
      await expect(
        access.connect(outsider).grant(outsiderVehicle, consumerA.address, PERMISSIONS, offer.expiresAt),
      ).to.emit(access, "AccessGranted");
    });

    it("reverts again with AccessNotAccepted after the consumer withdraws its acceptance", async function () {
      const { access, alice, consumerA, aliceVehicle, offer } = await loadFixture(offerFixture);
      await expect(access.connect(consumerA).setOwnerAcceptance(alice.address, false))
        .to.emit(access, "OwnerAcceptanceSet")
        .withArgs(consumerA.address, alice.address, false);
      await expect(access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, offer.expiresAt))
        .to.be.revertedWithCustomError(access, "AccessNotAccepted")
        .withArgs(aliceVehicle, consumerA.address, alice.address);
    });

    it("is per consumer: another consumer's acceptance does not count", async function () {
      const { access, outsider, consumerA, consumerB, outsiderVehicle, offer } = await loadFixture(offerFixture);
      await access.connect(consumerB).setOwnerAcceptance(outsider.address, true);
      await expect(access.connect(outsider).grant(outsiderVehicle, consumerA.address, PERMISSIONS, offer.expiresAt))
        .to.be.revertedWithCustomError(access, "AccessNotAccepted")
        .withArgs(outsiderVehicle, consumerA.address, outsider.address);
    });

    it("setOwnerAcceptance reverts with AccessZeroAddress for the zero owner", async function () {
      const { access, consumerA } = await loadFixture(offerFixture);
      await expect(
        access.connect(consumerA).setOwnerAcceptance(ethers.ZeroAddress, true),
      ).to.be.revertedWithCustomError(access, "AccessZeroAddress");
    });
  });

  describe("grantWithConsent (the consumer's signed offer)", function () {
    it("writes the grant, reserves one unit and emits AccessGranted and ConsentNonceUsed", async function () {
      const f = await loadFixture(offerFixture);
      await expect(submit(f))
        .to.emit(f.access, "AccessGranted")
        .withArgs(f.outsiderVehicle, f.consumerA.address, f.outsider.address, PERMISSIONS, f.offer.expiresAt, 0n)
        .and.to.emit(f.access, "ConsentNonceUsed")
        .withArgs(f.consumerA.address, 7n, false);
      expect(await f.capacity.vehiclesAccessed(f.consumerA.address)).to.equal(1n);
      expect(await f.access.consentNonceUsed(f.consumerA.address, 7n)).to.equal(true);
      expect(await f.access.canRead(f.consumerA.address, f.outsiderVehicle, 1)).to.equal(true);
    });

    it("accepts the offer exactly at its deadline", async function () {
      const f = await loadFixture(offerFixture);
      await time.setNextBlockTimestamp(f.offer.deadline);
      await expect(submit(f)).to.emit(f.access, "AccessGranted");
    });

    it("reverts with AccessConsentExpired one second after the deadline", async function () {
      const f = await loadFixture(offerFixture);
      await time.setNextBlockTimestamp(f.offer.deadline + 1n);
      await expect(submit(f))
        .to.be.revertedWithCustomError(f.access, "AccessConsentExpired")
        .withArgs(f.offer.deadline, f.offer.deadline + 1n);
    });

    it("reverts with AccessConsentNonceUsed when the offer is replayed", async function () {
      const f = await loadFixture(offerFixture);
      await submit(f);
      await f.access.connect(f.outsider).revoke(f.outsiderVehicle, f.consumerA.address);
      await expect(submit(f))
        .to.be.revertedWithCustomError(f.access, "AccessConsentNonceUsed")
        .withArgs(f.consumerA.address, 7n);
    });

    it("takes nonces in any order (unordered, as a backend signs for many drivers at once)", async function () {
      const f = await loadFixture(offerFixture);
      const second = await mintVehicle(f.vehicles, f.outsider, vehicleInfo({}, "VIN-OUTSIDER-2"));
      const late = { ...f.offer, vehicleId: second, nonce: 2n ** 200n + 3n };
      await submit(f, late, await sign(f.consumerA, f.access, late));
      await submit(f);
      expect(await f.capacity.vehiclesAccessed(f.consumerA.address)).to.equal(2n);
      expect(await f.access.consentNonceUsed(f.consumerA.address, 2n ** 200n + 3n)).to.equal(true);
      expect(await f.access.consentNonceUsed(f.consumerA.address, 2n ** 200n + 2n)).to.equal(false);
      expect(await f.access.consentNonceUsed(f.consumerA.address, 6n)).to.equal(false);
    });

    const tampered: [string, (o: Offer, f: OfferContext) => Offer][] = [
      ["another vehicle", (o, f) => ({ ...o, vehicleId: f.aliceVehicle })],
      ["more permissions", (o) => ({ ...o, permissions: permissionsOf(0, 1, 2) })],
      ["a later expiry", (o) => ({ ...o, expiresAt: o.expiresAt + 1n })],
      ["another nonce", (o) => ({ ...o, nonce: 8n })],
      ["a later deadline", (o) => ({ ...o, deadline: o.deadline + 1n })],
    ];
    for (const [what, change] of tampered) {
      it(`reverts with AccessInvalidConsent when the grant asks for ${what} than signed`, async function () {
        const f = await loadFixture(offerFixture);
        const changed = change(f.offer, f);
        const owner = changed.vehicleId === f.aliceVehicle ? f.alice : f.outsider;
        await expect(
          f.access
            .connect(owner)
            .grantWithConsent(
              changed.vehicleId,
              f.consumerA.address,
              changed.permissions,
              changed.expiresAt,
              changed.nonce,
              changed.deadline,
              f.signature,
            ),
        )
          .to.be.revertedWithCustomError(f.access, "AccessInvalidConsent")
          .withArgs(f.consumerA.address);
      });
    }

    it("reverts with AccessInvalidConsent when the offer names another owner (a buyer cannot reuse it)", async function () {
      const f = await loadFixture(offerFixture);
      await f.vehicles.connect(f.outsider).transferFrom(f.outsider.address, f.bob.address, f.outsiderVehicle);
      const o = f.offer;
      await expect(
        f.access
          .connect(f.bob)
          .grantWithConsent(
            o.vehicleId,
            f.consumerA.address,
            o.permissions,
            o.expiresAt,
            o.nonce,
            o.deadline,
            f.signature,
          ),
      )
        .to.be.revertedWithCustomError(f.access, "AccessInvalidConsent")
        .withArgs(f.consumerA.address);
    });

    it("reverts with AccessInvalidConsent for another consumer's signature", async function () {
      const f = await loadFixture(offerFixture);
      await expect(submit(f, f.offer, await sign(f.consumerB, f.access, f.offer)))
        .to.be.revertedWithCustomError(f.access, "AccessInvalidConsent")
        .withArgs(f.consumerA.address);
    });

    it("reverts with AccessInvalidConsent for a signature bound to another chain", async function () {
      const f = await loadFixture(offerFixture);
      await expect(submit(f, f.offer, await sign(f.consumerA, f.access, f.offer, { chainId: 1n })))
        .to.be.revertedWithCustomError(f.access, "AccessInvalidConsent")
        .withArgs(f.consumerA.address);
    });

    it("reverts with AccessInvalidConsent for a signature bound to another contract", async function () {
      const f = await loadFixture(offerFixture);
      const other = await f.vehicles.getAddress();
      await expect(submit(f, f.offer, await sign(f.consumerA, f.access, f.offer, { verifyingContract: other })))
        .to.be.revertedWithCustomError(f.access, "AccessInvalidConsent")
        .withArgs(f.consumerA.address);
    });

    it("reverts with AccessNotVehicleOwner when someone else submits the owner's offer", async function () {
      const f = await loadFixture(offerFixture);
      const o = f.offer;
      await expect(
        f.access
          .connect(f.carol)
          .grantWithConsent(
            o.vehicleId,
            f.consumerA.address,
            o.permissions,
            o.expiresAt,
            o.nonce,
            o.deadline,
            f.signature,
          ),
      )
        .to.be.revertedWithCustomError(f.access, "AccessNotVehicleOwner")
        .withArgs(o.vehicleId, f.carol.address);
    });

    it("accepts a contract-wallet consumer's offer through ERC-1271", async function () {
      const f = await loadFixture(offerFixture);
      const wallet = await deployWallet(f.consumerC);
      await f.capacity.setLimit(await wallet.getAddress(), 1);
      // The wallet's owner signs the typed data; the wallet approves it (ERC-1271).
      await expect(submit(f, f.offer, await sign(f.consumerC, f.access, f.offer), await wallet.getAddress()))
        .to.emit(f.access, "AccessGranted")
        .withArgs(f.outsiderVehicle, await wallet.getAddress(), f.outsider.address, PERMISSIONS, f.offer.expiresAt, 0n);
    });

    it("rejects a contract-wallet consumer's offer signed by someone else", async function () {
      const f = await loadFixture(offerFixture);
      const wallet = await deployWallet(f.consumerC);
      await f.capacity.setLimit(await wallet.getAddress(), 1);
      await expect(submit(f, f.offer, await sign(f.consumerB, f.access, f.offer), await wallet.getAddress()))
        .to.be.revertedWithCustomError(f.access, "AccessInvalidConsent")
        .withArgs(await wallet.getAddress());
    });
  });

  describe("cancelConsent", function () {
    it("cancels an unused offer: emits ConsentNonceUsed (cancelled) and the offer reverts", async function () {
      const f = await loadFixture(offerFixture);
      await expect(f.access.connect(f.consumerA).cancelConsent(7n))
        .to.emit(f.access, "ConsentNonceUsed")
        .withArgs(f.consumerA.address, 7n, true);
      await expect(submit(f))
        .to.be.revertedWithCustomError(f.access, "AccessConsentNonceUsed")
        .withArgs(f.consumerA.address, 7n);
    });

    it("reverts with AccessConsentNonceUsed for a nonce already used", async function () {
      const f = await loadFixture(offerFixture);
      await submit(f);
      await expect(f.access.connect(f.consumerA).cancelConsent(7n))
        .to.be.revertedWithCustomError(f.access, "AccessConsentNonceUsed")
        .withArgs(f.consumerA.address, 7n);
    });

    it("cancels only the caller's nonce", async function () {
      const f = await loadFixture(offerFixture);
      await f.access.connect(f.consumerB).cancelConsent(7n);
      expect(await f.access.consentNonceUsed(f.consumerA.address, 7n)).to.equal(false);
      await expect(submit(f)).to.emit(f.access, "AccessGranted");
    });
  });

  describe("grantedAt", function () {
    it("is the block time of a new grant", async function () {
      const f = await loadFixture(offerFixture);
      await submit(f);
      expect((await f.access.grantOf(f.outsiderVehicle, f.consumerA.address)).grantedAt).to.equal(await time.latest());
    });

    it("is kept when a grant that still counts is updated", async function () {
      const { access, alice, aliceVehicle, consumerA } = await loadFixture(offerFixture);
      const expiresAt = BigInt((await time.latest()) + 30 * DAY);
      await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt);
      const first = BigInt(await time.latest());
      await time.increase(DAY);
      await access.connect(alice).grant(aliceVehicle, consumerA.address, permissionsOf(3), expiresAt + 10n);
      expect((await access.grantOf(aliceVehicle, consumerA.address)).grantedAt).to.equal(first);
    });

    it("restarts when an expired record is granted again (exactly at its expiry)", async function () {
      const { access, alice, aliceVehicle, consumerA } = await loadFixture(offerFixture);
      const expiresAt = BigInt((await time.latest()) + DAY);
      await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt);
      await time.setNextBlockTimestamp(expiresAt);
      await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt + BigInt(DAY));
      expect((await access.grantOf(aliceVehicle, consumerA.address)).grantedAt).to.equal(expiresAt);
    });

    it("is kept when updated one second before expiry (the grant still counted)", async function () {
      const { access, alice, aliceVehicle, consumerA } = await loadFixture(offerFixture);
      const expiresAt = BigInt((await time.latest()) + DAY);
      await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt);
      const first = BigInt(await time.latest());
      await time.setNextBlockTimestamp(expiresAt - 1n);
      await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt + BigInt(DAY));
      expect((await access.grantOf(aliceVehicle, consumerA.address)).grantedAt).to.equal(first);
    });

    it("restarts when a stale record is granted again by the new owner", async function () {
      const { access, vehicles, alice, bob, aliceVehicle, consumerA } = await loadFixture(offerFixture);
      const expiresAt = BigInt((await time.latest()) + 30 * DAY);
      await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt);
      await vehicles.connect(alice).transferFrom(alice.address, bob.address, aliceVehicle);
      await time.increase(DAY);
      await access.connect(bob).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt);
      expect((await access.grantOf(aliceVehicle, consumerA.address)).grantedAt).to.equal(await time.latest());
    });
  });

  describe("updating an existing record runs the capacity check (L-1)", function () {
    it("reverts with the capacity's CapacityExceeded when an expired record is renewed over the limit", async function () {
      const { access, capacity, alice, aliceVehicle, consumerA } = await loadFixture(offerFixture);
      const expiresAt = BigInt((await time.latest()) + DAY);
      await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt);
      await capacity.setLimit(consumerA.address, 0); // plays a slash
      await time.increaseTo(expiresAt);
      await expect(access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt + 100n))
        .to.be.revertedWithCustomError(capacity, "CapacityExceeded")
        .withArgs(consumerA.address, 1n, 0n);
    });

    it("renews an expired record exactly at the limit", async function () {
      const { access, capacity, alice, aliceVehicle, consumerA } = await loadFixture(offerFixture);
      const expiresAt = BigInt((await time.latest()) + DAY);
      await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt);
      await capacity.setLimit(consumerA.address, 1);
      await time.increaseTo(expiresAt);
      await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, expiresAt + 100n);
      expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(1n);
    });
  });

  describe("pruneMany", function () {
    it("prunes the records that no longer count and skips the others", async function () {
      const { access, capacity, alice, bob, outsider, aliceVehicle, bobVehicle, consumerA } =
        await loadFixture(offerFixture);
      const now = BigInt(await time.latest());
      await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, now + 100n);
      await access.connect(bob).grant(bobVehicle, consumerA.address, PERMISSIONS, now + 1000n);
      await time.increaseTo(now + 100n); // Alice's grant has expired; Bob's still counts
      const ids = [aliceVehicle, bobVehicle, 99n];
      expect(await access.connect(outsider).pruneMany.staticCall(consumerA.address, ids)).to.equal(1n);
      await expect(access.connect(outsider).pruneMany(consumerA.address, ids))
        .to.emit(access, "AccessRevoked")
        .withArgs(aliceVehicle, consumerA.address, outsider.address);
      expect(await capacity.vehiclesAccessed(consumerA.address)).to.equal(1n);
      expect((await access.grantOf(bobVehicle, consumerA.address)).permissions).to.equal(PERMISSIONS);
    });

    it("prunes nothing one second before expiry", async function () {
      const { access, alice, outsider, aliceVehicle, consumerA } = await loadFixture(offerFixture);
      const now = BigInt(await time.latest());
      await access.connect(alice).grant(aliceVehicle, consumerA.address, PERMISSIONS, now + 100n);
      await time.setNextBlockTimestamp(now + 99n);
      await expect(access.connect(outsider).pruneMany(consumerA.address, [aliceVehicle])).to.not.emit(
        access,
        "AccessRevoked",
      );
      expect((await access.grantOf(aliceVehicle, consumerA.address)).permissions).to.equal(PERMISSIONS);
    });
  });
});
