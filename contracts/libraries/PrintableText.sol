// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// One calldata byte per step in assembly: the Solidity loop over `bytes calldata` (bounds checks, bytes1
// conversions) cost 3,444 gas of a "Tesla" / "Model 3" mint. The block only reads calldata.
// solhint-disable no-inline-assembly

/// @title PrintableText
/// @notice Checks that user-supplied labels are safe to embed in on-chain JSON as they are.
library PrintableText {
    /// @notice True when `text` has 1..`maxLength` bytes, all printable ASCII (0x20-0x7e) except `"` and `\`.
    function isValid(string calldata text, uint256 maxLength) internal pure returns (bool valid) {
        uint256 length = bytes(text).length;
        if (length == 0 || length > maxLength) return false;
        assembly ("memory-safe") {
            valid := 1
            let end := add(text.offset, length)
            for {
                let p := text.offset
            } lt(p, end) {
                p := add(p, 1)
            } {
                let c := byte(0, calldataload(p))
                // c < 0x20 || c > 0x7e || c == '"' || c == '\'
                if or(or(lt(c, 0x20), gt(c, 0x7e)), or(eq(c, 0x22), eq(c, 0x5c))) {
                    valid := 0
                    break
                }
            }
        }
    }
}
