// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRewardDistributor} from "../../../contracts/interfaces/IRewardDistributor.sol";
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
        uint256 held = handler.ghostBondsHeld();
        assertEq(
            token.balanceOf(address(distributor)),
            funded - claimedTotal + held,
            "distributor holds funded - claimed + the open dispute's bond"
        );
        assertTrue(distributor.activeRoot().root == handler.ghostActiveRoot(), "active root == ghost");
        assertTrue(!handler.ghostPaidTwice(), "claiming twice or with a stale proof pays nothing");
        assertTrue(!handler.ghostPublishedEarly(), "a week is published only after it ended");
        for (uint256 i = 0; i < actors.length; ++i) {
            assertEq(
                distributor.nonces(actors[i]),
                handler.ghostNoncesUsed(actors[i]),
                "nonces == cancelled + claimTo"
            );
        }
        _checkRevocations();
        _checkDisputes(held);
    }

    /// @notice The guardian never revokes more than `MAX_GUARDIAN_REVOCATIONS` (3) roots in a row.
    function _checkRevocations() internal view {
        uint256 max = distributor.MAX_GUARDIAN_REVOCATIONS();
        assertLe(handler.ghostMaxGuardianStreak(), max, "guardian revocations in a row <= 3");
        assertEq(distributor.guardianRevocations(), handler.ghostGuardianStreak(), "guardian revocations == ghost");
    }

    /// @notice Bonds held == the open dispute's bond; every bond paid in is held, returned or forfeited; no
    /// root is held past its window + `DISPUTE_PERIOD`.
    function _checkDisputes(uint256 held) internal view {
        IRewardDistributor.DisputeInfo memory d = distributor.pendingDispute();
        assertEq(d.bond, held, "bond held == the open dispute's bond");
        assertEq(
            handler.ghostBondsPaidIn(),
            held + handler.ghostBondsReturned() + handler.ghostBondsForfeited(),
            "bonds paid in == held + returned + forfeited"
        );
        assertTrue(!handler.ghostBondMisrouted(), "a bond goes to its disputer (upheld, lapsed) or the treasury");
        assertTrue(!handler.ghostReleasedEarly(), "an open dispute holds the root until it lapses");
        assertTrue(!handler.ghostHeldTooLong(), "a root activates once its window + DISPUTE_PERIOD passed");
        IRewardDistributor.RootInfo memory p = distributor.pendingRoot();
        assertEq(p.activatesAt, handler.ghostHasPending() ? handler.ghostPendingActivatesAt() : 0, "pending == ghost");
        if (d.resolvesBy != 0) {
            assertEq(d.resolvesBy, handler.ghostDisputeResolvesBy(), "dispute end == ghost");
            assertLe(d.resolvesBy, p.activatesAt + distributor.DISPUTE_PERIOD(), "held <= window + DISPUTE_PERIOD");
        }
    }
}

/// @title DistributorInvariants
/// @notice The reward distributor under funding, issuance, publishing, revocation, disputes, activation and
/// claims.
contract DistributorInvariants is DistributorSetup {
    function invariant_distributor() public view {
        _checkDistributor();
    }
}
