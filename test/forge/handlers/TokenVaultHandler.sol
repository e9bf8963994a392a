// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {bound} from "../lib/Test.sol";
import {Suite} from "../lib/Suite.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @title TokenVaultHandler
/// @notice Random bounded actions on the token and the issuance vault: transfers and burns among the actors,
/// weekly releases pulled by the distributor over time, donations to the vault and sweeps of the excess.
/// @dev Every call into a contract is in the "calls" section below, one function per contract function.
contract TokenVaultHandler is HandlerBase {
    // ---------------------------------------------------------------- ghost state
    uint256 public ghostBurned; // wei
    uint256 public ghostReleased; // wei, sum of the vault's releases
    uint256 public ghostNextWeek; // first week not yet released
    uint256 public ghostDonated; // wei sent to the vault beyond the schedule
    uint256 public ghostSwept; // wei swept out of the vault
    /// @notice Set when a release did not start where the last one ended, or paid other than the schedule.
    bool public ghostReleaseMismatch;

    constructor(Suite suite_) HandlerBase(suite_) {}

    // ---------------------------------------------------------------- actions

    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amountSeed) external {
        address from = _actor(fromSeed);
        uint256 amount = bound(amountSeed, 0, token.balanceOf(from));
        _count("transfer", _transfer(from, _actor(toSeed), amount));
    }

    function burn(uint256 actorSeed, uint256 amountSeed) external {
        address from = _actor(actorSeed);
        uint256 amount = bound(amountSeed, 0, token.balanceOf(from) / 100);
        bool ok = _burn(from, amount);
        if (ok) ghostBurned += amount;
        _count("burn", ok);
    }

    function pullIssuance() external {
        uint256 fromWeek = vault.nextWeek();
        (bool ok, uint256 amount) = _pullIssuance();
        if (ok) {
            uint256 toWeek = vault.nextWeek();
            if (fromWeek != ghostNextWeek || amount != vault.amountOfWeeks(fromWeek, toWeek)) {
                ghostReleaseMismatch = true;
            }
            ghostNextWeek = toWeek;
            ghostReleased += amount;
        }
        _count("pullIssuance", ok);
    }

    function donateToVault(uint256 actorSeed, uint256 amountSeed) external {
        address from = _actor(actorSeed);
        uint256 amount = bound(amountSeed, 0, token.balanceOf(from) / 10);
        bool ok = _transfer(from, address(vault), amount);
        if (ok) ghostDonated += amount;
        _count("donateToVault", ok);
    }

    function sweepVault() external {
        (bool ok, uint256 amount) = _sweepVault();
        if (ok) ghostSwept += amount;
        _count("sweepVault", ok);
    }

    // ---------------------------------------------------------------- calls (the only place that calls in)

    function _transfer(address from, address to, uint256 amount) private returns (bool ok) {
        vm.prank(from);
        try token.transfer(to, amount) returns (bool done) {
            ok = done;
        } catch {}
    }

    function _burn(address from, uint256 amount) private returns (bool ok) {
        vm.prank(from);
        try token.burn(amount) {
            ok = true;
        } catch {}
    }

    function _pullIssuance() private returns (bool ok, uint256 amount) {
        try distributor.pullIssuance() returns (uint256 pulled) {
            (ok, amount) = (true, pulled);
        } catch {}
    }

    function _sweepVault() private returns (bool ok, uint256 amount) {
        vm.prank(timelock);
        try vault.sweepExcess(timelock) returns (uint256 swept) {
            (ok, amount) = (true, swept);
        } catch {}
    }
}
