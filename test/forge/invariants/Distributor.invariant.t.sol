// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SuiteInvariants} from "./SuiteInvariants.sol";
import {DistributorHandler} from "../handlers/DistributorHandler.sol";
import {TokenVaultHandler} from "../handlers/TokenVaultHandler.sol";

/// @title DistributorSetup
/// @notice The distributor campaign's suite, handlers and checks, shared by the campaign and its regressions.
abstract contract DistributorSetup is SuiteInvariants {
    DistributorHandler internal handler;
    TokenVaultHandler internal tokens;

    function setUp() public {
        _deploySuite();
        handler = new DistributorHandler(suite);
        tokens = new TokenVaultHandler(suite);
        targetContract(address(handler));
        targetContract(address(tokens));
    }

    function _burned() internal view override returns (uint256) {
        return tokens.ghostBurned();
    }

    function _checkDistributor() internal view {
        _checkSupply();
        _checkVault();
        uint256 funded = distributor.totalFunded();
        assertEq(funded, vault.totalReleased() + handler.ghostFunded(), "funded == releases + funding");
        uint256 claimedTotal;
        for (uint256 i = 0; i < actors.length; ++i) {
            uint256 claimed = distributor.claimed(actors[i]);
            claimedTotal += claimed;
            assertLe(claimed, handler.activeAmount(i), "an account never gets more than the newest active root");
            assertEq(claimed, handler.ghostReceivedFor(actors[i]), "claimed == paid for the account");
        }
        assertEq(claimedTotal, handler.ghostPaid(), "sum claimed == sum paid");
        assertLe(claimedTotal, funded, "total claimed <= total funded");
        assertEq(token.balanceOf(address(distributor)), funded - claimedTotal, "distributor holds funded - claimed");
        assertTrue(distributor.activeRoot().root == handler.ghostActiveRoot(), "active root == ghost");
        assertTrue(!handler.ghostPaidTwice(), "claiming twice or with a stale proof pays nothing");
    }
}

/// @title DistributorInvariants
/// @notice The reward distributor under funding, issuance, publishing, revocation, activation and claims.
contract DistributorInvariants is DistributorSetup {
    function invariant_distributor() public view {
        _checkDistributor();
    }
}
