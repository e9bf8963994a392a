// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title DIMO governance token
/// @notice ERC-20 "Dimo"/"DIMO" with 18 decimals, EIP-2612 permit and ERC20Votes checkpoints keyed by
/// block timestamp (ERC-6372 `mode=timestamp`).
/// This interface lists what DIMO adds to the OpenZeppelin ERC20, IERC20Permit, IVotes and IERC6372 interfaces
/// that the token also implements.
/// @dev Warning: the whole supply, exactly `TOTAL_SUPPLY`, is minted once in the constructor to the
/// genesis allocation. There is no mint function: supply can only shrink (by `burn`) and never grow.
interface IDimoToken {
    /// @notice The genesis recipients and amounts have different lengths.
    error DimoGenesisLengthMismatch(uint256 recipients, uint256 amounts);

    /// @notice The genesis allocation does not sum to exactly `TOTAL_SUPPLY`.
    /// @param allocated The sum of the genesis amounts, in wei.
    /// @param expected `TOTAL_SUPPLY`, in wei.
    error DimoGenesisSupplyMismatch(uint256 allocated, uint256 expected);

    /// @notice A genesis allocation entry has a zero amount.
    error DimoGenesisZeroAmount(uint256 index, address recipient);

    /// @notice Emitted once per genesis entry, right after its mint.
    event GenesisAllocated(address indexed recipient, uint256 amount);

    /// @notice The fixed supply minted at deployment: 1,000,000,000 DIMO, in wei.
    function TOTAL_SUPPLY() external view returns (uint256);

    /// @notice Destroys `amount` of the caller's tokens (used e.g. to burn slashed stake).
    function burn(uint256 amount) external;
}
