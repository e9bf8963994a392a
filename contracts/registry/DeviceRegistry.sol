// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IDeviceRegistry} from "../interfaces/IDeviceRegistry.sol";
import {IVehicleRegistry} from "../interfaces/IVehicleRegistry.sol";
import {PrintableText} from "../libraries/PrintableText.sol";

/// @title DeviceRegistry
/// @notice See {IDeviceRegistry}.
contract DeviceRegistry is IDeviceRegistry, ERC721, AccessControl {
    /// @notice Role of DAO-approved hardware manufacturers.
    bytes32 public constant MANUFACTURER_ROLE = keccak256("MANUFACTURER_ROLE");
    /// @notice Longest serial or hardware revision, in bytes.
    uint256 public constant MAX_TEXT_LENGTH = 64; // bytes

    mapping(uint256 deviceId => Device) private _devices;
    mapping(address deviceKey => uint256 deviceId) private _deviceOfKey;
    uint256 private _count;
    IVehicleRegistry private _vehicleRegistry;

    /// @param admin Holder of `DEFAULT_ADMIN_ROLE` (the Timelock), who approves manufacturers.
    constructor(address admin) ERC721("DIMO Hardware Device", "DIMOHW") {
        if (admin == address(0)) revert DeviceZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IDeviceRegistry
    function mintDevice(
        address to,
        address deviceKey,
        string calldata serial,
        string calldata hardwareRevision
    ) external onlyRole(MANUFACTURER_ROLE) returns (uint256 deviceId) {
        if (deviceKey == address(0)) revert DeviceZeroKey();
        uint256 existing = _deviceOfKey[deviceKey];
        if (existing != 0) revert DeviceKeyAlreadyBound(deviceKey, existing);
        if (!PrintableText.isValid(serial, MAX_TEXT_LENGTH)) revert DeviceInvalidText("serial");
        if (!PrintableText.isValid(hardwareRevision, MAX_TEXT_LENGTH)) revert DeviceInvalidText("hardwareRevision");
        deviceId = ++_count;
        _devices[deviceId] = Device(deviceKey, msg.sender, serial, hardwareRevision);
        _deviceOfKey[deviceKey] = deviceId;
        _mint(to, deviceId);
        emit DeviceMinted(deviceId, msg.sender, deviceKey, to, serial, hardwareRevision);
        // Safe-mint check last, after the state change and its event.
        ERC721Utils.checkOnERC721Received(msg.sender, address(0), to, deviceId, "");
    }

    /// @inheritdoc IDeviceRegistry
    function setVehicleRegistry(address vehicleRegistry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(_vehicleRegistry) != address(0)) revert DeviceVehicleRegistryAlreadySet(address(_vehicleRegistry));
        if (vehicleRegistry_ == address(0)) revert DeviceZeroAddress();
        _vehicleRegistry = IVehicleRegistry(vehicleRegistry_);
        emit VehicleRegistrySet(vehicleRegistry_);
    }

    /// @inheritdoc IDeviceRegistry
    function vehicleRegistry() external view returns (address) {
        return address(_vehicleRegistry);
    }

    /// @inheritdoc IDeviceRegistry
    function pairingInfo(
        uint256 deviceId
    ) external view returns (address deviceKey, address manufacturer, bool manufacturerApproved) {
        Device storage d = _devices[deviceId];
        deviceKey = d.deviceKey;
        manufacturer = d.manufacturer;
        manufacturerApproved = deviceKey != address(0) && hasRole(MANUFACTURER_ROLE, manufacturer);
    }

    /// @inheritdoc IDeviceRegistry
    function device(uint256 deviceId) external view returns (Device memory) {
        if (_devices[deviceId].deviceKey == address(0)) revert DeviceNotFound(deviceId);
        return _devices[deviceId];
    }

    /// @inheritdoc IDeviceRegistry
    function deviceKeyOf(uint256 deviceId) external view returns (address) {
        return _devices[deviceId].deviceKey;
    }

    /// @inheritdoc IDeviceRegistry
    function deviceIdOfKey(address deviceKey) external view returns (uint256) {
        return _deviceOfKey[deviceKey];
    }

    /// @inheritdoc IDeviceRegistry
    function totalDevices() external view returns (uint256) {
        return _count;
    }

    /// @dev A transfer (not a mint) of a device ends its pairing in the vehicle registry, once that is set.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0) && from != to) {
            IVehicleRegistry registry = _vehicleRegistry;
            if (address(registry) != address(0)) registry.deviceTransferred(tokenId);
        }
    }

    /// @inheritdoc ERC721
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
