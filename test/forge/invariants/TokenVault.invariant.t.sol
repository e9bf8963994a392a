// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SuiteInvariants} from "./SuiteInvariants.sol";
import {TokenVaultHandler} from "../handlers/TokenVaultHandler.sol";

/// @title TokenVaultInvariants
/// @notice Token and issuance vault under random transfers, burns, releases over time, donations and sweeps.
contract TokenVaultInvariants is SuiteInvariants {
    TokenVaultHandler internal handler;

    function setUp() public {
        _deploySuite();
        handler = new TokenVaultHandler(suite);
        targetContract(address(handler));
    }

    function _burned() internal view override returns (uint256) {
        return handler.ghostBurned();
    }

    function invariant_tokenAndVault() public view {
        _checkSupply();
        _checkVault();
        assertEq(vault.totalReleased(), handler.ghostReleased(), "vault total released == ghost");
        assertTrue(!handler.ghostReleaseMismatch(), "each release starts where the last ended, pays the schedule");
        assertEq(vault.nextWeek(), handler.ghostNextWeek(), "each week released at most once");
    }
}
