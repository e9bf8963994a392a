// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Issuance vault
/// @notice Holds the rewards issuance pool and releases it week by week, following an immutable
/// schedule (see `IssuanceSchedule`), to the reward distributor.
/// @dev Warning: week `w` can be released only after it has ended (`genesis + (w + 1) * 1 weeks`),
/// only once, and only to a holder of `DISTRIBUTOR_ROLE`, who is always the recipient. The schedule is
/// fixed at deployment: nobody, the Timelock included, can release faster. The Timelock (role admin)
/// decides who the distributor is.
interface IIssuanceVault {
    /// @notice No ended week is left to release.
    /// @param nextWeek The first week not yet released.
    /// @param weeksEnded The number of weeks that have ended (weeks `[0, weeksEnded)`).
    error IssuanceNothingToRelease(uint256 nextWeek, uint256 weeksEnded);

    /// @notice The vault's balance does not cover the weeks being released.
    error IssuanceInsufficientBalance(uint256 balance, uint256 needed);

    /// @notice A zero address was given for the token or the admin.
    error IssuanceZeroAddress();

    /// @notice Nothing above what the schedule still owes is held.
    error IssuanceNoExcess(uint256 balance, uint256 owed);

    /// @notice Emitted after DIMO sent to the vault beyond what the schedule owes was returned to `to`.
    event ExcessSwept(address indexed to, uint256 amount);

    /// @notice Emitted after weeks `[fromWeek, toWeek)` were released to `distributor`.
    event WeeksReleased(address indexed distributor, uint256 indexed fromWeek, uint256 toWeek, uint256 amount);

    /// @notice Releases every ended, unreleased week to the caller.
    /// @dev Only `DISTRIBUTOR_ROLE`. Gas is bounded by the number of schedule years, not of weeks.
    /// @return fromWeek First week released.
    /// @return toWeek One past the last week released.
    /// @return amount DIMO released, in wei.
    function release() external returns (uint256 fromWeek, uint256 toWeek, uint256 amount);

    /// @notice Sends DIMO held beyond what the schedule still owes (`scheduleTotal - totalReleased`), e.g.
    /// tokens sent here by mistake, to `to`. Only the Timelock; the schedule's own funds cannot be touched.
    function sweepExcess(address to) external returns (uint256 amount);

    /// @notice What `release` would pay now: weeks `[fromWeek, toWeek)` and their amount in wei.
    function releasable() external view returns (uint256 fromWeek, uint256 toWeek, uint256 amount);

    /// @notice The DIMO token.
    function token() external view returns (IERC20);

    /// @notice Start timestamp of week 0.
    function genesis() external view returns (uint256);

    /// @notice Number of weeks that have ended now.
    function weeksEnded() external view returns (uint256);

    /// @notice The week in progress now (0 before genesis).
    function currentWeek() external view returns (uint256);

    /// @notice First week not yet released; weeks `[0, nextWeek)` are released.
    function nextWeek() external view returns (uint256);

    /// @notice Total released so far, in wei.
    function totalReleased() external view returns (uint256);

    /// @notice Amount of week `week` in wei (the last week includes the rounding remainder).
    function weekAmount(uint256 week) external view returns (uint256);

    /// @notice Sum of weeks `[fromWeek, toWeek)` in wei.
    function amountOfWeeks(uint256 fromWeek, uint256 toWeek) external view returns (uint256);

    /// @notice Start timestamp of week `week`.
    function weekStart(uint256 week) external view returns (uint256);

    /// @notice The schedule parameters.
    /// @return firstWeekly Year-0 weekly amount (wei).
    /// @return remainder Rounding remainder paid with the last week (wei).
    /// @return weeksPerYear Weeks per schedule year.
    /// @return yearCount Number of years.
    /// @return decayBps Yearly decay in basis points.
    function schedule()
        external
        view
        returns (uint256 firstWeekly, uint256 remainder, uint256 weeksPerYear, uint256 yearCount, uint256 decayBps);

    /// @notice Number of weeks in the schedule.
    function totalWeeks() external view returns (uint256);

    /// @notice Sum of the whole schedule in wei.
    function scheduleTotal() external view returns (uint256);
}
