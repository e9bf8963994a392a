// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IDimoTimelock} from "../interfaces/IDimoTimelock.sol";

/// @dev `AccessControl.revokeRole(bytes32,address)`.
bytes4 constant REVOKE_ROLE_SELECTOR = IAccessControl.revokeRole.selector;
/// @dev `AccessControl.grantRole(bytes32,address)`.
bytes4 constant GRANT_ROLE_SELECTOR = IAccessControl.grantRole.selector;
/// @dev Calldata length of `revokeRole`/`grantRole`: selector + two words (bytes).
uint256 constant ROLE_CALL_LENGTH = 68;

/// @title DimoTimelock
/// @notice The DAO's TimelockController: it holds the treasury and every admin role of the suite, and no
/// canceller can cancel the operation that removes it.
/// @dev Warning: proposer and canceller roles belong to the Governor; the guardian (security council)
/// holds only the canceller role, to stop a queued operation other than its own removal; execution is open
/// to anyone once the delay has passed. The deployer's temporary admin role is renounced at the end of the
/// deployment. What counts as a removal is stated in `IDimoTimelock`.
contract DimoTimelock is TimelockController, IDimoTimelock {
    mapping(bytes32 id => address account) private _removalOf;

    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}

    /// @inheritdoc IDimoTimelock
    function removalOf(bytes32 id) external view returns (address account) {
        return _removalOf[id];
    }

    /// @notice Schedules one call (TimelockController) and records it when it is the removal of an account.
    function schedule(
        address target,
        uint256 value,
        bytes calldata data,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) public override {
        super.schedule(target, value, data, predecessor, salt, delay);
        // A single call is a removal only as a revoke: a grant alone replaces nothing.
        (bool ok, bytes4 selector, , address account) = _roleCall(data);
        if (ok && value == 0 && selector == REVOKE_ROLE_SELECTOR && account != address(0)) {
            _recordRemoval(hashOperation(target, value, data, predecessor, salt), account);
        }
    }

    /// @notice Schedules a batch (TimelockController; the Governor queues this way) and records it when it is
    /// the removal of an account.
    function scheduleBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt,
        uint256 delay
    ) public override {
        super.scheduleBatch(targets, values, payloads, predecessor, salt, delay);
        address account = _removedAccount(targets, values, payloads);
        if (account != address(0)) {
            _recordRemoval(hashOperationBatch(targets, values, payloads, predecessor, salt), account);
        }
    }

    /// @notice Cancels a pending operation (TimelockController), except by the account the operation removes.
    function cancel(bytes32 id) public override {
        if (_removalOf[id] == msg.sender) revert TimelockCannotCancelOwnRemoval(id, msg.sender);
        super.cancel(id);
    }

    /// @dev Records operation `id` as the removal of `account`.
    function _recordRemoval(bytes32 id, address account) private {
        _removalOf[id] = account;
        emit RemovalScheduled(id, account);
    }

    /// @dev The one account every call of the operation removes (the rule of `IDimoTimelock`), or the zero
    /// address when the operation is anything else. Never reverts on odd calldata: it is then not a removal.
    function _removedAccount(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads
    ) private view returns (address account) {
        uint256 n = targets.length;
        // Pass 1: every call is a revoke from the same account or a grant; find the account.
        for (uint256 i = 0; i < n; ++i) {
            if (values[i] != 0) return address(0);
            (bool ok, bytes4 selector, , address who) = _roleCall(payloads[i]);
            if (!ok) return address(0);
            if (selector == REVOKE_ROLE_SELECTOR) {
                if (who == address(0) || (account != address(0) && who != account)) return address(0);
                account = who;
            } else if (selector != GRANT_ROLE_SELECTOR) {
                return address(0);
            }
        }
        if (account == address(0)) return address(0);
        // Pass 2: every grant replaces a role the same operation revokes from `account` on the same target,
        // and `account` holds that role now.
        for (uint256 i = 0; i < n; ++i) {
            (, bytes4 selector, bytes32 role, ) = _roleCall(payloads[i]);
            if (selector != GRANT_ROLE_SELECTOR) continue;
            if (!_revokes(targets, payloads, targets[i], role) || !_holds(targets[i], role, account)) {
                return address(0);
            }
        }
    }

    /// @dev Whether the operation revokes `role` on `target` (the account is the same in every revoke).
    function _revokes(
        address[] calldata targets,
        bytes[] calldata payloads,
        address target,
        bytes32 role
    ) private pure returns (bool) {
        for (uint256 j = 0; j < targets.length; ++j) {
            if (targets[j] != target) continue;
            (, bytes4 selector, bytes32 revoked, ) = _roleCall(payloads[j]);
            if (selector == REVOKE_ROLE_SELECTOR && revoked == role) return true;
        }
        return false;
    }

    /// @dev `IAccessControl(target).hasRole(role, account)`; false when the target has no code, reverts, or
    /// returns anything but one word holding `true` (a low-level call, so odd targets never make scheduling revert).
    function _holds(address target, bytes32 role, address account) private view returns (bool) {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory returned) = target.staticcall(abi.encodeCall(IAccessControl.hasRole, (role, account)));
        return ok && returned.length == 32 && abi.decode(returned, (uint256)) == 1;
    }

    /// @dev Splits `selector ‖ bytes32 role ‖ address account` calldata (exactly 68 bytes, the address word's
    /// upper 96 bits clear); `ok` is false for anything else.
    function _roleCall(
        bytes calldata payload
    ) private pure returns (bool ok, bytes4 selector, bytes32 role, address account) {
        if (payload.length != ROLE_CALL_LENGTH) return (false, 0, 0, address(0));
        uint256 word = uint256(bytes32(payload[36:68]));
        if (word >> 160 != 0) return (false, 0, 0, address(0));
        return (true, bytes4(payload[:4]), bytes32(payload[4:36]), address(uint160(word)));
    }
}
