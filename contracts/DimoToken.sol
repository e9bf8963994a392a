// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IDimoToken} from "./interfaces/IDimoToken.sol";

/// @title DimoToken
/// @notice See {IDimoToken}.
contract DimoToken is IDimoToken, ERC20, ERC20Permit, ERC20Votes {
    /// @inheritdoc IDimoToken
    uint256 public constant TOTAL_SUPPLY = 1_000_000_000e18; // wei (1e9 DIMO)

    /// @param recipients Genesis allocation recipients.
    /// @param amounts Genesis allocation amounts in wei; they must sum to exactly `TOTAL_SUPPLY`.
    constructor(address[] memory recipients, uint256[] memory amounts) ERC20("Dimo", "DIMO") ERC20Permit("Dimo") {
        if (recipients.length != amounts.length) {
            revert DimoGenesisLengthMismatch(recipients.length, amounts.length);
        }
        for (uint256 i = 0; i < recipients.length; ++i) {
            if (amounts[i] == 0) revert DimoGenesisZeroAmount(i, recipients[i]);
            _mint(recipients[i], amounts[i]);
            emit GenesisAllocated(recipients[i], amounts[i]);
        }
        if (totalSupply() != TOTAL_SUPPLY) revert DimoGenesisSupplyMismatch(totalSupply(), TOTAL_SUPPLY);
    }

    /// @inheritdoc IDimoToken
    function burn(uint256 amount) external {
        _burn(msg.sender, amount);
    }

    /// @notice Votes are checkpointed by block timestamp.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice ERC-6372 clock description.
    // solhint-disable func-name-mixedcase
    // slither-disable-next-line naming-convention -- the name is fixed by ERC-6372
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }
    // solhint-enable func-name-mixedcase

    /// @inheritdoc ERC20Permit
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }
}
