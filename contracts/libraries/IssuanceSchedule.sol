// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title IssuanceSchedule
/// @notice Pure maths of the DIMO issuance schedule and its week arithmetic.
/// @dev The rounding rule, identical to `lib/issuance.ts`:
///  1. Year `y`'s weekly amount is `weekly(0) = firstWeekly` and
///     `weekly(y) = floor(weekly(y - 1) * (BPS - decayBps) / BPS)`: each year is the previous one
///     decayed, rounded down, computed year after year (never from a closed form).
///  2. When the schedule is derived from a pool, `firstWeekly` is the LARGEST integer for which
///     `weeksPerYear * sum(weekly(y))` does not exceed the pool, and the rounding `remainder`
///     (pool minus that sum, always < weeksPerYear * yearCount wei) is added to the very last week.
///     The weeks then sum to exactly the pool.
///  3. With a fixed `firstWeekly` the remainder is zero and the total is whatever the years sum to.
/// Week `w` covers `[genesis + w * WEEK, genesis + (w + 1) * WEEK)`.
library IssuanceSchedule {
    /// @notice One week, in seconds.
    uint256 internal constant WEEK = 604_800; // seconds
    /// @notice Basis points denominator.
    uint256 internal constant BPS = 10_000; // basis points
    /// @dev Fixed-point scale of the decay factors used only to estimate `firstWeekly`.
    uint256 private constant _FACTOR_SCALE = 1e36;

    /// @notice A complete, immutable issuance schedule.
    /// @param firstWeekly Weekly amount of year 0, in wei.
    /// @param remainder Rounding remainder added to the last week, in wei.
    /// @param weeksPerYear Weeks in one schedule year (52 by default).
    /// @param yearCount Number of years (40 by default).
    /// @param decayBps Yearly decay of the weekly amount, in basis points (1500 = 15% by default).
    struct Schedule {
        uint256 firstWeekly;
        uint256 remainder;
        uint256 weeksPerYear;
        uint256 yearCount;
        uint256 decayBps;
    }

    /// @notice What a deployment configures: either a `pool` to spread exactly (rule 2, `firstWeekly == 0`)
    /// or a fixed `firstWeekly` (rule 3, `pool` must then be zero).
    struct Params {
        uint256 pool;
        uint256 firstWeekly;
        uint256 weeksPerYear;
        uint256 yearCount;
        uint256 decayBps;
    }

    /// @notice The schedule parameters are unusable.
    error IssuanceInvalidParameters(uint256 weeksPerYear, uint256 yearCount, uint256 decayBps);

    /// @notice Both a pool and a fixed first weekly amount were given.
    error IssuanceAmbiguousParameters(uint256 pool, uint256 firstWeekly);

    /// @notice Builds a schedule from deployment parameters: `fromFirstWeekly` when `p.firstWeekly` is set,
    /// `fromPool` otherwise.
    function fromParams(Params memory p) internal pure returns (Schedule memory) {
        if (p.firstWeekly != 0) {
            if (p.pool != 0) revert IssuanceAmbiguousParameters(p.pool, p.firstWeekly);
            return fromFirstWeekly(p.firstWeekly, p.weeksPerYear, p.yearCount, p.decayBps);
        }
        return fromPool(p.pool, p.weeksPerYear, p.yearCount, p.decayBps);
    }

    /// @notice Builds the schedule whose weeks sum to exactly `pool` (rule 2).
    function fromPool(
        uint256 pool,
        uint256 weeksPerYear,
        uint256 yearCount,
        uint256 decayBps
    ) internal pure returns (Schedule memory s) {
        _validate(weeksPerYear, yearCount, decayBps);
        uint256 first = _largestFirstWeekly(pool, weeksPerYear, yearCount, decayBps);
        s = Schedule(first, 0, weeksPerYear, yearCount, decayBps);
        s.remainder = pool - sumOfYears(s);
    }

    /// @notice Builds the schedule that starts at a fixed weekly amount (rule 3).
    function fromFirstWeekly(
        uint256 firstWeekly,
        uint256 weeksPerYear,
        uint256 yearCount,
        uint256 decayBps
    ) internal pure returns (Schedule memory s) {
        _validate(weeksPerYear, yearCount, decayBps);
        s = Schedule(firstWeekly, 0, weeksPerYear, yearCount, decayBps);
    }

    /// @notice Number of weeks in the schedule.
    function totalWeeks(Schedule memory s) internal pure returns (uint256) {
        return s.weeksPerYear * s.yearCount;
    }

    /// @notice Sum of every week, remainder included, in wei.
    function total(Schedule memory s) internal pure returns (uint256) {
        return sumOfYears(s) + s.remainder;
    }

    /// @notice Sum of every week without the remainder: `weeksPerYear * sum(weekly(y))`, in wei.
    function sumOfYears(Schedule memory s) internal pure returns (uint256 sum) {
        return _sumFor(s.firstWeekly, s.weeksPerYear, s.yearCount, s.decayBps);
    }

    /// @notice Weekly amount of schedule year `year` (zero past the last year), in wei.
    function weeklyOfYear(Schedule memory s, uint256 year) internal pure returns (uint256 weekly) {
        if (year >= s.yearCount) return 0;
        weekly = s.firstWeekly;
        uint256 keep = BPS - s.decayBps;
        for (uint256 y = 0; y < year; ++y) {
            weekly = (weekly * keep) / BPS;
        }
    }

    /// @notice Amount of week `week` (the last week includes the remainder), in wei.
    function amountOfWeek(Schedule memory s, uint256 week) internal pure returns (uint256) {
        return amountOfWeeks(s, week, week + 1);
    }

    /// @notice Sum of weeks `[fromWeek, toWeek)`, clipped to the schedule, in wei.
    /// @dev Cost is O(yearCount) whatever the number of weeks: whole years are summed at once.
    function amountOfWeeks(Schedule memory s, uint256 fromWeek, uint256 toWeek) internal pure returns (uint256 sum) {
        uint256 last = totalWeeks(s);
        if (toWeek > last) toWeek = last;
        if (fromWeek >= toWeek) return 0;
        uint256 k = s.weeksPerYear;
        uint256 keep = BPS - s.decayBps;
        uint256 weekly = s.firstWeekly;
        uint256 yearStart = 0;
        for (uint256 y = 0; y < s.yearCount && yearStart < toWeek; ++y) {
            uint256 yearEnd = yearStart + k;
            uint256 lo = Math.max(fromWeek, yearStart);
            uint256 hi = Math.min(toWeek, yearEnd);
            // slither-disable-next-line divide-before-multiply -- each year's weekly amount is floored, by specification (lib/issuance.ts does the same)
            if (lo < hi) sum += (hi - lo) * weekly;
            weekly = (weekly * keep) / BPS;
            yearStart = yearEnd;
        }
        if (toWeek == last) sum += s.remainder;
    }

    /// @notice Start timestamp of week `week`.
    function weekStart(uint256 genesis, uint256 week) internal pure returns (uint256) {
        return genesis + week * WEEK;
    }

    /// @notice Number of weeks that have fully ended at `timestamp` (weeks `[0, n)` have ended).
    function weeksEnded(uint256 genesis, uint256 timestamp) internal pure returns (uint256) {
        if (timestamp < genesis) return 0;
        return (timestamp - genesis) / WEEK;
    }

    /// @dev `weeksPerYear * sum_y weekly(y)` for a given first weekly amount.
    function _sumFor(
        uint256 firstWeekly,
        uint256 weeksPerYear,
        uint256 yearCount,
        uint256 decayBps
    ) private pure returns (uint256 sum) {
        uint256 keep = BPS - decayBps;
        uint256 weekly = firstWeekly;
        for (uint256 y = 0; y < yearCount; ++y) {
            sum += weekly;
            weekly = (weekly * keep) / BPS;
        }
        sum *= weeksPerYear;
    }

    /// @dev Largest `w` with `_sumFor(w) <= pool`. `_sumFor` grows by at least `weeksPerYear` per unit of
    /// `w` (year 0 alone adds `weeksPerYear`), which bounds every correction step below.
    function _largestFirstWeekly(
        uint256 pool,
        uint256 weeksPerYear,
        uint256 yearCount,
        uint256 decayBps
    ) private pure returns (uint256) {
        // Estimate from fixed-point decay factors, then correct exactly.
        uint256 keep = BPS - decayBps;
        uint256 factor = _FACTOR_SCALE;
        uint256 factorSum = 0;
        for (uint256 y = 0; y < yearCount; ++y) {
            factorSum += factor;
            factor = (factor * keep) / BPS;
        }
        uint256 lo = Math.mulDiv(pool, _FACTOR_SCALE, factorSum * weeksPerYear);
        uint256 sumLo = _sumFor(lo, weeksPerYear, yearCount, decayBps);
        if (sumLo > pool) {
            // Each unit below removes at least `weeksPerYear` from the sum.
            uint256 down = Math.ceilDiv(sumLo - pool, weeksPerYear);
            // The estimate overshoots by far less than `lo * weeksPerYear`, so `down < lo` (checked anyway).
            lo -= down;
            sumLo = _sumFor(lo, weeksPerYear, yearCount, decayBps);
        }
        // Invariant: _sumFor(lo) <= pool < _sumFor(hi).
        uint256 hi = lo + (pool - sumLo) / weeksPerYear + 1;
        while (hi - lo > 1) {
            uint256 mid = lo + (hi - lo) / 2;
            if (_sumFor(mid, weeksPerYear, yearCount, decayBps) <= pool) lo = mid;
            else hi = mid;
        }
        return lo;
    }

    function _validate(uint256 weeksPerYear, uint256 yearCount, uint256 decayBps) private pure {
        if (weeksPerYear == 0 || yearCount == 0 || decayBps >= BPS) {
            revert IssuanceInvalidParameters(weeksPerYear, yearCount, decayBps);
        }
    }
}
