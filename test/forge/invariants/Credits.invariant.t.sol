// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDataCredits} from "../../../contracts/interfaces/IDataCredits.sol";
import {SuiteInvariants} from "./SuiteInvariants.sol";
import {CreditsHandler} from "../handlers/CreditsHandler.sol";

/// @title CreditsSetup
/// @notice The data-credits campaign's suite, handler and checks, shared by the campaign and its regressions.
abstract contract CreditsSetup is SuiteInvariants {
    CreditsHandler internal handler;
    address[] internal nodes;

    function setUp() public {
        _deploySuite();
        handler = new CreditsHandler(suite);
        nodes = handler.nodes();
        targetContract(address(handler));
    }

    function _burned() internal view override returns (uint256) {
        return handler.ghostBurned();
    }

    function _checkCredits() internal view {
        _checkSupply();
        uint256 sumBalances;
        for (uint256 c = 0; c < actors.length; ++c) {
            address consumer = actors[c];
            IDataCredits.Account memory a = credits.account(consumer);
            uint256 deposited = handler.ghostDeposited(consumer);
            uint256 redeemed = handler.ghostRedeemed(consumer);
            uint256 withdrawn = handler.ghostWithdrawn(consumer);
            assertEq(a.balance, deposited - redeemed - withdrawn, "balance == deposits - redeemed - withdrawn");
            assertEq(a.deposited, deposited, "account deposited == ghost");
            assertEq(a.redeemed, redeemed, "account redeemed == ghost");
            assertEq(a.withdrawn, withdrawn, "account withdrawn == ghost");
            assertLe(redeemed, handler.ghostSignedCeiling(consumer), "charged <= credits x the signed price ceilings");
            sumBalances += a.balance;
            for (uint256 n = 0; n < nodes.length; ++n) {
                IDataCredits.Channel memory ch = credits.channel(consumer, nodes[n]);
                // Not "the latest signed": an older receipt above the redeemed credits legitimately pays the
                // difference; what must hold is that no channel is redeemed beyond the highest cumulative signed.
                assertLe(ch.credits, handler.ghostMaxSigned(consumer, nodes[n]), "redeemed <= highest signed");
                assertLe(ch.sequence, handler.ghostLastSignedSequence(consumer, nodes[n]), "sequence <= signed");
                assertEq(ch.credits, handler.ghostChannelCredits(consumer, nodes[n]), "channel credits == ghost");
                assertEq(ch.sequence, handler.ghostChannelSequence(consumer, nodes[n]), "channel sequence == ghost");
            }
        }
        assertEq(sumBalances, credits.totalBalance(), "sum of balances == totalBalance");
        assertEq(credits.totalUnsettled(), handler.ghostUnsettled(), "unsettled == ghost");
        assertEq(
            token.balanceOf(address(credits)),
            sumBalances + credits.totalUnsettled(),
            "credits' DIMO == sum of balances + unsettled redeemed"
        );
        assertEq(
            handler.ghostBurned() + handler.ghostToTreasury() + handler.ghostToDrivers(),
            handler.ghostSettledCharged(),
            "burned + treasury + drivers == settled charges, to the wei"
        );
        assertEq(distributor.totalFunded(), handler.ghostToDrivers(), "distributor funded == drivers' shares");
        assertTrue(!handler.ghostMispredicted(), "each redeem pays exactly (credits above the channel) x price");
        assertTrue(!handler.ghostBadReceiptPaid(), "no forged, replayed, out-of-order or foreign receipt pays");
        assertTrue(!handler.ghostSplitWrong(), "each settlement splits its week's charges as the split says");
        assertTrue(!handler.ghostWithdrawalWrong(), "withdrawals only after the notice, min(pending, balance)");
        assertTrue(!handler.ghostParameterWrong(), "only the Timelock sets price, notice, split, within bounds");
        (uint256 burnBps, uint256 treasuryBps) = credits.split();
        assertEq(credits.pricePerCredit(), handler.ghostPrice(), "price == ghost");
        assertEq(credits.noticePeriod(), handler.ghostNotice(), "notice == ghost");
        assertEq(burnBps + treasuryBps * 1e5, handler.ghostBurnBps() + handler.ghostTreasuryBps() * 1e5, "split");
    }
}

/// @title CreditsInvariants
/// @notice Data credits under deposits, permits, withdrawals after notice, signed receipts redeemed alone or in
/// batches (and bad ones refused), Timelock parameter changes, weekly settlements and time.
contract CreditsInvariants is CreditsSetup {
    // A credits call costs about three times a token or staking call (two EIP-712 signatures per receipt, the
    // ghost's per-channel checks): 25 of foundry.toml's 250 runs keep the campaign near 45 CPU s of the CI's
    // fuzzing budget; the other four campaigns keep the 1,000,000 calls on their own.
    /// forge-config: default.invariant.runs = 25
    function invariant_credits() public view {
        _checkCredits();
    }
}
