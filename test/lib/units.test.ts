import { expect } from "chai";
import fc from "fast-check";
import { InputError } from "../../lib/errors";
import { WEI_PER_DIMO, formatDimo, formatDimoRounded, parseDimo, parsePositiveInt } from "../../lib/units";

const where = { source: "rewards.csv", field: "amount", line: 7 };

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(InputError);
    return e as InputError;
  }
  throw new Error("expected an InputError");
}

describe("lib/units", function () {
  describe("parseDimo", function () {
    it("parses decimal DIMO into wei exactly", function () {
      expect(parseDimo("0", where)).to.equal(0n);
      expect(parseDimo("1", where)).to.equal(WEI_PER_DIMO);
      expect(parseDimo("1105000", where)).to.equal(1_105_000n * 10n ** 18n);
      expect(parseDimo("450000000", where)).to.equal(450_000_000n * 10n ** 18n);
      expect(parseDimo("0.5", where)).to.equal(5n * 10n ** 17n);
      expect(parseDimo("0.000000000000000001", where)).to.equal(1n);
      expect(parseDimo("1300029.959710292160200586", where)).to.equal(1_300_029_959_710_292_160_200_586n);
      expect(parseDimo("0.1", where)).to.equal(100_000_000_000_000_000n); // no float error
      expect(parseDimo(" 2.50 ", where)).to.equal(2_500_000_000_000_000_000n);
      expect(parseDimo("007", where)).to.equal(7n * WEI_PER_DIMO);
      expect(parseDimo("123456789012345678901234567890", where)).to.equal(
        123456789012345678901234567890n * WEI_PER_DIMO,
      );
    });

    for (const bad of [
      "-1",
      "-0.5",
      "+1",
      "1e6",
      "1E6",
      "1.5e3",
      "1.0000000000000000001",
      "0.0000000000000000001",
      "",
      " ",
      "abc",
      "1,000",
      "1_000",
      "0x10",
      ".5",
      "5.",
      "1.2.3",
      "Infinity",
      "NaN",
    ]) {
      it(`rejects ${JSON.stringify(bad)} naming the source, line and field`, function () {
        const e = errorOf(() => parseDimo(bad, where));
        expect(e.source).to.equal("rewards.csv");
        expect(e.field).to.equal("amount");
        expect(e.line).to.equal(7);
        expect(e.message).to.match(/^rewards\.csv:7 amount: /);
        expect(e.message).to.include(`"${bad}"`);
      });
    }

    it("names a CLI argument when used for one", function () {
      const e = errorOf(() => parseDimo("-5", { source: "argument", field: "--pool" }));
      expect(e.message).to.equal(
        'argument --pool: expected a non-negative decimal DIMO amount with at most 18 decimals, got "-5"',
      );
    });

    it("round-trips with formatDimo (property)", function () {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 10n ** 40n }), (wei) => {
          expect(parseDimo(formatDimo(wei), where)).to.equal(wei);
        }),
      );
    });
  });

  describe("formatDimo / formatDimoRounded", function () {
    it("formats exactly, trimming trailing zeros", function () {
      expect(formatDimo(0n)).to.equal("0");
      expect(formatDimo(5n * WEI_PER_DIMO)).to.equal("5");
      expect(formatDimo(1n)).to.equal("0.000000000000000001");
      expect(formatDimo(1_300_029_959_710_292_160_200_586n)).to.equal("1300029.959710292160200586");
      expect(formatDimo(-15n * 10n ** 17n)).to.equal("-1.5");
    });

    it("rounds down to whole DIMO with thousands separators", function () {
      expect(formatDimoRounded(1_300_029_959_710_292_160_200_586n)).to.equal("1,300,029");
      expect(formatDimoRounded(450_000_000n * WEI_PER_DIMO)).to.equal("450,000,000");
      expect(formatDimoRounded(999n * WEI_PER_DIMO)).to.equal("999");
      expect(formatDimoRounded(1_300_029_959_710_292_160_200_586n, 2)).to.equal("1,300,029.95");
      expect(formatDimoRounded(5n * 10n ** 16n, 2)).to.equal("0.05");
    });
  });

  describe("parsePositiveInt", function () {
    const arg = { source: "argument", field: "--years" };

    it("accepts integers from 1 to max", function () {
      expect(parsePositiveInt("1", arg)).to.equal(1);
      expect(parsePositiveInt(" 40 ", arg)).to.equal(40);
      expect(parsePositiveInt(52, arg)).to.equal(52);
      expect(parsePositiveInt("1000", arg, 1000)).to.equal(1000);
    });

    for (const bad of ["0", "-1", "1.5", "1e3", "abc", "", "0x10", "1001"]) {
      it(`rejects ${JSON.stringify(bad)} naming the field`, function () {
        const e = errorOf(() => parsePositiveInt(bad, arg, 1000));
        expect(e.field).to.equal("--years");
        expect(e.message).to.equal(`argument --years: expected an integer from 1 to 1000, got "${bad}"`);
      });
    }
  });
});
