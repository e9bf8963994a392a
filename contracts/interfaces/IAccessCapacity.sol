// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Data-access capacity of data consumers
/// @notice What the data-access registry asks the staking contract before a vehicle owner grants a consumer
/// access: a consumer may read at most as many vehicles as its stake covers, `requiredStake(n + 1)`; and,
/// before every read, whether the consumer's stake still covers the grants it holds (`isCovered`).
/// @dev Warning: `reserveAccess` and `releaseAccess` must accept calls from the data-access registry only.
/// The registry reserves one unit per (vehicle, consumer) grant record and releases it exactly once, when
/// the record is deleted (revoked by the owner or the consumer, or pruned once stale or expired).
interface IAccessCapacity {
    /// @notice Reserves capacity for one more vehicle; reverts unless the consumer's stake covers
    /// `vehiclesAccessed(consumer) + 1` vehicles and the consumer is not frozen.
    function reserveAccess(address consumer) external;

    /// @notice Checks, without reserving more, that a record the consumer already holds may be rewritten (a grant
    /// updated, even stale or expired): reverts unless the consumer is not frozen and its stake covers
    /// `vehiclesAccessed(consumer)` vehicles.
    function renewAccess(address consumer) external view;

    /// @notice Releases the capacity of one vehicle.
    function releaseAccess(address consumer) external;

    /// @notice Number of vehicles the consumer currently holds grant records for.
    function vehiclesAccessed(address consumer) external view returns (uint256);

    /// @notice Whether the consumer's stake covers one more vehicle now (and it is not frozen).
    function coversOneMore(address consumer) external view returns (bool);

    /// @notice Whether the consumer's stake covers the grant records it holds now:
    /// `staked >= requiredStake(vehiclesAccessed)`. A freeze does not change it (a freeze blocks withdrawals and
    /// new grants, not reads). It turns false when a slash or a rise of the stake formula leaves the stake short,
    /// and true again when the consumer tops up or enough records are revoked or pruned.
    function isCovered(address consumer) external view returns (bool);
}
