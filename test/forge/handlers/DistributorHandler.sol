// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRewardDistributor} from "../../../contracts/interfaces/IRewardDistributor.sol";
import {bound} from "../lib/Test.sol";
import {Suite} from "../lib/Suite.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @title DistributorHandler
/// @notice Random bounded actions on the reward distributor: funding, publishing roots of real Merkle trees
/// over the actors (built here, on chain, with the distributor's leaf and sorted-pair hashing), revoking by
/// the guardian or the Timelock, activation after the challenge window, claim, claimTo and claimMany with
/// real proofs, stale claims against an older root, and second claims that must pay nothing.
/// @dev Every call into a contract is in the "calls" section below. The trees have four leaves (the actor
/// set), so each proof is two nodes; a root is published without a cached layer (anchor 0).
contract DistributorHandler is HandlerBase {
    uint256 public constant MAX_WEEKLY_INCREMENT = 1_000_000e18; // wei per account per published root

    // ---------------------------------------------------------------- ghost state
    /// @notice Cumulative amounts of the pending and the active root, per actor index.
    uint256[4] internal _pendingAmounts;
    uint256[4] internal _activeAmounts;
    uint256[4] internal _previousActiveAmounts;
    bool public ghostHasPending;
    bytes32 public ghostActiveRoot;
    uint256 public ghostFunded; // wei funded by actors (issuance pulls are counted by the vault)
    uint256 public ghostPaid; // wei paid out by claims
    mapping(address account => uint256 amount) public ghostReceivedFor; // wei claimed for an account
    /// @notice Set when a second claim right after a successful one paid something, or a stale proof paid.
    bool public ghostPaidTwice;

    constructor(Suite suite_) HandlerBase(suite_) {}

    // ---------------------------------------------------------------- actions

    function fund(uint256 actorSeed, uint256 amountSeed) external {
        address actor = _actor(actorSeed);
        uint256 amount = bound(amountSeed, 0, token.balanceOf(actor) / 10);
        bool ok = _fund(actor, amount);
        if (ok) ghostFunded += amount;
        _count("fund", ok);
    }

    function pullIssuance() external {
        _count("pullIssuance", _pullIssuance());
    }

    /// @notice Publishes the next week: every actor's cumulative amount grows by a bounded increment, and the
    /// total must stay within what was funded (else the publisher would be refused; counted as refused).
    function publish(uint256 incrementSeed) external {
        // Publishing over a pending root whose window has passed activates it first.
        bool pendingActivates = ghostHasPending && block.timestamp >= distributor.pendingRoot().activatesAt;
        // A pending root still in its window refuses the publication; otherwise amounts grow from the newest root.
        uint256[4] memory base = pendingActivates ? _pendingAmounts : _activeAmounts;
        uint256[4] memory amounts;
        uint256 total;
        for (uint256 i = 0; i < 4; ++i) {
            amounts[i] = base[i] + bound(uint256(keccak256(abi.encode(incrementSeed, i))), 0, MAX_WEEKLY_INCREMENT);
            total += amounts[i];
        }
        bytes32 root = _root(amounts);
        bool ok = _publish(distributor.nextWeek(), root, total);
        if (ok) {
            if (pendingActivates) _activateGhost();
            _pendingAmounts = amounts;
            ghostHasPending = true;
        }
        _count("publish", ok);
    }

    function revoke(bool byGuardian) external {
        bool ok = _revoke(byGuardian ? guardian : timelock);
        if (ok) ghostHasPending = false;
        _count("revoke", ok);
    }

    function activate() external {
        bool ok = _activate();
        if (ok) _activateGhost();
        _count("activate", ok);
    }

    function claim(uint256 actorSeed) external {
        uint256 i = actorSeed % 4;
        _claimAndAgain(i, _actors[i], false);
    }

    function claimTo(uint256 actorSeed, uint256 recipientSeed) external {
        uint256 i = actorSeed % 4;
        _claimAndAgain(i, _actor(recipientSeed), true);
    }

    function claimMany() external {
        IRewardDistributor.Claim[] memory claims = new IRewardDistributor.Claim[](4);
        for (uint256 i = 0; i < 4; ++i) {
            claims[i] = IRewardDistributor.Claim(_actors[i], _activeAmounts[i], 0, _proof(_activeAmounts, i));
        }
        uint256[4] memory before;
        for (uint256 i = 0; i < 4; ++i) before[i] = distributor.claimed(_actors[i]);
        (bool ok, uint256 total) = _claimMany(claims);
        if (ok) {
            ghostPaid += total;
            for (uint256 i = 0; i < 4; ++i) ghostReceivedFor[_actors[i]] += distributor.claimed(_actors[i]) - before[i];
        }
        _count("claimMany", ok);
    }

    /// @notice Claims with the previous active root's amount and proof: must fail or pay nothing new.
    function claimStale(uint256 actorSeed) external {
        uint256 i = actorSeed % 4;
        uint256 amount = _previousActiveAmounts[i];
        if (amount == _activeAmounts[i]) return; // not stale
        (bool ok, uint256 paid) = _claim(_actors[i], amount, _proof(_previousActiveAmounts, i));
        if (ok && paid != 0) ghostPaidTwice = true;
        _count("claimStale", ok);
    }

    /// @notice The ghost cumulative amount of the newest active root for actor `i`.
    function activeAmount(uint256 i) external view returns (uint256) {
        return _activeAmounts[i];
    }

    // ---------------------------------------------------------------- ghost helpers

    function _activateGhost() private {
        _previousActiveAmounts = _activeAmounts;
        _activeAmounts = _pendingAmounts;
        ghostActiveRoot = _root(_pendingAmounts);
        ghostHasPending = false;
    }

    function _claimAndAgain(uint256 i, address recipient, bool viaClaimTo) private {
        address account = _actors[i];
        bytes32[] memory proof = _proof(_activeAmounts, i);
        (bool ok, uint256 paid) = viaClaimTo
            ? _claimTo(account, _activeAmounts[i], proof, recipient)
            : _claim(account, _activeAmounts[i], proof);
        if (ok) {
            ghostPaid += paid;
            ghostReceivedFor[account] += paid;
            (bool again, uint256 paidAgain) = _claim(account, _activeAmounts[i], proof);
            if (again && paidAgain != 0) ghostPaidTwice = true;
        }
        _count(viaClaimTo ? bytes32("claimTo") : bytes32("claim"), ok);
    }

    // ---------------------------------------------------------------- the tree (distributor's hashing)

    function _leaf(address account, uint256 amount) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
    }

    function _pair(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function _leaves(uint256[4] memory amounts) private view returns (bytes32[4] memory l) {
        for (uint256 i = 0; i < 4; ++i) l[i] = _leaf(_actors[i], amounts[i]);
    }

    function _root(uint256[4] memory amounts) private view returns (bytes32) {
        bytes32[4] memory l = _leaves(amounts);
        return _pair(_pair(l[0], l[1]), _pair(l[2], l[3]));
    }

    function _proof(uint256[4] memory amounts, uint256 i) private view returns (bytes32[] memory proof) {
        bytes32[4] memory l = _leaves(amounts);
        proof = new bytes32[](2);
        proof[0] = l[i ^ 1];
        proof[1] = i < 2 ? _pair(l[2], l[3]) : _pair(l[0], l[1]);
    }

    // ---------------------------------------------------------------- calls (the only place that calls in)

    function _fund(address actor, uint256 amount) private returns (bool ok) {
        vm.startPrank(actor);
        token.approve(address(distributor), amount);
        try distributor.fund(amount, bytes32("fuzz")) {
            ok = true;
        } catch {}
        vm.stopPrank();
    }

    function _pullIssuance() private returns (bool ok) {
        try distributor.pullIssuance() {
            ok = true;
        } catch {}
    }

    function _publish(uint256 week, bytes32 root, uint256 total) private returns (bool ok) {
        vm.prank(publisher);
        try distributor.publishRoot(week, root, total, keccak256(abi.encode(root)), "") {
            ok = true;
        } catch {}
    }

    function _revoke(address by) private returns (bool ok) {
        vm.prank(by);
        try distributor.revokePendingRoot() {
            ok = true;
        } catch {}
    }

    function _activate() private returns (bool ok) {
        try distributor.activateRoot() {
            ok = true;
        } catch {}
    }

    function _claim(address account, uint256 amount, bytes32[] memory proof) private returns (bool ok, uint256 paid) {
        try distributor.claim(account, amount, 0, proof) returns (uint256 out) {
            (ok, paid) = (true, out);
        } catch {}
    }

    function _claimTo(
        address account,
        uint256 amount,
        bytes32[] memory proof,
        address recipient
    ) private returns (bool ok, uint256 paid) {
        vm.prank(account);
        try distributor.claimTo(amount, 0, proof, recipient) returns (uint256 out) {
            (ok, paid) = (true, out);
        } catch {}
    }

    function _claimMany(IRewardDistributor.Claim[] memory claims) private returns (bool ok, uint256 total) {
        try distributor.claimMany(claims) returns (uint256 out) {
            (ok, total) = (true, out);
        } catch {}
    }
}
