// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The DAO's Timelock: what it adds to OpenZeppelin's TimelockController
/// @notice The Timelock holds the treasury and every admin role of the suite. Proposer and canceller roles
/// belong to the Governor; the guardian (security council) also holds the canceller role, to stop a queued
/// operation; execution is open to anyone once the delay has passed.
/// @dev Warning: no canceller can cancel its own removal. When an operation is scheduled, the Timelock
/// inspects its calls; if the operation is recognised as the *removal of one account* (see below), it is
/// recorded (`removalOf`, event `RemovalScheduled`) and `cancel` by that account reverts with
/// `TimelockCannotCancelOwnRemoval`. The guardian therefore cannot veto the vote that removes or replaces it,
/// and can still cancel every other operation.
/// Warning: an operation is recognised as the removal of `account` only when every one of its calls has no
/// value and is either
///   - `revokeRole(bytes32 role, address account)` (selector 0xd547741f, exactly 68 bytes of calldata, a clean
///     address word) on any target, the Timelock itself included, with the same `account` in every revoke; or
///   - `grantRole(bytes32 role, address successor)` on a target where the same operation revokes that same
///     role from `account`, and `account` holds that role there when the operation is scheduled (a
///     replacement: the successor gets exactly what `account` loses).
/// Warning: anything else makes the operation an ordinary one that every canceller can cancel, deliberately:
/// a treasury transfer, a parameter change or a role of another account bundled with the removal, a grant of
/// a role `account` does not hold, a call wrapped in a `multicall` or made through another contract, revokes
/// from two different accounts, `renounceRole` (only the holder itself can renounce), calldata with extra
/// bytes. So bundling a removal into a harmful proposal does not shield the proposal from the guardian; the
/// DAO removes the guardian with a proposal that does only that (and, optionally, names its successor).
interface IDimoTimelock {
    /// @notice `account` tried to cancel operation `id`, which removes `account`'s roles.
    error TimelockCannotCancelOwnRemoval(bytes32 id, address account);

    /// @notice Emitted after operation `id`, which removes `account`'s roles (and only that), was scheduled:
    /// `account` can no longer cancel it.
    event RemovalScheduled(bytes32 indexed id, address indexed account);

    /// @notice The account whose removal operation `id` is (see the contract's warning), or the zero address
    /// when `id` is not a recognised removal or was never scheduled.
    function removalOf(bytes32 id) external view returns (address account);
}
