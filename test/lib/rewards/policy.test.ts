import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../../../lib/errors";
import { DEFAULT_SCHEDULE_PARAMS, amountOfWeek, scheduleFromParams } from "../../../lib/issuance";
import { canonicalJson, parsePolicy, policyHash } from "../../../lib/rewards/policy";

const FILE = path.join(__dirname, "../../../config/rewards-policy.json");
const TEXT = fs.readFileSync(FILE, "utf8");

function mutate(f: (p: any) => void): string {
  const p = JSON.parse(TEXT);
  f(p);
  return JSON.stringify(p, null, 2);
}

function errorOf(text: string): InputError {
  try {
    parsePolicy(text, "policy.json");
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

/** 1-based line of the first occurrence of `needle` in `text`. */
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split("\n").length;

describe("lib/rewards/policy", function () {
  describe("the committed default policy", function () {
    it("holds the product numbers", function () {
      const p = parsePolicy(TEXT, "rewards-policy.json");
      expect([p.coreBps, p.greenBps]).to.deep.equal([5000, 5000]);
      expect(p.connectionPoints).to.deep.equal({ hardware: 6000, oem: 4000, software: 1000 });
      expect(p.streak.levels).to.deep.equal([
        { minWeeks: 0, points: 0 },
        { minWeeks: 4, points: 1000 },
        { minWeeks: 21, points: 2000 },
        { minWeeks: 36, points: 3000 },
      ]);
      expect(p.streak.missedWeeksToDrop).to.equal(3);
      expect(p.green).to.deep.equal({ bevPoints: 5000, phevPoints: 3000, minKmMeters: 16_000 });
      expect(p.referral).to.deep.equal({ rewardPerSideWei: 50n * 10n ** 18n, requiredStreak: 4 });
      expect(p.dataTypePoints).to.deep.equal({
        location: 500,
        odometer: 500,
        fuel_level: 300,
        dtc: 300,
        tire_pressure: 200,
        speed: 200,
        engine_load: 100,
        charging_status: 200,
      });
    });

    it("uses the issuance schedule of lib/issuance.ts", function () {
      const p = parsePolicy(TEXT, "rewards-policy.json");
      const expected = scheduleFromParams(DEFAULT_SCHEDULE_PARAMS);
      expect(p.schedule).to.deep.equal(expected);
      expect(amountOfWeek(p.schedule, 0)).to.equal(amountOfWeek(expected, 0));
    });
  });

  describe("policy hash", function () {
    it("is the same for the same meaning, whatever the key order, spacing or comment", function () {
      const a = policyHash(parsePolicy(TEXT, "a.json"));
      const reordered = JSON.parse(TEXT);
      const shuffled = Object.fromEntries(Object.entries(reordered).reverse());
      (shuffled as any).$comment = "another comment";
      (shuffled as any).referral.rewardPerSide = "50.0";
      const b = policyHash(parsePolicy(JSON.stringify(shuffled), "b.json"));
      expect(b).to.equal(a);
      expect(a).to.match(/^0x[0-9a-f]{64}$/);
    });

    it("changes when any number changes", function () {
      const a = policyHash(parsePolicy(TEXT, "a.json"));
      const b = policyHash(
        parsePolicy(
          mutate((p) => (p.dataTypePoints.dtc = 301)),
          "b.json",
        ),
      );
      const c = policyHash(
        parsePolicy(
          mutate((p) => (p.green.minKm = 16.001)),
          "c.json",
        ),
      );
      expect(new Set([a, b, c]).size).to.equal(3);
    });

    it("canonical JSON sorts keys at every level and keeps array order", function () {
      expect(canonicalJson({ b: [2, { d: 1, c: 2 }], a: 1n })).to.equal('{"a":"1","b":[2,{"c":2,"d":1}]}');
    });
  });

  describe("validation errors name the file, line and field", function () {
    it("refuses a split that does not sum to 10000", function () {
      const text = mutate((p) => (p.split.greenBps = 4000));
      const e = errorOf(text);
      expect(e.message).to.equal(
        `policy.json:${lineOf(text, '"greenBps"')} split.greenBps: coreBps + greenBps must be 10000, got 5000 + 4000 = 9000`,
      );
    });

    it("refuses non-integer points", function () {
      const text = mutate((p) => (p.connectionPoints.oem = 4000.5));
      const e = errorOf(text);
      expect(e.field).to.equal("connectionPoints.oem");
      expect(e.line).to.equal(lineOf(text, '"oem"'));
      expect(e.problem).to.match(/integer/);
    });

    it("refuses negative points", function () {
      const e = errorOf(mutate((p) => (p.dataTypePoints.speed = -1)));
      expect(e.field).to.equal("dataTypePoints.speed");
    });

    it("refuses an unknown data type", function () {
      const text = mutate((p) => (p.dataTypePoints.vin = 100));
      const e = errorOf(text);
      expect(e.field).to.equal("dataTypePoints");
      expect(e.problem).to.match(/vin/);
    });

    it("refuses a missing data type", function () {
      const e = errorOf(mutate((p) => delete p.dataTypePoints.dtc));
      expect(e.field).to.equal("dataTypePoints.dtc");
      expect(e.problem).to.equal("Required");
    });

    it("refuses streak levels that do not start at 0 weeks", function () {
      const e = errorOf(mutate((p) => (p.streak.levels[0].minWeeks = 1)));
      expect(e.field).to.equal("streak.levels[0].minWeeks");
    });

    it("refuses streak levels out of order, pointing at the offending level's line", function () {
      const text = mutate((p) => (p.streak.levels[2].minWeeks = 4));
      const e = errorOf(text);
      expect(e.field).to.equal("streak.levels[2].minWeeks");
      expect(e.line).to.equal(text.split("\n").findIndex((l) => l.includes('"minWeeks": 4')) + 1 + 4);
    });

    it("refuses zero missed weeks to drop", function () {
      expect(errorOf(mutate((p) => (p.streak.missedWeeksToDrop = 0))).field).to.equal("streak.missedWeeksToDrop");
    });

    it("refuses a minimum distance with more than 3 decimals", function () {
      expect(errorOf(mutate((p) => (p.green.minKm = 16.0001))).field).to.equal("green.minKm");
    });

    it("refuses a referral reward that is not a decimal DIMO string", function () {
      const e = errorOf(mutate((p) => (p.referral.rewardPerSide = 50)));
      expect(e.field).to.equal("referral.rewardPerSide");
    });

    it("refuses both a pool and a first weekly amount", function () {
      const e = errorOf(mutate((p) => (p.issuance.firstWeekly = "1000000")));
      expect(e.field).to.equal("issuance");
    });

    it("refuses an unknown top-level field", function () {
      const e = errorOf(mutate((p) => (p.bonus = 1)));
      expect(e.field).to.equal("(root)");
      expect(e.problem).to.match(/bonus/);
    });

    it("refuses malformed JSON with its line", function () {
      const e = errorOf('{\n  "split": {\n    "coreBps": 5000,\n  }\n}');
      expect(e.line).to.equal(4);
      expect(e.problem).to.match(/invalid JSON/);
    });
  });
});
