// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IDataAccess} from "../interfaces/IDataAccess.sol";
import {IAccessCapacity} from "../interfaces/IAccessCapacity.sol";
import {IVehicleRegistry} from "../interfaces/IVehicleRegistry.sol";

/// @title DataAccess
/// @notice See {IDataAccess}.
contract DataAccess is IDataAccess, AccessControl, EIP712 {
    bytes32 private constant _CONSENT_TYPEHASH = keccak256(
        "AccessConsent(uint256 vehicleId,address owner,uint256 permissions,uint64 expiresAt,uint256 nonce,uint256 deadline)"
    );

    IVehicleRegistry private immutable _vehicles;
    IAccessCapacity private _capacity;

    mapping(uint256 vehicleId => mapping(address consumer => Grant)) private _grants;
    mapping(address consumer => mapping(address owner => bool accepted)) private _acceptsOwner;
    /// @dev Unordered nonces, 256 per word: bit `nonce % 256` of word `nonce / 256`.
    mapping(address consumer => mapping(uint256 word => uint256 bits)) private _usedNonces;

    /// @param vehicles_ The vehicle registry.
    /// @param capacity_ The staking contract (zero to set it later, once, through `setCapacity`).
    /// @param admin Holder of `DEFAULT_ADMIN_ROLE` (the Timelock).
    constructor(IVehicleRegistry vehicles_, IAccessCapacity capacity_, address admin) EIP712("DIMO DataAccess", "1") {
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
        address owner = _checkGrant(vehicleId, consumer, permissions, expiresAt);
        if (!_acceptsOwner[consumer][owner]) revert AccessNotAccepted(vehicleId, consumer, owner);
        _write(vehicleId, consumer, owner, permissions, expiresAt);
    }

    /// @inheritdoc IDataAccess
    function grantWithConsent(
        uint256 vehicleId,
        address consumer,
        uint256 permissions,
        uint64 expiresAt,
        uint256 nonce,
        uint256 deadline,
        bytes calldata consumerSignature
    ) external {
        address owner = _checkGrant(vehicleId, consumer, permissions, expiresAt);
        if (block.timestamp > deadline) revert AccessConsentExpired(deadline, block.timestamp);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(_CONSENT_TYPEHASH, vehicleId, owner, permissions, expiresAt, nonce, deadline))
        );
        if (!SignatureChecker.isValidSignatureNow(consumer, digest, consumerSignature)) {
            revert AccessInvalidConsent(consumer);
        }
        _useNonce(consumer, nonce, false);
        _write(vehicleId, consumer, owner, permissions, expiresAt);
    }

    /// @inheritdoc IDataAccess
    function setOwnerAcceptance(address owner, bool accepted) external {
        if (owner == address(0)) revert AccessZeroAddress();
        _acceptsOwner[msg.sender][owner] = accepted;
        emit OwnerAcceptanceSet(msg.sender, owner, accepted);
    }

    /// @inheritdoc IDataAccess
    function cancelConsent(uint256 nonce) external {
        _useNonce(msg.sender, nonce, true);
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
    function pruneMany(address consumer, uint256[] calldata vehicleIds) external returns (uint256 pruned) {
        for (uint256 i = 0; i < vehicleIds.length; ++i) {
            uint256 vehicleId = vehicleIds[i];
            if (_grants[vehicleId][consumer].permissions != 0 && !_counts(vehicleId, consumer)) {
                _delete(vehicleId, consumer);
                ++pruned;
            }
        }
    }

    /// @inheritdoc IDataAccess
    function acceptsOwner(address consumer, address owner) external view returns (bool) {
        return _acceptsOwner[consumer][owner];
    }

    /// @inheritdoc IDataAccess
    function consentNonceUsed(address consumer, uint256 nonce) external view returns (bool) {
        return (_usedNonces[consumer][nonce >> 8] >> (nonce & 0xff)) & 1 == 1;
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

    /// @dev The checks every grant path shares; returns the vehicle's owner (the caller).
    function _checkGrant(
        uint256 vehicleId,
        address consumer,
        uint256 permissions,
        uint64 expiresAt
    ) private view returns (address owner) {
        if (consumer == address(0)) revert AccessZeroAddress();
        owner = IERC721(address(_vehicles)).ownerOf(vehicleId);
        if (msg.sender != owner) revert AccessNotVehicleOwner(vehicleId, msg.sender);
        if (permissions == 0 || expiresAt <= block.timestamp) revert AccessInvalidGrant(permissions, expiresAt);
        if (address(_capacity) == address(0)) revert AccessCapacityNotSet();
    }

    /// @dev Writes an accepted grant. A new record reserves a unit; an existing one (counting, stale or expired)
    /// already holds one and is checked as renewed, so the freeze and the stake apply to every write.
    function _write(uint256 vehicleId, address consumer, address owner, uint256 permissions, uint64 expiresAt) private {
        Grant storage g = _grants[vehicleId][consumer];
        uint64 epoch = uint64(_vehicles.ownershipEpoch(vehicleId));
        uint64 grantedAt = uint64(block.timestamp);
        if (g.permissions == 0) {
            _capacity.reserveAccess(consumer);
        } else {
            _capacity.renewAccess(consumer);
            // A grant that counted until now keeps its start (an update is not a new grant).
            if (g.expiresAt > block.timestamp && g.epoch == epoch) grantedAt = g.grantedAt;
        }
        g.permissions = permissions;
        g.expiresAt = expiresAt;
        g.epoch = epoch;
        g.grantedAt = grantedAt;
        emit AccessGranted(vehicleId, consumer, owner, permissions, expiresAt, epoch);
    }

    /// @dev Marks an offer nonce used; reverts when it already was.
    function _useNonce(address consumer, uint256 nonce, bool cancelled) private {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bits = _usedNonces[consumer][nonce >> 8];
        if (bits & bit != 0) revert AccessConsentNonceUsed(consumer, nonce);
        _usedNonces[consumer][nonce >> 8] = bits | bit;
        emit ConsentNonceUsed(consumer, nonce, cancelled);
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
