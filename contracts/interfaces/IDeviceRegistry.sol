// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Hardware device registry
/// @notice ERC-721 hardware devices (e.g. AutoPi units), each bound to the device's own key: the address
/// of the key pair inside the device, which signs pairings. Only manufacturers approved by the DAO mint.
/// @dev Warning: the Timelock administers `MANUFACTURER_ROLE`; a manufacturer can only mint new devices,
/// never change or take back existing ones. A device key is bound once and forever. Revoking a manufacturer's role
/// stops its devices from being paired (the vehicle registry checks `pairingInfo`). A device NFT transfer ends the
/// device's pairing: this registry reports it to the vehicle registry set once by the admin (`setVehicleRegistry`).
interface IDeviceRegistry {
    /// @notice Static data of a device.
    /// @param deviceKey Address of the key held by the device.
    /// @param manufacturer The manufacturer that minted it.
    /// @param serial Manufacturer serial number.
    /// @param hardwareRevision Hardware revision label.
    struct Device {
        address deviceKey;
        address manufacturer;
        string serial;
        string hardwareRevision;
    }

    /// @notice The device key is already bound to another device.
    error DeviceKeyAlreadyBound(address deviceKey, uint256 deviceId);
    /// @notice The device key is the zero address.
    error DeviceZeroKey();
    /// @notice The admin is the zero address.
    error DeviceZeroAddress();
    /// @notice A serial or hardware revision is empty, too long or has a character outside printable ASCII.
    error DeviceInvalidText(string field);
    /// @notice No device has this id.
    error DeviceNotFound(uint256 deviceId);
    /// @notice The vehicle registry is already set.
    error DeviceVehicleRegistryAlreadySet(address vehicleRegistry);

    /// @notice Emitted after `manufacturer` minted device `deviceId` bound to `deviceKey` to `owner`.
    event DeviceMinted(
        uint256 indexed deviceId,
        address indexed manufacturer,
        address indexed deviceKey,
        address owner,
        string serial,
        string hardwareRevision
    );

    /// @notice Emitted after the admin set the vehicle registry told about device transfers.
    event VehicleRegistrySet(address indexed vehicleRegistry);

    /// @notice Sets, once, the vehicle registry whose pairings device transfers end.
    /// @dev Only `DEFAULT_ADMIN_ROLE`. Until it is set, transfers end no pairing (the deploy sets it at once).
    function setVehicleRegistry(address vehicleRegistry_) external;

    /// @notice The vehicle registry told about device transfers (zero until set).
    function vehicleRegistry() external view returns (address);

    /// @notice What pairing a device needs: its key (zero for an unknown id), its manufacturer and whether the
    /// manufacturer still holds `MANUFACTURER_ROLE`.
    function pairingInfo(
        uint256 deviceId
    ) external view returns (address deviceKey, address manufacturer, bool manufacturerApproved);

    /// @notice Mints a device NFT to `to`, bound to `deviceKey`.
    /// @dev Only `MANUFACTURER_ROLE`. Ids start at 1.
    function mintDevice(
        address to,
        address deviceKey,
        string calldata serial,
        string calldata hardwareRevision
    ) external returns (uint256 deviceId);

    /// @notice The device's static data; reverts with `DeviceNotFound` for an unknown id.
    function device(uint256 deviceId) external view returns (Device memory);

    /// @notice The key bound to a device (zero for an unknown id).
    function deviceKeyOf(uint256 deviceId) external view returns (address);

    /// @notice The device bound to a key (zero when none).
    function deviceIdOfKey(address deviceKey) external view returns (uint256);

    /// @notice Number of devices minted.
    function totalDevices() external view returns (uint256);
}
