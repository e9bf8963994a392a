// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsumerStaking} from "../../../contracts/interfaces/IConsumerStaking.sol";
import {SuiteInvariants} from "./SuiteInvariants.sol";
import {StakingHandler} from "../handlers/StakingHandler.sol";
import {TokenVaultHandler} from "../handlers/TokenVaultHandler.sol";

/// @title StakingSetup
/// @notice The staking campaign's suite, handlers and checks, shared by the campaign and its regressions.
abstract contract StakingSetup is SuiteInvariants {
    StakingHandler internal handler;
    TokenVaultHandler internal tokens;

    function setUp() public {
        _deploySuite();
        handler = new StakingHandler(suite);
        tokens = new TokenVaultHandler(suite);
        targetContract(address(handler));
        targetContract(address(tokens));
    }

    function _burned() internal view override returns (uint256) {
        return handler.ghostBurned() + tokens.ghostBurned();
    }

    function _checkStaking() internal view {
        _checkSupply();
        _checkVault();
        (uint256 staked, uint256 unbonding) = staking.totals();
        uint256 balance = token.balanceOf(address(staking));
        assertEq(balance, staked + unbonding, "staking balance == staked + unbonding");
        assertEq(
            balance,
            handler.ghostDeposited() - handler.ghostSlashed() - handler.ghostWithdrawn(),
            "staking balance == deposited - slashed - withdrawn"
        );
        uint256 sumStaked;
        uint256 sumUnbonding;
        for (uint256 i = 0; i < actors.length; ++i) {
            IConsumerStaking.Position memory p = staking.position(actors[i]);
            sumStaked += p.staked;
            sumUnbonding += p.unbonding;
        }
        assertEq(sumStaked, staked, "sum of positions' stake == total staked");
        assertEq(sumUnbonding, unbonding, "sum of positions' unbonding == total unbonding");
        assertTrue(!handler.ghostEarlyWithdrawal(), "nobody withdraws before unbonding ends or while frozen");
        assertTrue(!handler.ghostOverSlash(), "a slash never exceeds stake + unbonding");
        assertTrue(!handler.ghostUnauthorised(), "only the Timelock slashes or changes parameters");
    }
}

/// @title StakingInvariants
/// @notice Consumer staking under stakes, unstakes, withdrawals, freezes, slashes, parameter changes and
/// time, with token transfers and issuance releases interleaved.
contract StakingInvariants is StakingSetup {
    function invariant_staking() public view {
        _checkStaking();
    }
}
