// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title DimoTimelock
/// @notice The DAO's TimelockController: it holds the treasury and every admin role of the suite.
/// @dev Warning: proposer and canceller roles belong to the Governor; the guardian (security council)
/// holds only the canceller role, to stop a queued operation; execution is open to anyone once the delay
/// has passed. The deployer's temporary admin role is renounced at the end of the deployment.
contract DimoTimelock is TimelockController {
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}
}
