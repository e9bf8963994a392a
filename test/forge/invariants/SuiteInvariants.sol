// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "../lib/Test.sol";
import {Suite} from "../lib/Suite.sol";
import {DimoToken} from "../../../contracts/DimoToken.sol";
import {IssuanceVault} from "../../../contracts/IssuanceVault.sol";
import {RewardDistributor} from "../../../contracts/rewards/RewardDistributor.sol";
import {ConsumerStaking} from "../../../contracts/staking/ConsumerStaking.sol";
import {DataCredits} from "../../../contracts/data/DataCredits.sol";

/// @title SuiteInvariants
/// @notice The PRODUCT.md invariants every campaign checks after every call, whatever its handlers do.
abstract contract SuiteInvariants is Test {
    Suite internal suite;
    // Kept here so that a check after every call reads storage instead of calling the suite.
    DimoToken internal token;
    IssuanceVault internal vault;
    RewardDistributor internal distributor;
    ConsumerStaking internal staking;
    DataCredits internal credits;
    address internal timelock;
    address[] internal actors;
    uint256 internal totalSupplyAtGenesis;

    function _deploySuite() internal {
        suite = new Suite();
        (token, vault, distributor, staking) = (suite.token(), suite.vault(), suite.distributor(), suite.staking());
        timelock = address(suite.timelock());
        credits = suite.credits();
        actors = suite.actors();
        totalSupplyAtGenesis = token.TOTAL_SUPPLY();
        vm.warp(suite.GENESIS());
    }

    /// @dev Wei burned so far by every handler of the campaign (burns and slashed remainders).
    function _burned() internal view virtual returns (uint256);

    /// @notice Total DIMO supply is constant (less what was burned); nothing mints after genesis; every
    /// wei sits with an account the suite knows.
    function _checkSupply() internal view {
        uint256 supply = token.totalSupply();
        assertEq(supply + _burned(), totalSupplyAtGenesis, "supply + burned == TOTAL_SUPPLY");
        uint256 held =
            token.balanceOf(address(suite)) +
                token.balanceOf(address(vault)) +
                token.balanceOf(address(distributor)) +
                token.balanceOf(address(staking)) +
                token.balanceOf(address(credits)) +
                token.balanceOf(timelock);
        for (uint256 i = 0; i < actors.length; ++i) held += token.balanceOf(actors[i]);
        assertEq(held, supply, "sum of known balances == totalSupply");
    }

    /// @notice Released ≤ schedule up to the last ended week; the vault still holds what it owes.
    function _checkVault() internal view {
        uint256 ended = vault.weeksEnded();
        uint256 last = vault.totalWeeks();
        uint256 upTo = ended < last ? ended : last;
        uint256 released = vault.totalReleased();
        assertLe(released, vault.amountOfWeeks(0, upTo), "released <= schedule to the last ended week");
        assertEq(released, vault.amountOfWeeks(0, vault.nextWeek()), "released == weeks released");
        assertLe(vault.nextWeek(), upTo, "next week to release <= weeks ended");
        assertGe(
            token.balanceOf(address(vault)),
            vault.scheduleTotal() - released,
            "vault balance >= what the schedule still owes"
        );
        assertGe(distributor.totalFunded(), released, "distributor funded >= released");
    }
}
