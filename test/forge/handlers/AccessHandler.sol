// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDataAccess} from "../../../contracts/interfaces/IDataAccess.sol";
import {IVehicleRegistry} from "../../../contracts/interfaces/IVehicleRegistry.sol";
import {DataAccess} from "../../../contracts/registry/DataAccess.sol";
import {VehicleRegistry} from "../../../contracts/registry/VehicleRegistry.sol";
import {bound} from "../lib/Test.sol";
import {Suite} from "../lib/Suite.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @title AccessHandler
/// @notice Random bounded actions on the vehicle registry and data-access grants: owners mint vehicles
/// (at most `MAX_VEHICLES`) and transfer them, grant consumers access for a bounded time, revoke (as owner
/// or consumer) and prune stale or expired grants one by one or in a batch (`pruneMany`); consumers stake and unstake so that their capacity
/// moves; time passes so that grants expire. Device pairing is not driven yet (it needs signing actors).
/// @dev Every call into a contract is in the "calls" section below. A grant needs the consumer's acceptance
/// of the owner: `_grant` has the consumer accept the owner on chain (`setOwnerAcceptance`) first.
contract AccessHandler is HandlerBase {
    uint256 public constant MAX_VEHICLES = 5;
    uint256 public constant MAX_GRANT_DURATION = 30 days; // seconds

    VehicleRegistry internal immutable vehicles;
    DataAccess internal immutable access;

    // ---------------------------------------------------------------- ghost state
    uint256[] public ghostVehicles;
    /// @notice Grant records held per consumer, as the handler saw them made and deleted.
    mapping(address consumer => uint256 count) public ghostRecords;
    /// @notice Who granted the record (the owner at the time).
    mapping(uint256 vehicleId => mapping(address consumer => address owner)) public ghostGrantedBy;
    /// @notice When the record started to count without a break: set by a grant over a record that did not
    /// count (none, stale or expired), kept by one over a counting record.
    mapping(uint256 vehicleId => mapping(address consumer => uint256 at)) public ghostGrantedAt;

    constructor(Suite suite_) HandlerBase(suite_) {
        vehicles = suite_.vehicles();
        access = suite_.access();
    }

    // ---------------------------------------------------------------- actions

    function mint(uint256 ownerSeed, uint256 powertrainSeed) external {
        if (ghostVehicles.length >= MAX_VEHICLES) return;
        (bool ok, uint256 id) = _mint(_actor(ownerSeed), uint8(powertrainSeed % 4), ghostVehicles.length + 1);
        if (ok) ghostVehicles.push(id);
        _count("mint", ok);
    }

    function transferVehicle(uint256 vehicleSeed, uint256 toSeed) external {
        if (ghostVehicles.length == 0) return;
        uint256 id = ghostVehicles[vehicleSeed % ghostVehicles.length];
        _count("transferVehicle", _transferVehicle(vehicles.ownerOf(id), _actor(toSeed), id));
    }

    function grant(uint256 vehicleSeed, uint256 consumerSeed, uint256 permissionsSeed, uint256 durationSeed) external {
        if (ghostVehicles.length == 0) return;
        uint256 id = ghostVehicles[vehicleSeed % ghostVehicles.length];
        address consumer = _actor(consumerSeed);
        address owner = vehicles.ownerOf(id);
        IDataAccess.Grant memory previous = access.grantOf(id, consumer);
        bool hadRecord = previous.permissions != 0;
        bool counted =
            hadRecord && previous.epoch == vehicles.ownershipEpoch(id) && previous.expiresAt > block.timestamp;
        uint256 permissions = bound(permissionsSeed, 1, 255);
        uint64 expiresAt = uint64(block.timestamp + bound(durationSeed, 1, MAX_GRANT_DURATION));
        bool ok = _grant(owner, id, consumer, permissions, expiresAt);
        if (ok) {
            if (!hadRecord) ghostRecords[consumer]++;
            ghostGrantedBy[id][consumer] = owner;
            if (!counted) ghostGrantedAt[id][consumer] = block.timestamp;
        }
        _count("grant", ok);
    }

    function revoke(uint256 vehicleSeed, uint256 consumerSeed, bool byConsumer) external {
        if (ghostVehicles.length == 0) return;
        uint256 id = ghostVehicles[vehicleSeed % ghostVehicles.length];
        address consumer = _actor(consumerSeed);
        bool ok = _revoke(byConsumer ? consumer : vehicles.ownerOf(id), id, consumer);
        if (ok) ghostRecords[consumer]--;
        _count("revoke", ok);
    }

    function prune(uint256 vehicleSeed, uint256 consumerSeed, uint256 bySeed) external {
        if (ghostVehicles.length == 0) return;
        uint256 id = ghostVehicles[vehicleSeed % ghostVehicles.length];
        address consumer = _actor(consumerSeed);
        bool ok = _prune(_actor(bySeed), id, consumer);
        if (ok) ghostRecords[consumer]--;
        _count("prune", ok);
    }

    /// @notice Anyone prunes a batch of the consumer's records: every vehicle, from a seeded start, with one
    /// vehicle listed twice (a record pruned once is skipped the second time).
    function pruneMany(uint256 consumerSeed, uint256 startSeed, uint256 bySeed) external {
        uint256 count = ghostVehicles.length;
        if (count == 0) return;
        address consumer = _actor(consumerSeed);
        uint256[] memory ids = new uint256[](count + 1);
        for (uint256 k = 0; k <= count; ++k) ids[k] = ghostVehicles[((startSeed % count) + k) % count];
        (bool ok, uint256 pruned) = _pruneMany(_actor(bySeed), consumer, ids);
        if (ok) ghostRecords[consumer] -= pruned;
        _count("pruneMany", ok);
    }

    /// @notice A consumer stakes enough for a few vehicles (base + up to 4 vehicles' worth).
    function stakeForAccess(uint256 consumerSeed, uint256 vehiclesSeed) external {
        address consumer = _actor(consumerSeed);
        uint256 amount = staking.requiredStake(bound(vehiclesSeed, 0, 4));
        _count("stakeForAccess", _stake(consumer, amount));
    }

    function unstake(uint256 consumerSeed, uint256 amountSeed) external {
        address consumer = _actor(consumerSeed);
        uint256 amount = bound(amountSeed, 1, staking.position(consumer).staked + 1);
        _count("unstake", _unstake(consumer, amount));
    }

    function vehicleCount() external view returns (uint256) {
        return ghostVehicles.length;
    }

    // ---------------------------------------------------------------- calls (the only place that calls in)

    function _mint(address owner, uint8 powertrain, uint256 n) private returns (bool ok, uint256 id) {
        IVehicleRegistry.VehicleInfo memory info = IVehicleRegistry.VehicleInfo({
            make: "Ford",
            model: "Mustang Mach-E",
            year: 2024,
            powertrain: IVehicleRegistry.Powertrain(powertrain),
            vinCommitment: keccak256(abi.encode("vin", n))
        });
        vm.prank(owner);
        try vehicles.mintVehicle(info) returns (uint256 minted) {
            (ok, id) = (true, minted);
        } catch {}
    }

    function _transferVehicle(address from, address to, uint256 id) private returns (bool ok) {
        vm.prank(from);
        try vehicles.transferFrom(from, to, id) {
            ok = true;
        } catch {}
    }

    function _grant(
        address owner,
        uint256 id,
        address consumer,
        uint256 permissions,
        uint64 expiresAt
    ) private returns (bool ok) {
        vm.prank(consumer);
        try access.setOwnerAcceptance(owner, true) {} catch {
            return false;
        }
        vm.prank(owner);
        try access.grant(id, consumer, permissions, expiresAt) {
            ok = true;
        } catch {}
    }

    function _revoke(address by, uint256 id, address consumer) private returns (bool ok) {
        vm.prank(by);
        try access.revoke(id, consumer) {
            ok = true;
        } catch {}
    }

    function _prune(address by, uint256 id, address consumer) private returns (bool ok) {
        vm.prank(by);
        try access.prune(id, consumer) {
            ok = true;
        } catch {}
    }

    function _pruneMany(address by, address consumer, uint256[] memory ids) private returns (bool ok, uint256 pruned) {
        vm.prank(by);
        try access.pruneMany(consumer, ids) returns (uint256 out) {
            (ok, pruned) = (true, out);
        } catch {}
    }

    function _stake(address consumer, uint256 amount) private returns (bool ok) {
        vm.startPrank(consumer);
        token.approve(address(staking), amount);
        try staking.stake(amount) {
            ok = true;
        } catch {}
        vm.stopPrank();
    }

    function _unstake(address consumer, uint256 amount) private returns (bool ok) {
        vm.prank(consumer);
        try staking.requestUnstake(amount) {
            ok = true;
        } catch {}
    }
}
