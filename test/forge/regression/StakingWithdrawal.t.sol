// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {StakingSetup} from "../invariants/Staking.invariant.t.sol";

/// @title StakingWithdrawalRegression
/// @notice Shrunk sequences of the staking campaign kept as plain tests: each replays forge's shrunk
/// calls on the handlers, with their exact arguments, checking every staking invariant after each call.
/// @dev How a sequence gets here: forge prints "[Sequence] (original: N, shrunk: M)" with one
/// `calldata=action(...) args=[...]` line per call; copy the calls in order, and say what it once broke.
contract StakingWithdrawalRegression is StakingSetup {
    /// @notice Shrunk from 456 calls to 5 by forge when the campaign was checked against a deliberately broken
    /// invariant ("nobody ever withdraws"): it is the shortest path to a real withdrawal (stake, request,
    /// two warps past the unbonding period, withdraw), so it pins that the campaign reaches that door and
    /// that a withdrawal keeps the staking balance, the positions and the ghost totals equal.
    function test_stakeUnstakeWaitWithdraw() public {
        handler.stake(840366188287480711136206, 79217950385307298176988667895324910708200245237002332822);
        _checkStaking();
        handler.requestUnstake(837386, 983311980946000916797467511);
        _checkStaking();
        tokens.warp(8640000);
        _checkStaking();
        tokens.warp(168269688508088);
        _checkStaking();
        handler.withdraw(2);
        _checkStaking();
        assertEq(handler.calls("withdraw"), 1, "the sequence withdraws");
        assertGe(handler.ghostWithdrawn(), 1, "something was withdrawn");
    }
}
