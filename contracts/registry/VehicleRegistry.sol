// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721} from "solady/src/tokens/ERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IVehicleRegistry} from "../interfaces/IVehicleRegistry.sol";
import {IDeviceRegistry} from "../interfaces/IDeviceRegistry.sol";
import {PrintableText} from "../libraries/PrintableText.sol";
import {ModelRecord, MODEL_RECORD_WORDS} from "../libraries/ModelRecord.sol";

/// @title VehicleRegistry
/// @notice See {IVehicleRegistry}.
/// @dev Storage per vehicle is Solady's ERC-721 ownership word: the owner's address and 96 bits of extra data
/// holding `modelId (72 bits) ‖ year (16) ‖ powertrain (8)`. The make and model texts live once per model in the
/// catalogue, so a mint of a catalogued model writes three new words (owner, owner's balance, VIN) and the id
/// counter. The catalogue id fits its 72 bits for any reachable number of models (each costs a transaction).
contract VehicleRegistry is IVehicleRegistry, ERC721, EIP712, Nonces, AccessControl {
    using EnumerableSet for EnumerableSet.AddressSet;
    using Strings for uint256;

    /// @notice Role of DAO-approved software integrations (Smartcar-style).
    bytes32 public constant SOFTWARE_INTEGRATION_ROLE = keccak256("SOFTWARE_INTEGRATION_ROLE");
    /// @notice Role of DAO-approved OEM integrations (Tesla-style).
    bytes32 public constant OEM_INTEGRATION_ROLE = keccak256("OEM_INTEGRATION_ROLE");
    /// @notice Most software connections one vehicle can hold (bounds the work of a transfer).
    uint256 public constant MAX_CONNECTIONS = 8;
    /// @notice Longest make or model, in bytes.
    uint256 public constant MAX_TEXT_LENGTH = 32; // bytes
    /// @notice Oldest accepted model year (the first automobile).
    uint16 public constant MIN_YEAR = 1886;
    /// @notice Newest accepted model year.
    uint16 public constant MAX_YEAR = 2100;
    /// @notice Most nonces one `invalidateNonces` call cancels (bounds its gas).
    uint256 public constant MAX_NONCES_INVALIDATED = 256;

    bytes32 private constant _MINT_TYPEHASH = keccak256(
        "MintVehicle(address owner,string make,string model,uint16 year,uint8 powertrain,bytes32 vinCommitment,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _PAIR_TYPEHASH = keccak256(
        "PairDevice(uint256 vehicleId,uint256 vehicleEpoch,uint256 deviceId,uint256 ownerNonce,uint256 deviceNonce,uint256 deadline)"
    );
    bytes32 private constant _CONSENT_TYPEHASH = keccak256(
        "ConnectionConsent(uint256 vehicleId,address integration,uint256 nonce,uint256 deadline)"
    );

    IDeviceRegistry private immutable _devices;

    /// @dev Catalogued make and model texts packed by ModelRecord: usually one word, at most three.
    mapping(uint256 modelId => bytes32[MODEL_RECORD_WORDS] words) private _models;
    mapping(bytes32 modelKey => uint256 modelId) private _modelIds;
    uint256 private _totalModels;
    mapping(bytes32 vinCommitment => uint256 vehicleId) private _vehicleOfVin;
    mapping(uint256 vehicleId => uint256 deviceId) private _pairedDevice;
    mapping(uint256 deviceId => uint256 vehicleId) private _pairedVehicle;
    mapping(uint256 vehicleId => EnumerableSet.AddressSet) private _connections;
    mapping(uint256 vehicleId => mapping(address integration => ConnectionKind)) private _connectionKind;
    mapping(uint256 vehicleId => uint256 epoch) private _epochs;
    /// @dev Starts at 1 (set in the constructor) so that each mint rewrites a non-zero slot.
    uint256 private _nextId;

    /// @param deviceRegistry_ The hardware device registry.
    /// @param admin Holder of `DEFAULT_ADMIN_ROLE` (the Timelock), who approves integrations.
    constructor(IDeviceRegistry deviceRegistry_, address admin) EIP712("DIMO VehicleRegistry", "1") {
        if (address(deviceRegistry_) == address(0) || admin == address(0)) revert RegistryZeroAddress();
        _devices = deviceRegistry_;
        _nextId = 1;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- vehicles

    /// @inheritdoc IVehicleRegistry
    function mintVehicle(VehicleInfo calldata info) external returns (uint256) {
        return _mintVehicle(msg.sender, info);
    }

    /// @inheritdoc IVehicleRegistry
    function mintVehicleFor(
        address owner,
        VehicleInfo calldata info,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256) {
        if (owner == address(0)) revert RegistryZeroAddress();
        _checkDeadline(deadline);
        bytes32 structHash = keccak256(
            abi.encode(
                _MINT_TYPEHASH,
                owner,
                keccak256(bytes(info.make)),
                keccak256(bytes(info.model)),
                info.year,
                uint8(info.powertrain),
                info.vinCommitment,
                _useNonce(owner),
                deadline
            )
        );
        _checkSignature(owner, structHash, signature);
        return _mintVehicle(owner, info);
    }

    /// @inheritdoc IVehicleRegistry
    function vehicle(uint256 vehicleId) public view returns (VehicleData memory) {
        _ownerOrRevert(vehicleId);
        uint96 extra = _getExtraData(vehicleId);
        (string memory make, string memory model) = ModelRecord.unpack(_models[uint256(extra >> 24)]);
        return VehicleData(make, model, uint16(extra >> 8), Powertrain(uint8(extra)));
    }

    /// @inheritdoc IVehicleRegistry
    function catalogueModel(string calldata make, string calldata model) external returns (uint256 modelId) {
        bytes32 modelKey = ModelRecord.key(make, model);
        modelId = _modelIds[modelKey];
        if (modelId == 0) modelId = _catalogue(modelKey, make, model);
    }

    /// @inheritdoc IVehicleRegistry
    function catalogue(uint256 modelId) external view returns (string memory make, string memory model) {
        if (modelId == 0 || modelId > _totalModels) revert RegistryModelNotFound(modelId);
        return ModelRecord.unpack(_models[modelId]);
    }

    /// @inheritdoc IVehicleRegistry
    function modelIdOf(string calldata make, string calldata model) external view returns (uint256) {
        return _modelIds[ModelRecord.key(make, model)];
    }

    /// @inheritdoc IVehicleRegistry
    function totalModels() external view returns (uint256) {
        return _totalModels;
    }

    /// @notice The collection's name.
    function name() public pure override returns (string memory) {
        return "DIMO Vehicle";
    }

    /// @notice The collection's symbol.
    function symbol() public pure override returns (string memory) {
        return "DIMOV";
    }

    /// @inheritdoc IVehicleRegistry
    function vehicleOfVin(bytes32 vinCommitment) external view returns (uint256) {
        return _vehicleOfVin[vinCommitment];
    }

    /// @inheritdoc IVehicleRegistry
    function totalVehicles() external view returns (uint256) {
        return _nextId - 1;
    }

    /// @inheritdoc IVehicleRegistry
    function ownershipEpoch(uint256 vehicleId) external view returns (uint256) {
        return _epochs[vehicleId];
    }

    /// @notice On-chain JSON metadata a wallet can display (name, description and attributes).
    function tokenURI(uint256 vehicleId) public view override returns (string memory) {
        _ownerOrRevert(vehicleId);
        VehicleData memory v = vehicle(vehicleId);
        string memory year = uint256(v.year).toString();
        string memory title = string.concat(year, " ", v.make, " ", v.model);
        bytes memory json = abi.encodePacked(
            '{"name":"',
            title,
            '","description":"DIMO vehicle #',
            vehicleId.toString(),
            '","attributes":[{"trait_type":"Make","value":"',
            v.make,
            '"},{"trait_type":"Model","value":"',
            v.model,
            '"},{"trait_type":"Year","display_type":"number","value":',
            year,
            '},{"trait_type":"Powertrain","value":"',
            _powertrainName(v.powertrain),
            '"}]}'
        );
        return string.concat("data:application/json;base64,", Base64.encode(json));
    }

    // ---------------------------------------------------------------- devices

    /// @inheritdoc IVehicleRegistry
    function pairDevice(
        uint256 vehicleId,
        uint256 deviceId,
        uint256 deadline,
        bytes calldata ownerSignature,
        bytes calldata deviceSignature
    ) external {
        _checkDeadline(deadline);
        address owner = _ownerOrRevert(vehicleId);
        address deviceKey = _pairableDeviceKey(vehicleId, deviceId);
        bytes32 structHash = _pairStructHash(vehicleId, deviceId, owner, deviceKey, deadline);
        _checkSignature(owner, structHash, ownerSignature);
        _checkSignature(deviceKey, structHash, deviceSignature);

        _pairedDevice[vehicleId] = deviceId;
        _pairedVehicle[deviceId] = vehicleId;
        emit DevicePaired(vehicleId, deviceId, owner);
    }

    /// @inheritdoc IVehicleRegistry
    function unpairDevice(uint256 vehicleId) external {
        _onlyOwner(vehicleId);
        uint256 deviceId = _pairedDevice[vehicleId];
        if (deviceId == 0) revert RegistryVehicleNotPaired(vehicleId);
        _unpair(vehicleId, deviceId, false);
    }

    /// @inheritdoc IVehicleRegistry
    function deviceTransferred(uint256 deviceId) external {
        if (msg.sender != address(_devices)) revert RegistryNotDeviceRegistry(msg.sender);
        uint256 vehicleId = _pairedVehicle[deviceId];
        if (vehicleId != 0) _unpair(vehicleId, deviceId, true);
    }

    /// @inheritdoc IVehicleRegistry
    function pairedDevice(uint256 vehicleId) external view returns (uint256) {
        return _pairedDevice[vehicleId];
    }

    /// @inheritdoc IVehicleRegistry
    function pairedVehicle(uint256 deviceId) external view returns (uint256) {
        return _pairedVehicle[deviceId];
    }

    /// @inheritdoc IVehicleRegistry
    function deviceRegistry() external view returns (address) {
        return address(_devices);
    }

    // ---------------------------------------------------------------- software connections

    /// @inheritdoc IVehicleRegistry
    function attestConnection(uint256 vehicleId, uint256 deadline, bytes calldata ownerSignature) external {
        ConnectionKind kind = integrationKind(msg.sender);
        if (kind == ConnectionKind.None) revert RegistryNotIntegration(msg.sender);
        _checkDeadline(deadline);
        address owner = _ownerOrRevert(vehicleId);
        EnumerableSet.AddressSet storage set = _connections[vehicleId];
        if (set.contains(msg.sender)) revert RegistryAlreadyConnected(vehicleId, msg.sender);
        if (set.length() >= MAX_CONNECTIONS) revert RegistryTooManyConnections(vehicleId, MAX_CONNECTIONS);
        bytes32 structHash = keccak256(
            abi.encode(_CONSENT_TYPEHASH, vehicleId, msg.sender, _useNonce(owner), deadline)
        );
        _checkSignature(owner, structHash, ownerSignature);

        set.add(msg.sender);
        _connectionKind[vehicleId][msg.sender] = kind;
        emit ConnectionAttested(vehicleId, msg.sender, kind, owner);
    }

    /// @inheritdoc IVehicleRegistry
    function disconnect(uint256 vehicleId, address integration) external {
        address owner = _ownerOrRevert(vehicleId);
        if (msg.sender != owner && msg.sender != integration) {
            revert RegistryNotVehicleOwner(vehicleId, msg.sender, owner);
        }
        if (!_connections[vehicleId].contains(integration)) revert RegistryNotConnected(vehicleId, integration);
        _removeConnection(vehicleId, integration, false);
    }

    /// @inheritdoc IVehicleRegistry
    function removeConnections(
        address integration,
        uint256[] calldata vehicleIds
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 removed) {
        for (uint256 i = 0; i < vehicleIds.length; ++i) {
            if (_connections[vehicleIds[i]].contains(integration)) {
                _removeConnection(vehicleIds[i], integration, false);
                ++removed;
            }
        }
    }

    /// @inheritdoc IVehicleRegistry
    function connections(
        uint256 vehicleId
    ) external view returns (address[] memory integrations, ConnectionKind[] memory kinds) {
        integrations = _connections[vehicleId].values();
        kinds = new ConnectionKind[](integrations.length);
        for (uint256 i = 0; i < integrations.length; ++i) {
            kinds[i] = _connectionKind[vehicleId][integrations[i]];
        }
    }

    /// @inheritdoc IVehicleRegistry
    function integrationKind(address integration) public view returns (ConnectionKind) {
        if (hasRole(OEM_INTEGRATION_ROLE, integration)) return ConnectionKind.Oem;
        if (hasRole(SOFTWARE_INTEGRATION_ROLE, integration)) return ConnectionKind.Software;
        return ConnectionKind.None;
    }

    // ---------------------------------------------------------------- misc

    /// @inheritdoc IVehicleRegistry
    function invalidateNonces(uint256 count) external {
        if (count == 0 || count > MAX_NONCES_INVALIDATED) {
            revert RegistryInvalidNonceCount(count, MAX_NONCES_INVALIDATED);
        }
        uint256 fromNonce = nonces(msg.sender);
        for (uint256 i = 0; i < count; ++i) _useNonce(msg.sender);
        emit NoncesInvalidated(msg.sender, fromNonce, fromNonce + count);
    }

    /// @inheritdoc IVehicleRegistry
    function nonces(address signer) public view override(IVehicleRegistry, Nonces) returns (uint256) {
        return super.nonces(signer);
    }

    /// @notice ERC-165: ERC-721, its metadata extension and AccessControl.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return ERC721.supportsInterface(interfaceId) || AccessControl.supportsInterface(interfaceId);
    }

    /// @dev A transfer (not a mint) ends the pairing and the connections and advances the ownership epoch.
    function _afterTokenTransfer(address from, address to, uint256 tokenId) internal override {
        if (from != address(0) && from != to) {
            uint256 deviceId = _pairedDevice[tokenId];
            if (deviceId != 0) _unpair(tokenId, deviceId, true);
            EnumerableSet.AddressSet storage set = _connections[tokenId];
            // At most MAX_CONNECTIONS iterations; remove from the end to keep indexes valid.
            for (uint256 n = set.length(); n > 0; --n) {
                _removeConnection(tokenId, set.at(n - 1), true);
            }
            uint256 epoch = ++_epochs[tokenId];
            emit OwnershipEpochAdvanced(tokenId, epoch, from, to);
        }
    }

    function _mintVehicle(address owner, VehicleInfo calldata info) private returns (uint256 vehicleId) {
        if (info.year < MIN_YEAR || info.year > MAX_YEAR) revert RegistryInvalidYear(info.year);
        if (info.vinCommitment == bytes32(0)) revert RegistryZeroVinCommitment();
        uint256 existing = _vehicleOfVin[info.vinCommitment];
        if (existing != 0) revert RegistryDuplicateVin(info.vinCommitment, existing);
        // A catalogued model's texts passed the checks when it entered the catalogue (same key, same bytes).
        bytes32 modelKey = ModelRecord.key(info.make, info.model);
        uint256 modelId = _modelIds[modelKey];
        if (modelId == 0) modelId = _catalogue(modelKey, info.make, info.model);

        vehicleId = _nextId++;
        _vehicleOfVin[info.vinCommitment] = vehicleId;
        // Ids only grow, so the token cannot exist yet; `to` is non-zero (checked by Solady and by the callers).
        _mintAndSetExtraDataUnchecked(
            owner,
            vehicleId,
            uint96((modelId << 24) | (uint256(info.year) << 8) | uint256(uint8(info.powertrain)))
        );
        emit VehicleMinted(vehicleId, owner, info.vinCommitment, info.make, info.model, info.year, info.powertrain);
    }

    /// @dev Checks the texts and enters them in the catalogue under the next id.
    function _catalogue(bytes32 modelKey, string calldata make, string calldata model) private returns (uint256 id) {
        if (!PrintableText.isValid(make, MAX_TEXT_LENGTH)) revert RegistryInvalidText("make");
        if (!PrintableText.isValid(model, MAX_TEXT_LENGTH)) revert RegistryInvalidText("model");
        id = ++_totalModels;
        (bytes32[MODEL_RECORD_WORDS] memory words, uint256 used) = ModelRecord.pack(make, model);
        // Only the words the texts reach: one for a make and model of up to 30 bytes together.
        bytes32[MODEL_RECORD_WORDS] storage record = _models[id];
        for (uint256 i = 0; i < used; ++i) record[i] = words[i];
        _modelIds[modelKey] = id;
        emit ModelCatalogued(id, make, model);
    }

    /// @dev The device's key, after checking the device exists, its manufacturer is approved and neither side
    /// is paired.
    function _pairableDeviceKey(uint256 vehicleId, uint256 deviceId) private view returns (address deviceKey) {
        address manufacturer;
        bool approved;
        (deviceKey, manufacturer, approved) = _devices.pairingInfo(deviceId);
        if (deviceKey == address(0)) revert RegistryDeviceNotFound(deviceId);
        if (!approved) revert RegistryManufacturerNotApproved(deviceId, manufacturer);
        uint256 current = _pairedDevice[vehicleId];
        if (current != 0) revert RegistryVehicleAlreadyPaired(vehicleId, current);
        uint256 other = _pairedVehicle[deviceId];
        if (other != 0) revert RegistryDeviceAlreadyPaired(deviceId, other);
    }

    /// @dev The PairDevice struct hash for the vehicle's current epoch; uses both signers' nonces.
    function _pairStructHash(
        uint256 vehicleId,
        uint256 deviceId,
        address owner,
        address deviceKey,
        uint256 deadline
    ) private returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    _PAIR_TYPEHASH,
                    vehicleId,
                    _epochs[vehicleId],
                    deviceId,
                    _useNonce(owner),
                    _useNonce(deviceKey),
                    deadline
                )
            );
    }

    function _unpair(uint256 vehicleId, uint256 deviceId, bool byTransfer) private {
        delete _pairedDevice[vehicleId];
        delete _pairedVehicle[deviceId];
        emit DeviceUnpaired(vehicleId, deviceId, byTransfer);
    }

    function _removeConnection(uint256 vehicleId, address integration, bool byTransfer) private {
        _connections[vehicleId].remove(integration);
        delete _connectionKind[vehicleId][integration];
        emit ConnectionRemoved(vehicleId, integration, byTransfer);
    }

    function _ownerOrRevert(uint256 vehicleId) private view returns (address owner) {
        owner = _ownerOf(vehicleId);
        if (owner == address(0)) revert RegistryVehicleNotFound(vehicleId);
    }

    function _onlyOwner(uint256 vehicleId) private view {
        address owner = _ownerOrRevert(vehicleId);
        if (msg.sender != owner) revert RegistryNotVehicleOwner(vehicleId, msg.sender, owner);
    }

    function _checkDeadline(uint256 deadline) private view {
        if (block.timestamp > deadline) revert RegistrySignatureExpired(deadline, block.timestamp);
    }

    function _checkSignature(address signer, bytes32 structHash, bytes calldata signature) private view {
        if (!SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert RegistryInvalidSignature(signer);
        }
    }

    function _powertrainName(Powertrain p) private pure returns (string memory) {
        if (p == Powertrain.ICE) return "ICE";
        if (p == Powertrain.HEV) return "HEV";
        if (p == Powertrain.PHEV) return "PHEV";
        return "BEV";
    }
}
