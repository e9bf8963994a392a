// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Vm
/// @notice The few forge cheatcodes the fuzzing suite uses (forge-std is not on npm; these signatures are
/// forge's own, served at `VM_ADDRESS` by the forge runtime).
interface Vm {
    /// @notice Sets `block.timestamp`.
    function warp(uint256 timestamp) external;

    /// @notice Makes the next call come from `sender`.
    function prank(address sender) external;

    /// @notice Makes every call until `stopPrank` come from `sender`.
    function startPrank(address sender) external;

    /// @notice Ends `startPrank`.
    function stopPrank() external;

    /// @notice Expects the next call to revert with exactly `revertData`.
    function expectRevert(bytes calldata revertData) external;

    /// @notice Discards the current fuzz input when `condition` is false.
    function assume(bool condition) external pure;

    /// @notice Names `account` in traces.
    function label(address account, string calldata name) external;

    /// @notice The address of private key `privateKey`.
    function addr(uint256 privateKey) external pure returns (address);

    /// @notice Signs `digest` with `privateKey` (secp256k1): the ECDSA signature's v, r and s.
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
}

/// @dev The cheatcode address: address(uint160(uint256(keccak256("hevm cheat code")))).
address constant VM_ADDRESS = 0x7109709ECfa91a80626fF3989D68f67F5b1DD12D;
