// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Vehicle registry
/// @notice ERC-721 vehicles with make, model, year, powertrain and a VIN commitment; the pairing of one
/// hardware device per vehicle (signed by both the vehicle owner and the device key) and the software
/// connections attested by DAO-approved integrations with the owner's signed consent.
/// @dev Warning: the Timelock administers the integration roles; integrations can only attest connections
/// the current owner signed for, and nobody but the owner (or a relayer carrying the owner's signature)
/// mints, pairs or consents. Signatures are EIP-712 typed data bound to the chain id and this contract,
/// with a per-signer nonce and a deadline; contract wallets sign through ERC-1271.
///
/// Transfer semantics: a vehicle transfer (not a mint) unpairs its device, removes every software
/// connection (both were consented by the previous owner) and starts a new ownership epoch, which voids
/// every data-access grant the previous owner gave. The new owner re-pairs and re-consents with their own
/// signatures. The VIN commitment stays with the vehicle.
///
/// Nonces: owners and device keys each have one sequential nonce shared by every signature kind, so signatures
/// are used in nonce order. An unused signature stays valid until its deadline unless its signer cancels it
/// first with `invalidateNonces` (a vehicle owner's cancellation also voids the device's half of a pairing).
/// A pairing signature carries the vehicle's ownership epoch, so it dies with the ownership it was made under.
///
/// Devices: a device's pairing ends when the device NFT is transferred (the device registry tells this registry),
/// and a device whose manufacturer lost `MANUFACTURER_ROLE` cannot be paired; the rewards snapshot also stops
/// counting existing pairings of such devices and connections of integrations that lost their role.
/// @dev Warning: the Timelock can remove any integration's connections (`removeConnections`), e.g. after revoking
/// its role; it cannot create connections or pairings.
/// Known limitation: whoever registers a VIN commitment first holds it; a commitment seen in a pending
/// transaction can be front-run, and there is no dispute path yet (a DAO-approved VIN attestation would close it).
///
/// VIN commitment: `keccak256(abi.encodePacked("DIMO-VIN-v1", scrypt(normalizedVin)))` computed off-chain
/// by `lib/vin.ts` (the memory-hard step makes guessing VINs from commitments costly); the raw VIN never
/// reaches the chain. The registry only enforces that a commitment is registered once.
interface IVehicleRegistry {
    /// @notice Vehicle powertrains.
    enum Powertrain {
        ICE,
        HEV,
        PHEV,
        BEV
    }

    /// @notice A vehicle's static data as stored (the VIN commitment is not stored per vehicle: it is the key of
    /// `vehicleOfVin` and is carried, indexed, by `VehicleMinted`).
    /// @param make Manufacturer.
    /// @param model Model.
    /// @param year Model year.
    /// @param powertrain ICE, HEV, PHEV or BEV.
    struct VehicleData {
        string make;
        string model;
        uint16 year;
        Powertrain powertrain;
    }

    /// @notice Software connection kinds (what the rewards policy reads).
    enum ConnectionKind {
        None,
        Software,
        Oem
    }

    /// @notice A vehicle's static data.
    /// @param make Manufacturer, printable ASCII without `"` or `\`, 1-32 bytes.
    /// @param model Model, same rules as `make`.
    /// @param year Model year, 1886-2100.
    /// @param powertrain ICE, HEV, PHEV or BEV.
    /// @param vinCommitment Commitment to the VIN (see the contract notes).
    struct VehicleInfo {
        string make;
        string model;
        uint16 year;
        Powertrain powertrain;
        bytes32 vinCommitment;
    }

    /// @notice The VIN commitment is already registered for another vehicle.
    error RegistryDuplicateVin(bytes32 vinCommitment, uint256 vehicleId);
    /// @notice The VIN commitment is zero.
    error RegistryZeroVinCommitment();
    /// @notice A text field is empty, too long or holds a character outside printable ASCII, `"` or `\`.
    error RegistryInvalidText(string field);
    /// @notice The model year is outside 1886-2100.
    error RegistryInvalidYear(uint16 year);
    /// @notice No vehicle has this id.
    error RegistryVehicleNotFound(uint256 vehicleId);
    /// @notice The caller is not the vehicle's owner.
    error RegistryNotVehicleOwner(uint256 vehicleId, address caller, address owner);
    /// @notice The signature's deadline has passed.
    error RegistrySignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The signature does not come from `signer` for this typed data (wrong signer, nonce, chain or
    /// contract, or replayed).
    error RegistryInvalidSignature(address signer);
    /// @notice The vehicle already has a paired device.
    error RegistryVehicleAlreadyPaired(uint256 vehicleId, uint256 deviceId);
    /// @notice The device is already paired with a vehicle.
    error RegistryDeviceAlreadyPaired(uint256 deviceId, uint256 vehicleId);
    /// @notice The vehicle has no paired device.
    error RegistryVehicleNotPaired(uint256 vehicleId);
    /// @notice The device does not exist in the device registry.
    error RegistryDeviceNotFound(uint256 deviceId);
    /// @notice The caller is not an approved integration.
    error RegistryNotIntegration(address caller);
    /// @notice The integration is already connected to this vehicle.
    error RegistryAlreadyConnected(uint256 vehicleId, address integration);
    /// @notice The integration is not connected to this vehicle.
    error RegistryNotConnected(uint256 vehicleId, address integration);
    /// @notice The vehicle already has the maximum number of connections.
    error RegistryTooManyConnections(uint256 vehicleId, uint256 max);
    /// @notice A zero address was given where an address is required.
    error RegistryZeroAddress();
    /// @notice The device's manufacturer no longer holds `MANUFACTURER_ROLE`.
    error RegistryManufacturerNotApproved(uint256 deviceId, address manufacturer);
    /// @notice Only the device registry reports device transfers.
    error RegistryNotDeviceRegistry(address caller);
    /// @notice `invalidateNonces` takes 1 to `max` nonces.
    error RegistryInvalidNonceCount(uint256 count, uint256 max);
    /// @notice No model has this catalogue id.
    error RegistryModelNotFound(uint256 modelId);

    /// @notice Emitted after vehicle `vehicleId` was minted to `owner`.
    event VehicleMinted(
        uint256 indexed vehicleId,
        address indexed owner,
        bytes32 indexed vinCommitment,
        string make,
        string model,
        uint16 year,
        Powertrain powertrain
    );
    /// @notice Emitted after a make and model entered the catalogue under `modelId` (ids start at 1).
    event ModelCatalogued(uint256 indexed modelId, string make, string model);
    /// @notice Emitted after a vehicle changed hands and its ownership epoch advanced (grants voided).
    event OwnershipEpochAdvanced(uint256 indexed vehicleId, uint256 epoch, address indexed from, address indexed to);
    /// @notice Emitted after device `deviceId` was paired with vehicle `vehicleId`.
    event DevicePaired(uint256 indexed vehicleId, uint256 indexed deviceId, address indexed owner);
    /// @notice Emitted after the pairing ended; `byTransfer` is true when a vehicle transfer ended it.
    event DeviceUnpaired(uint256 indexed vehicleId, uint256 indexed deviceId, bool byTransfer);
    /// @notice Emitted after `integration` attested a connection of kind `kind` with the owner's consent.
    event ConnectionAttested(
        uint256 indexed vehicleId,
        address indexed integration,
        ConnectionKind kind,
        address owner
    );
    /// @notice Emitted after a connection ended; `byTransfer` is true when a vehicle transfer ended it.
    event ConnectionRemoved(uint256 indexed vehicleId, address indexed integration, bool byTransfer);
    /// @notice Emitted after `signer` cancelled its nonces `fromNonce` to `toNonce - 1`: signatures made with them
    /// can no longer be used; its next signature uses `toNonce`.
    event NoncesInvalidated(address indexed signer, uint256 fromNonce, uint256 toNonce);

    /// @notice Mints a vehicle to the caller. Ids start at 1. A make and model not yet in the catalogue enter it
    /// in the same call (`ModelCatalogued`), paid by this first mint; later mints of the model only refer to it.
    function mintVehicle(VehicleInfo calldata info) external returns (uint256 vehicleId);

    /// @notice Mints a vehicle to `owner`, submitted by anyone carrying `owner`'s EIP-712 signature of
    /// `MintVehicle(address owner,string make,string model,uint16 year,uint8 powertrain,bytes32 vinCommitment,uint256 nonce,uint256 deadline)`.
    function mintVehicleFor(
        address owner,
        VehicleInfo calldata info,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 vehicleId);

    /// @notice Pairs a device with a vehicle. Both the vehicle owner and the device key sign
    /// `PairDevice(uint256 vehicleId,uint256 vehicleEpoch,uint256 deviceId,uint256 ownerNonce,uint256 deviceNonce,uint256 deadline)`
    /// where `vehicleEpoch` is the vehicle's current ownership epoch; anyone may submit. One device per vehicle,
    /// one vehicle per device; the device's manufacturer must still be approved.
    function pairDevice(
        uint256 vehicleId,
        uint256 deviceId,
        uint256 deadline,
        bytes calldata ownerSignature,
        bytes calldata deviceSignature
    ) external;

    /// @notice Ends the vehicle's device pairing. Only the vehicle owner.
    function unpairDevice(uint256 vehicleId) external;

    /// @notice An approved integration records a connection to a vehicle, carrying the owner's signature of
    /// `ConnectionConsent(uint256 vehicleId,address integration,uint256 nonce,uint256 deadline)`.
    function attestConnection(uint256 vehicleId, uint256 deadline, bytes calldata ownerSignature) external;

    /// @notice Ends a connection. The vehicle owner or the integration itself.
    function disconnect(uint256 vehicleId, address integration) external;

    /// @notice Removes `integration`'s connection from each listed vehicle that has one (others are skipped, so a
    /// queued proposal survives a disconnect in the meantime); returns how many were removed.
    /// @dev Only `DEFAULT_ADMIN_ROLE` (the Timelock), e.g. with the proposal that revokes the integration's role.
    /// Each removal emits `ConnectionRemoved(vehicleId, integration, false)`.
    function removeConnections(address integration, uint256[] calldata vehicleIds) external returns (uint256 removed);

    /// @notice Called by the device registry after device `deviceId` changed hands: ends its pairing, if any
    /// (`DeviceUnpaired(vehicleId, deviceId, true)`). A sold device does not keep reporting for its old vehicle.
    function deviceTransferred(uint256 deviceId) external;

    /// @notice Cancels the caller's next `count` nonces (1 to `MAX_NONCES_INVALIDATED`): every unused signature it
    /// made with them (mint, pairing, consent) stops working at once.
    function invalidateNonces(uint256 count) external;

    /// @notice Enters a make and model in the catalogue (same text rules as a mint), or returns the id they
    /// already have. Anyone may call it, e.g. a manufacturer before its vehicles are registered, so that no
    /// driver's mint pays for the entry.
    function catalogueModel(string calldata make, string calldata model) external returns (uint256 modelId);

    /// @notice The make and model catalogued under `modelId`; reverts with `RegistryModelNotFound` for an unknown id.
    function catalogue(uint256 modelId) external view returns (string memory make, string memory model);

    /// @notice The catalogue id of a make and model (zero when not catalogued).
    function modelIdOf(string calldata make, string calldata model) external view returns (uint256);

    /// @notice Number of catalogued models.
    function totalModels() external view returns (uint256);

    /// @notice Static data of a vehicle (what `tokenURI` shows).
    function vehicle(uint256 vehicleId) external view returns (VehicleData memory);

    /// @notice The vehicle whose VIN commitment this is (zero when none).
    function vehicleOfVin(bytes32 vinCommitment) external view returns (uint256);

    /// @notice The device paired with a vehicle (zero when none).
    function pairedDevice(uint256 vehicleId) external view returns (uint256);

    /// @notice The vehicle a device is paired with (zero when none).
    function pairedVehicle(uint256 deviceId) external view returns (uint256);

    /// @notice The integrations connected to a vehicle and their kinds.
    function connections(
        uint256 vehicleId
    ) external view returns (address[] memory integrations, ConnectionKind[] memory kinds);

    /// @notice The connection kind an address is approved for (None when it is not an integration).
    function integrationKind(address integration) external view returns (ConnectionKind);

    /// @notice The vehicle's ownership epoch: it starts at 0 and grows by one at each transfer.
    function ownershipEpoch(uint256 vehicleId) external view returns (uint256);

    /// @notice Number of vehicles minted.
    function totalVehicles() external view returns (uint256);

    /// @notice The device registry used for pairing.
    function deviceRegistry() external view returns (address);

    /// @notice Current signature nonce of `signer` (owners and device keys share one nonce space).
    function nonces(address signer) external view returns (uint256);
}
