// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IssuanceSchedule} from "../libraries/IssuanceSchedule.sol";

/// @dev Test-only wrapper exposing the pure schedule library.
contract IssuanceScheduleHarness {
    using IssuanceSchedule for IssuanceSchedule.Schedule;

    function fromParams(IssuanceSchedule.Params memory p) external pure returns (IssuanceSchedule.Schedule memory) {
        return IssuanceSchedule.fromParams(p);
    }

    function weeklyAmounts(IssuanceSchedule.Params memory p) external pure returns (uint256[] memory amounts) {
        IssuanceSchedule.Schedule memory s = IssuanceSchedule.fromParams(p);
        uint256 n = s.totalWeeks();
        amounts = new uint256[](n);
        for (uint256 w = 0; w < n; ++w) amounts[w] = s.amountOfWeek(w);
    }

    function weeklyOfYear(IssuanceSchedule.Params memory p, uint256 year) external pure returns (uint256) {
        return IssuanceSchedule.fromParams(p).weeklyOfYear(year);
    }

    function amountOfWeeks(
        IssuanceSchedule.Params memory p,
        uint256 fromWeek,
        uint256 toWeek
    ) external pure returns (uint256) {
        return IssuanceSchedule.fromParams(p).amountOfWeeks(fromWeek, toWeek);
    }

    function total(IssuanceSchedule.Params memory p) external pure returns (uint256) {
        return IssuanceSchedule.fromParams(p).total();
    }

    function weeksEnded(uint256 genesis, uint256 timestamp) external pure returns (uint256) {
        return IssuanceSchedule.weeksEnded(genesis, timestamp);
    }

    function weekStart(uint256 genesis, uint256 week) external pure returns (uint256) {
        return IssuanceSchedule.weekStart(genesis, week);
    }
}
