import { expect } from "chai";
import { Wallet } from "ethers";
import { ConsentError, type ConsentCode } from "../../lib/consent/errors";
import {
  applyEvent,
  checkRead,
  emptyConsentState,
  type ConsentEvent,
  type ConsentState,
  type ReadQuery,
} from "../../lib/consent/permissions";

const T0 = 1_800_000_000;
const DIMO = (n: number) => BigInt(n) * 10n ** 18n;
const BASE = DIMO(10_000);
const PER_VEHICLE = DIMO(10);
const LOCATION = 1n << 0n;
const ODOMETER = 1n << 1n;
const FUEL = 1n << 2n;
const V = 7n;
// Fixed addresses: tests are deterministic.
const alice = new Wallet(`0x${"a1".repeat(32)}`).address; // first owner
const bob = new Wallet(`0x${"b2".repeat(32)}`).address; // buyer
const consumer = new Wallet(`0x${"c3".repeat(32)}`).address;
const other = new Wallet(`0x${"d4".repeat(32)}`).address;

type Body = ConsentEvent extends infer E
  ? E extends ConsentEvent
    ? Omit<E, "block" | "logIndex" | "timestamp">
    : never
  : never;

function expectRefusal(fn: () => unknown, code: ConsentCode): ConsentError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ConsentError);
    expect((e as ConsentError).code, (e as Error).message).to.equal(code);
    return e as ConsentError;
  }
  expect.fail(`expected ${code}, nothing was thrown`);
}

describe("lib/consent/permissions", function () {
  let state: ConsentState;
  let block: number;
  function at(timestamp: number, ...events: Body[]) {
    block += 1;
    events.forEach((e, logIndex) => applyEvent(state, { ...e, block, logIndex, timestamp } as ConsentEvent));
  }
  const read = (q: Partial<ReadQuery> = {}) =>
    checkRead(state, { consumer, vehicleId: V, names: ["location", "odometer"], now: T0 + 1000, ...q });

  /** Alice minted vehicle 7 at T0, the consumer staked exactly what one grant needs, Alice granted at T0+100. */
  beforeEach(function () {
    state = emptyConsentState();
    block = 0;
    at(T0 - 10, { kind: "StakeParametersSet", baseStake: BASE, perVehicleStake: PER_VEHICLE });
    at(T0, { kind: "VehicleMinted", vehicleId: V, owner: alice });
    at(T0 + 50, { kind: "Staked", consumer, amount: BASE + PER_VEHICLE, staked: BASE + PER_VEHICLE });
    at(T0 + 100, {
      kind: "AccessGranted",
      vehicleId: V,
      consumer,
      owner: alice,
      permissions: LOCATION | ODOMETER,
      expiresAt: T0 + 10_000,
      epoch: 0,
    });
  });

  describe("positive paths", function () {
    it("permits the granted types from the grant to now, with the grant relied on", function () {
      expect(read()).to.deep.equal({
        consumer,
        vehicleId: V,
        grant: { owner: alice, epoch: 0, permissions: 3n, expiresAt: T0 + 10_000, grantedAt: T0 + 100 },
        signals: [
          { name: "location", dataType: "location", bit: 0, window: { from: T0 + 100, to: T0 + 1000 } },
          { name: "odometer", dataType: "odometer", bit: 1, window: { from: T0 + 100, to: T0 + 1000 } },
        ],
      });
    });

    it("clips the window to the range asked for, and to the last second before the expiry", function () {
      expect(read({ from: T0 + 200, to: T0 + 300 }).signals[0].window).to.deep.equal({ from: T0 + 200, to: T0 + 300 });
      expect(read({ from: T0, to: T0 + 20_000, now: T0 + 9_999 }).signals[0].window).to.deep.equal({
        from: T0 + 100,
        to: T0 + 9_999,
      });
    });

    it("gives no window for a range wholly before the grant", function () {
      expect(read({ from: T0, to: T0 + 99 }).signals.map((s) => s.window)).to.deep.equal([null, null]);
      expect(read({ from: T0, to: T0 + 100 }).signals[0].window).to.deep.equal({ from: T0 + 100, to: T0 + 100 });
    });

    it("accepts aliases and maps them to their data type", function () {
      at(T0 + 200, {
        kind: "AccessGranted",
        vehicleId: V,
        consumer,
        owner: alice,
        permissions: LOCATION | ODOMETER | FUEL,
        expiresAt: T0 + 10_000,
        epoch: 0,
      });
      expect(read({ names: ["battery_level"] }).signals).to.deep.equal([
        { name: "battery_level", dataType: "fuel_level", bit: 2, window: { from: T0 + 200, to: T0 + 1000 } },
      ]);
    });

    it("keeps the start of a bit kept by an update, and starts an added bit at the update", function () {
      at(T0 + 500, {
        kind: "AccessGranted",
        vehicleId: V,
        consumer,
        owner: alice,
        permissions: LOCATION | FUEL,
        expiresAt: T0 + 20_000,
        epoch: 0,
      });
      const p = read({ names: ["location", "fuel_level"] });
      expect(p.grant.grantedAt).to.equal(T0 + 100);
      expect(p.signals.map((s) => s.window)).to.deep.equal([
        { from: T0 + 100, to: T0 + 1000 },
        { from: T0 + 500, to: T0 + 1000 },
      ]);
      expectRefusal(() => read({ names: ["odometer"] }), "DATA_TYPE_NOT_GRANTED");
    });

    it("restarts the window when an expired grant is renewed: nothing from the gap", function () {
      at(T0 + 10_500, {
        kind: "AccessGranted",
        vehicleId: V,
        consumer,
        owner: alice,
        permissions: LOCATION,
        expiresAt: T0 + 20_000,
        epoch: 0,
      });
      const p = read({ names: ["location"], from: T0, now: T0 + 11_000 });
      expect(p.grant.grantedAt).to.equal(T0 + 10_500);
      expect(p.signals[0].window).to.deep.equal({ from: T0 + 10_500, to: T0 + 11_000 });
    });
  });

  describe("refusals", function () {
    it("NO_GRANT for a consumer without a record", function () {
      const e = expectRefusal(() => read({ consumer: other }), "NO_GRANT");
      expect(e.details).to.deep.equal({ consumer: other, vehicleId: "7" });
      expect(e.status).to.equal(403);
    });

    it("UNKNOWN_SIGNAL for an unknown or missing name, INVALID_RANGE for from after to", function () {
      expect(expectRefusal(() => read({ names: ["location", "altitude"] }), "UNKNOWN_SIGNAL").details).to.deep.equal({
        name: "altitude",
      });
      expectRefusal(() => read({ names: [] }), "UNKNOWN_SIGNAL");
      expect(expectRefusal(() => read({ from: T0 + 2, to: T0 + 1 }), "INVALID_RANGE").field).to.equal("from");
      expect(read({ from: T0 + 200, to: T0 + 200 }).signals[0].window).to.deep.equal({ from: T0 + 200, to: T0 + 200 });
    });

    it("DATA_TYPE_NOT_GRANTED naming every type missing (location without the location bit)", function () {
      at(T0 + 200, {
        kind: "AccessGranted",
        vehicleId: V,
        consumer,
        owner: alice,
        permissions: ODOMETER,
        expiresAt: T0 + 10_000,
        epoch: 0,
      });
      const e = expectRefusal(() => read({ names: ["location", "odometer", "fuel_level"] }), "DATA_TYPE_NOT_GRANTED");
      expect(e.details.missing).to.deep.equal(["location", "fuel_level"]);
      expect(e.field).to.equal("names");
    });

    it("GRANT_EXPIRED exactly at the expiry, permitted one second before", function () {
      expect(read({ now: T0 + 9_999 }).signals[0].window).to.deep.equal({ from: T0 + 100, to: T0 + 9_999 });
      const e = expectRefusal(() => read({ now: T0 + 10_000 }), "GRANT_EXPIRED");
      expect(e.details).to.deep.equal({ consumer, vehicleId: "7", expiresAt: T0 + 10_000, now: T0 + 10_000 });
    });

    it("GRANT_EXPIRED for an expired record pruned", function () {
      at(T0 + 10_001, { kind: "AccessRevoked", vehicleId: V, consumer, by: other });
      expect(expectRefusal(() => read({ now: T0 + 10_002 }), "GRANT_EXPIRED").details.at).to.equal(T0 + 10_001);
    });

    it("GRANT_REVOKED after the owner (or the consumer) revoked, naming who and when", function () {
      at(T0 + 600, { kind: "AccessRevoked", vehicleId: V, consumer, by: alice });
      const e = expectRefusal(() => read(), "GRANT_REVOKED");
      expect(e.details).to.deep.equal({ consumer, vehicleId: "7", at: T0 + 600, by: alice });
    });

    it("VEHICLE_TRANSFERRED: the old grant ends at the transfer, and the new owner's grant starts after it", function () {
      at(T0 + 700, { kind: "OwnershipEpochAdvanced", vehicleId: V, epoch: 1, from: alice, to: bob });
      const e = expectRefusal(() => read(), "VEHICLE_TRANSFERRED");
      expect(e.details).to.deep.equal({ consumer, vehicleId: "7", grantEpoch: 0, epoch: 1, at: T0 + 700 });
      // Pruned: still named a transfer.
      at(T0 + 710, { kind: "AccessRevoked", vehicleId: V, consumer, by: other });
      expectRefusal(() => read(), "VEHICLE_TRANSFERRED");
      // Bob grants the same consumer: only Bob's data, from his grant on; Alice's window [T0+100, T0+700) is gone.
      at(T0 + 800, {
        kind: "AccessGranted",
        vehicleId: V,
        consumer,
        owner: bob,
        permissions: LOCATION,
        expiresAt: T0 + 50_000,
        epoch: 1,
      });
      const p = read({ names: ["location"], from: T0, to: T0 + 900 });
      expect(p.grant).to.deep.equal({
        owner: bob,
        epoch: 1,
        permissions: LOCATION,
        expiresAt: T0 + 50_000,
        grantedAt: T0 + 800,
      });
      expect(p.signals[0].window).to.deep.equal({ from: T0 + 800, to: T0 + 900 });
    });

    it("a stale record updated by the new owner in the new epoch counts again, from the transfer on", function () {
      at(T0 + 700, { kind: "OwnershipEpochAdvanced", vehicleId: V, epoch: 1, from: alice, to: bob });
      at(T0 + 700, {
        kind: "AccessGranted",
        vehicleId: V,
        consumer,
        owner: bob,
        permissions: LOCATION | ODOMETER,
        expiresAt: T0 + 50_000,
        epoch: 1,
      });
      // Same second as the transfer: the window starts at the transfer, never before it.
      expect(read({ from: T0 }).signals[0].window).to.deep.equal({ from: T0 + 700, to: T0 + 1000 });
    });

    it("CONSUMER_FROZEN while frozen (until frozenUntil exclusive) and after an unfreeze permitted again", function () {
      at(T0 + 300, { kind: "Frozen", consumer, frozenUntil: T0 + 2_000 });
      const e = expectRefusal(() => read({ now: T0 + 1_999 }), "CONSUMER_FROZEN");
      expect(e.details).to.deep.equal({ consumer, frozenUntil: T0 + 2_000, now: T0 + 1_999 });
      expect(read({ now: T0 + 2_000 }).signals[0].window).to.deep.equal({ from: T0 + 100, to: T0 + 2_000 });
      at(T0 + 400, { kind: "Frozen", consumer, frozenUntil: T0 + 9_000 });
      expectRefusal(() => read(), "CONSUMER_FROZEN");
      at(T0 + 500, { kind: "Unfrozen", consumer });
      expect(read().grant.grantedAt).to.equal(T0 + 100);
    });

    it("STAKE_NOT_COVERED after a slash below the requirement (unbonding stake taken first), covered again after a top-up", function () {
      at(T0 + 200, { kind: "UnstakeRequested", consumer, amount: 1n });
      // staked = BASE + PER_VEHICLE - 1 wei < required: not covered (the chain refuses such a request; a slash does it).
      expectRefusal(() => read(), "STAKE_NOT_COVERED");
      at(T0 + 210, { kind: "Staked", consumer, amount: 1n, staked: BASE + PER_VEHICLE });
      expect(read().consumer).to.equal(consumer);
      // 1 wei unbonding: a 2-wei slash takes it and 1 wei of active stake.
      at(T0 + 220, { kind: "Slashed", consumer, amount: 2n });
      const e = expectRefusal(() => read(), "STAKE_NOT_COVERED");
      expect(e.details).to.deep.equal({
        consumer,
        staked: (BASE + PER_VEHICLE - 1n).toString(),
        required: (BASE + PER_VEHICLE).toString(),
        records: 1,
      });
      expect(state.consumers.get(consumer)).to.deep.equal({
        staked: BASE + PER_VEHICLE - 1n,
        unbonding: 0n,
        frozenUntil: 0,
        records: 1,
      });
    });

    it("STAKE_NOT_COVERED after a rise of the stake formula, covered again when it falls back", function () {
      at(T0 + 200, { kind: "StakeParametersSet", baseStake: BASE, perVehicleStake: PER_VEHICLE + 1n });
      expectRefusal(() => read(), "STAKE_NOT_COVERED");
      at(T0 + 300, { kind: "StakeParametersSet", baseStake: BASE, perVehicleStake: PER_VEHICLE });
      expect(read().signals).to.have.length(2);
    });

    it("counts stale records against the stake until pruned, as the chain does", function () {
      at(T0 + 150, { kind: "VehicleMinted", vehicleId: 8n, owner: alice });
      at(T0 + 160, {
        kind: "AccessGranted",
        vehicleId: 8n,
        consumer,
        owner: alice,
        permissions: LOCATION,
        expiresAt: T0 + 10_000,
        epoch: 0,
      });
      // Two records, stake for one: not covered.
      expectRefusal(() => read(), "STAKE_NOT_COVERED");
      at(T0 + 170, { kind: "OwnershipEpochAdvanced", vehicleId: 8n, epoch: 1, from: alice, to: bob });
      expectRefusal(() => read(), "STAKE_NOT_COVERED");
      at(T0 + 180, { kind: "AccessRevoked", vehicleId: 8n, consumer, by: other });
      expect(read().signals).to.have.length(2);
    });

    it("checks the grant before the consumer's state: a frozen consumer without a grant gets NO_GRANT", function () {
      at(T0 + 300, { kind: "Frozen", consumer: other, frozenUntil: T0 + 2_000 });
      expectRefusal(() => read({ consumer: other }), "NO_GRANT");
    });
  });

  describe("applyEvent", function () {
    it("refuses an event not after the last one applied", function () {
      expect(() => applyEvent(state, { kind: "Unfrozen", consumer, block, logIndex: 0, timestamp: T0 + 100 })).to.throw(
        `event at ${block}/0 is not after the last applied ${block}/0`,
      );
    });
  });
});
