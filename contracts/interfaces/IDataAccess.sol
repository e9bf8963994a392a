// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessCapacity} from "./IAccessCapacity.sol";

/// @title Data-access grants
/// @notice Vehicle owners grant data consumers (app developers) access to their vehicle's data: permission
/// bits per data type and an expiry. A grant needs the consumer's stake to cover one more vehicle
/// (`IAccessCapacity.reserveAccess`).
/// @dev Warning: a grant is bound to the vehicle's ownership epoch: when the vehicle is transferred, every
/// grant the previous owner gave stops counting at once (`canRead` is false), and its capacity can be
/// released by anyone through `prune`. Only the current owner grants; the owner or the consumer revokes.
/// Warning: grants never count beyond what the consumer's stake covers. After a slash or a rise of the stake
/// formula leaves the stake below `requiredStake(records held)`, `canRead` is false for every grant of that
/// consumer until it tops up its stake or enough of its records are revoked or pruned (`IAccessCapacity.isCovered`;
/// stale and expired records count until pruned). A freeze does not stop reads.
/// Data types are bit positions (see `lib/` policy): 0 location, 1 odometer, 2 fuel/battery level,
/// 3 diagnostic codes, 4 tire pressure, … up to 255.
interface IDataAccess {
    /// @notice A grant record.
    /// @param permissions Bit `t` set means data type `t` may be read.
    /// @param expiresAt Unix time from which the grant no longer counts (it counts while `now < expiresAt`).
    /// @param epoch The vehicle's ownership epoch when granted.
    struct Grant {
        uint256 permissions;
        uint64 expiresAt;
        uint64 epoch;
    }

    /// @notice The caller is not the vehicle's owner.
    error AccessNotVehicleOwner(uint256 vehicleId, address caller);
    /// @notice The caller is neither the vehicle owner nor the consumer.
    error AccessNotOwnerOrConsumer(uint256 vehicleId, address consumer, address caller);
    /// @notice No grant record for this vehicle and consumer.
    error AccessNoGrant(uint256 vehicleId, address consumer);
    /// @notice The grant still counts: it is neither stale (older ownership epoch) nor expired.
    error AccessGrantStillValid(uint256 vehicleId, address consumer);
    /// @notice The permissions are empty or the expiry is not in the future.
    error AccessInvalidGrant(uint256 permissions, uint64 expiresAt);
    /// @notice A zero address was given.
    error AccessZeroAddress();
    /// @notice The capacity provider is already set; it cannot change while grants hold reservations in it.
    error AccessCapacityAlreadySet(address capacity);
    /// @notice No capacity provider is set yet: grants are disabled until the staking contract is wired.
    error AccessCapacityNotSet();

    /// @notice Emitted after the capacity provider was set (once, by the Timelock).
    event CapacitySet(address indexed capacity);

    /// @notice Emitted after the owner granted (or updated) `consumer`'s access to `vehicleId`.
    event AccessGranted(
        uint256 indexed vehicleId,
        address indexed consumer,
        address indexed owner,
        uint256 permissions,
        uint64 expiresAt,
        uint64 epoch
    );
    /// @notice Emitted after a grant record was deleted and its capacity released.
    /// @param by Who deleted it: the owner, the consumer, or (prune) anyone.
    event AccessRevoked(uint256 indexed vehicleId, address indexed consumer, address indexed by);

    /// @notice Sets the capacity provider (the staking contract), once. Only the Timelock.
    function setCapacity(IAccessCapacity capacity_) external;

    /// @notice Grants or updates `consumer`'s access to a vehicle. Only the vehicle owner. A new record
    /// reserves capacity from the staking contract; updating an existing (even stale) record does not.
    function grant(uint256 vehicleId, address consumer, uint256 permissions, uint64 expiresAt) external;

    /// @notice Deletes a grant and releases its capacity. The vehicle owner or the consumer.
    function revoke(uint256 vehicleId, address consumer) external;

    /// @notice Deletes a grant that no longer counts (stale after a transfer, or expired) and releases its
    /// capacity. Anyone.
    function prune(uint256 vehicleId, address consumer) external;

    /// @notice Whether `consumer` may read data type `dataType` of `vehicleId` now: the grant record exists, belongs
    /// to the vehicle's current ownership epoch, has not expired, has the type's bit set, and the consumer's stake
    /// covers the records it holds (`IAccessCapacity.isCovered`).
    function canRead(address consumer, uint256 vehicleId, uint8 dataType) external view returns (bool);

    /// @notice The grant record (zeroes when none).
    function grantOf(uint256 vehicleId, address consumer) external view returns (Grant memory);

    /// @notice The capacity provider (the staking contract).
    function capacity() external view returns (address);

    /// @notice The vehicle registry.
    function vehicles() external view returns (address);
}
