// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRewardDistributor} from "../../../contracts/interfaces/IRewardDistributor.sol";
import {bound} from "../lib/Test.sol";
import {Suite} from "../lib/Suite.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @title DistributorHandler
/// @notice Random bounded actions on the reward distributor: funding, publishing roots of real Merkle trees
/// over the actors (built here, on chain, with the distributor's leaf and sorted-pair hashing), revoking by
/// the guardian (bounded) or the Timelock, disputes with a bond resolved (upheld or dismissed) by the
/// guardian or the Timelock or left to lapse, activation after the challenge window, claim, claimTo and
/// claimMany with real proofs, stale claims against an older root, second claims that must pay nothing, and
/// cancelled ClaimTo nonces.
/// @dev Every call into a contract is in the "calls" section below. The trees have four leaves (the actor
/// set), so each proof is two nodes; a root is published without a cached layer (anchor 0), with the
/// on-chain policy hash, and only after its week ended by the vault's clock (publish waits for it, or tries
/// early and must be refused).
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
    /// @notice Set when a root was accepted for a week that had not ended by the vault's clock.
    bool public ghostPublishedEarly;
    uint256 public ghostPendingActivatesAt; // unix seconds, of the pending root

    /// @notice Guardian revocations (revoke, or an upheld dispute resolved by the guardian) since the last
    /// activation, and the longest such run seen.
    uint256 public ghostGuardianStreak;
    uint256 public ghostMaxGuardianStreak;

    /// @notice The open dispute of the pending root, if any, and the bond accounting of every dispute.
    bool public ghostDisputeOpen;
    address public ghostDisputer;
    uint256 public ghostDisputeResolvesBy; // unix seconds
    uint256 public ghostBondsHeld; // wei: the open dispute's bond (0 without one)
    uint256 public ghostBondsPaidIn; // wei pulled from disputers
    uint256 public ghostBondsReturned; // wei back to disputers (upheld or lapsed)
    uint256 public ghostBondsForfeited; // wei to the treasury (dismissed)
    /// @notice Set when a bond did not reach the disputer (upheld, lapsed) or the treasury (dismissed).
    bool public ghostBondMisrouted;
    /// @notice Set when a root activated while an open dispute that had not lapsed held it.
    bool public ghostReleasedEarly;
    /// @notice Set when a pending root could not be activated `DISPUTE_PERIOD` after its window ended.
    bool public ghostHeldTooLong;
    /// @notice Nonces used per account: cancelled with invalidateNonce, or spent by a claimTo.
    mapping(address account => uint256 count) public ghostNoncesUsed;

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
    /// total must stay within what was funded (else the publisher would be refused; counted as refused). The
    /// oracle usually waits for the week's end (up to a day later); with `early` it tries at once, and a
    /// publication of a week not yet ended must be refused.
    function publish(uint256 incrementSeed, bool early, uint256 delaySeed) external {
        uint256 week = distributor.nextWeek();
        uint256 endsAt = vault.weekStart(week + 1);
        if (!early && block.timestamp < endsAt) vm.warp(endsAt + bound(delaySeed, 0, 1 days));
        // Publishing over a pending root whose window has passed (and no open dispute holds) activates it first.
        bool pendingActivates = ghostHasPending && block.timestamp >= ghostPendingActivatesAt && !_held();
        // A pending root still in its window refuses the publication; otherwise amounts grow from the newest root.
        uint256[4] memory base = pendingActivates ? _pendingAmounts : _activeAmounts;
        uint256[4] memory amounts;
        uint256 total;
        for (uint256 i = 0; i < 4; ++i) {
            amounts[i] = base[i] + bound(uint256(keccak256(abi.encode(incrementSeed, i))), 0, MAX_WEEKLY_INCREMENT);
            total += amounts[i];
        }
        bytes32 root = _root(amounts);
        (bool ok, uint256 returned) = _publish(week, root, total);
        if (ok) {
            if (block.timestamp < endsAt) ghostPublishedEarly = true;
            if (pendingActivates) _activateGhost(returned);
            _pendingAmounts = amounts;
            ghostHasPending = true;
            ghostPendingActivatesAt = block.timestamp + suite.CHALLENGE_WINDOW();
        }
        _count("publish", ok);
    }

    function revoke(bool byGuardian) external {
        bool ok = _revoke(byGuardian ? guardian : timelock);
        if (ok) {
            ghostHasPending = false;
            if (byGuardian) _countGuardianRevocation();
        }
        _count(byGuardian ? bytes32("revoke.guardian") : bytes32("revoke.timelock"), ok);
    }

    /// @notice An actor disputes the pending root, putting up the bond.
    function dispute(uint256 actorSeed, bytes32 evidenceHash) external {
        address actor = _actor(actorSeed);
        uint256 bond = distributor.disputeBond();
        bool ok = _dispute(actor, bond, evidenceHash);
        if (ok) {
            ghostDisputeOpen = true;
            ghostDisputer = actor;
            ghostDisputeResolvesBy = block.timestamp + distributor.DISPUTE_PERIOD();
            ghostBondsHeld = bond;
            ghostBondsPaidIn += bond;
        }
        _count("dispute", ok);
    }

    /// @notice The guardian or the Timelock resolves the open dispute: upheld revokes the root and returns the
    /// bond to the disputer; dismissed sends the bond to the treasury (the Timelock) and lets the root activate.
    function resolve(bool upheld, bool byGuardian) external {
        address disputer = ghostDisputer;
        uint256 bond = ghostBondsHeld;
        address to = upheld ? disputer : timelock;
        uint256 before = token.balanceOf(to);
        bool ok = _resolve(byGuardian ? guardian : timelock, upheld);
        if (ok) {
            if (token.balanceOf(to) - before != bond) ghostBondMisrouted = true;
            ghostDisputeOpen = false;
            ghostBondsHeld = 0;
            if (upheld) {
                ghostBondsReturned += bond;
                ghostHasPending = false;
                if (byGuardian) _countGuardianRevocation();
            } else {
                ghostBondsForfeited += bond;
            }
        }
        _count(upheld ? bytes32("resolve.upheld") : bytes32("resolve.dismissed"), ok);
    }

    /// @notice Nobody resolves the open dispute: time passes to its end (up to a day later) and the root
    /// activates, returning the bond. One time in four it stops a second short of the end instead, where the
    /// open dispute must still hold the root.
    function lapse(uint256 delaySeed) external {
        if (!ghostDisputeOpen) return;
        uint256 until = ghostDisputeResolvesBy;
        if (delaySeed % 4 == 0) {
            if (block.timestamp + 1 < until) vm.warp(until - 1);
            if (block.timestamp < until) {
                (bool early, ) = _activate();
                if (early) ghostReleasedEarly = true;
                _count("lapse.early", !early);
                return;
            }
        }
        if (block.timestamp < until) vm.warp(until + bound(delaySeed, 0, 1 days));
        _activateAndCheck("lapse");
    }

    /// @notice An actor cancels its next ClaimTo signature nonce.
    function invalidateNonce(uint256 actorSeed) external {
        address actor = _actor(actorSeed);
        bool ok = _invalidateNonce(actor);
        if (ok) ghostNoncesUsed[actor]++;
        _count("invalidateNonce", ok);
    }

    function activate() external {
        _activateAndCheck("activate");
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

    /// @dev An open dispute that has not lapsed holds the pending root.
    function _held() private view returns (bool) {
        return ghostDisputeOpen && block.timestamp < ghostDisputeResolvesBy;
    }

    function _countGuardianRevocation() private {
        ++ghostGuardianStreak;
        if (ghostGuardianStreak > ghostMaxGuardianStreak) ghostMaxGuardianStreak = ghostGuardianStreak;
    }

    /// @dev Activates the pending root; a root whose window plus `DISPUTE_PERIOD` has passed must activate.
    function _activateAndCheck(bytes32 action) private {
        bool due = ghostHasPending && block.timestamp >= ghostPendingActivatesAt + distributor.DISPUTE_PERIOD();
        (bool ok, uint256 returned) = _activate();
        if (ok) _activateGhost(returned);
        else if (due) ghostHeldTooLong = true;
        _count(action, ok);
    }

    /// @dev The pending root became active; `returned` is what its disputer got back if its dispute lapsed.
    function _activateGhost(uint256 returned) private {
        _previousActiveAmounts = _activeAmounts;
        _activeAmounts = _pendingAmounts;
        ghostActiveRoot = _root(_pendingAmounts);
        ghostHasPending = false;
        ghostGuardianStreak = 0;
        if (ghostDisputeOpen) {
            if (returned != ghostBondsHeld) ghostBondMisrouted = true;
            ghostBondsReturned += ghostBondsHeld;
            ghostBondsHeld = 0;
            ghostDisputeOpen = false;
        } else if (returned != 0) {
            ghostBondMisrouted = true;
        }
    }

    function _claimAndAgain(uint256 i, address recipient, bool viaClaimTo) private {
        address account = _actors[i];
        bytes32[] memory proof = _proof(_activeAmounts, i);
        (bool ok, uint256 paid) = viaClaimTo
            ? _claimTo(account, _activeAmounts[i], proof, recipient)
            : _claim(account, _activeAmounts[i], proof);
        if (ok) {
            if (viaClaimTo) ghostNoncesUsed[account]++;
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

    /// @dev `returned`: what the open dispute's disputer got back if publishing activated the pending root.
    function _publish(uint256 week, bytes32 root, uint256 total) private returns (bool ok, uint256 returned) {
        bytes32 policy = distributor.policyHash();
        address disputer = ghostDisputer;
        uint256 before = token.balanceOf(disputer);
        vm.prank(publisher);
        try distributor.publishRoot(week, root, total, keccak256(abi.encode(root)), policy, "") {
            (ok, returned) = (true, token.balanceOf(disputer) - before);
        } catch {}
    }

    function _dispute(address actor, uint256 bond, bytes32 evidenceHash) private returns (bool ok) {
        vm.startPrank(actor);
        token.approve(address(distributor), bond);
        try distributor.disputePendingRoot(evidenceHash) {
            ok = true;
        } catch {}
        vm.stopPrank();
    }

    function _resolve(address by, bool upheld) private returns (bool ok) {
        vm.prank(by);
        try distributor.resolveDispute(upheld) {
            ok = true;
        } catch {}
    }

    function _invalidateNonce(address actor) private returns (bool ok) {
        vm.prank(actor);
        try distributor.invalidateNonce() {
            ok = true;
        } catch {}
    }

    function _revoke(address by) private returns (bool ok) {
        vm.prank(by);
        try distributor.revokePendingRoot() {
            ok = true;
        } catch {}
    }

    /// @dev `returned`: what the open dispute's disputer got back if its dispute lapsed.
    function _activate() private returns (bool ok, uint256 returned) {
        address disputer = ghostDisputer;
        uint256 before = token.balanceOf(disputer);
        try distributor.activateRoot() {
            (ok, returned) = (true, token.balanceOf(disputer) - before);
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
