// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDataAccess} from "../../../contracts/interfaces/IDataAccess.sol";
import {DataAccess} from "../../../contracts/registry/DataAccess.sol";
import {VehicleRegistry} from "../../../contracts/registry/VehicleRegistry.sol";
import {SuiteInvariants} from "./SuiteInvariants.sol";
import {AccessHandler} from "../handlers/AccessHandler.sol";
import {StakingHandler} from "../handlers/StakingHandler.sol";

/// @title AccessSetup
/// @notice The registry and data-access campaign's suite, handlers and checks.
abstract contract AccessSetup is SuiteInvariants {
    AccessHandler internal handler;
    StakingHandler internal stakes; // slashes, freezes and parameter changes move capacity too
    VehicleRegistry internal vehicles;
    DataAccess internal access;

    function setUp() public {
        _deploySuite();
        (vehicles, access) = (suite.vehicles(), suite.access());
        handler = new AccessHandler(suite);
        stakes = new StakingHandler(suite);
        targetContract(address(handler));
        targetContract(address(stakes));
    }

    function _burned() internal view override returns (uint256) {
        return stakes.ghostBurned();
    }

    function _lowestBit(uint256 bits) private pure returns (uint8 bit) {
        while ((bits >> bit) & 1 == 0) ++bit;
    }

    function _checkAccess() internal view {
        _checkSupply();
        uint256 count = handler.vehicleCount();
        for (uint256 c = 0; c < actors.length; ++c) {
            address consumer = actors[c];
            uint256 held = staking.vehiclesAccessed(consumer);
            assertEq(held, handler.ghostRecords(consumer), "capacity reserved == grant records held");
            uint256 readable;
            for (uint256 v = 0; v < count; ++v) {
                uint256 id = handler.ghostVehicles(v);
                IDataAccess.Grant memory g = access.grantOf(id, consumer);
                // Without a record nothing is readable; with one, its lowest permitted data type is asked.
                uint8 dataType = g.permissions == 0 ? 0 : _lowestBit(g.permissions);
                if (!access.canRead(consumer, id, dataType)) continue;
                readable++;
                assertEq(g.epoch, vehicles.ownershipEpoch(id), "a readable grant is of the current ownership epoch");
                assertTrue(handler.ghostGrantedBy(id, consumer) == vehicles.ownerOf(id), "granted by the owner");
                assertGe(g.expiresAt, block.timestamp + 1, "a readable grant has not expired");
                assertEq(g.grantedAt, handler.ghostGrantedAt(id, consumer), "grantedAt == start of the unbroken grant");
            }
            assertLe(readable, held, "readable vehicles <= records held");
            if (readable > 0) {
                assertGe(staking.position(consumer).staked, staking.requiredStake(held), "grants within the stake");
            }
        }
    }
}

/// @title AccessInvariants
/// @notice Vehicles, transfers and data-access grants under stakes, slashes and time.
contract AccessInvariants is AccessSetup {
    // 215 of foundry.toml's 250 runs: the 35 runs taken (about 14 CPU s of the CI's fuzzing budget) pay for the
    // registry campaign (RegistryInvariants), which drives the vehicle registry and grants too, with signatures.
    /// forge-config: default.invariant.runs = 215
    function invariant_access() public view {
        _checkAccess();
    }
}
