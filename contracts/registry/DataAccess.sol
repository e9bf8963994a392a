// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IDataAccess} from "../interfaces/IDataAccess.sol";
import {IAccessCapacity} from "../interfaces/IAccessCapacity.sol";
import {IVehicleRegistry} from "../interfaces/IVehicleRegistry.sol";

/// @title DataAccess
/// @notice See {IDataAccess}.
contract DataAccess is IDataAccess, AccessControl {
    IVehicleRegistry private immutable _vehicles;
    IAccessCapacity private _capacity;

    mapping(uint256 vehicleId => mapping(address consumer => Grant)) private _grants;

    /// @param vehicles_ The vehicle registry.
    /// @param capacity_ The staking contract (zero to set it later, once, through `setCapacity`).
    /// @param admin Holder of `DEFAULT_ADMIN_ROLE` (the Timelock).
    constructor(IVehicleRegistry vehicles_, IAccessCapacity capacity_, address admin) {
        if (address(vehicles_) == address(0) || admin == address(0)) revert AccessZeroAddress();
        _vehicles = vehicles_;
        if (address(capacity_) != address(0)) {
            _capacity = capacity_;
            emit CapacitySet(address(capacity_));
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IDataAccess
    function setCapacity(IAccessCapacity capacity_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(_capacity) != address(0)) revert AccessCapacityAlreadySet(address(_capacity));
        if (address(capacity_) == address(0)) revert AccessZeroAddress();
        _capacity = capacity_;
        emit CapacitySet(address(capacity_));
    }

    /// @inheritdoc IDataAccess
    function grant(uint256 vehicleId, address consumer, uint256 permissions, uint64 expiresAt) external {
        if (consumer == address(0)) revert AccessZeroAddress();
        address owner = IERC721(address(_vehicles)).ownerOf(vehicleId);
        if (msg.sender != owner) revert AccessNotVehicleOwner(vehicleId, msg.sender);
        if (permissions == 0 || expiresAt <= block.timestamp) revert AccessInvalidGrant(permissions, expiresAt);
        IAccessCapacity capacity_ = _capacity;
        if (address(capacity_) == address(0)) revert AccessCapacityNotSet();
        Grant storage g = _grants[vehicleId][consumer];
        // A record (even stale or expired) already holds one unit of capacity; a new one reserves it.
        if (g.permissions == 0) capacity_.reserveAccess(consumer);
        uint64 epoch = uint64(_vehicles.ownershipEpoch(vehicleId));
        g.permissions = permissions;
        g.expiresAt = expiresAt;
        g.epoch = epoch;
        emit AccessGranted(vehicleId, consumer, owner, permissions, expiresAt, epoch);
    }

    /// @inheritdoc IDataAccess
    function revoke(uint256 vehicleId, address consumer) external {
        address owner = IERC721(address(_vehicles)).ownerOf(vehicleId);
        if (msg.sender != owner && msg.sender != consumer) {
            revert AccessNotOwnerOrConsumer(vehicleId, consumer, msg.sender);
        }
        _delete(vehicleId, consumer);
    }

    /// @inheritdoc IDataAccess
    function prune(uint256 vehicleId, address consumer) external {
        if (_counts(vehicleId, consumer)) revert AccessGrantStillValid(vehicleId, consumer);
        _delete(vehicleId, consumer);
    }

    /// @inheritdoc IDataAccess
    function canRead(address consumer, uint256 vehicleId, uint8 dataType) external view returns (bool) {
        // A record that counts exists, so the capacity provider is set (grants need it and it never changes).
        return
            _counts(vehicleId, consumer) &&
            (_grants[vehicleId][consumer].permissions >> dataType) & 1 == 1 &&
            _capacity.isCovered(consumer);
    }

    /// @inheritdoc IDataAccess
    function grantOf(uint256 vehicleId, address consumer) external view returns (Grant memory) {
        return _grants[vehicleId][consumer];
    }

    /// @inheritdoc IDataAccess
    function capacity() external view returns (address) {
        return address(_capacity);
    }

    /// @inheritdoc IDataAccess
    function vehicles() external view returns (address) {
        return address(_vehicles);
    }

    /// @dev True when a record exists, belongs to the current ownership epoch and has not expired.
    function _counts(uint256 vehicleId, address consumer) private view returns (bool) {
        Grant storage g = _grants[vehicleId][consumer];
        return g.permissions != 0 && g.expiresAt > block.timestamp && g.epoch == _vehicles.ownershipEpoch(vehicleId);
    }

    function _delete(uint256 vehicleId, address consumer) private {
        if (_grants[vehicleId][consumer].permissions == 0) revert AccessNoGrant(vehicleId, consumer);
        delete _grants[vehicleId][consumer];
        _capacity.releaseAccess(consumer);
        emit AccessRevoked(vehicleId, consumer, msg.sender);
    }
}
