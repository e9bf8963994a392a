// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IIssuanceVault} from "./interfaces/IIssuanceVault.sol";
import {IssuanceSchedule} from "./libraries/IssuanceSchedule.sol";

/// @title IssuanceVault
/// @notice See {IIssuanceVault}.
contract IssuanceVault is IIssuanceVault, AccessControl {
    using SafeERC20 for IERC20;
    using IssuanceSchedule for IssuanceSchedule.Schedule;

    /// @notice Role of the reward distributor, the only possible recipient of releases.
    bytes32 public constant DISTRIBUTOR_ROLE = keccak256("DISTRIBUTOR_ROLE");

    /// @inheritdoc IIssuanceVault
    IERC20 public immutable token;
    /// @inheritdoc IIssuanceVault
    uint256 public immutable genesis; // unix seconds

    uint256 private immutable _firstWeekly; // wei
    uint256 private immutable _remainder; // wei
    uint256 private immutable _weeksPerYear;
    uint256 private immutable _yearCount;
    uint256 private immutable _decayBps; // basis points

    uint256 private _nextWeek;
    uint256 private _totalReleased; // wei

    /// @param token_ The DIMO token.
    /// @param genesis_ Start of week 0 (unix seconds).
    /// @param params Schedule parameters: a pool spread exactly, or a fixed first weekly amount. The schedule
    /// (first weekly amount and rounding remainder) is derived here, on chain, by `IssuanceSchedule`.
    /// @param admin Holder of `DEFAULT_ADMIN_ROLE` (the Timelock).
    constructor(IERC20 token_, uint256 genesis_, IssuanceSchedule.Params memory params, address admin) {
        if (address(token_) == address(0) || admin == address(0)) revert IssuanceZeroAddress();
        IssuanceSchedule.Schedule memory schedule_ = IssuanceSchedule.fromParams(params);
        token = token_;
        genesis = genesis_;
        _firstWeekly = schedule_.firstWeekly;
        _remainder = schedule_.remainder;
        _weeksPerYear = schedule_.weeksPerYear;
        _yearCount = schedule_.yearCount;
        _decayBps = schedule_.decayBps;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IIssuanceVault
    function release() external onlyRole(DISTRIBUTOR_ROLE) returns (uint256 fromWeek, uint256 toWeek, uint256 amount) {
        (fromWeek, toWeek, amount) = releasable();
        // slither-disable-next-line incorrect-equality -- week numbers, not balances: nothing an outsider can nudge
        if (fromWeek == toWeek) revert IssuanceNothingToRelease(fromWeek, weeksEnded());
        uint256 balance = token.balanceOf(address(this));
        if (balance < amount) revert IssuanceInsufficientBalance(balance, amount);
        _nextWeek = toWeek;
        _totalReleased += amount;
        token.safeTransfer(msg.sender, amount);
        emit WeeksReleased(msg.sender, fromWeek, toWeek, amount);
    }

    /// @inheritdoc IIssuanceVault
    function sweepExcess(address to) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 amount) {
        if (to == address(0)) revert IssuanceZeroAddress();
        uint256 balance = token.balanceOf(address(this));
        uint256 owed = _schedule().total() - _totalReleased;
        if (balance <= owed) revert IssuanceNoExcess(balance, owed);
        amount = balance - owed;
        token.safeTransfer(to, amount);
        emit ExcessSwept(to, amount);
    }

    /// @inheritdoc IIssuanceVault
    function releasable() public view returns (uint256 fromWeek, uint256 toWeek, uint256 amount) {
        IssuanceSchedule.Schedule memory s = _schedule();
        fromWeek = _nextWeek;
        toWeek = weeksEnded();
        uint256 last = s.totalWeeks();
        if (toWeek > last) toWeek = last;
        // toWeek >= fromWeek: fromWeek was set to an earlier, clipped value of the same non-decreasing count.
        amount = s.amountOfWeeks(fromWeek, toWeek);
    }

    /// @inheritdoc IIssuanceVault
    function weeksEnded() public view returns (uint256) {
        return IssuanceSchedule.weeksEnded(genesis, block.timestamp);
    }

    /// @inheritdoc IIssuanceVault
    function currentWeek() external view returns (uint256) {
        return weeksEnded();
    }

    /// @inheritdoc IIssuanceVault
    function nextWeek() external view returns (uint256) {
        return _nextWeek;
    }

    /// @inheritdoc IIssuanceVault
    function totalReleased() external view returns (uint256) {
        return _totalReleased;
    }

    /// @inheritdoc IIssuanceVault
    function weekAmount(uint256 week) external view returns (uint256) {
        return _schedule().amountOfWeek(week);
    }

    /// @inheritdoc IIssuanceVault
    function amountOfWeeks(uint256 fromWeek, uint256 toWeek) external view returns (uint256) {
        return _schedule().amountOfWeeks(fromWeek, toWeek);
    }

    /// @inheritdoc IIssuanceVault
    function weekStart(uint256 week) external view returns (uint256) {
        return IssuanceSchedule.weekStart(genesis, week);
    }

    /// @inheritdoc IIssuanceVault
    function schedule()
        external
        view
        returns (uint256 firstWeekly, uint256 remainder, uint256 weeksPerYear, uint256 yearCount, uint256 decayBps)
    {
        return (_firstWeekly, _remainder, _weeksPerYear, _yearCount, _decayBps);
    }

    /// @inheritdoc IIssuanceVault
    function totalWeeks() external view returns (uint256) {
        return _weeksPerYear * _yearCount;
    }

    /// @inheritdoc IIssuanceVault
    function scheduleTotal() external view returns (uint256) {
        return _schedule().total();
    }

    function _schedule() private view returns (IssuanceSchedule.Schedule memory) {
        return IssuanceSchedule.Schedule(_firstWeekly, _remainder, _weeksPerYear, _yearCount, _decayBps);
    }
}
