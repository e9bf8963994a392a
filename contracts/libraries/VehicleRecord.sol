// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Assembly copies the texts from calldata into the words and back (calldatacopy / mcopy), byte-exact and without
// the per-byte loops Solidity would need; each block only touches the memory it allocated.
// solhint-disable no-inline-assembly

// Words a vehicle record can take: ceil((HEADER_BYTES + 32 + 32) / 32).
uint256 constant VEHICLE_RECORD_WORDS = 3;

/// @title VehicleRecord
/// @notice A vehicle's year, powertrain, make and model packed into as few storage words as their lengths need.
/// @dev Layout: the bytes `year (uint16) ‖ powertrain (uint8) ‖ len(make) (uint8) ‖ len(model) (uint8) ‖ make ‖
/// model`, left-aligned in 32-byte words, zero-padded. The 5-byte header leaves 27 bytes of text in the first
/// word: a make and a model of up to 27 bytes together (e.g. "Tesla" + "Model 3") take one word, the longest
/// the registry accepts (32 + 32 bytes) three. `lib/vehicle-record.ts` reads the same layout.
library VehicleRecord {
    /// @notice Bytes before the text: year (2), powertrain (1), make length (1), model length (1).
    uint256 internal constant HEADER_BYTES = 5;

    /// @notice The packed record: its words (zero past the text) and how many of them it uses.
    /// @dev The caller bounds the texts to 32 bytes each (so each length fits its byte and the whole fits three
    /// words); longer texts would overrun the words.
    function pack(
        string calldata make,
        string calldata model,
        uint16 year,
        uint8 powertrain
    ) internal pure returns (bytes32[VEHICLE_RECORD_WORDS] memory words, uint256 used) {
        uint256 makeLength = bytes(make).length;
        uint256 modelLength = bytes(model).length;
        // `words` is zero-filled memory of 96 bytes, so the padding after the text stays zero.
        assembly ("memory-safe") {
            let head := or(or(shl(24, year), shl(16, powertrain)), or(shl(8, makeLength), modelLength))
            mstore(words, shl(216, head)) // the 40-bit header in the top 5 bytes of the first word, the rest zero
            calldatacopy(add(words, 5), make.offset, makeLength)
            calldatacopy(add(add(words, 5), makeLength), model.offset, modelLength)
        }
        used = (HEADER_BYTES + makeLength + modelLength + 31) / 32;
    }

    /// @notice The fields of a record given as its words (words past `wordCount` are ignored).
    function unpack(
        bytes32[VEHICLE_RECORD_WORDS] memory words
    ) internal pure returns (string memory make, string memory model, uint16 year, uint8 powertrain) {
        bytes32 first = words[0];
        year = uint16(bytes2(first));
        powertrain = uint8(first[2]);
        uint256 makeLength = uint8(first[3]);
        uint256 modelLength = uint8(first[4]);
        make = new string(makeLength);
        model = new string(modelLength);
        assembly ("memory-safe") {
            // A bytes32[3] in memory is 96 contiguous bytes; the text starts after the header.
            let text := add(words, 5)
            mcopy(add(make, 32), text, makeLength)
            mcopy(add(model, 32), add(text, makeLength), modelLength)
        }
    }
}
