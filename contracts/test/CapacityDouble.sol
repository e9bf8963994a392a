// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessCapacity} from "../interfaces/IAccessCapacity.sol";

/// @dev Test double of the staking contract's capacity: a settable number of vehicles per consumer.
contract CapacityDouble is IAccessCapacity {
    error CapacityExceeded(address consumer, uint256 accessed, uint256 limit);
    error CapacityNotCaller(address caller);
    error CapacityUnderflow(address consumer);

    address public caller;
    mapping(address consumer => uint256 limit) public limitOf;
    mapping(address consumer => uint256 count) public vehiclesAccessed;

    function setCaller(address caller_) external {
        caller = caller_;
    }

    function setLimit(address consumer, uint256 limit) external {
        limitOf[consumer] = limit;
    }

    function reserveAccess(address consumer) external {
        if (msg.sender != caller) revert CapacityNotCaller(msg.sender);
        uint256 n = vehiclesAccessed[consumer] + 1;
        if (n > limitOf[consumer]) revert CapacityExceeded(consumer, n - 1, limitOf[consumer]);
        vehiclesAccessed[consumer] = n;
    }

    /// @dev Renewal needs the records held to stay within the limit.
    function renewAccess(address consumer) external view {
        if (vehiclesAccessed[consumer] > limitOf[consumer]) {
            revert CapacityExceeded(consumer, vehiclesAccessed[consumer], limitOf[consumer]);
        }
    }

    function releaseAccess(address consumer) external {
        if (msg.sender != caller) revert CapacityNotCaller(msg.sender);
        if (vehiclesAccessed[consumer] == 0) revert CapacityUnderflow(consumer);
        vehiclesAccessed[consumer] -= 1;
    }

    function coversOneMore(address consumer) external view returns (bool) {
        return vehiclesAccessed[consumer] < limitOf[consumer];
    }

    /// @dev Covered while the records held do not exceed the limit (lowering the limit plays a slash).
    function isCovered(address consumer) external view returns (bool) {
        return vehiclesAccessed[consumer] <= limitOf[consumer];
    }
}
