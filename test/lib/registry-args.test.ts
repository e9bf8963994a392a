import { expect } from "chai";
import { DATA_TYPES, dataTypesOfPermissions, findDataType, parseDataTypeList } from "../../lib/data-types";
import {
  isoOf,
  isPrintableText,
  parseAccountIndex,
  parseAccountRef,
  parseAddress,
  parseFutureTime,
  parseId,
  parseLabel,
  parseModelYear,
  parsePowertrain,
  parseSignature,
} from "../../lib/registry-args";
import { problem } from "../helpers/tasks";

const at = (field: string) => ({ source: "task", field });
const ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const NOW = 1_795_000_000; // 2026-11-18T...

describe("lib/data-types", function () {
  it("maps names to the documented bit positions", function () {
    expect(Object.fromEntries(DATA_TYPES.map((t) => [t.name, t.bit]))).to.deep.equal({
      location: 0,
      odometer: 1,
      fuel_level: 2,
      dtc: 3,
      tire_pressure: 4,
      speed: 5,
      engine_load: 6,
      charging_status: 7,
    });
  });

  it("resolves aliases, case-insensitively", function () {
    expect(findDataType("battery_level")?.bit).to.equal(2);
    expect(findDataType("FUEL_BATTERY_LEVEL")?.bit).to.equal(2);
    expect(findDataType("diagnostic_codes")?.bit).to.equal(3);
    expect(findDataType("temperature")).to.equal(undefined);
  });

  it("parses a list into canonical names and a permission mask", function () {
    expect(parseDataTypeList("odometer, location,battery_level,fuel_level", at("--types"))).to.deep.equal({
      names: ["location", "odometer", "fuel_level"],
      permissions: 0b111n,
    });
    expect(parseDataTypeList("charging_status", at("--types")).permissions).to.equal(128n);
  });

  it("rejects unknown, empty and missing types, naming the argument", function () {
    expect(problem(() => parseDataTypeList("location,altitude", at("--types")))).to.match(
      /^task --types: unknown data type "altitude"; known: location, odometer, fuel_level \(battery_level, fuel_battery_level\)/,
    );
    expect(problem(() => parseDataTypeList("", at("--types")))).to.match(/^task --types: no data types given/);
    expect(problem(() => parseDataTypeList("location,,speed", at("--types")))).to.match(/empty entry/);
  });

  it("names the bits of a mask, unknown bits as bitN", function () {
    expect(dataTypesOfPermissions(0b1001n | (1n << 200n))).to.deep.equal(["location", "dtc", "bit200"]);
    expect(dataTypesOfPermissions(0n)).to.deep.equal([]);
  });
});

describe("lib/registry-args", function () {
  it("labels follow PrintableText: 1..max printable ASCII bytes without quote and backslash", function () {
    expect(isPrintableText("Model S, Plaid", 32)).to.equal(true);
    expect(isPrintableText("", 32)).to.equal(false);
    expect(isPrintableText("x".repeat(33), 32)).to.equal(false);
    expect(isPrintableText('a"b', 32)).to.equal(false);
    expect(isPrintableText("a\\b", 32)).to.equal(false);
    expect(isPrintableText("a\tb", 32)).to.equal(false);
    expect(parseLabel(" Tesla ", at("--make"), 32)).to.equal(" Tesla ");
    expect(problem(() => parseLabel("", at("--make"), 32))).to.equal("task --make: must not be empty");
    expect(problem(() => parseLabel("Ü".repeat(17), at("--make"), 32))).to.match(/at most 32 bytes, got 34/);
    expect(problem(() => parseLabel("Citroën", at("--make"), 32))).to.match(/character "ë" is not allowed/);
  });

  it("powertrains and model years", function () {
    expect(["ICE", "hev", " PHEV ", "BEV"].map((p) => parsePowertrain(p, at("--powertrain")))).to.deep.equal([
      0, 1, 2, 3,
    ]);
    expect(problem(() => parsePowertrain("DIESEL", at("--powertrain")))).to.equal(
      'task --powertrain: expected one of ICE, HEV, PHEV, BEV, got "DIESEL"',
    );
    expect(parseModelYear("1886", at("--year"))).to.equal(1886);
    expect(parseModelYear(2100, at("--year"))).to.equal(2100);
    for (const bad of ["1885", "2101", "20x4", "", "2024.0"]) {
      expect(problem(() => parseModelYear(bad, at("--year")))).to.match(/^task --year: expected a model year/);
    }
  });

  it("ids, addresses, accounts and signatures", function () {
    expect(parseId("12", at("--vehicle"))).to.equal(12n);
    for (const bad of ["0", "-1", "01", "1.5", "x"]) expect(problem(() => parseId(bad, at("--vehicle")))).to.match(/--vehicle/);
    expect(parseAddress(ADDRESS.toLowerCase(), at("--consumer"))).to.equal(ADDRESS);
    expect(problem(() => parseAddress("0x1234", at("--consumer")))).to.match(/^task --consumer: expected a 0x address/);
    expect(problem(() => parseAddress(ADDRESS.replace("C5", "c5"), at("--consumer")))).to.match(/invalid EIP-55 checksum/);
    expect(problem(() => parseAddress(`0x${"0".repeat(40)}`, at("--consumer")))).to.match(/zero address/);
    expect(parseAccountIndex("3", at("--owner-account"), 20)).to.equal(3);
    expect(problem(() => parseAccountIndex("20", at("--owner-account"), 20))).to.match(/account 20 does not exist: .* 20 local/);
    expect(parseAccountRef("5", at("--owner"), 20)).to.deep.equal({ kind: "index", index: 5 });
    expect(parseAccountRef(ADDRESS, at("--owner"), 20)).to.deep.equal({ kind: "address", address: ADDRESS });
    expect(problem(() => parseAccountRef("alice", at("--owner"), 20))).to.match(/index or a 0x address/);
    expect(parseSignature(`0x${"AB".repeat(65)}`, at("--owner-signature"))).to.equal(`0x${"ab".repeat(65)}`);
    for (const bad of ["0x", "0x123", "abcd", ""]) expect(problem(() => parseSignature(bad, at("--sig")))).to.match(/--sig/);
  }); // prettier-ignore

  it("future times: relative, ISO date, ISO date-time with zone, unix seconds", function () {
    const t = (v: string) => parseFutureTime(v, at("--expires"), NOW);
    expect(t("+30d")).to.equal(BigInt(NOW + 30 * 86_400));
    expect(t("+2w")).to.equal(BigInt(NOW + 14 * 86_400));
    expect(t("+90m")).to.equal(BigInt(NOW + 5400));
    expect(t("2027-01-31")).to.equal(BigInt(Date.UTC(2027, 0, 31) / 1000));
    expect(t("2027-01-31T12:00:00+02:00")).to.equal(BigInt(Date.UTC(2027, 0, 31, 10) / 1000));
    expect(t(String(NOW + 1))).to.equal(BigInt(NOW + 1));
    expect(problem(() => t("+0d"))).to.match(/^task --expires: .* is not in the future/);
    expect(problem(() => t("2020-01-01"))).to.match(/2020-01-01T00:00:00Z is not in the future/);
    expect(problem(() => t("2027-01-31T12:00"))).to.match(/expected \+<n>/); // no zone: ambiguous
    expect(problem(() => t("2027-02-30"))).to.match(/not a valid date: "2027-02-30"/);
    expect(problem(() => t("2027-01-31T24:30:00Z"))).to.match(/not a valid date/);
    expect(problem(() => t("30d"))).to.match(/expected \+<n>/);
    expect(problem(() => t(String(2n ** 64n)))).to.match(/must fit a uint64/);
    expect(isoOf(NOW)).to.match(/^2026-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});
