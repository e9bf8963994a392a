import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { parsePolicy, type Powertrain } from "../../../lib/rewards/policy";
import {
  advanceStreak,
  connectionPoints,
  dataTypePoints,
  greenPoints,
  NEW_STREAK,
  type StreakState,
  streakPoints,
  vehiclePoints,
} from "../../../lib/rewards/points";

const POLICY = parsePolicy(
  fs.readFileSync(path.join(__dirname, "../../../config/rewards-policy.json"), "utf8"),
  "rewards-policy.json",
);

/** The state after a sequence of weeks ("A" active, "-" missed), from a fresh vehicle. */
function run(weeks: string, from: StreakState = NEW_STREAK): StreakState {
  let s = from;
  for (const w of weeks) s = advanceStreak(s, w === "A", POLICY);
  return s;
}
const at = (streak: number): StreakState => ({ streak, missed: 0, best: streak });
const car = { pairedDevice: null, connectionKinds: [] as ("software" | "oem")[], powertrain: "ICE" as Powertrain };

describe("lib/rewards/points", function () {
  describe("connection points", function () {
    it("gives 6000 for a paired hardware device", function () {
      expect(connectionPoints({ pairedDevice: 7, connectionKinds: [] }, POLICY)).to.equal(6000);
    });

    it("gives 4000 for an OEM integration and 1000 for a software connection", function () {
      expect(connectionPoints({ pairedDevice: null, connectionKinds: ["oem"] }, POLICY)).to.equal(4000);
      expect(connectionPoints({ pairedDevice: null, connectionKinds: ["software"] }, POLICY)).to.equal(1000);
    });

    it("stacks every connection of a vehicle", function () {
      expect(connectionPoints({ pairedDevice: 7, connectionKinds: ["oem", "software"] }, POLICY)).to.equal(11_000);
      expect(connectionPoints({ pairedDevice: 7, connectionKinds: ["software", "software"] }, POLICY)).to.equal(8000);
    });

    it("gives nothing without any connection", function () {
      expect(connectionPoints({ pairedDevice: null, connectionKinds: [] }, POLICY)).to.equal(0);
    });
  });

  describe("data-type points", function () {
    it("adds the table's points of each type provided", function () {
      expect(dataTypePoints(["location", "odometer", "dtc"], POLICY)).to.equal(1300);
      expect(dataTypePoints([], POLICY)).to.equal(0);
    });
  });

  describe("streak", function () {
    it("grows by one per active week and resets the missed count", function () {
      expect(run("AAA")).to.deep.equal({ streak: 3, missed: 0, best: 3 });
      expect(run("AA-A")).to.deep.equal({ streak: 3, missed: 0, best: 3 });
    });

    for (const [weeks, points] of [
      [3, 0],
      [4, 1000],
      [20, 1000],
      [21, 2000],
      [35, 2000],
      [36, 3000],
    ] as const) {
      it(`gives ${points} level points at ${weeks} weeks`, function () {
        expect(streakPoints(weeks, POLICY)).to.equal(points);
        expect(streakPoints(run("A".repeat(weeks)).streak, POLICY)).to.equal(points);
      });
    }

    it("keeps the streak through one or two missed weeks, without growing it", function () {
      expect(run("-", at(10))).to.deep.equal({ streak: 10, missed: 1, best: 10 });
      expect(run("--", at(10))).to.deep.equal({ streak: 10, missed: 2, best: 10 });
      expect(run("--A", at(10))).to.deep.equal({ streak: 11, missed: 0, best: 11 });
      expect(run("-A-A--A", at(10)).streak).to.equal(13);
    });

    for (const [from, to] of [
      [40, 21], // level 3 (36+) → level 2
      [36, 21],
      [30, 4], // level 2 (21–35) → level 1
      [21, 4],
      [20, 0], // level 1 (4–20) → level 0
      [4, 0],
      [3, 0], // level 0 stays at level 0 and restarts
      [0, 0],
    ] as const) {
      it(`drops one level after three missed weeks: ${from} → ${to}`, function () {
        expect(run("---", at(from))).to.deep.equal({ streak: to, missed: 0, best: from });
      });
    }

    it("drops one more level after each further three missed weeks", function () {
      expect(run("------", at(40)).streak).to.equal(4);
      expect(run("---------", at(40)).streak).to.equal(0);
      expect(run("-----", at(40))).to.deep.equal({ streak: 21, missed: 2, best: 40 });
    });

    it("uses the streak after this week's update for the level points", function () {
      const p = vehiclePoints(car, { active: true, kmMeters: 0, dataTypes: [] }, run("AAAA").streak, POLICY);
      expect(p.streak).to.equal(1000);
    });
  });

  describe("green points", function () {
    it("gives BEV 5000 and PHEV 3000 from 16 km on", function () {
      expect(greenPoints("BEV", 16_000, POLICY)).to.equal(5000);
      expect(greenPoints("PHEV", 16_000, POLICY)).to.equal(3000);
      expect(greenPoints("BEV", 500_000, POLICY)).to.equal(5000);
    });

    it("gives nothing below 16 km (15.999)", function () {
      expect(greenPoints("BEV", 15_999, POLICY)).to.equal(0);
      expect(greenPoints("PHEV", 15_999, POLICY)).to.equal(0);
    });

    it("never gives ICE or HEV vehicles green points", function () {
      expect(greenPoints("ICE", 1_000_000, POLICY)).to.equal(0);
      expect(greenPoints("HEV", 1_000_000, POLICY)).to.equal(0);
    });
  });

  describe("vehiclePoints", function () {
    it("adds connection, streak and data types into core, green apart", function () {
      const p = vehiclePoints(
        { pairedDevice: 1, connectionKinds: ["oem"], powertrain: "BEV" },
        { active: true, kmMeters: 20_000, dataTypes: ["location", "charging_status"] },
        21,
        POLICY,
      );
      expect(p).to.deep.equal({ connection: 10_000, streak: 2000, dataTypes: 700, core: 12_700, green: 5000 });
    });

    it("gives an inactive or absent vehicle nothing", function () {
      const v = { pairedDevice: 1, connectionKinds: [] as "oem"[], powertrain: "BEV" as const };
      expect(vehiclePoints(v, { active: false, kmMeters: 99_000, dataTypes: ["location"] }, 30, POLICY).core).to.equal(
        0,
      );
      expect(vehiclePoints(v, undefined, 30, POLICY)).to.deep.include({ core: 0, green: 0 });
    });
  });
});
