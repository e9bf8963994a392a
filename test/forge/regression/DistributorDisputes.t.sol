// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {DistributorSetup} from "../invariants/Distributor.invariant.t.sol";

/// @title DistributorDisputesRegression
/// @notice A written sequence through the distributor handler's revocation and dispute doors, checking every
/// distributor invariant after each call: it pins that the campaign's handler reaches each door (a dispute
/// dismissed, one upheld, one lapsed, the guardian's fourth revocation in a row refused and the Timelock's
/// allowed) and that the bond accounting holds on each path.
contract DistributorDisputesRegression is DistributorSetup {
    function test_disputesAndRevocations() public {
        uint256 bond = distributor.disputeBond();
        for (uint256 n = 0; n < 10; ++n) {
            for (uint256 i = 0; i < 4; ++i) handler.fund(i, type(uint256).max);
        }
        _checkDistributor();

        // Week 0: disputed, the guardian dismisses it (bond to the treasury), it activates after its window.
        _publish();
        handler.dispute(0, "evidence 0");
        _checkDistributor();
        handler.revoke(true);
        assertEq(handler.refused("revoke.guardian"), 1, "a disputed root cannot be revoked");
        handler.resolve(false, true);
        _checkDistributor();
        handler.activate();
        assertEq(handler.refused("activate"), 1, "a dismissed root still waits for its window");
        handler.warp(1 days);
        handler.activate();
        assertEq(handler.calls("activate"), 1, "the dismissed root activates");
        _checkDistributor();

        // Week 1: upheld by the guardian (bond back), then two guardian revocations: three in a row.
        _publish();
        handler.dispute(1, "evidence 1");
        handler.resolve(true, true);
        _checkDistributor();
        for (uint256 n = 0; n < 2; ++n) {
            _publish();
            handler.revoke(true);
            _checkDistributor();
        }
        assertEq(distributor.guardianRevocations(), 3, "three guardian revocations in a row");
        _publish();
        handler.revoke(true);
        assertEq(handler.refused("revoke.guardian"), 2, "the fourth guardian revocation in a row is refused");
        handler.revoke(false);
        assertEq(handler.calls("revoke.timelock"), 1, "the Timelock's revocation is not bounded");
        _checkDistributor();

        // Week 1 again: a dispute nobody resolves lapses, the root activates and the bond goes back.
        _publish();
        handler.dispute(2, "evidence 2");
        handler.lapse(0);
        assertEq(handler.calls("lapse.early"), 1, "a second before it lapses, the dispute still holds the root");
        _checkDistributor();
        handler.lapse(1);
        assertEq(handler.calls("lapse"), 1, "the lapsed dispute lets the root activate");
        assertEq(distributor.guardianRevocations(), 0, "an activation restarts the guardian's count");
        _checkDistributor();

        assertEq(handler.calls("dispute"), 3, "three disputes opened");
        assertEq(handler.calls("resolve.dismissed"), 1, "one dismissed");
        assertEq(handler.calls("resolve.upheld"), 1, "one upheld");
        assertEq(handler.ghostBondsForfeited(), bond, "the dismissed bond went to the treasury");
        assertEq(handler.ghostBondsReturned(), 2 * bond, "the upheld and the lapsed bonds went back");
        assertEq(handler.ghostBondsHeld(), 0, "no bond held");
    }

    /// @dev Publishes the next week once it ended (the handler waits for its end), with small increments.
    function _publish() private {
        uint256 published = handler.calls("publish");
        handler.publish(1, false, 0);
        assertEq(handler.calls("publish"), published + 1, "the week is published");
        _checkDistributor();
    }
}
