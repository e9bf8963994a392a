// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm, VM_ADDRESS} from "./Vm.sol";

/// @title Test
/// @notice A minimal stand-in for forge-std's Test: the cheatcodes, assertions that revert with both values,
/// `bound`, and the hooks forge's invariant runner reads from a test contract before a campaign
/// (`targetContracts()`, `targetSelectors()`, `targetSenders()`, `excludeContracts()`, `excludeSenders()`;
/// each is optional for forge, and an empty list means "no restriction").
/// @dev A test fails when it reverts, so every assertion reverts; forge then shrinks the call sequence.
abstract contract Test {
    /// @notice A contract and the functions of it the fuzzer may call.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    /// @notice Thrown by every failed assertion: what was checked, and the two sides.
    error AssertionFailed(string what, uint256 left, uint256 right);

    /// @notice Marks the contract as a test contract (read by older forge versions).
    bool public constant IS_TEST = true;

    Vm internal constant vm = Vm(VM_ADDRESS);

    address[] private _targetedContracts;
    FuzzSelector[] private _targetedSelectors;
    address[] private _targetedSenders;
    address[] private _excludedContracts;
    address[] private _excludedSenders;

    // ---------------------------------------------------------------- invariant runner hooks

    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }

    function targetSenders() public view returns (address[] memory) {
        return _targetedSenders;
    }

    function excludeContracts() public view returns (address[] memory) {
        return _excludedContracts;
    }

    function excludeSenders() public view returns (address[] memory) {
        return _excludedSenders;
    }

    function targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetedSelectors.push(selector);
    }

    function targetSender(address sender) internal {
        _targetedSenders.push(sender);
    }

    function excludeContract(address target) internal {
        _excludedContracts.push(target);
    }

    function excludeSender(address sender) internal {
        _excludedSenders.push(sender);
    }

    // ---------------------------------------------------------------- assertions

    function assertEq(uint256 left, uint256 right, string memory what) internal pure {
        if (left != right) revert AssertionFailed(what, left, right);
    }

    function assertLe(uint256 left, uint256 right, string memory what) internal pure {
        if (left > right) revert AssertionFailed(what, left, right);
    }

    function assertGe(uint256 left, uint256 right, string memory what) internal pure {
        if (left < right) revert AssertionFailed(what, left, right);
    }

    function assertTrue(bool condition, string memory what) internal pure {
        if (!condition) revert AssertionFailed(what, 0, 1);
    }
}

/// @notice Maps any fuzzed `x` into [min, max] (inclusive), keeping small values small.
function bound(uint256 x, uint256 min, uint256 max) pure returns (uint256) {
    // max >= min is the caller's contract; max - min + 1 overflows only for the full range, returned as is.
    if (min == 0 && max == type(uint256).max) return x;
    return min + (x % (max - min + 1));
}
