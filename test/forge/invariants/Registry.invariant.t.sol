// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IDataAccess} from "../../../contracts/interfaces/IDataAccess.sol";
import {IDeviceRegistry} from "../../../contracts/interfaces/IDeviceRegistry.sol";
import {IVehicleRegistry} from "../../../contracts/interfaces/IVehicleRegistry.sol";
import {SuiteInvariants} from "./SuiteInvariants.sol";
import {RegistryHandler} from "../handlers/RegistryHandler.sol";

/// @title RegistrySetup
/// @notice The registry campaign's suite, handler and named checks, shared by the campaign and its regressions.
/// @dev Each `_check…` is one invariant; `invariant_registry` runs them all after every call (one campaign, so that
/// the calls are paid once). Every check compares the contracts with the handler's ghost model, not only the
/// contracts with themselves.
abstract contract RegistrySetup is SuiteInvariants {
    RegistryHandler internal handler;
    IVehicleRegistry internal vehicles;
    IDeviceRegistry internal devices;
    IDataAccess internal access;
    uint256 internal maxConnections;
    bytes32 internal manufacturerRole;

    function setUp() public {
        _deploySuite();
        (vehicles, devices, access) = (suite.vehicles(), suite.devices(), suite.access());
        handler = new RegistryHandler(suite);
        (maxConnections, manufacturerRole) = (handler.maxConnections(), handler.MANUFACTURER_ROLE());
        targetContract(address(handler));
    }

    function _burned() internal pure override returns (uint256) {
        return 0; // nothing burns here
    }

    function _checkRegistry() internal view {
        _checkSupply();
        _checkNoBadOutcome();
        RegistryHandler.Snapshot memory g = handler.snapshot();
        _checkVehicles(g);
        _checkDevices(g);
        _checkPairingBijection(g);
        _checkPairingsWereSound(g);
        _checkConnections(g);
        _checkRoles(g);
        _checkNonces(g);
        _checkGrants(g);
    }

    /// @notice Every outcome was the model's: no forged signature, outsider call or mispredicted refusal went
    /// through, and every transfer left the vehicle unpaired and unconnected at its next epoch.
    function _checkNoBadOutcome() internal view {
        _assertNoFlag(handler.ghostForgeryAccepted(), "no forged, expired, stale or replayed signature accepted");
        _assertNoFlag(handler.ghostUnauthorised(), "no role- or owner-gated call by anyone else went through");
        _assertNoFlag(handler.ghostTransferLeftState(), "a transfer ends pairing and connections, epoch == transfers");
        _assertNoFlag(handler.ghostMispredicted(), "every well-formed call's outcome is the model's");
    }

    /// @notice totalVehicles == ghost mints; vehicleOfVin(vin) == id for every minted vin; owners are the ghost's;
    /// ownershipEpoch == the ghost's count of transfers that changed the owner.
    function _checkVehicles(RegistryHandler.Snapshot memory g) internal view {
        assertEq(vehicles.totalVehicles(), g.mints, "totalVehicles == ghost mints");
        assertEq(g.vehicles.length, g.mints, "every mint recorded");
        for (uint256 k = 0; k < g.vehicles.length; ++k) {
            RegistryHandler.VehicleGhost memory v = g.vehicles[k];
            assertEq(vehicles.vehicleOfVin(v.vin), v.id, "vehicleOfVin(vin) == id for every minted vin");
            assertTrue(IERC721(address(vehicles)).ownerOf(v.id) == v.owner, "vehicle owner == ghost");
            assertEq(vehicles.ownershipEpoch(v.id), v.transfers, "ownershipEpoch == ghost transfer count");
        }
    }

    /// @notice totalDevices == ghost device mints; each device is bound to the key it was minted with (both ways)
    /// and owned as the ghost says.
    function _checkDevices(RegistryHandler.Snapshot memory g) internal view {
        assertEq(devices.totalDevices(), g.devices.length, "totalDevices == ghost device mints");
        for (uint256 k = 0; k < g.devices.length; ++k) {
            RegistryHandler.DeviceGhost memory d = g.devices[k];
            assertTrue(devices.deviceKeyOf(d.id) == d.key, "device key == the key it was minted with");
            assertEq(devices.deviceIdOfKey(d.key), d.id, "deviceIdOfKey(key) == id");
            assertTrue(IERC721(address(devices)).ownerOf(d.id) == d.owner, "device owner == ghost");
        }
    }

    /// @notice Pairing is a bijection: pairedDevice(v) = d != 0 <=> pairedVehicle(d) = v, both as the ghost says.
    function _checkPairingBijection(RegistryHandler.Snapshot memory g) internal view {
        for (uint256 k = 0; k < g.vehicles.length; ++k) {
            RegistryHandler.VehicleGhost memory v = g.vehicles[k];
            uint256 device = vehicles.pairedDevice(v.id);
            assertEq(device, v.pairedDevice, "pairedDevice == ghost");
            if (device != 0) {
                assertEq(vehicles.pairedVehicle(device), v.id, "pairedDevice(v) = d => pairedVehicle(d) = v");
            }
        }
        for (uint256 k = 0; k < g.devices.length; ++k) {
            RegistryHandler.DeviceGhost memory d = g.devices[k];
            uint256 vehicleId = vehicles.pairedVehicle(d.id);
            assertEq(vehicleId, d.pairedVehicle, "pairedVehicle == ghost");
            if (vehicleId != 0) {
                assertEq(vehicles.pairedDevice(vehicleId), d.id, "pairedVehicle(d) = v => pairedDevice(v) = d");
            }
        }
    }

    /// @notice A standing pairing was made with the device's own key, while its manufacturer was approved (the
    /// ghost's roles at that moment), by the vehicle's current owner, at the vehicle's current epoch.
    /// @dev Runs after the bijection check: a paired vehicle's device is the ghost's.
    function _checkPairingsWereSound(RegistryHandler.Snapshot memory g) internal view {
        for (uint256 k = 0; k < g.vehicles.length; ++k) {
            RegistryHandler.VehicleGhost memory v = g.vehicles[k];
            if (v.pairedDevice == 0) continue;
            assertTrue(v.pairing.manufacturerApproved, "paired while the manufacturer was approved");
            assertTrue(v.pairing.deviceKey == devices.deviceKeyOf(v.pairedDevice), "paired with the device's own key");
            assertTrue(v.pairing.owner == v.owner, "paired by the current owner");
            assertEq(v.pairing.epoch, v.transfers, "paired at the current ownership epoch");
        }
    }

    /// @notice A vehicle's connections: at most MAX_CONNECTIONS, no duplicates, exactly the ghost's, each with the
    /// kind (not None) the integration's role gave at attestation, attested under the current ownership.
    function _checkConnections(RegistryHandler.Snapshot memory g) internal view {
        for (uint256 k = 0; k < g.vehicles.length; ++k) {
            RegistryHandler.VehicleGhost memory v = g.vehicles[k];
            (address[] memory connected, IVehicleRegistry.ConnectionKind[] memory kinds) = vehicles.connections(v.id);
            assertLe(connected.length, maxConnections, "connections <= MAX_CONNECTIONS");
            assertEq(connected.length, v.connected.length, "connection count == ghost");
            assertEq(kinds.length, connected.length, "one kind per connection");
            for (uint256 c = 0; c < connected.length; ++c) {
                for (uint256 e = 0; e < c; ++e) assertTrue(connected[e] != connected[c], "no duplicate connection");
                assertTrue(kinds[c] != IVehicleRegistry.ConnectionKind.None, "connection kind != None");
                uint256 at = _indexOf(v.connected, connected[c]);
                assertTrue(at < v.connected.length, "every connection was attested (ghost)");
                assertEq(uint8(kinds[c]), uint8(v.connections[at].kind), "connection kind == kind at attestation");
                assertEq(v.connections[at].epoch, v.transfers, "connection attested under the current ownership");
            }
        }
    }

    /// @notice Manufacturers' and integrations' roles are exactly what the Timelock granted and revoked.
    function _checkRoles(RegistryHandler.Snapshot memory g) internal view {
        for (uint256 m = 0; m < g.manufacturers.length; ++m) {
            assertTrue(
                IAccessControl(address(devices)).hasRole(manufacturerRole, g.manufacturers[m]) ==
                    g.manufacturerApproved[m],
                "manufacturer role == ghost"
            );
        }
        for (uint256 i = 0; i < g.integrations.length; ++i) {
            assertEq(
                uint8(vehicles.integrationKind(g.integrations[i])),
                uint8(g.kinds[i]),
                "integrationKind == ghost roles"
            );
        }
    }

    /// @notice Every signer's nonce is the ghost's, which only ever grows (and only by use or cancellation).
    function _checkNonces(RegistryHandler.Snapshot memory g) internal view {
        for (uint256 s = 0; s < g.signers.length; ++s) {
            assertEq(vehicles.nonces(g.signers[s]), g.nonces[s], "nonce == ghost (nonces only grow)");
        }
    }

    /// @notice Data access: capacity reserved == records held == ghost; each record is the one the ghost saw
    /// written; it is readable exactly while it is of the current ownership epoch and unexpired (a transfer voids
    /// the previous owner's grants).
    function _checkGrants(RegistryHandler.Snapshot memory g) internal view {
        uint256 count = g.vehicles.length;
        for (uint256 c = 0; c < actors.length; ++c) {
            address consumer = actors[c];
            assertEq(staking.vehiclesAccessed(consumer), g.records[c], "capacity reserved == ghost records");
            for (uint256 k = 0; k < count; ++k) {
                RegistryHandler.VehicleGhost memory v = g.vehicles[k];
                RegistryHandler.GrantRecord memory r = g.grants[c * count + k];
                IDataAccess.Grant memory a = access.grantOf(v.id, consumer);
                assertTrue((a.permissions != 0) == r.exists, "grant record exists == ghost");
                if (!r.exists) continue;
                assertEq(a.permissions, r.permissions, "grant permissions == ghost");
                assertEq(a.epoch, r.epoch, "grant epoch == the epoch it was granted at");
                assertEq(a.expiresAt, r.expiresAt, "grant expiry == ghost");
                bool counts = r.epoch == v.transfers && r.expiresAt > block.timestamp;
                assertTrue(
                    access.canRead(consumer, v.id, _lowestBit(a.permissions)) == counts,
                    "readable <=> current epoch and unexpired"
                );
            }
        }
    }

    function _indexOf(address[] memory list, address item) private pure returns (uint256) {
        for (uint256 k = 0; k < list.length; ++k) if (list[k] == item) return k;
        return type(uint256).max; // not found
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
    /// forge-config: default.invariant.runs = 25
    /// forge-config: default.invariant.depth = 1000
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_registry() public view {
        _checkRegistry();
    }
}
