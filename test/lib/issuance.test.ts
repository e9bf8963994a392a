import { expect } from "chai";
import fc from "fast-check";
import {
  BPS,
  DEFAULT_SCHEDULE_PARAMS,
  WEEK_SECONDS,
  amountOfWeek,
  amountOfWeeks,
  isoUtc,
  largestFirstWeekly,
  nextMonday0500Utc,
  scheduleFromParams,
  scheduleTotal,
  sumForFirstWeekly,
  totalWeeks,
  weekBounds,
  weekTable,
  weeklyAmounts,
  weeksEnded,
  yearTable,
  yearlyWeeklyAmounts,
} from "../../lib/issuance";

const E18 = 10n ** 18n;
const POOL = 450_000_000n * E18;
/** The default schedule's first weekly amount: 1,300,029.959710292160200586 DIMO. */
const FIRST_WEEKLY = 1_300_029_959_710_292_160_200_586n;
const GENESIS = Date.UTC(2026, 10, 30, 5, 0, 0) / 1000; // Monday 2026-11-30T05:00:00Z

const sum = (xs: bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

describe("lib/issuance", function () {
  describe("default schedule (450,000,000 DIMO, 40 years x 52 weeks, -15%/year)", function () {
    const s = scheduleFromParams(DEFAULT_SCHEDULE_PARAMS);
    const weeks = weeklyAmounts(s);

    it("has 2,080 weeks summing to exactly 450,000,000 x 10^18 wei", function () {
      expect(totalWeeks(s)).to.equal(2080);
      expect(weeks).to.have.length(2080);
      expect(sum(weeks)).to.equal(450_000_000_000_000_000_000_000_000n);
      expect(scheduleTotal(s)).to.equal(POOL);
      expect(amountOfWeeks(s, 0, 2080)).to.equal(POOL);
    });

    it("starts at 1,300,029.959710292160200586 DIMO a week (integer part 1300029)", function () {
      expect(s.firstWeekly).to.equal(FIRST_WEEKLY);
      expect(s.firstWeekly / E18).to.equal(1_300_029n);
      expect(weeks[0]).to.equal(FIRST_WEEKLY);
      expect(amountOfWeek(s, 0)).to.equal(FIRST_WEEKLY);
    });

    it("decays each year's weekly amount to exactly floor(prev * 8500 / 10000)", function () {
      const yearly = yearlyWeeklyAmounts(s);
      expect(yearly).to.have.length(40);
      for (let y = 1; y < 40; y++) expect(yearly[y]).to.equal((yearly[y - 1] * 8500n) / 10000n);
      for (let w = 0; w < 2079; w++) expect(weeks[w]).to.equal(yearly[Math.floor(w / 52)]);
    });

    it("has a remainder of 8 wei (< 2,080), added to the last week only", function () {
      expect(s.remainder).to.equal(8n);
      expect(s.remainder < 2080n).to.equal(true);
      const yearly = yearlyWeeklyAmounts(s);
      expect(weeks[2079]).to.equal(yearly[39] + 8n);
      expect(weeks[2078]).to.equal(yearly[39]);
      expect(52n * sum(yearly) + s.remainder).to.equal(POOL);
    });

    it("uses the largest first weekly amount that does not exceed the pool", function () {
      expect(sumForFirstWeekly(FIRST_WEEKLY, 52, 40, 1500) <= POOL).to.equal(true);
      expect(sumForFirstWeekly(FIRST_WEEKLY + 1n, 52, 40, 1500) > POOL).to.equal(true);
    });

    it("year table ends at the pool and week table is consistent", function () {
      const years = yearTable(s);
      expect(years).to.have.length(40);
      expect(years[0]).to.deep.include({ year: 1, weekly: FIRST_WEEKLY, yearly: FIRST_WEEKLY * 52n });
      expect(years[39].cumulative).to.equal(POOL);
      const table = weekTable(s, GENESIS);
      expect(table).to.have.length(2080);
      let cumulative = 0n;
      table.forEach((row, w) => {
        cumulative += row.amount;
        expect(row.week).to.equal(w);
        expect(row.start).to.equal(GENESIS + w * WEEK_SECONDS);
        expect(row.end).to.equal(GENESIS + (w + 1) * WEEK_SECONDS);
        expect(row.cumulative).to.equal(cumulative);
      });
      expect(cumulative).to.equal(POOL);
      expect(isoUtc(table[0].start)).to.equal("2026-11-30T05:00:00Z");
      expect(isoUtc(table[2079].end)).to.equal("2066-10-11T05:00:00Z");
    });
  });

  describe("fixed first weekly amount (1,105,000 DIMO)", function () {
    const fixed = 1_105_000n * E18;
    const s = scheduleFromParams({ ...DEFAULT_SCHEDULE_PARAMS, pool: 0n, firstWeekly: fixed });

    it("starts at exactly 1,105,000 DIMO, decays 15% a year for 40 years, remainder 0", function () {
      expect(s.firstWeekly).to.equal(fixed);
      expect(s.remainder).to.equal(0n);
      const weeks = weeklyAmounts(s);
      expect(weeks).to.have.length(2080);
      expect(weeks[0]).to.equal(1_105_000_000_000_000_000_000_000n);
      const yearly = yearlyWeeklyAmounts(s);
      expect(yearly).to.have.length(40);
      expect(yearly[1]).to.equal(939_250n * E18);
      for (let y = 1; y < 40; y++) expect(yearly[y]).to.equal((yearly[y - 1] * 8500n) / 10000n);
      expect(weeks[2079]).to.equal(yearly[39]);
      expect(scheduleTotal(s)).to.equal(52n * sum(yearly));
      expect(sum(weeks)).to.equal(scheduleTotal(s));
    });
  });

  describe("parameter validation", function () {
    it("rejects unusable parameters", function () {
      const p = DEFAULT_SCHEDULE_PARAMS;
      expect(() => scheduleFromParams({ ...p, decayBps: 10_000 })).to.throw(RangeError, /decayBps/);
      expect(() => scheduleFromParams({ ...p, decayBps: -1 })).to.throw(RangeError, /decayBps/);
      expect(() => scheduleFromParams({ ...p, years: 0 })).to.throw(RangeError, /years/);
      expect(() => scheduleFromParams({ ...p, weeksPerYear: 1.5 })).to.throw(RangeError, /weeksPerYear/);
      expect(() => scheduleFromParams({ ...p, pool: -1n })).to.throw(RangeError, /pool/);
    });
  });

  describe("pool or fixed first weekly amount, as IssuanceSchedule.fromParams", function () {
    it("refuses both a pool and a fixed first weekly amount", function () {
      expect(() => scheduleFromParams({ ...DEFAULT_SCHEDULE_PARAMS, firstWeekly: 1n })).to.throw(
        RangeError,
        /either a pool .* or a fixed first weekly amount/,
      );
    });

    it("derives from the pool when the fixed amount is zero", function () {
      expect(scheduleFromParams({ ...DEFAULT_SCHEDULE_PARAMS, firstWeekly: 0n })).to.deep.equal(
        scheduleFromParams(DEFAULT_SCHEDULE_PARAMS),
      );
    });
  });

  describe("properties (fast-check)", function () {
    const params = fc.record({
      pool: fc.bigInt({ min: 0n, max: 10n ** 30n }),
      years: fc.integer({ min: 1, max: 60 }),
      weeksPerYear: fc.integer({ min: 1, max: 53 }),
      decayBps: fc.integer({ min: 0, max: 9999 }),
    });

    it("firstWeekly is the largest value not exceeding the pool; weeks sum to the pool exactly", function () {
      fc.assert(
        fc.property(params, (p) => {
          const s = scheduleFromParams(p);
          expect(s.firstWeekly).to.equal(largestFirstWeekly(p.pool, p.weeksPerYear, p.years, p.decayBps));
          expect(sumForFirstWeekly(s.firstWeekly, p.weeksPerYear, p.years, p.decayBps) <= p.pool).to.equal(true);
          expect(sumForFirstWeekly(s.firstWeekly + 1n, p.weeksPerYear, p.years, p.decayBps) > p.pool).to.equal(true);
          expect(s.remainder >= 0n).to.equal(true);
          expect(s.remainder < BigInt(p.weeksPerYear * p.years)).to.equal(true);
          expect(scheduleTotal(s)).to.equal(p.pool);
          const weeks = weeklyAmounts(s);
          expect(weeks).to.have.length(p.weeksPerYear * p.years);
          expect(sum(weeks)).to.equal(p.pool);
          const keep = BPS - BigInt(p.decayBps);
          const yearly = yearlyWeeklyAmounts(s);
          for (let y = 1; y < yearly.length; y++) expect(yearly[y]).to.equal((yearly[y - 1] * keep) / BPS);
        }),
        { numRuns: 300 },
      );
    });

    it("amountOfWeeks(from, to) equals the sum of the weeklyAmounts slice (clipped)", function () {
      const small = fc.record({
        pool: fc.bigInt({ min: 0n, max: 10n ** 27n }),
        years: fc.integer({ min: 1, max: 12 }),
        weeksPerYear: fc.integer({ min: 1, max: 12 }),
        decayBps: fc.integer({ min: 0, max: 9999 }),
      });
      fc.assert(
        fc.property(small, fc.nat(160), fc.nat(160), (p, a, b) => {
          const s = scheduleFromParams(p);
          const weeks = weeklyAmounts(s);
          expect(amountOfWeeks(s, a, b)).to.equal(sum(weeks.slice(a, Math.max(a, b))));
          expect(amountOfWeek(s, a)).to.equal(weeks[a] ?? 0n);
        }),
        { numRuns: 300 },
      );
    });

    it("a fixed first weekly amount gives no remainder and is kept as given", function () {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 1n, max: 10n ** 27n }),
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 1, max: 53 }),
          fc.integer({ min: 0, max: 9999 }),
          (firstWeekly, years, weeksPerYear, decayBps) => {
            const s = scheduleFromParams({ pool: 0n, firstWeekly, years, weeksPerYear, decayBps });
            expect(s.firstWeekly).to.equal(firstWeekly);
            expect(s.remainder).to.equal(0n);
            expect(weeklyAmounts(s)[0]).to.equal(firstWeekly);
            expect(scheduleTotal(s)).to.equal(sumForFirstWeekly(firstWeekly, weeksPerYear, years, decayBps));
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe("week arithmetic", function () {
    it("week k covers [genesis + k*604800, genesis + (k+1)*604800)", function () {
      expect(WEEK_SECONDS).to.equal(604_800);
      expect(weekBounds(GENESIS, 0)).to.deep.equal({ start: GENESIS, end: GENESIS + 604_800 });
      expect(weekBounds(GENESIS, 2079)).to.deep.equal({
        start: GENESIS + 2079 * 604_800,
        end: GENESIS + 2080 * 604_800,
      });
    });

    it("weeksEnded counts a week as ended exactly at its end boundary", function () {
      expect(weeksEnded(GENESIS, 0)).to.equal(0);
      expect(weeksEnded(GENESIS, GENESIS - 1)).to.equal(0);
      expect(weeksEnded(GENESIS, GENESIS)).to.equal(0);
      expect(weeksEnded(GENESIS, GENESIS + 604_799)).to.equal(0);
      expect(weeksEnded(GENESIS, GENESIS + 604_800)).to.equal(1);
      fc.assert(
        fc.property(fc.nat(5000), (k) => {
          expect(weeksEnded(GENESIS, GENESIS + k * WEEK_SECONDS)).to.equal(k);
          if (k > 0) expect(weeksEnded(GENESIS, GENESIS + k * WEEK_SECONDS - 1)).to.equal(k - 1);
          expect(weeksEnded(GENESIS, weekBounds(GENESIS, k).end)).to.equal(k + 1);
        }),
      );
    });

    it("nextMonday0500Utc finds the first Monday 05:00 UTC at or after a time", function () {
      const t = (iso: string): number => Date.parse(iso) / 1000;
      expect(nextMonday0500Utc(t("2026-11-25T00:00:00Z"))).to.equal(GENESIS);
      expect(nextMonday0500Utc(GENESIS)).to.equal(GENESIS);
      expect(nextMonday0500Utc(GENESIS - 1)).to.equal(GENESIS);
      expect(nextMonday0500Utc(GENESIS + 1)).to.equal(GENESIS + WEEK_SECONDS);
      expect(nextMonday0500Utc(t("2026-11-30T00:00:00Z"))).to.equal(GENESIS);
      expect(nextMonday0500Utc(t("2026-11-29T23:59:59Z"))).to.equal(GENESIS);
      expect(isoUtc(nextMonday0500Utc(t("2026-12-31T12:00:00Z")))).to.equal("2027-01-04T05:00:00Z");
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 4_102_444_800 }), (ts) => {
          const m = nextMonday0500Utc(ts);
          const d = new Date(m * 1000);
          expect(d.getUTCDay()).to.equal(1);
          expect([d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]).to.deep.equal([5, 0, 0]);
          expect(m >= ts).to.equal(true);
          expect(m - ts < WEEK_SECONDS).to.equal(true);
        }),
      );
    });

    it("isoUtc prints whole-second UTC times without milliseconds", function () {
      expect(isoUtc(GENESIS)).to.equal("2026-11-30T05:00:00Z");
      expect(isoUtc(0)).to.equal("1970-01-01T00:00:00Z");
    });
  });
});
