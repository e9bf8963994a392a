import { expect } from "chai";
import { getAddress } from "ethers";
import { InputError } from "../../../lib/errors";
import { parseActivityCsv, parseReferralCodes, parseSnapshotCsv } from "../../../lib/rewards/activity";

const HEADER = "vehicle_id,active,km_driven,data_types,referral_code";
const KNOWN = new Set(["1", "2", "3", "10"]);
const REFERRER = "0x1111111111111111111111111111111111111111";
const MIXED = getAddress("0xabcdefabcdefabcdefabcdefabcdefabcdefabcd");

function errorOf(text: string): InputError {
  try {
    parseActivityCsv(text, "activity-week-3.csv", KNOWN);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

describe("lib/rewards/activity", function () {
  describe("parseActivityCsv", function () {
    it("parses rows: exact km in metres, data types, checksummed referral codes", function () {
      const rows = parseActivityCsv(
        `${HEADER}\n1,true,15.999,location;odometer,\n2,false,0,,${MIXED.toLowerCase()}\n10,true,16,,\n`,
        "a.csv",
        KNOWN,
      );
      expect(rows).to.deep.equal([
        {
          vehicleId: "1",
          active: true,
          kmMeters: 15_999,
          dataTypes: ["location", "odometer"],
          referralCode: null,
          line: 2,
        },
        { vehicleId: "2", active: false, kmMeters: 0, dataTypes: [], referralCode: MIXED, line: 3 },
        { vehicleId: "10", active: true, kmMeters: 16_000, dataTypes: [], referralCode: null, line: 4 },
      ]);
    });

    it("accepts a header-only file (nobody active)", function () {
      expect(parseActivityCsv(`${HEADER}\n`, "a.csv", KNOWN)).to.deep.equal([]);
    });

    it("refuses a wrong header", function () {
      const e = errorOf("vehicle,active,km_driven,data_types,referral_code\n1,true,1,,\n");
      expect(e.message).to.equal(
        `activity-week-3.csv:1 header: expected "${HEADER}", got "vehicle,active,km_driven,data_types,referral_code"`,
      );
    });

    it("refuses malformed CSV, naming the line", function () {
      const e = errorOf(`${HEADER}\n1,true,1,,\n2,true,"1,,\n`);
      expect(e.field).to.equal("csv");
      expect(e.problem).to.match(/^malformed CSV: Quote Not Closed/);
      expect(e.source).to.equal("activity-week-3.csv");
    });

    it("refuses a row with a missing column", function () {
      const e = errorOf(`${HEADER}\n1,true,1,,\n2,true,1\n`);
      expect(e.field).to.equal("csv");
      expect(e.line).to.equal(3);
    });

    it("refuses an unknown vehicle id", function () {
      expect(errorOf(`${HEADER}\n1,true,1,,\n4,true,1,,\n`).message).to.equal(
        "activity-week-3.csv:3 vehicle_id: vehicle 4 is not in the registry snapshot",
      );
    });

    it("refuses a vehicle id that is not a positive integer", function () {
      expect(errorOf(`${HEADER}\n01,true,1,,\n`).message).to.equal(
        'activity-week-3.csv:2 vehicle_id: expected a positive integer, got "01"',
      );
    });

    it("refuses duplicate rows of one vehicle", function () {
      expect(errorOf(`${HEADER}\n2,true,1,,\n1,true,1,,\n2,false,0,,\n`).message).to.equal(
        "activity-week-3.csv:4 vehicle_id: duplicate row for vehicle 2 (first at line 2)",
      );
    });

    it("refuses a negative distance", function () {
      expect(errorOf(`${HEADER}\n1,true,-3.5,,\n`).message).to.equal(
        'activity-week-3.csv:2 km_driven: must not be negative, got "-3.5"',
      );
    });

    it("refuses a non-numeric distance", function () {
      expect(errorOf(`${HEADER}\n1,true,12km,,\n`).message).to.equal(
        'activity-week-3.csv:2 km_driven: expected a non-negative number of km with at most 3 decimals, got "12km"',
      );
    });

    it("refuses a distance with more than 3 decimals", function () {
      expect(errorOf(`${HEADER}\n1,true,1.0001,,\n`).field).to.equal("km_driven");
    });

    it("refuses an unknown data type", function () {
      expect(errorOf(`${HEADER}\n1,true,1,location;vin,\n`).message).to.match(
        /^activity-week-3\.csv:2 data_types: unknown data type "vin" \(expected location, odometer/,
      );
    });

    it("refuses an active value other than true or false", function () {
      expect(errorOf(`${HEADER}\n1,yes,1,,\n`).field).to.equal("active");
    });

    it("refuses a referral code that is not an address", function () {
      expect(errorOf(`${HEADER}\n1,true,1,,0x1234\n`).message).to.equal(
        'activity-week-3.csv:2 referral_code: expected empty or a 0x address, got "0x1234"',
      );
    });

    it("refuses a referral code with a wrong checksum", function () {
      const bad = MIXED.slice(0, -1) + (MIXED.endsWith("d") ? "D" : "d");
      expect(errorOf(`${HEADER}\n1,true,1,,${bad}\n`).field).to.equal("referral_code");
    });

    it("refuses the zero address as referrer", function () {
      expect(errorOf(`${HEADER}\n1,true,1,,0x${"0".repeat(40)}\n`).field).to.equal("referral_code");
    });

    it("accepts a lowercase referral code and checksums it", function () {
      const [row] = parseActivityCsv(`${HEADER}\n3,true,1,,${REFERRER}\n`, "a.csv", KNOWN);
      expect(row.referralCode).to.equal(getAddress(REFERRER));
    });
  });

  describe("parseSnapshotCsv (adapter for tests and the benchmark)", function () {
    it("reads owners, powertrains, devices and connection kinds", function () {
      const rows = parseSnapshotCsv(
        "vehicle_id,owner,powertrain,make,model,year,paired_device,connection_kinds\n" +
          `7,${REFERRER},BEV,Tesla,Model 3,2022,,oem\n8,${REFERRER},ice,Ford,F-150,2019,42,software;oem\n`,
        "snapshot.csv",
      );
      expect(rows).to.deep.equal([
        {
          vehicleId: "7",
          owner: getAddress(REFERRER),
          powertrain: "BEV",
          pairedDevice: null,
          connectionKinds: ["oem"],
        },
        {
          vehicleId: "8",
          owner: getAddress(REFERRER),
          powertrain: "ICE",
          pairedDevice: 42,
          connectionKinds: ["software", "oem"],
        },
      ]);
    });

    it("names the line and column of a bad value", function () {
      expect(() =>
        parseSnapshotCsv(
          "vehicle_id,owner,powertrain,make,model,year,paired_device,connection_kinds\n1,0x12,BEV,a,b,1,,\n",
          "snapshot.csv",
        ),
      ).to.throw(InputError, 'snapshot.csv:2 owner: expected a 0x address, got "0x12"');
    });
  });
});

describe("parseReferralCodes (rewards:activity --referral-codes)", function () {
  const A = "0x" + "ab".repeat(20);
  const problem = (text: string) => {
    try {
      parseReferralCodes(text, "codes.csv");
    } catch (e) {
      return (e as Error).message;
    }
    return "accepted";
  };
  it("reads vehicle → referrer, checksummed", function () {
    const m = parseReferralCodes(`vehicle_id,referral_code\n7,${A}\n12,${A.toUpperCase().replace("0X", "0x")}\n`, "c");
    expect([...m.entries()]).to.deep.equal([
      ["7", getAddress(A)],
      ["12", getAddress(A)],
    ]);
  });
  it("refuses a bad header, id, address, the zero address and a vehicle twice, naming file, line and field", function () {
    expect(problem("vehicle,code\n")).to.equal(
      'codes.csv:1 header: expected "vehicle_id,referral_code", got "vehicle,code"',
    );
    expect(problem(`vehicle_id,referral_code\n0,${A}\n`)).to.equal(
      'codes.csv:2 vehicle_id: expected a positive integer, got "0"',
    );
    expect(problem("vehicle_id,referral_code\n7,0x12\n")).to.equal(
      `codes.csv:2 referral_code: expected the referrer's 0x address, got "0x12"`,
    );
    expect(problem(`vehicle_id,referral_code\n7,0x${"00".repeat(20)}\n`)).to.match(/^codes\.csv:2 referral_code:/);
    expect(problem(`vehicle_id,referral_code\n7,${A}\n7,${A}\n`)).to.equal(
      "codes.csv:3 vehicle_id: vehicle 7 is given twice",
    );
  });
});
