// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Assembly copies the texts from calldata into the words and back (calldatacopy / mcopy), byte-exact and without
// the per-byte loops Solidity would need; each block only touches the memory it allocated.
// solhint-disable no-inline-assembly

// Words a model record can take: ceil((HEADER_BYTES + 32 + 32) / 32).
uint256 constant MODEL_RECORD_WORDS = 3;

/// @title ModelRecord
/// @notice A catalogued make and model packed into as few storage words as their lengths need.
/// @dev Layout: the bytes `len(make) (uint8) ‖ len(model) (uint8) ‖ make ‖ model`, left-aligned in 32-byte words,
/// zero-padded. The 2-byte header leaves 30 bytes of text in the first word: a make and a model of up to 30 bytes
/// together (e.g. "Tesla" + "Model 3") take one word, the longest the registry accepts (32 + 32 bytes) three.
library ModelRecord {
    /// @notice Bytes before the text: make length (1), model length (1).
    uint256 internal constant HEADER_BYTES = 2;

    /// @notice The catalogue key of a make and model: unambiguous (the make's length is hashed with the texts).
    function key(string calldata make, string calldata model) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint8(bytes(make).length), make, model));
    }

    /// @notice The packed record: its words (zero past the text) and how many of them it uses.
    /// @dev The caller bounds the texts to 32 bytes each (so each length fits its byte and the whole fits three
    /// words); longer texts would overrun the words.
    function pack(
        string calldata make,
        string calldata model
    ) internal pure returns (bytes32[MODEL_RECORD_WORDS] memory words, uint256 used) {
        uint256 makeLength = bytes(make).length;
        uint256 modelLength = bytes(model).length;
        // `words` is zero-filled memory of 96 bytes, so the padding after the text stays zero.
        assembly ("memory-safe") {
            mstore(words, shl(240, or(shl(8, makeLength), modelLength))) // the 16-bit header in the top 2 bytes
            calldatacopy(add(words, 2), make.offset, makeLength)
            calldatacopy(add(add(words, 2), makeLength), model.offset, modelLength)
        }
        used = (HEADER_BYTES + makeLength + modelLength + 31) / 32;
    }

    /// @notice The make and model of a record given as its words (words past the text are ignored).
    function unpack(
        bytes32[MODEL_RECORD_WORDS] memory words
    ) internal pure returns (string memory make, string memory model) {
        bytes32 first = words[0];
        uint256 makeLength = uint8(first[0]);
        uint256 modelLength = uint8(first[1]);
        make = new string(makeLength);
        model = new string(modelLength);
        assembly ("memory-safe") {
            // A bytes32[3] in memory is 96 contiguous bytes; the text starts after the header.
            let text := add(words, 2)
            mcopy(add(make, 32), text, makeLength)
            mcopy(add(model, 32), add(text, makeLength), modelLength)
        }
    }
}
