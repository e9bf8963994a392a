// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title PrintableText
/// @notice Checks that user-supplied labels are safe to embed in on-chain JSON as they are.
library PrintableText {
    /// @notice True when `text` has 1..`maxLength` bytes, all printable ASCII (0x20-0x7e) except `"` and `\`.
    function isValid(string calldata text, uint256 maxLength) internal pure returns (bool) {
        bytes calldata b = bytes(text);
        if (b.length == 0 || b.length > maxLength) return false;
        for (uint256 i = 0; i < b.length; ++i) {
            bytes1 c = b[i];
            if (c < 0x20 || c > 0x7e || c == 0x22 || c == 0x5c) return false;
        }
        return true;
    }
}
