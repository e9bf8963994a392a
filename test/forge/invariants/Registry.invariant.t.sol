// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IDataAccess} from "../../../contracts/interfaces/IDataAccess.sol";
import {IDeviceRegistry} from "../../../contracts/interfaces/IDeviceRegistry.sol";
import {IVehicleRegistry} from "../../../contracts/interfaces/IVehicleRegistry.sol";
import {SuiteInvariants} from "./SuiteInvariants.sol";
import {RegistryHandler, digestStep, registryFuzzVin} from "../handlers/RegistryHandler.sol";

/// @title RegistrySetup
/// @notice The registry campaign's suite, handler and named checks, shared by the campaign and its regressions.
/// @dev After every call `_checkRegistry` reads each value of the registries once, checks on them the invariants
/// they must satisfy on their own (pairing bijection, at most MAX_CONNECTIONS connections without duplicates and
/// with a kind, VINs, device keys, readable grants, capacity), and compares everything the ghost model also knows
/// (owners, epochs, pairings and how they were made, connections and their attested kinds, roles, nonces, grant
/// records) through one digest: `RegistryHandler.ghostDigest` over the ghost, `_observe` over the contracts, same
/// fields in the same order. Only when the digests differ does `_diagnose` read the whole ghost model and compare it
/// item by item, so that the failure names the invariant (`_compare…`). One campaign checks them all, so the calls
/// are paid once; the digest keeps a check after every call at about a third of an item-by-item comparison.
abstract contract RegistrySetup is SuiteInvariants {
    RegistryHandler internal handler;
    IVehicleRegistry internal vehicles;
    IDeviceRegistry internal devices;
    IDataAccess internal access;
    uint256 internal maxConnections;
    bytes32 internal manufacturerRole;
    uint256 internal manufacturerBase;
    uint256 internal manufacturerCount;
    uint256 internal integrationBase;
    uint256 internal integrationCount;
    uint256 internal consumerCount;
    address[] internal signers;

    /// @notice The registries' values one check reads (ids start at 1: index 0 is unused).
    struct Observed {
        uint256 vehicleCount;
        uint256 deviceCount;
        uint256[] epochs;
        uint256[] pairedDevice; // by vehicle
        uint256[] pairedVehicle; // by device
        address[] deviceKeys; // by device
    }

    function setUp() public {
        _deploySuite();
        (vehicles, devices, access) = (suite.vehicles(), suite.devices(), suite.access());
        handler = new RegistryHandler(suite);
        (maxConnections, manufacturerRole) = (handler.maxConnections(), handler.MANUFACTURER_ROLE());
        (manufacturerBase, manufacturerCount) = (handler.MANUFACTURER_BASE(), handler.MANUFACTURER_COUNT());
        (integrationBase, integrationCount) = (handler.INTEGRATION_BASE(), handler.INTEGRATION_COUNT());
        consumerCount = handler.CONSUMER_COUNT();
        signers = handler.snapshot().signers;
        targetContract(address(handler));
    }

    function _burned() internal pure override returns (uint256) {
        return 0; // nothing burns here
    }

    function _checkRegistry() internal view {
        _checkSupply();
        _checkNoBadOutcome();
        if (_observe() != handler.ghostDigest()) _diagnose();
    }

    // ---------------------------------------------------------------- every call

    /// @notice Every outcome was the model's: no forged signature, outsider call or mispredicted refusal went
    /// through, and every transfer left the vehicle unpaired and unconnected at its next epoch.
    function _checkNoBadOutcome() internal view {
        _assertNoFlag(handler.ghostForgeryAccepted(), "no forged, expired, stale or replayed signature accepted");
        _assertNoFlag(handler.ghostUnauthorised(), "no role- or owner-gated call by anyone else went through");
        _assertNoFlag(handler.ghostTransferLeftState(), "a transfer ends pairing and connections, epoch == transfers");
        _assertNoFlag(handler.ghostMispredicted(), "every well-formed call's outcome is the model's");
    }

    /// @notice Reads the registries, checks their own invariants and returns the digest of what the ghost also
    /// knows (the steps of `RegistryHandler.ghostDigest`).
    function _observe() internal view returns (bytes32 h) {
        Observed memory o = _readDevices();
        o.vehicleCount = vehicles.totalVehicles();
        o.epochs = new uint256[](o.vehicleCount + 1);
        o.pairedDevice = new uint256[](o.vehicleCount + 1);
        h = digestStep(0, o.vehicleCount, o.deviceCount, _manufacturerApprovals(), _integrationKinds(), 0, 0);
        for (uint256 id = 1; id <= o.vehicleCount; ++id) {
            assertEq(vehicles.vehicleOfVin(registryFuzzVin(id)), id, "vehicleOfVin(vin) == id for every minted vin");
            address owner = IERC721(address(vehicles)).ownerOf(id);
            (o.epochs[id], o.pairedDevice[id]) = (vehicles.ownershipEpoch(id), vehicles.pairedDevice(id));
            (uint256 mask, uint256 kinds) = _checkConnectionsOf(id);
            h = digestStep(h, id, uint160(owner), o.epochs[id], o.pairedDevice[id], mask, kinds);
            uint256 device = o.pairedDevice[id];
            if (device == 0) continue;
            assertLe(device, o.deviceCount, "a paired device exists");
            // The ghost records how the pairing was made: this key, this owner, this epoch, manufacturer approved.
            h = digestStep(h, uint160(o.deviceKeys[device]), uint160(owner), o.epochs[id], 1, 0, 0);
        }
        _checkPairingBijection(o);
        for (uint256 id = 1; id <= o.deviceCount; ++id) {
            address owner = IERC721(address(devices)).ownerOf(id);
            h = digestStep(h, id, uint160(o.deviceKeys[id]), uint160(owner), o.pairedVehicle[id], 0, 0);
        }
        for (uint256 s = 0; s < signers.length; ++s) h = digestStep(h, vehicles.nonces(signers[s]), 0, 0, 0, 0, 0);
        h = _checkGrants(o, h);
    }

    /// @notice Each device is bound to a key bound to it (deviceIdOfKey(deviceKeyOf(d)) == d).
    function _readDevices() internal view returns (Observed memory o) {
        o.deviceCount = devices.totalDevices();
        o.deviceKeys = new address[](o.deviceCount + 1);
        o.pairedVehicle = new uint256[](o.deviceCount + 1);
        for (uint256 id = 1; id <= o.deviceCount; ++id) {
            address key = devices.deviceKeyOf(id);
            assertEq(devices.deviceIdOfKey(key), id, "deviceIdOfKey(deviceKeyOf(d)) == d");
            (o.deviceKeys[id], o.pairedVehicle[id]) = (key, vehicles.pairedVehicle(id));
        }
    }

    /// @notice Pairing is a bijection: pairedDevice(v) = d != 0 <=> pairedVehicle(d) = v.
    function _checkPairingBijection(Observed memory o) internal pure {
        for (uint256 id = 1; id <= o.vehicleCount; ++id) {
            uint256 device = o.pairedDevice[id];
            if (device != 0) assertEq(o.pairedVehicle[device], id, "pairedDevice(v) = d => pairedVehicle(d) = v");
        }
        for (uint256 id = 1; id <= o.deviceCount; ++id) {
            uint256 vehicleId = o.pairedVehicle[id];
            if (vehicleId == 0) continue;
            assertLe(vehicleId, o.vehicleCount, "a paired vehicle exists");
            assertEq(o.pairedDevice[vehicleId], id, "pairedVehicle(d) = v => pairedDevice(v) = d");
        }
    }

    /// @notice A vehicle's connections: at most MAX_CONNECTIONS, each of a known integration, no duplicates, each
    /// with a kind other than None. Returns them as bits (bit `i` for integration `i`) and kinds (2 bits each).
    function _checkConnectionsOf(uint256 id) internal view returns (uint256 mask, uint256 kinds) {
        (address[] memory connected, IVehicleRegistry.ConnectionKind[] memory connectedKinds) = vehicles.connections(
            id
        );
        assertLe(connected.length, maxConnections, "connections <= MAX_CONNECTIONS");
        assertEq(connectedKinds.length, connected.length, "one kind per connection");
        for (uint256 c = 0; c < connected.length; ++c) {
            uint256 i = uint160(connected[c]);
            assertTrue(i >= integrationBase && i < integrationBase + integrationCount, "a known integration");
            i -= integrationBase;
            assertEq((mask >> i) & 1, 0, "no duplicate connection");
            assertTrue(connectedKinds[c] != IVehicleRegistry.ConnectionKind.None, "connection kind != None");
            mask |= 1 << i;
            kinds |= uint256(connectedKinds[c]) << (2 * i);
        }
    }

    /// @notice Data access: capacity reserved == records held; a record is readable exactly while it is of the
    /// vehicle's current ownership epoch and unexpired (a transfer voids the previous owner's grants).
    function _checkGrants(Observed memory o, bytes32 h) internal view returns (bytes32) {
        for (uint256 c = 0; c < consumerCount; ++c) {
            address consumer = actors[c];
            uint256 held = staking.vehiclesAccessed(consumer);
            h = digestStep(h, held, 0, 0, 0, 0, 0);
            uint256 records;
            for (uint256 id = 1; id <= o.vehicleCount; ++id) {
                IDataAccess.Grant memory g = access.grantOf(id, consumer);
                h = digestStep(h, g.permissions, g.epoch, g.expiresAt, 0, 0, 0);
                if (g.permissions == 0) continue;
                records++;
                bool counts = g.epoch == o.epochs[id] && g.expiresAt > block.timestamp;
                assertTrue(
                    access.canRead(consumer, id, _lowestBit(g.permissions)) == counts,
                    "readable <=> current epoch and unexpired"
                );
            }
            assertEq(held, records, "capacity reserved == records held");
        }
        return h;
    }

    function _manufacturerApprovals() internal view returns (uint256 bits) {
        for (uint256 m = 0; m < manufacturerCount; ++m) {
            address manufacturer = address(uint160(manufacturerBase + m));
            if (IAccessControl(address(devices)).hasRole(manufacturerRole, manufacturer)) bits |= 1 << m;
        }
    }

    function _integrationKinds() internal view returns (uint256 kinds) {
        for (uint256 i = 0; i < integrationCount; ++i) {
            kinds |= uint256(vehicles.integrationKind(address(uint160(integrationBase + i)))) << (2 * i);
        }
    }

    // ---------------------------------------------------------------- when the digests differ

    /// @notice Compares the registries with the whole ghost model item by item; the first difference fails with
    /// its invariant's name. Always reverts.
    function _diagnose() internal view {
        RegistryHandler.Snapshot memory g = handler.snapshot();
        _compareVehicles(g);
        _compareDevices(g);
        _comparePairings(g);
        _compareConnections(g);
        _compareRoles(g);
        _compareNonces(g);
        _compareGrants(g);
        revert AssertionFailed("registries' digest == ghost digest (no item differs: the digests' steps differ)", 0, 0);
    }

    /// @notice totalVehicles == ghost mints; owners are the ghost's; ownershipEpoch == the ghost's count of
    /// transfers that changed the owner.
    function _compareVehicles(RegistryHandler.Snapshot memory g) internal view {
        assertEq(vehicles.totalVehicles(), g.mints, "totalVehicles == ghost mints");
        assertEq(g.vehicles.length, g.mints, "every mint recorded");
        for (uint256 k = 0; k < g.vehicles.length; ++k) {
            RegistryHandler.VehicleGhost memory v = g.vehicles[k];
            assertTrue(IERC721(address(vehicles)).ownerOf(v.id) == v.owner, "vehicle owner == ghost");
            assertEq(vehicles.ownershipEpoch(v.id), v.transfers, "ownershipEpoch == ghost transfer count");
        }
    }

    /// @notice totalDevices == ghost device mints; each device is bound to the key it was minted with and owned
    /// as the ghost says.
    function _compareDevices(RegistryHandler.Snapshot memory g) internal view {
        assertEq(devices.totalDevices(), g.devices.length, "totalDevices == ghost device mints");
        for (uint256 k = 0; k < g.devices.length; ++k) {
            RegistryHandler.DeviceGhost memory d = g.devices[k];
            assertTrue(devices.deviceKeyOf(d.id) == d.key, "device key == the key it was minted with");
            assertTrue(IERC721(address(devices)).ownerOf(d.id) == d.owner, "device owner == ghost");
        }
    }

    /// @notice Pairings are the ghost's; a standing pairing was made with the device's own key, while its
    /// manufacturer was approved (the ghost's roles at that moment), by the vehicle's current owner, at the
    /// vehicle's current epoch.
    function _comparePairings(RegistryHandler.Snapshot memory g) internal view {
        for (uint256 k = 0; k < g.vehicles.length; ++k) {
            RegistryHandler.VehicleGhost memory v = g.vehicles[k];
            assertEq(vehicles.pairedDevice(v.id), v.pairedDevice, "pairedDevice == ghost");
            if (v.pairedDevice == 0) continue;
            assertTrue(v.pairing.manufacturerApproved, "paired while the manufacturer was approved");
            assertTrue(v.pairing.deviceKey == devices.deviceKeyOf(v.pairedDevice), "paired with the device's own key");
            assertTrue(v.pairing.owner == v.owner, "paired by the current owner");
            assertEq(v.pairing.epoch, v.transfers, "paired at the current ownership epoch");
        }
        for (uint256 k = 0; k < g.devices.length; ++k) {
            RegistryHandler.DeviceGhost memory d = g.devices[k];
            assertEq(vehicles.pairedVehicle(d.id), d.pairedVehicle, "pairedVehicle == ghost");
        }
    }

    /// @notice A vehicle's connections are exactly the ghost's (which the ghost clears at each transfer), each with
    /// the kind the integration's role gave at attestation.
    function _compareConnections(RegistryHandler.Snapshot memory g) internal view {
        for (uint256 k = 0; k < g.vehicles.length; ++k) {
            RegistryHandler.VehicleGhost memory v = g.vehicles[k];
            (uint256 mask, uint256 kinds) = _checkConnectionsOf(v.id);
            assertEq(mask, v.connectionMask, "connections == the ghost's (bit i: integration i)");
            assertEq(kinds, v.connectionKinds, "connection kinds == kinds at attestation (2 bits each)");
        }
    }

    /// @notice Manufacturers' and integrations' roles are exactly what the Timelock granted and revoked.
    function _compareRoles(RegistryHandler.Snapshot memory g) internal view {
        for (uint256 m = 0; m < g.manufacturers.length; ++m) {
            assertTrue(
                IAccessControl(address(devices)).hasRole(manufacturerRole, g.manufacturers[m]) ==
                    g.manufacturerApproved[m],
                "manufacturer role == ghost"
            );
        }
        for (uint256 i = 0; i < g.kinds.length; ++i) {
            assertEq(
                uint8(vehicles.integrationKind(address(uint160(integrationBase + i)))),
                uint8(g.kinds[i]),
                "integrationKind == ghost roles"
            );
        }
    }

    /// @notice Every signer's nonce is the ghost's, which only ever grows (and only by use or cancellation).
    function _compareNonces(RegistryHandler.Snapshot memory g) internal view {
        for (uint256 s = 0; s < g.signers.length; ++s) {
            assertEq(vehicles.nonces(g.signers[s]), g.nonces[s], "nonce == ghost (nonces only grow)");
        }
    }

    /// @notice Capacity reserved == the ghost's records; each record is the one the ghost saw written (by a
    /// consumer-signed offer, at the epoch of its grant).
    function _compareGrants(RegistryHandler.Snapshot memory g) internal view {
        uint256 count = g.vehicles.length;
        for (uint256 c = 0; c < consumerCount; ++c) {
            address consumer = actors[c];
            assertEq(staking.vehiclesAccessed(consumer), g.records[c], "capacity reserved == ghost records");
            for (uint256 k = 0; k < count; ++k) {
                RegistryHandler.GrantRecord memory r = g.grants[c * count + k];
                IDataAccess.Grant memory a = access.grantOf(g.vehicles[k].id, consumer);
                assertTrue((a.permissions != 0) == r.exists, "grant record exists == ghost");
                assertEq(a.permissions, r.permissions, "grant permissions == ghost");
                assertEq(a.epoch, r.epoch, "grant epoch == the epoch it was granted at");
                assertEq(a.expiresAt, r.expiresAt, "grant expiry == ghost");
            }
        }
    }

    function _lowestBit(uint256 bits) private pure returns (uint8 bit) {
        while ((bits >> bit) & 1 == 0) ++bit;
    }

    /// @dev On failure, names the handler's first bad action and its error selector (0 when it did not revert).
    function _assertNoFlag(bool flag, string memory what) private view {
        if (!flag) return;
        bytes32 action = handler.ghostFirstBadAction();
        bytes memory name = new bytes(32);
        uint256 length;
        for (; length < 32 && action[length] != 0; ++length) name[length] = action[length];
        assembly ("memory-safe") {
            mstore(name, length)
        }
        revert AssertionFailed(string.concat(what, ": ", string(name)), uint32(handler.ghostFirstBadError()), 0);
    }
}

/// @title RegistryInvariants
/// @notice Devices, vehicles, pairings, connections, integration and manufacturer roles, nonces and consented
/// data-access grants, under transfers, signatures held across them, bad signatures and time.
contract RegistryInvariants is RegistrySetup {
    // The handler never reverts (every refusal is caught and predicted), so a revert is a handler bug or an
    // unexpected refusal, and must fail the campaign rather than quietly undo the call's flags.
    // A call here costs about 0.9 ms of CPU (signatures, and a check reading ~135 registry values), 2.2 times an
    // access-campaign call: 32 runs of 500 (16,000 calls, ~14 CPU s) are paid by 35 runs taken from the access
    // campaign. Depth 500 is enough: 5 vehicles and 6 devices are minted early, and held signatures meet
    // transfers, nonce use and A->B->A ownership within tens of calls.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 500
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_registry() public view {
        _checkRegistry();
    }
}
