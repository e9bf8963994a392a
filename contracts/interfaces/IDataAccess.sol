// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessCapacity} from "./IAccessCapacity.sol";

/// @title Data-access grants
/// @notice Vehicle owners grant data consumers (app developers) access to their vehicle's data: permission
/// bits per data type and an expiry. A grant needs the consumer's acceptance and the consumer's stake to cover
/// one more vehicle (`IAccessCapacity.reserveAccess`).
///
/// Acceptance: a grant reserves a consumer's capacity only for vehicles the consumer accepted, in one of two ways.
/// (1) The usual shape for an app onboarding drivers: the app's backend signs an EIP-712 `AccessConsent` offer for
/// one vehicle and its owner (permissions, expiry, an unordered nonce and a deadline, bound to the chain and this
/// contract; contract wallets sign through ERC-1271), hands it to the driver, and the driver calls
/// `grantWithConsent`. Nonces are unordered (any unused value, like Permit2), so a backend signs offers for
/// thousands of drivers in parallel; a nonce is used once and the consumer can cancel an unused one
/// (`cancelConsent`). (2) An on-chain rule: the consumer accepts every grant from a given owner
/// (`setOwnerAcceptance`, e.g. a fleet operator it works with); that owner then calls `grant`.
/// Without either, a grant reverts (`AccessNotAccepted`, `AccessInvalidConsent`): nobody can fill a consumer's
/// capacity with vehicles it never accepted.
/// Warning: an offer names one vehicle and its owner: a later owner of the vehicle cannot use it, and an offer seen
/// in a pending transaction cannot be used for another vehicle. An owner the consumer accepts on chain can fill the
/// consumer's capacity with its vehicles at will: accept only owners you work with, and withdraw the acceptance
/// (`setOwnerAcceptance(owner, false)`) when that ends; records already written stay until revoked.
/// Nonces are stored 256 to a word: offers numbered 0, 1, 2, … cost about 17,000 gas less per grant than random
/// ones (each in its own word).
/// Every write of a record (new, or an update of an existing one, even stale or expired) runs the capacity and
/// freeze checks: a new record reserves one unit (`reserveAccess`), an existing one is checked as renewed
/// (`renewAccess`), so a frozen or under-staked consumer gets no grant.
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
    /// @param grantedAt When the grant started to count without a break: set when a record is written that did not
    /// count just before (new, stale or expired), kept when a counting record is updated. Slashing compensation
    /// pays only vehicles granted at least `IConsumerStaking.minGrantAge()` before the freeze.
    struct Grant {
        uint256 permissions;
        uint64 expiresAt;
        uint64 epoch;
        uint64 grantedAt;
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
    /// @notice The consumer accepts no grant from this owner without a signed offer (`setOwnerAcceptance`).
    error AccessNotAccepted(uint256 vehicleId, address consumer, address owner);
    /// @notice The consumer's offer is past its deadline (valid while `timestamp <= deadline`).
    error AccessConsentExpired(uint256 deadline, uint256 timestamp);
    /// @notice The signature is not the consumer's `AccessConsent` for this vehicle, owner, permissions, expiry,
    /// nonce and deadline (wrong signer, terms, chain or contract).
    error AccessInvalidConsent(address consumer);
    /// @notice The consumer's offer nonce was already used or cancelled.
    error AccessConsentNonceUsed(address consumer, uint256 nonce);

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
    /// @notice Emitted after `consumer` set whether it accepts every grant from `owner`.
    event OwnerAcceptanceSet(address indexed consumer, address indexed owner, bool accepted);
    /// @notice Emitted after an offer nonce of `consumer` was used by a grant or cancelled (`cancelled`).
    event ConsentNonceUsed(address indexed consumer, uint256 indexed nonce, bool cancelled);

    /// @notice Emitted after a grant record was deleted and its capacity released.
    /// @param by Who deleted it: the owner, the consumer, or (prune) anyone.
    event AccessRevoked(uint256 indexed vehicleId, address indexed consumer, address indexed by);

    /// @notice Sets the capacity provider (the staking contract), once. Only the Timelock.
    function setCapacity(IAccessCapacity capacity_) external;

    /// @notice Grants or updates `consumer`'s access to a vehicle, under the consumer's on-chain rule: only the
    /// vehicle owner, and only when the consumer accepts every grant from that owner (`setOwnerAcceptance`). A new
    /// record reserves capacity (`reserveAccess`); updating an existing one (even stale or expired) runs the same
    /// checks on the units already held (`renewAccess`: not frozen, stake covers them).
    function grant(uint256 vehicleId, address consumer, uint256 permissions, uint64 expiresAt) external;

    /// @notice Grants or updates `consumer`'s access to a vehicle with the consumer's signed offer: the EIP-712
    /// `AccessConsent(uint256 vehicleId,address owner,uint256 permissions,uint64 expiresAt,uint256 nonce,uint256
    /// deadline)` of domain "DIMO DataAccess" version "1", signed by `consumer` (ECDSA or ERC-1271). Only the vehicle
    /// owner (the `owner` of the offer). Uses the nonce. Capacity and freeze checks as `grant`.
    function grantWithConsent(
        uint256 vehicleId,
        address consumer,
        uint256 permissions,
        uint64 expiresAt,
        uint256 nonce,
        uint256 deadline,
        bytes calldata consumerSignature
    ) external;

    /// @notice Sets whether the caller (a consumer) accepts every grant from `owner` without a signed offer. It does
    /// not touch records already written.
    function setOwnerAcceptance(address owner, bool accepted) external;

    /// @notice Cancels one of the caller's unused offer nonces, so the offers signed with it can no longer be used.
    function cancelConsent(uint256 nonce) external;

    /// @notice Whether `consumer` accepts every grant from `owner` (`setOwnerAcceptance`).
    function acceptsOwner(address consumer, address owner) external view returns (bool);

    /// @notice Whether `consumer`'s offer nonce was used or cancelled.
    function consentNonceUsed(address consumer, uint256 nonce) external view returns (bool);

    /// @notice Deletes a grant and releases its capacity. The vehicle owner or the consumer.
    function revoke(uint256 vehicleId, address consumer) external;

    /// @notice Deletes a grant that no longer counts (stale after a transfer, or expired) and releases its
    /// capacity. Anyone.
    function prune(uint256 vehicleId, address consumer) external;

    /// @notice Prunes every record of `consumer` among `vehicleIds` that exists and no longer counts, skipping the
    /// others (missing or still counting), so that a batch is not undone by one grant revoked meanwhile. Anyone.
    /// An expired or stale record holds the consumer's capacity (and blocks its unstaking) until pruned.
    /// @return pruned Number of records deleted.
    function pruneMany(address consumer, uint256[] calldata vehicleIds) external returns (uint256 pruned);

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
