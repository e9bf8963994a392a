// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm, VM_ADDRESS} from "../lib/Vm.sol";
import {bound} from "../lib/Test.sol";
import {Suite} from "../lib/Suite.sol";
import {DimoToken} from "../../../contracts/DimoToken.sol";
import {IssuanceVault} from "../../../contracts/IssuanceVault.sol";
import {RewardDistributor} from "../../../contracts/rewards/RewardDistributor.sol";
import {ConsumerStaking} from "../../../contracts/staking/ConsumerStaking.sol";

/// @title HandlerBase
/// @notice What every handler shares: the deployed suite, the actor set, bounded time and call counters.
/// @dev Handlers never revert on a refused action (forge's `fail_on_revert = false` would hide nothing, but a
/// refused action is counted instead, so a campaign that only hits refusals shows in the counters).
abstract contract HandlerBase {
    Vm internal constant vm = Vm(VM_ADDRESS);
    uint256 public constant MAX_WARP = 10 days; // seconds per warp action
    bytes32 private constant _DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );

    Suite public immutable suite;
    // Resolved once: a `vm.prank` applies to the very next call, which must be the action, not a getter.
    DimoToken internal immutable token;
    IssuanceVault internal immutable vault;
    RewardDistributor internal immutable distributor;
    ConsumerStaking internal immutable staking;
    address internal immutable timelock;
    address internal immutable guardian;
    address internal immutable publisher;
    address[] internal _actors;

    /// @notice Successful and refused calls per action, for the campaign's summary.
    mapping(bytes32 action => uint256 count) public calls;
    mapping(bytes32 action => uint256 count) public refused;

    constructor(Suite suite_) {
        suite = suite_;
        (token, vault, distributor, staking) = (suite_.token(), suite_.vault(), suite_.distributor(), suite_.staking());
        (timelock, guardian, publisher) = (address(suite_.timelock()), suite_.guardian(), suite_.publisher());
        _actors = suite_.actors();
    }

    /// @notice Lets time pass: 0 to `MAX_WARP` seconds.
    function warp(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 0, MAX_WARP));
        calls["warp"]++;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % _actors.length];
    }

    /// @dev An EIP-712 domain separator (version "1"), recomputed here rather than read from the contract.
    function _domain(string memory name, uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return
            keccak256(abi.encode(_DOMAIN_TYPEHASH, keccak256(bytes(name)), keccak256("1"), chainId, verifyingContract));
    }

    /// @dev The EIP-712 digest of a struct hash under a domain.
    function _digest(bytes32 domain, bytes32 structHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev `key`'s 65-byte signature (r ‖ s ‖ v) of a struct hash under a domain.
    function _sign(uint256 key, bytes32 domain, bytes32 structHash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, _digest(domain, structHash));
        return abi.encodePacked(r, s, v);
    }

    function _count(bytes32 action, bool ok) internal {
        if (ok) calls[action]++;
        else refused[action]++;
    }
}
