// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsumerStaking} from "../../../contracts/interfaces/IConsumerStaking.sol";
import {bound} from "../lib/Test.sol";
import {Suite} from "../lib/Suite.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @title StakingHandler
/// @notice Random bounded actions on consumer staking: stake, request unstake, withdraw, guardian and DAO
/// freezes, unfreezes, slashes (burning or to the treasury, with compensation to the distributor),
/// parameter changes by the Timelock, time, and the same doors tried by an actor who holds no role.
/// @dev Every call into a contract is in the "calls" section below.
contract StakingHandler is HandlerBase {
    uint256 public constant MAX_PARAMETER = 1_000_000e18; // wei, bound for the stake parameters fuzzed

    // ---------------------------------------------------------------- ghost state
    uint256 public ghostDeposited; // wei staked in
    uint256 public ghostWithdrawn; // wei withdrawn
    uint256 public ghostSlashed; // wei slashed (compensation + remainder)
    uint256 public ghostBurned; // wei of slashed remainders burned
    /// @notice Set when a withdrawal succeeded before its unbonding ended or while frozen.
    bool public ghostEarlyWithdrawal;
    /// @notice Set when a slash took more than stake + unbonding.
    bool public ghostOverSlash;
    /// @notice Set when an actor without a role slashed or changed a parameter.
    bool public ghostUnauthorised;

    constructor(Suite suite_) HandlerBase(suite_) {}

    // ---------------------------------------------------------------- actions

    function stake(uint256 actorSeed, uint256 amountSeed) external {
        address actor = _actor(actorSeed);
        uint256 amount = bound(amountSeed, 1, token.balanceOf(actor) / 4 + 1);
        bool ok = _stake(actor, amount);
        if (ok) ghostDeposited += amount;
        _count("stake", ok);
    }

    function requestUnstake(uint256 actorSeed, uint256 amountSeed) external {
        address actor = _actor(actorSeed);
        uint256 amount = bound(amountSeed, 1, _position(actor).staked + 1);
        _count("requestUnstake", _requestUnstake(actor, amount));
    }

    function withdraw(uint256 actorSeed) external {
        address actor = _actor(actorSeed);
        IConsumerStaking.Position memory before = _position(actor);
        (bool ok, uint256 amount) = _withdraw(actor);
        if (ok) {
            ghostWithdrawn += amount;
            if (block.timestamp < before.releaseAt || block.timestamp < before.frozenUntil) ghostEarlyWithdrawal = true;
        }
        _count("withdraw", ok);
    }

    function freeze(uint256 actorSeed, bool byGuardian) external {
        address by = byGuardian ? guardian : timelock;
        _count("freeze", _freeze(by, _actor(actorSeed)));
    }

    function extendFreeze(uint256 actorSeed, uint256 secondsSeed) external {
        uint64 until = uint64(block.timestamp + bound(secondsSeed, 1, 60 days));
        _count("extendFreeze", _extendFreeze(_actor(actorSeed), until));
    }

    function unfreeze(uint256 actorSeed) external {
        _count("unfreeze", _unfreeze(_actor(actorSeed)));
    }

    function slash(uint256 actorSeed, uint256 amountSeed, uint256 compensationSeed, bool burn) external {
        address actor = _actor(actorSeed);
        IConsumerStaking.Position memory before = _position(actor);
        uint256 slashable = before.staked + before.unbonding;
        // Up to twice what is there: the contract must clip to stake + unbonding.
        uint256 amount = bound(amountSeed, 1, 2 * slashable + 1);
        uint256 compensation = bound(compensationSeed, 0, amount);
        uint256 balanceBefore = token.balanceOf(address(staking));
        IConsumerStaking.Remainder to = burn ? IConsumerStaking.Remainder.Burn : IConsumerStaking.Remainder.Treasury;
        bool ok = _slash(timelock, actor, amount, compensation, to);
        if (ok) {
            uint256 taken = balanceBefore - token.balanceOf(address(staking));
            if (taken > slashable) ghostOverSlash = true;
            ghostSlashed += taken;
            uint256 compensated = compensation < taken ? compensation : taken;
            if (burn) ghostBurned += taken - compensated;
        }
        _count("slash", ok);
    }

    function setStakeParameters(uint256 baseSeed, uint256 perVehicleSeed) external {
        uint256 base = bound(baseSeed, 0, MAX_PARAMETER);
        uint256 perVehicle = bound(perVehicleSeed, 1, MAX_PARAMETER);
        _count("setStakeParameters", _setStakeParameters(timelock, base, perVehicle));
    }

    function setPeriods(uint256 unbondingSeed, uint256 freezeSeed) external {
        uint256 unbonding = bound(unbondingSeed, 0, 400 days);
        uint256 freezeFor = bound(freezeSeed, 0, 70 days);
        _count("setPeriods", _setPeriods(timelock, unbonding, freezeFor));
    }

    /// @notice An actor holding no role tries the Timelock's doors; any success is recorded.
    function unauthorised(uint256 actorSeed, uint256 victimSeed) external {
        address actor = _actor(actorSeed);
        if (_slash(actor, _actor(victimSeed), 1, 0, IConsumerStaking.Remainder.Burn)) ghostUnauthorised = true;
        if (_setStakeParameters(actor, 0, 1)) ghostUnauthorised = true;
        if (_setPeriods(actor, 100 days, 50 days)) ghostUnauthorised = true;
        calls["unauthorised"]++;
    }

    // ---------------------------------------------------------------- calls (the only place that calls in)

    function _position(address actor) internal view returns (IConsumerStaking.Position memory) {
        return staking.position(actor);
    }

    function _stake(address actor, uint256 amount) private returns (bool ok) {
        vm.startPrank(actor);
        token.approve(address(staking), amount);
        try staking.stake(amount) {
            ok = true;
        } catch {}
        vm.stopPrank();
    }

    function _requestUnstake(address actor, uint256 amount) private returns (bool ok) {
        vm.prank(actor);
        try staking.requestUnstake(amount) {
            ok = true;
        } catch {}
    }

    function _withdraw(address actor) private returns (bool ok, uint256 amount) {
        vm.prank(actor);
        try staking.withdraw() returns (uint256 out) {
            (ok, amount) = (true, out);
        } catch {}
    }

    function _freeze(address by, address consumer) private returns (bool ok) {
        vm.prank(by);
        try staking.freeze(consumer) {
            ok = true;
        } catch {}
    }

    function _extendFreeze(address consumer, uint64 until) private returns (bool ok) {
        vm.prank(timelock);
        try staking.extendFreeze(consumer, until) {
            ok = true;
        } catch {}
    }

    function _unfreeze(address consumer) private returns (bool ok) {
        vm.prank(timelock);
        try staking.unfreeze(consumer) {
            ok = true;
        } catch {}
    }

    function _slash(
        address by,
        address consumer,
        uint256 amount,
        uint256 compensation,
        IConsumerStaking.Remainder to
    ) private returns (bool ok) {
        vm.prank(by);
        try staking.slash(consumer, amount, compensation, to, 0, bytes32("evidence"), "ipfs://evidence") {
            ok = true;
        } catch {}
    }

    function _setStakeParameters(address by, uint256 base, uint256 perVehicle) private returns (bool ok) {
        vm.prank(by);
        try staking.setStakeParameters(base, perVehicle) {
            ok = true;
        } catch {}
    }

    function _setPeriods(address by, uint256 unbonding, uint256 freezeFor) private returns (bool ok) {
        vm.prank(by);
        try staking.setUnbondingPeriod(unbonding) {
            ok = true;
        } catch {}
        vm.prank(by);
        try staking.setFreezeDuration(freezeFor) {
            ok = true;
        } catch {}
    }
}
