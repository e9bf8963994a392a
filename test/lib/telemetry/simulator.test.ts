/**
 * The demo's week of telemetry (lib/telemetry/simulator.ts simulateWeek): every batch is one the node's format
 * accepts, inside the window, in stream order, and the week's activity derived from them (lib/telemetry/activity.ts)
 * is what the virtual vehicle did: its odometer growth as km, its trips and charging as connection time, only the
 * signals it reports as data types.
 */
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { WeekActivityBuilder, summarizeBatch } from "../../../lib/telemetry/activity";
import { batchSchema, type TelemetryBatch } from "../../../lib/telemetry/format";
import { SIGNAL_NAMES, type SignalName } from "../../../lib/telemetry/settings";
import { prng, simulateWeek, type VirtualVehicle, type WeekPlan } from "../../../lib/telemetry/simulator";

const WEEK = 7 * 86_400;
const FROM = 1_796_000_000;
const SIGNER = "0x00000000000000000000000000000000000000d1";

function vehicle(electric: boolean, sequence = 0): VirtualVehicle {
  return {
    vehicleId: "7",
    deviceId: "3",
    integration: ZeroAddress,
    electric,
    lat: 48_137_000,
    lon: 11_575_000,
    odometer: 42_000_000,
    level: 500,
    sequence,
  };
}

const all = new Set<SignalName>(SIGNAL_NAMES);
const plan = (p: Partial<WeekPlan>): WeekPlan => ({ trips: 2, charges: false, signals: all, ...p });

/** The stream rules the node applies (docs/telemetry.md): valid format, in the window, sequences up, no overlap. */
function expectAStream(batches: TelemetryBatch[], from: number, to: number, firstSequence: number): void {
  batches.forEach((b, i) => {
    const parsed = batchSchema.safeParse(b);
    expect(parsed.success, `batch ${i}: ${parsed.success ? "" : parsed.error.message}`).to.equal(true);
    expect(b.startTime, `batch ${i} start`).to.be.at.least(from);
    expect(b.endTime, `batch ${i} end`).to.be.at.most(to);
    expect(b.sequence).to.equal(firstSequence + i);
    if (i > 0) expect(b.startTime, `batch ${i} overlaps`).to.be.at.least(batches[i - 1].endTime);
  });
}

function derive(batches: TelemetryBatch[], from: number, to: number) {
  const w = new WeekActivityBuilder(from, to);
  for (const b of batches) w.add(summarizeBatch(b, SIGNER));
  return w.result();
}

describe("simulateWeek (the demo's devices)", function () {
  for (const seed of [1, 2, 3, 17, 404]) {
    it(`seed ${seed}: trips and an EV's charge form a valid stream whose derived km is the odometer's growth`, function () {
      const rand = prng(seed);
      const v = vehicle(true, 11);
      const odo0 = v.odometer;
      const batches = simulateWeek(v, FROM, FROM + WEEK, plan({ trips: 2, charges: true }), rand);
      expect(batches).to.have.length(3); // two trips, then the charge
      expectAStream(batches, FROM, FROM + WEEK, 12);
      expect(v.sequence).to.equal(14);
      const [a] = derive(batches, FROM, FROM + WEEK);
      expect(a.meters, "km driven = odometer growth").to.equal(v.odometer - odo0);
      expect(a.meters).to.be.above(0);
      // 20-60 minutes per trip and 50 minutes of charging, never overlapping: connected that long.
      const spans = batches.map((b) => b.endTime - b.startTime);
      for (const s of spans.slice(0, 2)) expect(s).to.be.within(1200, 3600);
      expect(spans[2]).to.equal(3000);
      expect(a.connectedSeconds).to.equal(spans.reduce((x, y) => x + y, 0));
      const charge = batches[2].signals;
      expect(charge.some((s) => s.name === "charging_status" && s.values[0] === 1)).to.equal(true);
      const levels = charge.filter((s) => s.name === "fuel_level").map((s) => s.values[0]);
      expect(levels, "the battery rises while charging").to.deep.equal([...levels].sort((x, y) => x - y));
      expect(a.dataTypes).to.not.include("engine_load"); // an EV
    });
  }

  it("is deterministic in its random source, and carries the vehicle's state on", function () {
    const run = () => {
      const v = vehicle(false);
      return [simulateWeek(v, FROM, FROM + WEEK, plan({}), prng(9)), v] as const;
    };
    expect(run()).to.deep.equal(run());
    const v = vehicle(false);
    const first = simulateWeek(v, FROM, FROM + WEEK, plan({}), prng(9));
    const next = simulateWeek(v, FROM + WEEK, FROM + 2 * WEEK, plan({}), prng(10));
    expectAStream([...first, ...next], FROM, FROM + 2 * WEEK, 1);
    const lastOdo = first[first.length - 1].signals.filter((s) => s.name === "odometer").pop()!.values[0];
    expect(next[0].signals.find((s) => s.name === "odometer")!.values[0]).to.equal(lastOdo);
  });

  it("reports only the signals of the plan; without odometer a trip gives no km", function () {
    const signals = new Set<SignalName>(["location", "speed"]);
    const batches = simulateWeek(vehicle(false), FROM, FROM + WEEK, plan({ trips: 3, signals }), prng(5));
    expect(batches).to.have.length(3);
    const [a] = derive(batches, FROM, FROM + WEEK);
    expect(a.dataTypes).to.deep.equal(["location", "speed"]);
    expect(a.meters).to.equal(0);
  });

  it("a combustion car never charges; an idle week sends nothing", function () {
    expect(simulateWeek(vehicle(false), FROM, FROM + WEEK, plan({ trips: 1, charges: true }), prng(1))).to.have.length(
      1,
    );
    expect(simulateWeek(vehicle(true), FROM, FROM + WEEK, plan({ trips: 0, charges: true }), prng(1))).to.deep.equal(
      [],
    );
  });

  it("fits the trips into a short window (an hour per trip, 50 minutes for the charge), else fewer", function () {
    const one = plan({ trips: 1 });
    expect(simulateWeek(vehicle(false), FROM, FROM + 3600, one, prng(1))).to.have.length(1);
    expect(simulateWeek(vehicle(false), FROM, FROM + 3599, one, prng(1))).to.deep.equal([]);
    const ev = plan({ trips: 2, charges: true });
    const fit = simulateWeek(vehicle(true), FROM, FROM + 2 * 3600 + 3000, ev, prng(2));
    expect(fit).to.have.length(3);
    expectAStream(fit, FROM, FROM + 2 * 3600 + 3000, 1);
    expect(simulateWeek(vehicle(true), FROM, FROM + 2 * 3600 + 2999, ev, prng(2))).to.have.length(2); // one trip
  });
});
