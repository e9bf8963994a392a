// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IDataAccess} from "../../../contracts/interfaces/IDataAccess.sol";
import {IDeviceRegistry} from "../../../contracts/interfaces/IDeviceRegistry.sol";
import {IVehicleRegistry} from "../../../contracts/interfaces/IVehicleRegistry.sol";
import {VehicleRegistry} from "../../../contracts/registry/VehicleRegistry.sol";
import {bound} from "../lib/Test.sol";
import {Suite} from "../lib/Suite.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @notice The VIN commitment of the handler's vehicle `id` (fresh VINs are numbered by the vehicle they mint).
function registryFuzzVin(uint256 id) pure returns (bytes32) {
    return keccak256(abi.encode("registry fuzz vin", id));
}

/// @notice One step of the digest the handler (over its ghost) and the invariants (over the contracts) both
/// compute: keccak256 of the running hash and six words (the words past the free-memory pointer, not allocated).
function digestStep(
    bytes32 h,
    uint256 a,
    uint256 b,
    uint256 c,
    uint256 d,
    uint256 e,
    uint256 f
) pure returns (bytes32 r) {
    assembly ("memory-safe") {
        let m := mload(0x40)
        mstore(m, h)
        mstore(add(m, 0x20), a)
        mstore(add(m, 0x40), b)
        mstore(add(m, 0x60), c)
        mstore(add(m, 0x80), d)
        mstore(add(m, 0xa0), e)
        mstore(add(m, 0xc0), f)
        r := keccak256(m, 0xe0)
    }
}

/// @title RegistryHandler
/// @notice Random bounded actions on the device registry, the vehicle registry and data-access consents:
/// the Timelock approves and revokes manufacturers and integrations; manufacturers mint devices bound to their
/// own keys; owners mint vehicles (also through a relayer with an EIP-712 signature), transfer vehicles and
/// devices, pair a device with both signatures (fresh, or held and submitted later, when a transfer, another
/// signature or `invalidateNonces` may have voided them), unpair, consent to integrations' connections (one, or
/// every approved integration at once so that a vehicle fills up to `MAX_CONNECTIONS`), disconnect; the Timelock
/// removes an integration's connections; consumers sign `AccessConsent` offers the owners use
/// (`grantWithConsent`), cancel offer nonces, revoke and prune. Bad doors are tried too: wrong signer, expired
/// deadline, stale epoch, used or future nonce, another vehicle / integration / owner in the signed data, callers
/// without the role or ownership.
/// @dev Every call into a contract goes through `_call` (the "calls" section): a refused action is recorded, never
/// reverted. The handler predicts every outcome from its ghost model: a well-formed call whose outcome differs sets
/// `ghostMispredicted`, a forged one that goes through sets `ghostForgeryAccepted`, a role-gated or owner-gated
/// call by someone else that goes through sets `ghostUnauthorised`; the first such action (and its revert
/// selector) is kept for the report. Only the registries' external interfaces are called.
/// Consumers stake `requiredStake(MAX_VEHICLES)` in the constructor, so capacity never refuses a grant here (the
/// access campaign fuzzes capacity).
contract RegistryHandler is HandlerBase {
    uint256 public constant MAX_VEHICLES = 5;
    uint256 public constant MAX_DEVICES = 6;
    uint256 public constant MANUFACTURER_COUNT = 2;
    /// @notice Manufacturer `m` is the address `MANUFACTURER_BASE + m`.
    uint256 public constant MANUFACTURER_BASE = 0x3A0F0;
    /// @notice Data consumers are the first `CONSUMER_COUNT` actors (the access campaign fuzzes grants at large).
    uint256 public constant CONSUMER_COUNT = 2;
    /// @notice One more integration than `MAX_CONNECTIONS`, so that a full vehicle refuses the last one.
    uint256 public constant INTEGRATION_COUNT = 9;
    /// @notice Integration `i` is the address `INTEGRATION_BASE + i`.
    uint256 public constant INTEGRATION_BASE = 0x1E600;
    uint256 public constant MAX_HELD = 4; // pairing signatures held for a later submission
    /// @notice Device `n`'s key is `DEVICE_KEY_BASE + n` (distinct from the actors' keys).
    uint256 public constant DEVICE_KEY_BASE = 0xDE71CE;
    uint256 public constant MAX_DEADLINE = 2 days; // seconds from now a signature is valid for
    uint256 public constant MAX_HELD_DEADLINE = 30 days; // the same, for a held pairing (outlives transfers)
    uint256 public constant CONSENT_NONCES = 512; // offer nonces used: two words of DataAccess's bitmap
    uint256 public constant MAX_GRANT_DURATION = 30 days; // seconds
    uint256 public constant MISSING_VEHICLE = 1_000_000; // an id never minted

    bytes32 public constant MANUFACTURER_ROLE = keccak256("MANUFACTURER_ROLE");
    bytes32 public constant SOFTWARE_ROLE = keccak256("SOFTWARE_INTEGRATION_ROLE");
    bytes32 public constant OEM_ROLE = keccak256("OEM_INTEGRATION_ROLE");

    bytes32 private constant _MINT_TYPEHASH = keccak256(
        "MintVehicle(address owner,string make,string model,uint16 year,uint8 powertrain,bytes32 vinCommitment,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _PAIR_TYPEHASH = keccak256(
        "PairDevice(uint256 vehicleId,uint256 vehicleEpoch,uint256 deviceId,uint256 ownerNonce,uint256 deviceNonce,uint256 deadline)"
    );
    bytes32 private constant _CONNECTION_TYPEHASH = keccak256(
        "ConnectionConsent(uint256 vehicleId,address integration,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _ACCESS_TYPEHASH = keccak256(
        "AccessConsent(uint256 vehicleId,address owner,uint256 permissions,uint64 expiresAt,uint256 nonce,uint256 deadline)"
    );

    IVehicleRegistry internal immutable vehicles;
    IDeviceRegistry internal immutable devices;
    IDataAccess internal immutable access;
    uint256 public immutable maxConnections;
    uint256 public immutable maxNoncesInvalidated;
    /// @dev Computed here from the documented domains, not read from the contracts.
    bytes32 internal immutable vehiclesDomain;
    bytes32 internal immutable accessDomain;
    uint256[] internal _actorKeys;
    address[] internal _manufacturers;
    address[] internal _integrations;
    address[] internal _deviceKeys; // every device key, minted or not

    /// @notice The terms of one pairing signature pair: what each signer signed and with which key.
    struct Pairing {
        uint256 vehicleId;
        uint256 deviceId;
        uint256 epoch;
        uint256 ownerNonce;
        uint256 deviceNonce;
        uint256 deadline;
        uint256 ownerIndex; // the actor who owned the vehicle when it was signed
        uint256 ownerSigner; // private keys
        uint256 deviceSigner;
    }

    /// @notice A pairing signed now and submitted later.
    struct Held {
        Pairing p;
        bytes ownerSignature;
        bytes deviceSignature;
    }

    /// @notice What the pairing was checked against when it was made.
    struct PairingRecord {
        address deviceKey; // the key whose signature paired
        bool manufacturerApproved; // the ghost's view of the manufacturer's role at that moment
        uint256 epoch; // the vehicle's ownership epoch it was signed for
        address owner; // who signed it
    }

    /// @notice A data-access record as written.
    struct GrantRecord {
        bool exists;
        uint64 epoch;
        uint64 expiresAt;
        uint256 permissions;
    }

    /// @notice A consumer's `AccessConsent` offer as built by the handler.
    struct Offer {
        uint256 vehicleId;
        address consumer;
        uint256 consumerIndex;
        uint256 owner; // actor index
        uint256 permissions;
        uint64 expiresAt;
        uint256 nonce;
        uint256 deadline;
    }

    // ---------------------------------------------------------------- ghost state
    uint256 public ghostMints;
    uint256[] public ghostVehicles;
    mapping(uint256 vehicleId => uint256 actorIndex) public ghostOwner;
    /// @notice Transfers that changed the owner (a transfer to oneself changes nothing).
    mapping(uint256 vehicleId => uint256 count) public ghostTransfers;

    uint256[] public ghostDevices;
    mapping(uint256 deviceId => uint256 keyIndex) public ghostDeviceKeyIndex;
    mapping(uint256 deviceId => address manufacturer) public ghostDeviceManufacturer;
    mapping(uint256 deviceId => uint256 actorIndex) public ghostDeviceOwner;
    mapping(address manufacturer => bool approved) public ghostManufacturerApproved;

    mapping(address integration => bool held) public ghostSoftwareRole;
    mapping(address integration => bool held) public ghostOemRole;

    mapping(uint256 vehicleId => uint256 deviceId) public ghostPairedDevice;
    mapping(uint256 deviceId => uint256 vehicleId) public ghostPairedVehicle;
    mapping(uint256 vehicleId => PairingRecord) internal _pairings;
    Held[MAX_HELD] internal _held;
    uint256 public heldCount;

    mapping(uint256 vehicleId => address[] integrations) internal _connected;
    /// @notice The kind each connection was attested with (None when not connected).
    mapping(uint256 vehicleId => mapping(address integration => IVehicleRegistry.ConnectionKind))
        internal _connectionKind;

    /// @notice Each signer's registry nonce as the handler saw it used: it only ever grows (`++`, `+=`).
    mapping(address signer => uint256 nonce) public ghostNonce;

    mapping(address consumer => uint256 count) public ghostRecords;
    mapping(uint256 vehicleId => mapping(address consumer => GrantRecord)) internal _grants;
    mapping(address consumer => mapping(uint256 nonce => bool used)) public ghostConsentUsed;
    mapping(address consumer => uint256 nonce) public ghostLastConsentNonce;

    /// @notice A well-formed call's outcome differed from the model's prediction.
    bool public ghostMispredicted;
    /// @notice A signature with a wrong signer, deadline, epoch, nonce or terms was accepted.
    bool public ghostForgeryAccepted;
    /// @notice A call gated by a role or ownership went through from someone without it.
    bool public ghostUnauthorised;
    /// @notice Right after a vehicle or device transfer the contract still showed a pairing, a connection or an
    /// epoch other than the transfer count.
    bool public ghostTransferLeftState;
    /// @notice The first action that set one of the flags above, and the error selector it reverted with.
    bytes32 public ghostFirstBadAction;
    bytes4 public ghostFirstBadError;

    constructor(Suite suite_) HandlerBase(suite_) {
        VehicleRegistry registry = suite_.vehicles();
        (vehicles, devices, access) = (IVehicleRegistry(address(registry)), suite_.devices(), suite_.access());
        (maxConnections, maxNoncesInvalidated) = (registry.MAX_CONNECTIONS(), registry.MAX_NONCES_INVALIDATED());
        vehiclesDomain = _domain("DIMO VehicleRegistry", block.chainid, address(vehicles));
        accessDomain = _domain("DIMO DataAccess", block.chainid, address(access));
        for (uint256 i = 0; i < _actors.length; ++i) _actorKeys.push(suite_.actorKey(i));
        for (uint256 i = 0; i < MAX_DEVICES; ++i) _deviceKeys.push(vm.addr(DEVICE_KEY_BASE + i));
        for (uint256 i = 0; i < MANUFACTURER_COUNT; ++i) _manufacturers.push(address(uint160(MANUFACTURER_BASE + i)));
        // Manufacturer 0 starts approved, 1 not; integrations start with a role each (every third OEM).
        vm.startPrank(timelock);
        IAccessControl(address(devices)).grantRole(MANUFACTURER_ROLE, _manufacturers[0]);
        for (uint256 i = 0; i < INTEGRATION_COUNT; ++i) {
            address integration = address(uint160(INTEGRATION_BASE + i));
            _integrations.push(integration);
            bool oem = i % 3 == 0;
            IAccessControl(address(vehicles)).grantRole(oem ? OEM_ROLE : SOFTWARE_ROLE, integration);
            if (oem) ghostOemRole[integration] = true;
            else ghostSoftwareRole[integration] = true;
        }
        vm.stopPrank();
        ghostManufacturerApproved[_manufacturers[0]] = true;
        // Every consumer's stake covers a record on every vehicle.
        uint256 stake = staking.requiredStake(MAX_VEHICLES);
        for (uint256 i = 0; i < _actors.length; ++i) {
            vm.startPrank(_actors[i]);
            token.approve(address(staking), stake);
            staking.stake(stake);
            vm.stopPrank();
        }
    }

    // ---------------------------------------------------------------- vehicles

    /// @notice The caller mints a vehicle with a fresh VIN commitment; one in eight tries an existing one.
    function mintVehicle(uint256 ownerSeed, uint256 infoSeed, uint256 duplicateSeed) external {
        uint256 count = ghostVehicles.length;
        bool duplicate = duplicateSeed % 8 == 0 && count > 0;
        if (count >= MAX_VEHICLES && !duplicate) return;
        uint256 owner = ownerSeed % _actors.length;
        bytes32 vin = registryFuzzVin(duplicate ? ghostVehicles[(duplicateSeed / 8) % count] : count + 1);
        IVehicleRegistry.VehicleInfo memory info = _info(infoSeed, vin);
        (bool ok, bytes memory ret) = _call(
            _actors[owner],
            address(vehicles),
            abi.encodeCall(IVehicleRegistry.mintVehicle, info)
        );
        _expect(duplicate ? bytes32("mintVehicle.duplicateVin") : bytes32("mintVehicle"), !duplicate, ok, ret);
        if (ok) _recordMint(abi.decode(ret, (uint256)), owner, vin);
    }

    /// @notice A relayer mints for an owner with the owner's `MintVehicle` signature. Variants 4-8 are forged
    /// (another signer, expired, used or future nonce, terms changed after signing, another chain id).
    function mintVehicleFor(
        uint256 ownerSeed,
        uint256 relayerSeed,
        uint256 variantSeed,
        uint256 deadlineSeed
    ) external {
        uint256 variant = variantSeed % 9;
        if (ghostVehicles.length >= MAX_VEHICLES && variant < 4) return; // forged ones are tried when full too
        uint256 owner = ownerSeed % _actors.length;
        IVehicleRegistry.VehicleInfo memory info = _info(variantSeed / 9, registryFuzzVin(ghostMints + 1));
        uint256 deadline = _deadline(deadlineSeed, variant == 5);
        bytes memory signature = _signMint(owner, info, deadline, variant);
        if (variant == 7) info.model = "Model Y"; // signed "Model 3"
        (bool ok, bytes memory ret) = _call(
            _actor(relayerSeed),
            address(vehicles),
            abi.encodeCall(IVehicleRegistry.mintVehicleFor, (_actors[owner], info, deadline, signature))
        );
        if (variant >= 4) return _forgery("mintVehicleFor.forged", ok);
        _expect("mintVehicleFor", true, ok, ret);
        if (!ok) return;
        ghostNonce[_actors[owner]]++;
        _recordMint(abi.decode(ret, (uint256)), owner, info.vinCommitment);
    }

    /// @notice The owner transfers a vehicle to an actor (possibly itself, which changes nothing).
    function transferVehicle(uint256 vehicleSeed, uint256 toSeed) external {
        if (ghostVehicles.length == 0) return;
        uint256 id = _vehicle(vehicleSeed);
        uint256 from = ghostOwner[id];
        uint256 to = toSeed % _actors.length;
        uint256 device = ghostPairedDevice[id];
        (bool ok, bytes memory ret) = _call(
            _actors[from],
            address(vehicles),
            abi.encodeCall(IERC721.transferFrom, (_actors[from], _actors[to], id))
        );
        _expect("transferVehicle", true, ok, ret);
        if (!ok) return;
        ghostOwner[id] = to;
        if (from == to) return;
        _ghostUnpair(id);
        _ghostClearConnections(id);
        ghostTransfers[id]++;
        (address[] memory connected, ) = vehicles.connections(id);
        if (
            vehicles.pairedDevice(id) != 0 ||
            (device != 0 && vehicles.pairedVehicle(device) != 0) ||
            connected.length != 0 ||
            vehicles.ownershipEpoch(id) != ghostTransfers[id]
        ) _flagTransfer("transferVehicle");
    }

    // ---------------------------------------------------------------- manufacturers and devices

    /// @notice The Timelock approves or revokes a manufacturer; one in eight tries an actor without the role.
    function setManufacturer(uint256 manufacturerSeed, bool approve, uint256 bySeed) external {
        address manufacturer = _manufacturers[manufacturerSeed % MANUFACTURER_COUNT];
        bytes memory data =
            approve
                ? abi.encodeCall(IAccessControl.grantRole, (MANUFACTURER_ROLE, manufacturer))
                : abi.encodeCall(IAccessControl.revokeRole, (MANUFACTURER_ROLE, manufacturer));
        if (bySeed % 8 == 0) {
            (bool forbidden, ) = _call(_actor(bySeed / 8), address(devices), data);
            return _unauthorised("setManufacturer.outsider", forbidden);
        }
        (bool ok, bytes memory ret) = _call(timelock, address(devices), data);
        _expect("setManufacturer", true, ok, ret);
        if (ok) ghostManufacturerApproved[manufacturer] = approve;
    }

    /// @notice A manufacturer (or an actor without the role) mints the next device, bound to the next key; one in
    /// eight tries a key already bound.
    function mintDevice(uint256 manufacturerSeed, uint256 ownerSeed, uint256 variantSeed) external {
        uint256 count = ghostDevices.length;
        bool reuse = variantSeed % 8 == 0 && count > 0;
        if (count >= MAX_DEVICES && !reuse) return;
        uint256 keyIndex = reuse ? ghostDeviceKeyIndex[ghostDevices[(variantSeed / 8) % count]] : count;
        uint256 byIndex = manufacturerSeed % (MANUFACTURER_COUNT + 1); // the last: an actor holding no role
        bool outsider = byIndex == MANUFACTURER_COUNT;
        address by = outsider ? _actor(manufacturerSeed / 4) : _manufacturers[byIndex];
        uint256 owner = ownerSeed % _actors.length;
        (bool ok, bytes memory ret) = _call(
            by,
            address(devices),
            abi.encodeCall(IDeviceRegistry.mintDevice, (_actors[owner], _deviceKeys[keyIndex], "AP-7A21", "rev 5.1"))
        );
        if (outsider) return _unauthorised("mintDevice.outsider", ok);
        _expect(
            reuse ? bytes32("mintDevice.keyReused") : bytes32("mintDevice"),
            !reuse && ghostManufacturerApproved[by],
            ok,
            ret
        );
        if (!ok) return;
        uint256 id = abi.decode(ret, (uint256));
        if (id != count + 1) _mispredict("mintDevice.id", bytes4(0));
        ghostDevices.push(id);
        (ghostDeviceKeyIndex[id], ghostDeviceManufacturer[id], ghostDeviceOwner[id]) = (keyIndex, by, owner);
    }

    /// @notice The device's owner transfers it (its pairing ends); one in eight has an actor report a device
    /// transfer to the vehicle registry itself, which must be refused.
    function transferDevice(uint256 deviceSeed, uint256 toSeed, uint256 variantSeed) external {
        if (ghostDevices.length == 0) return;
        uint256 id = ghostDevices[deviceSeed % ghostDevices.length];
        if (variantSeed % 8 == 0) {
            (bool forbidden, ) = _call(
                _actor(toSeed),
                address(vehicles),
                abi.encodeCall(IVehicleRegistry.deviceTransferred, (id))
            );
            return _unauthorised("deviceTransferred.outsider", forbidden);
        }
        uint256 from = ghostDeviceOwner[id];
        uint256 to = toSeed % _actors.length;
        uint256 vehicleId = ghostPairedVehicle[id];
        (bool ok, bytes memory ret) = _call(
            _actors[from],
            address(devices),
            abi.encodeCall(IERC721.transferFrom, (_actors[from], _actors[to], id))
        );
        _expect("transferDevice", true, ok, ret);
        if (!ok) return;
        ghostDeviceOwner[id] = to;
        if (from == to) return;
        if (vehicleId != 0) _ghostUnpair(vehicleId);
        if (vehicles.pairedVehicle(id) != 0 || (vehicleId != 0 && vehicles.pairedDevice(vehicleId) != 0)) {
            _flagTransfer("transferDevice");
        }
    }

    // ---------------------------------------------------------------- pairing

    /// @notice Anyone submits a pairing both sides signed just now. Variants 4-9 are forged: the owner's half by
    /// another actor, the device's half by another key, expired, a stale (or future) epoch, a used (or future)
    /// owner nonce, a used (or future) device nonce.
    function pairDevice(uint256 vehicleSeed, uint256 deviceSeed, uint256 variantSeed, uint256 deadlineSeed) external {
        if (ghostVehicles.length == 0 || ghostDevices.length == 0) return;
        uint256 variant = variantSeed % 10;
        Pairing memory p = _freshPairing(vehicleSeed, deviceSeed, deadlineSeed, variant == 6);
        if (variant == 4) p.ownerSigner = _actorKeys[(p.ownerIndex + 1) % _actors.length];
        if (variant == 5) p.deviceSigner = DEVICE_KEY_BASE + ((ghostDeviceKeyIndex[p.deviceId] + 1) % MAX_DEVICES);
        if (variant == 7) p.epoch = p.epoch == 0 ? 1 : p.epoch - 1;
        if (variant == 8) p.ownerNonce = p.ownerNonce == 0 ? 1 : p.ownerNonce - 1;
        if (variant == 9) p.deviceNonce = p.deviceNonce == 0 ? 1 : p.deviceNonce - 1;
        (bytes memory ownerSignature, bytes memory deviceSignature) = _signPairing(p);
        (bool ok, bytes memory ret) = _submitPairing(_actor(variantSeed / 10), p, ownerSignature, deviceSignature);
        if (variant >= 4) return _forgery("pairDevice.forged", ok);
        bytes32 action =
            !ghostManufacturerApproved[ghostDeviceManufacturer[p.deviceId]]
                ? bytes32("pairDevice.unapproved")
                : _pairable(p.vehicleId, p.deviceId)
                    ? bytes32("pairDevice")
                    : bytes32("pairDevice.alreadyPaired");
        _expect(action, _pairable(p.vehicleId, p.deviceId), ok, ret);
        if (ok) _recordPairing(p);
    }

    /// @notice Both sides sign a pairing now, valid for up to `MAX_HELD_DEADLINE`; it is kept (the oldest of
    /// `MAX_HELD` dropped) for `submitHeld`.
    function signPairing(uint256 vehicleSeed, uint256 deviceSeed, uint256 deadlineSeed) external {
        if (ghostVehicles.length == 0 || ghostDevices.length == 0) return;
        Pairing memory p = _freshPairing(vehicleSeed, deviceSeed, deadlineSeed, false);
        p.deadline = block.timestamp + bound(deadlineSeed, 0, MAX_HELD_DEADLINE);
        (bytes memory ownerSignature, bytes memory deviceSignature) = _signPairing(p);
        Held storage h = _held[heldCount % MAX_HELD];
        (h.p, h.ownerSignature, h.deviceSignature) = (p, ownerSignature, deviceSignature);
        heldCount++;
        calls["signPairing"]++;
    }

    /// @notice Anyone submits a held pairing: it works only while its deadline, the vehicle's owner and epoch and
    /// both signers' nonces are still those it was signed with, and both sides are unpaired and approved.
    function submitHeld(uint256 heldSeed, uint256 relayerSeed) external {
        if (heldCount == 0) return;
        uint256 slots = heldCount < MAX_HELD ? heldCount : MAX_HELD;
        Held storage h = _held[heldSeed % slots];
        Pairing memory p = h.p;
        (bool ok, bytes memory ret) = _submitPairing(_actor(relayerSeed), p, h.ownerSignature, h.deviceSignature);
        bytes32 reason = _heldRefusal(p);
        if (reason != 0) {
            _count(reason, ok);
            if (ok) _flag(reason, bytes4(0), 1);
            return;
        }
        _expect("submitHeld", true, ok, ret);
        if (ok) _recordPairing(p);
    }

    /// @notice The owner unpairs; one in four tries another actor.
    function unpairDevice(uint256 vehicleSeed, uint256 bySeed) external {
        if (ghostVehicles.length == 0) return;
        uint256 id = _vehicle(vehicleSeed);
        uint256 owner = ghostOwner[id];
        bool outsider = bySeed % 4 == 0;
        address by = _actors[outsider ? (owner + 1 + ((bySeed / 4) % 3)) % _actors.length : owner];
        (bool ok, bytes memory ret) = _call(by, address(vehicles), abi.encodeCall(IVehicleRegistry.unpairDevice, (id)));
        if (outsider) return _unauthorised("unpairDevice.outsider", ok);
        _expect("unpairDevice", ghostPairedDevice[id] != 0, ok, ret);
        if (ok) _ghostUnpair(id);
    }

    // ---------------------------------------------------------------- integrations and connections

    /// @notice The Timelock grants (three times in four) or revokes an integration role; one in sixteen tries an
    /// actor without the admin role.
    function setIntegrationRole(uint256 integrationSeed, uint256 roleSeed, uint256 grantSeed) external {
        address integration = _integration(integrationSeed);
        bool oem = roleSeed % 2 == 1;
        bool grant = grantSeed % 4 != 0;
        bytes32 role = oem ? OEM_ROLE : SOFTWARE_ROLE;
        bytes memory data =
            grant
                ? abi.encodeCall(IAccessControl.grantRole, (role, integration))
                : abi.encodeCall(IAccessControl.revokeRole, (role, integration));
        if (grantSeed % 16 == 1) {
            (bool forbidden, ) = _call(_actor(grantSeed / 16), address(vehicles), data);
            return _unauthorised("setIntegrationRole.outsider", forbidden);
        }
        (bool ok, bytes memory ret) = _call(timelock, address(vehicles), data);
        _expect("setIntegrationRole", true, ok, ret);
        if (!ok) return;
        if (oem) ghostOemRole[integration] = grant;
        else ghostSoftwareRole[integration] = grant;
    }

    /// @notice An integration attests a connection with the owner's consent. Variants 4-8 are forged: another
    /// signer, expired, a used (or future) nonce, the consent names another integration, or another vehicle.
    function attestConnection(
        uint256 vehicleSeed,
        uint256 integrationSeed,
        uint256 variantSeed,
        uint256 deadlineSeed
    ) external {
        if (ghostVehicles.length == 0) return;
        uint256 id = _vehicle(vehicleSeed);
        uint256 owner = ghostOwner[id];
        address integration = _integration(integrationSeed);
        uint256 variant = variantSeed % 9;
        uint256 nonce = ghostNonce[_actors[owner]];
        if (variant == 6) nonce = nonce == 0 ? 1 : nonce - 1;
        uint256 deadline = _deadline(deadlineSeed, variant == 5);
        bytes32 structHash = keccak256(
            abi.encode(
                _CONNECTION_TYPEHASH,
                variant == 8 ? _otherVehicle(id) : id,
                variant == 7 ? _integration((integrationSeed % INTEGRATION_COUNT) + 1) : integration,
                nonce,
                deadline
            )
        );
        uint256 key = _actorKeys[variant == 4 ? (owner + 1) % _actors.length : owner];
        (bool ok, bytes memory ret) = _attest(integration, id, deadline, _sign(key, vehiclesDomain, structHash));
        if (variant >= 4) return _forgery("attestConnection.forged", ok);
        _expect("attestConnection", _connectable(id, integration), ok, ret);
        if (ok) _recordConnection(id, integration);
    }

    /// @notice Every integration holding a role attests a connection to one vehicle with the owner's consent, so
    /// that the vehicle reaches `MAX_CONNECTIONS` and the next one is refused.
    function connectAll(uint256 vehicleSeed, uint256 deadlineSeed) external {
        if (ghostVehicles.length == 0) return;
        uint256 id = _vehicle(vehicleSeed);
        address owner = _actors[ghostOwner[id]];
        uint256 deadline = _deadline(deadlineSeed, false);
        for (uint256 k = 0; k < INTEGRATION_COUNT; ++k) {
            address integration = _integrations[k];
            if (_kind(integration) == IVehicleRegistry.ConnectionKind.None) continue;
            bytes32 structHash = keccak256(
                abi.encode(_CONNECTION_TYPEHASH, id, integration, ghostNonce[owner], deadline)
            );
            bytes memory signature = _sign(_actorKeys[ghostOwner[id]], vehiclesDomain, structHash);
            (bool ok, bytes memory ret) = _attest(integration, id, deadline, signature);
            _expect(
                _connected[id].length >= maxConnections ? bytes32("connectAll.full") : bytes32("connectAll"),
                _connectable(id, integration),
                ok,
                ret
            );
            if (ok) _recordConnection(id, integration);
        }
    }

    /// @notice The owner or the integration disconnects (mostly a connected one); one in three tries another
    /// actor.
    function disconnect(uint256 vehicleSeed, uint256 integrationSeed, uint256 bySeed) external {
        if (ghostVehicles.length == 0) return;
        uint256 id = _vehicle(vehicleSeed);
        address[] storage list = _connected[id];
        address integration =
            list.length > 0 && integrationSeed % 4 != 0
                ? list[(integrationSeed / 4) % list.length]
                : _integration(integrationSeed / 4);
        uint256 owner = ghostOwner[id];
        uint256 by = bySeed % 3; // 0 the owner, 1 the integration, 2 another actor
        address caller =
            by == 0
                ? _actors[owner]
                : by == 1
                    ? integration
                    : _actors[(owner + 1 + ((bySeed / 3) % 3)) % _actors.length];
        (bool ok, bytes memory ret) = _call(
            caller,
            address(vehicles),
            abi.encodeCall(IVehicleRegistry.disconnect, (id, integration))
        );
        if (by == 2) return _unauthorised("disconnect.outsider", ok);
        _expect("disconnect", _connectionKind[id][integration] != IVehicleRegistry.ConnectionKind.None, ok, ret);
        if (ok) _ghostRemoveConnection(id, integration);
    }

    /// @notice The Timelock removes an integration's connections from every vehicle (one listed twice, one id
    /// never minted); one in eight tries an actor without the admin role.
    function removeConnections(uint256 integrationSeed, uint256 bySeed) external {
        address integration = _integration(integrationSeed);
        uint256 count = ghostVehicles.length;
        uint256[] memory ids = new uint256[](count + 2);
        uint256 expected;
        for (uint256 k = 0; k < count; ++k) {
            ids[k] = ghostVehicles[k];
            if (_connectionKind[ids[k]][integration] != IVehicleRegistry.ConnectionKind.None) expected++;
        }
        ids[count] = count > 0 ? ids[0] : MISSING_VEHICLE;
        ids[count + 1] = MISSING_VEHICLE;
        bytes memory data = abi.encodeCall(IVehicleRegistry.removeConnections, (integration, ids));
        if (bySeed % 8 == 0) {
            (bool forbidden, ) = _call(_actor(bySeed / 8), address(vehicles), data);
            return _unauthorised("removeConnections.outsider", forbidden);
        }
        (bool ok, bytes memory ret) = _call(timelock, address(vehicles), data);
        _expect("removeConnections", true, ok, ret);
        if (!ok) return;
        if (abi.decode(ret, (uint256)) != expected) _mispredict("removeConnections.count", bytes4(0));
        for (uint256 k = 0; k < count; ++k) {
            if (_connectionKind[ids[k]][integration] != IVehicleRegistry.ConnectionKind.None) {
                _ghostRemoveConnection(ids[k], integration);
            }
        }
    }

    // ---------------------------------------------------------------- nonces

    /// @notice An actor or a device key cancels 1 to 3 of its nonces; one in sixteen tries 0, the maximum or one
    /// above it.
    function invalidateNonces(uint256 signerSeed, uint256 countSeed) external {
        uint256 s = signerSeed % (_actors.length + MAX_DEVICES);
        address signer = s < _actors.length ? _actors[s] : _deviceKeys[s - _actors.length];
        uint256 count = bound(countSeed, 1, 3);
        if (countSeed % 16 == 0) {
            uint256 edge = (countSeed / 16) % 3;
            count =
                edge == 0
                    ? 0
                    : edge == 1
                        ? maxNoncesInvalidated
                        : maxNoncesInvalidated + 1;
        }
        (bool ok, bytes memory ret) = _call(
            signer,
            address(vehicles),
            abi.encodeCall(IVehicleRegistry.invalidateNonces, (count))
        );
        _expect("invalidateNonces", count >= 1 && count <= maxNoncesInvalidated, ok, ret);
        if (ok) ghostNonce[signer] += count;
    }

    // ---------------------------------------------------------------- data-access consents

    /// @notice The owner grants a consumer access with the consumer's signed `AccessConsent` offer. Variants 4-8
    /// must be refused: another signer, expired, submitted by an actor who is not the owner, an offer for another
    /// vehicle, an offer naming another owner; variant 9 reuses the consumer's last nonce (refused once used).
    function grantWithConsent(
        uint256 vehicleSeed,
        uint256 consumerSeed,
        uint256 permissionsSeed,
        uint256 durationSeed,
        uint256 nonceSeed,
        uint256 variantSeed
    ) external {
        if (ghostVehicles.length == 0) return;
        Offer memory o;
        o.vehicleId = _vehicle(vehicleSeed);
        o.consumerIndex = consumerSeed % CONSUMER_COUNT;
        o.consumer = _actors[o.consumerIndex];
        o.owner = ghostOwner[o.vehicleId];
        o.permissions = bound(permissionsSeed, 1, 255);
        o.expiresAt = uint64(block.timestamp + bound(durationSeed, 1, MAX_GRANT_DURATION));
        uint256 variant = variantSeed % 10;
        o.nonce = variant == 9 ? ghostLastConsentNonce[o.consumer] : bound(nonceSeed, 0, CONSENT_NONCES - 1);
        o.deadline = _deadline(durationSeed / MAX_GRANT_DURATION, variant == 5);
        bytes memory signature = _signOffer(o, variant);
        address submitter = _actors[variant == 6 ? (o.owner + 1) % _actors.length : o.owner];
        (bool ok, bytes memory ret) = _grantWithConsent(submitter, o, signature);
        if (variant >= 4 && variant <= 8) return _forgery("grantWithConsent.forged", ok);
        bool used = ghostConsentUsed[o.consumer][o.nonce];
        _expect(used ? bytes32("grantWithConsent.nonceUsed") : bytes32("grantWithConsent"), !used, ok, ret);
        if (!ok) return;
        GrantRecord storage g = _grants[o.vehicleId][o.consumer];
        if (!g.exists) ghostRecords[o.consumer]++;
        (g.exists, g.epoch, g.expiresAt) = (true, uint64(ghostTransfers[o.vehicleId]), o.expiresAt);
        g.permissions = o.permissions;
        _useConsentNonce(o.consumer, o.nonce);
    }

    /// @notice A consumer cancels an offer nonce (a third of the time its last used one, refused).
    function cancelConsent(uint256 consumerSeed, uint256 nonceSeed) external {
        address consumer = _actors[consumerSeed % CONSUMER_COUNT];
        uint256 nonce = nonceSeed % 3 == 0 ? ghostLastConsentNonce[consumer] : bound(nonceSeed, 0, CONSENT_NONCES - 1);
        (bool ok, bytes memory ret) = _call(
            consumer,
            address(access),
            abi.encodeCall(IDataAccess.cancelConsent, (nonce))
        );
        _expect("cancelConsent", !ghostConsentUsed[consumer][nonce], ok, ret);
        if (ok) _useConsentNonce(consumer, nonce);
    }

    /// @notice The owner or the consumer revokes a record; one in three tries an actor who is neither.
    function revokeGrant(uint256 vehicleSeed, uint256 consumerSeed, uint256 bySeed) external {
        if (ghostVehicles.length == 0) return;
        uint256 id = _vehicle(vehicleSeed);
        uint256 consumerIndex = consumerSeed % CONSUMER_COUNT;
        address consumer = _actors[consumerIndex];
        uint256 owner = ghostOwner[id];
        uint256 by = bySeed % 3; // 0 the owner, 1 the consumer, 2 neither
        address caller =
            by == 0
                ? _actors[owner]
                : by == 1
                    ? consumer
                    : _neither(owner, consumerIndex);
        (bool ok, bytes memory ret) = _call(
            caller,
            address(access),
            abi.encodeCall(IDataAccess.revoke, (id, consumer))
        );
        if (by == 2) return _unauthorised("revokeGrant.outsider", ok);
        _expect("revokeGrant", _grants[id][consumer].exists, ok, ret);
        if (ok) _ghostDeleteGrant(id, consumer);
    }

    /// @notice Anyone prunes a record that no longer counts (stale after a transfer, or expired).
    function pruneGrant(uint256 vehicleSeed, uint256 consumerSeed, uint256 bySeed) external {
        if (ghostVehicles.length == 0) return;
        uint256 id = _vehicle(vehicleSeed);
        address consumer = _actors[consumerSeed % CONSUMER_COUNT];
        GrantRecord storage g = _grants[id][consumer];
        bool counts = g.expiresAt > block.timestamp && g.epoch == ghostTransfers[id];
        (bool ok, bytes memory ret) = _call(
            _actor(bySeed),
            address(access),
            abi.encodeCall(IDataAccess.prune, (id, consumer))
        );
        _expect("pruneGrant", g.exists && !counts, ok, ret);
        if (ok) _ghostDeleteGrant(id, consumer);
    }

    // ---------------------------------------------------------------- the ghost model, for the invariants

    /// @notice A vehicle as the ghost model has it (static fields only: an array of these encodes cheaply).
    /// @param connectionMask Bit `i` set when integration `i` is connected.
    /// @param connectionKinds The kind integration `i`'s connection was attested with, in bits `2i` and `2i + 1`.
    struct VehicleGhost {
        uint256 id;
        address owner;
        uint256 transfers;
        uint256 pairedDevice;
        PairingRecord pairing;
        uint256 connectionCount;
        uint256 connectionMask;
        uint256 connectionKinds;
    }

    /// @notice A device as the ghost model has it.
    struct DeviceGhost {
        uint256 id;
        address key;
        address owner;
        uint256 pairedVehicle;
    }

    /// @notice The whole ghost model in one call (a check after every call reads it once instead of item by item).
    struct Snapshot {
        uint256 mints;
        VehicleGhost[] vehicles;
        DeviceGhost[] devices;
        address[] manufacturers;
        bool[] manufacturerApproved;
        IVehicleRegistry.ConnectionKind[] kinds; // per integration, from the ghost's roles
        address[] signers; // the actors, then every device key
        uint256[] nonces;
        uint256[] records; // per consumer
        GrantRecord[] grants; // consumer c, vehicle k at c * vehicles + k
    }

    /// @notice The digest of the ghost model that the invariants recompute from the contracts, with `digestStep`
    /// over the same fields in the same order: (vehicles, devices, manufacturer approval bits, integration kinds
    /// in 2 bits each); per vehicle 1..n (id, owner, ownership epoch, paired device, connection bits, connection
    /// kinds), and when paired (the device key that signed, the owner who signed, the epoch signed for, 1 when the
    /// manufacturer was approved then); per device 1..n (id, key, owner, paired vehicle); per signer (nonce); per
    /// consumer (records held), then per vehicle (permissions, epoch, expiry) of its record (zeroes when none).
    function ghostDigest() external view returns (bytes32 h) {
        uint256 count = ghostVehicles.length;
        uint256 approvals;
        for (uint256 m = 0; m < MANUFACTURER_COUNT; ++m) {
            if (ghostManufacturerApproved[_manufacturers[m]]) approvals |= 1 << m;
        }
        uint256 kinds;
        for (uint256 i = 0; i < INTEGRATION_COUNT; ++i) kinds |= uint256(_kind(_integrations[i])) << (2 * i);
        h = digestStep(0, count, ghostDevices.length, approvals, kinds, 0, 0);
        for (uint256 k = 0; k < count; ++k) {
            uint256 id = ghostVehicles[k];
            (uint256 mask, uint256 connectionKinds) = _connectionBits(id);
            uint256 device = ghostPairedDevice[id];
            h = digestStep(h, id, uint160(_actors[ghostOwner[id]]), ghostTransfers[id], device, mask, connectionKinds);
            if (device == 0) continue;
            PairingRecord storage r = _pairings[id];
            h = digestStep(h, uint160(r.deviceKey), uint160(r.owner), r.epoch, r.manufacturerApproved ? 1 : 0, 0, 0);
        }
        for (uint256 k = 0; k < ghostDevices.length; ++k) {
            uint256 id = ghostDevices[k];
            address key = _deviceKeys[ghostDeviceKeyIndex[id]];
            h = digestStep(h, id, uint160(key), uint160(_actors[ghostDeviceOwner[id]]), ghostPairedVehicle[id], 0, 0);
        }
        for (uint256 i = 0; i < _actors.length; ++i) h = digestStep(h, ghostNonce[_actors[i]], 0, 0, 0, 0, 0);
        for (uint256 i = 0; i < MAX_DEVICES; ++i) h = digestStep(h, ghostNonce[_deviceKeys[i]], 0, 0, 0, 0, 0);
        for (uint256 c = 0; c < CONSUMER_COUNT; ++c) {
            address consumer = _actors[c];
            h = digestStep(h, ghostRecords[consumer], 0, 0, 0, 0, 0);
            for (uint256 k = 0; k < count; ++k) {
                GrantRecord storage g = _grants[ghostVehicles[k]][consumer];
                h = digestStep(h, g.permissions, g.epoch, g.expiresAt, 0, 0, 0);
            }
        }
    }

    function snapshot() external view returns (Snapshot memory s) {
        s.mints = ghostMints;
        uint256 count = ghostVehicles.length;
        s.vehicles = new VehicleGhost[](count);
        for (uint256 k = 0; k < count; ++k) {
            uint256 id = ghostVehicles[k];
            VehicleGhost memory v = s.vehicles[k];
            (v.id, v.owner, v.transfers) = (id, _actors[ghostOwner[id]], ghostTransfers[id]);
            (v.pairedDevice, v.pairing) = (ghostPairedDevice[id], _pairings[id]);
            v.connectionCount = _connected[id].length;
            (v.connectionMask, v.connectionKinds) = _connectionBits(id);
        }
        s.devices = new DeviceGhost[](ghostDevices.length);
        for (uint256 k = 0; k < ghostDevices.length; ++k) {
            uint256 id = ghostDevices[k];
            s.devices[k] = DeviceGhost(
                id,
                _deviceKeys[ghostDeviceKeyIndex[id]],
                _actors[ghostDeviceOwner[id]],
                ghostPairedVehicle[id]
            );
        }
        s.manufacturers = _manufacturers;
        s.manufacturerApproved = new bool[](MANUFACTURER_COUNT);
        for (uint256 m = 0; m < MANUFACTURER_COUNT; ++m)
            s.manufacturerApproved[m] = ghostManufacturerApproved[_manufacturers[m]];
        s.kinds = new IVehicleRegistry.ConnectionKind[](INTEGRATION_COUNT);
        for (uint256 i = 0; i < INTEGRATION_COUNT; ++i) s.kinds[i] = _kind(_integrations[i]);
        uint256 actorCount = _actors.length;
        s.signers = new address[](actorCount + MAX_DEVICES);
        s.nonces = new uint256[](actorCount + MAX_DEVICES);
        for (uint256 i = 0; i < actorCount + MAX_DEVICES; ++i) {
            s.signers[i] = i < actorCount ? _actors[i] : _deviceKeys[i - actorCount];
            s.nonces[i] = ghostNonce[s.signers[i]];
        }
        s.records = new uint256[](CONSUMER_COUNT);
        s.grants = new GrantRecord[](CONSUMER_COUNT * count);
        for (uint256 c = 0; c < CONSUMER_COUNT; ++c) {
            s.records[c] = ghostRecords[_actors[c]];
            for (uint256 k = 0; k < count; ++k) s.grants[c * count + k] = _grants[ghostVehicles[k]][_actors[c]];
        }
    }

    // ---------------------------------------------------------------- model

    function _info(uint256 seed, bytes32 vin) private pure returns (IVehicleRegistry.VehicleInfo memory) {
        return
            IVehicleRegistry.VehicleInfo({
                make: "Tesla",
                model: "Model 3",
                year: uint16(bound(seed, 1886, 2100)),
                powertrain: IVehicleRegistry.Powertrain(uint8((seed >> 16) % 4)),
                vinCommitment: vin
            });
    }

    function _vehicle(uint256 seed) private view returns (uint256) {
        return ghostVehicles[seed % ghostVehicles.length];
    }

    /// @dev Another minted vehicle when there is one, else an id never minted.
    function _otherVehicle(uint256 id) private view returns (uint256) {
        for (uint256 k = 0; k < ghostVehicles.length; ++k) if (ghostVehicles[k] != id) return ghostVehicles[k];
        return MISSING_VEHICLE;
    }

    function _integration(uint256 seed) private view returns (address) {
        return _integrations[seed % INTEGRATION_COUNT];
    }

    function _neither(uint256 a, uint256 b) private view returns (address) {
        for (uint256 i = 0; i < _actors.length; ++i) if (i != a && i != b) return _actors[i];
        return address(0xDEAD);
    }

    /// @dev A valid deadline (now to `MAX_DEADLINE` ahead; now itself is valid), or one already passed.
    function _deadline(uint256 seed, bool expired) private view returns (uint256) {
        return expired ? block.timestamp - 1 - bound(seed, 0, 1 days) : block.timestamp + bound(seed, 0, MAX_DEADLINE);
    }

    function _kind(address integration) private view returns (IVehicleRegistry.ConnectionKind) {
        if (ghostOemRole[integration]) return IVehicleRegistry.ConnectionKind.Oem;
        if (ghostSoftwareRole[integration]) return IVehicleRegistry.ConnectionKind.Software;
        return IVehicleRegistry.ConnectionKind.None;
    }

    function _recordMint(uint256 id, uint256 owner, bytes32 vin) private {
        if (id != ghostMints + 1) _mispredict("mint.id", bytes4(0));
        ghostMints++;
        ghostVehicles.push(id);
        ghostOwner[id] = owner;
        if (vin != registryFuzzVin(id)) _mispredict("mint.vin", bytes4(0));
    }

    /// @dev The pairing as signed now by the vehicle's owner and the device's key, at the current epoch and nonces.
    function _freshPairing(
        uint256 vehicleSeed,
        uint256 deviceSeed,
        uint256 deadlineSeed,
        bool expired
    ) private view returns (Pairing memory p) {
        p.vehicleId = _vehicle(vehicleSeed);
        p.deviceId = ghostDevices[deviceSeed % ghostDevices.length];
        p.epoch = ghostTransfers[p.vehicleId];
        p.ownerIndex = ghostOwner[p.vehicleId];
        p.ownerNonce = ghostNonce[_actors[p.ownerIndex]];
        uint256 keyIndex = ghostDeviceKeyIndex[p.deviceId];
        p.deviceNonce = ghostNonce[_deviceKeys[keyIndex]];
        p.deadline = _deadline(deadlineSeed, expired);
        (p.ownerSigner, p.deviceSigner) = (_actorKeys[p.ownerIndex], DEVICE_KEY_BASE + keyIndex);
    }

    function _pairable(uint256 vehicleId, uint256 deviceId) private view returns (bool) {
        return
            ghostPairedDevice[vehicleId] == 0 &&
            ghostPairedVehicle[deviceId] == 0 &&
            ghostManufacturerApproved[ghostDeviceManufacturer[deviceId]];
    }

    /// @dev Why a held (genuinely signed) pairing must be refused now, or 0 when it must pair.
    function _heldRefusal(Pairing memory p) private view returns (bytes32) {
        if (block.timestamp > p.deadline) return "submitHeld.expired";
        // A transfer always moves the epoch; back to the signer, only the epoch tells the signature is stale.
        if (ghostTransfers[p.vehicleId] != p.epoch) {
            return
                ghostOwner[p.vehicleId] == p.ownerIndex
                    ? bytes32("submitHeld.staleEpochSameOwner")
                    : bytes32("submitHeld.transferred");
        }
        if (ghostNonce[_actors[p.ownerIndex]] != p.ownerNonce) return "submitHeld.ownerNonce";
        if (ghostNonce[_deviceKeys[ghostDeviceKeyIndex[p.deviceId]]] != p.deviceNonce) return "submitHeld.deviceNonce";
        if (!_pairable(p.vehicleId, p.deviceId)) return "submitHeld.notPairable";
        return 0;
    }

    function _recordPairing(Pairing memory p) private {
        address owner = _actors[p.ownerIndex];
        address key = vm.addr(p.deviceSigner);
        ghostPairedDevice[p.vehicleId] = p.deviceId;
        ghostPairedVehicle[p.deviceId] = p.vehicleId;
        _pairings[p.vehicleId] = PairingRecord({
            deviceKey: key,
            manufacturerApproved: ghostManufacturerApproved[ghostDeviceManufacturer[p.deviceId]],
            epoch: p.epoch,
            owner: owner
        });
        ghostNonce[owner]++;
        ghostNonce[key]++;
    }

    function _ghostUnpair(uint256 vehicleId) private {
        uint256 deviceId = ghostPairedDevice[vehicleId];
        if (deviceId == 0) return;
        delete ghostPairedDevice[vehicleId];
        delete ghostPairedVehicle[deviceId];
        delete _pairings[vehicleId];
    }

    /// @dev Bit `i` for each connected integration `i`, and its attested kind in bits `2i`, `2i + 1`.
    function _connectionBits(uint256 vehicleId) private view returns (uint256 mask, uint256 kinds) {
        address[] storage list = _connected[vehicleId];
        for (uint256 c = 0; c < list.length; ++c) {
            uint256 i = uint160(list[c]) - INTEGRATION_BASE;
            mask |= 1 << i;
            kinds |= uint256(_connectionKind[vehicleId][list[c]]) << (2 * i);
        }
    }

    function _connectable(uint256 vehicleId, address integration) private view returns (bool) {
        return
            _kind(integration) != IVehicleRegistry.ConnectionKind.None &&
            _connectionKind[vehicleId][integration] == IVehicleRegistry.ConnectionKind.None &&
            _connected[vehicleId].length < maxConnections;
    }

    function _recordConnection(uint256 vehicleId, address integration) private {
        _connected[vehicleId].push(integration);
        _connectionKind[vehicleId][integration] = _kind(integration);
        ghostNonce[_actors[ghostOwner[vehicleId]]]++;
    }

    function _ghostRemoveConnection(uint256 vehicleId, address integration) private {
        address[] storage list = _connected[vehicleId];
        for (uint256 k = 0; k < list.length; ++k) {
            if (list[k] != integration) continue;
            list[k] = list[list.length - 1];
            list.pop();
            break;
        }
        delete _connectionKind[vehicleId][integration];
    }

    function _ghostClearConnections(uint256 vehicleId) private {
        address[] storage list = _connected[vehicleId];
        for (uint256 k = 0; k < list.length; ++k) delete _connectionKind[vehicleId][list[k]];
        delete _connected[vehicleId];
    }

    function _useConsentNonce(address consumer, uint256 nonce) private {
        ghostConsentUsed[consumer][nonce] = true;
        ghostLastConsentNonce[consumer] = nonce;
    }

    function _ghostDeleteGrant(uint256 vehicleId, address consumer) private {
        delete _grants[vehicleId][consumer];
        ghostRecords[consumer]--;
    }

    // ---------------------------------------------------------------- outcome accounting

    /// @dev Counts the outcome and flags a difference from the prediction.
    function _expect(bytes32 action, bool predicted, bool ok, bytes memory ret) private {
        _count(action, ok);
        if (ok != predicted) _mispredict(action, ok ? bytes4(0) : _selector(ret));
    }

    /// @dev A forged call: it must be refused.
    function _forgery(bytes32 action, bool ok) private {
        _count(action, ok);
        if (ok) _flag(action, bytes4(0), 1);
    }

    /// @dev A call by someone without the role or ownership: it must be refused.
    function _unauthorised(bytes32 action, bool ok) private {
        _count(action, ok);
        if (ok) _flag(action, bytes4(0), 2);
    }

    function _mispredict(bytes32 action, bytes4 error_) private {
        _flag(action, error_, 0);
    }

    function _flagTransfer(bytes32 action) private {
        _flag(action, bytes4(0), 3);
    }

    function _flag(bytes32 action, bytes4 error_, uint256 kind) private {
        if (kind == 0) ghostMispredicted = true;
        else if (kind == 1) ghostForgeryAccepted = true;
        else if (kind == 2) ghostUnauthorised = true;
        else ghostTransferLeftState = true;
        if (ghostFirstBadAction == 0) (ghostFirstBadAction, ghostFirstBadError) = (action, error_);
    }

    function _selector(bytes memory ret) private pure returns (bytes4 s) {
        if (ret.length >= 4) s = bytes4(ret);
    }

    // ---------------------------------------------------------------- signing

    function _mintStructHash(
        address owner,
        IVehicleRegistry.VehicleInfo memory info,
        uint256 nonce,
        uint256 deadline
    ) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    _MINT_TYPEHASH,
                    owner,
                    keccak256(bytes(info.make)),
                    keccak256(bytes(info.model)),
                    info.year,
                    uint8(info.powertrain),
                    info.vinCommitment,
                    nonce,
                    deadline
                )
            );
    }

    /// @dev The owner's `MintVehicle` signature; variant 4 signs with another actor's key, 6 with a used (or
    /// future) nonce, 8 for another chain id.
    function _signMint(
        uint256 owner,
        IVehicleRegistry.VehicleInfo memory info,
        uint256 deadline,
        uint256 variant
    ) private view returns (bytes memory) {
        uint256 nonce = ghostNonce[_actors[owner]];
        if (variant == 6) nonce = nonce == 0 ? 1 : nonce - 1;
        bytes32 domain =
            variant == 8 ? _domain("DIMO VehicleRegistry", block.chainid + 1, address(vehicles)) : vehiclesDomain;
        uint256 key = _actorKeys[variant == 4 ? (owner + 1) % _actors.length : owner];
        return _sign(key, domain, _mintStructHash(_actors[owner], info, nonce, deadline));
    }

    /// @dev The consumer's `AccessConsent` signature; variant 4 signs with another actor's key, 7 for another
    /// vehicle, 8 naming another owner.
    function _signOffer(Offer memory o, uint256 variant) private view returns (bytes memory) {
        uint256 key = _actorKeys[variant == 4 ? (o.consumerIndex + 1) % _actors.length : o.consumerIndex];
        bytes32 structHash = keccak256(
            abi.encode(
                _ACCESS_TYPEHASH,
                variant == 7 ? _otherVehicle(o.vehicleId) : o.vehicleId,
                _actors[variant == 8 ? (o.owner + 1) % _actors.length : o.owner],
                o.permissions,
                o.expiresAt,
                o.nonce,
                o.deadline
            )
        );
        return _sign(key, accessDomain, structHash);
    }

    function _signPairing(
        Pairing memory p
    ) private view returns (bytes memory ownerSignature, bytes memory deviceSignature) {
        bytes32 structHash = keccak256(
            abi.encode(_PAIR_TYPEHASH, p.vehicleId, p.epoch, p.deviceId, p.ownerNonce, p.deviceNonce, p.deadline)
        );
        ownerSignature = _sign(p.ownerSigner, vehiclesDomain, structHash);
        deviceSignature = _sign(p.deviceSigner, vehiclesDomain, structHash);
    }

    // ---------------------------------------------------------------- calls (the only place that calls in)

    /// @dev `data` sent from `from`; a refusal is returned, not reverted.
    function _call(address from, address target, bytes memory data) private returns (bool ok, bytes memory ret) {
        vm.prank(from);
        (ok, ret) = target.call(data);
    }

    function _submitPairing(
        address relayer,
        Pairing memory p,
        bytes memory ownerSignature,
        bytes memory deviceSignature
    ) private returns (bool, bytes memory) {
        return
            _call(
                relayer,
                address(vehicles),
                abi.encodeCall(
                    IVehicleRegistry.pairDevice,
                    (p.vehicleId, p.deviceId, p.deadline, ownerSignature, deviceSignature)
                )
            );
    }

    function _grantWithConsent(
        address submitter,
        Offer memory o,
        bytes memory signature
    ) private returns (bool, bytes memory) {
        return
            _call(
                submitter,
                address(access),
                abi.encodeCall(
                    IDataAccess.grantWithConsent,
                    (o.vehicleId, o.consumer, o.permissions, o.expiresAt, o.nonce, o.deadline, signature)
                )
            );
    }

    function _attest(
        address integration,
        uint256 vehicleId,
        uint256 deadline,
        bytes memory signature
    ) private returns (bool, bytes memory) {
        return
            _call(
                integration,
                address(vehicles),
                abi.encodeCall(IVehicleRegistry.attestConnection, (vehicleId, deadline, signature))
            );
    }
}
