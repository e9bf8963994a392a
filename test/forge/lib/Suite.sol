// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {DimoToken} from "../../../contracts/DimoToken.sol";
import {IssuanceVault} from "../../../contracts/IssuanceVault.sol";
import {IssuanceSchedule} from "../../../contracts/libraries/IssuanceSchedule.sol";
import {DimoTimelock} from "../../../contracts/governance/DimoTimelock.sol";
import {DimoGovernor} from "../../../contracts/governance/DimoGovernor.sol";
import {RewardDistributor} from "../../../contracts/rewards/RewardDistributor.sol";
import {ConsumerStaking} from "../../../contracts/staking/ConsumerStaking.sol";
import {DeviceRegistry} from "../../../contracts/registry/DeviceRegistry.sol";
import {VehicleRegistry} from "../../../contracts/registry/VehicleRegistry.sol";
import {DataAccess} from "../../../contracts/registry/DataAccess.sol";
import {IDeviceRegistry} from "../../../contracts/interfaces/IDeviceRegistry.sol";
import {IVehicleRegistry} from "../../../contracts/interfaces/IVehicleRegistry.sol";
import {IAccessCapacity} from "../../../contracts/interfaces/IAccessCapacity.sol";
import {DataCredits} from "../../../contracts/data/DataCredits.sol";
import {Vm, VM_ADDRESS} from "./Vm.sol";

/// @title Suite
/// @notice Deploys the suite as scripts/deploy-suite.ts does, with config/deploy/default.json's figures
/// (45% issuance pool over 40 years, 55% treasury in the Timelock), and hands a small actor set some DIMO.
/// @dev The constructor is the one place that knows every contract's constructor: adapt it when they change.
contract Suite {
    uint256 public constant POOL = 450_000_000e18; // wei
    uint256 public constant ACTOR_FUNDS = 5_000_000e18; // wei, per actor, from the treasury
    uint256 public constant ACTOR_COUNT = 4;
    uint256 public constant CHALLENGE_WINDOW = 1 days; // seconds
    uint256 public constant GENESIS = 1_800_000_000; // unix seconds (2027-01-15)
    uint256 public constant DISPUTE_BOND = 10_000e18; // wei (lib/deploy-config.ts DEFAULT_DISPUTE_BOND)
    uint256 public constant MIN_GRANT_AGE = 7 days; // seconds (config/deploy/default.json minGrantAgeSeconds)
    /// @notice Actor `i`'s private key is `ACTOR_KEY_BASE + i`, so actors sign (receipts, permits, pairings, offers).
    uint256 public constant ACTOR_KEY_BASE = 0xA11CE;
    // DataCredits' initial parameters: scripts/deploy-suite.ts DATA_CREDITS_DEFAULTS.
    uint256 public constant CREDIT_PRICE = 1e15; // wei per credit
    uint256 public constant CREDIT_NOTICE = 7 days; // seconds
    uint256 public constant CREDIT_BURN_BPS = 7_500;
    uint256 public constant CREDIT_TREASURY_BPS = 500;
    /// @notice Stand-in for the rewards policy's hash (deploy-suite.ts hashes config/rewards-policy.json).
    bytes32 public constant POLICY_HASH = keccak256("fuzz rewards policy");

    DimoToken public immutable token;
    IssuanceVault public immutable vault;
    DimoTimelock public immutable timelock;
    DimoGovernor public immutable governor;
    RewardDistributor public immutable distributor;
    ConsumerStaking public immutable staking;
    DeviceRegistry public immutable devices;
    VehicleRegistry public immutable vehicles;
    DataAccess public immutable access;
    DataCredits public immutable credits;
    address public immutable guardian = address(0x6A4D);
    address public immutable publisher = address(0x9B15);

    address[] private _actors;

    constructor() {
        for (uint256 i = 0; i < ACTOR_COUNT; ++i) _actors.push(Vm(VM_ADDRESS).addr(ACTOR_KEY_BASE + i));

        address[] memory recipients = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        recipients[0] = address(this);
        amounts[0] = 1_000_000_000e18;
        token = new DimoToken(recipients, amounts);

        address[] memory none = new address[](0);
        address[] memory anyone = new address[](1); // address(0): execution open to anyone
        timelock = new DimoTimelock(2 days, none, anyone, address(this));
        governor = new DimoGovernor(token, timelock, 1 days, 7 days, 100_000e18, 4);
        timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), guardian);
        timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), address(this));

        IssuanceSchedule.Params memory params = IssuanceSchedule.Params({
            pool: POOL,
            firstWeekly: 0,
            weeksPerYear: 52,
            yearCount: 40,
            decayBps: 1500
        });
        vault = new IssuanceVault(token, GENESIS, params, address(this));
        distributor = new RewardDistributor(
            token,
            vault,
            address(timelock),
            publisher,
            guardian,
            CHALLENGE_WINDOW,
            POLICY_HASH,
            DISPUTE_BOND
        );
        vault.grantRole(vault.DISTRIBUTOR_ROLE(), address(distributor));
        vault.grantRole(vault.DEFAULT_ADMIN_ROLE(), address(timelock));
        vault.renounceRole(vault.DEFAULT_ADMIN_ROLE(), address(this));

        staking = new ConsumerStaking(
            ConsumerStaking.Params({
                token: IERC20(address(token)),
                governor: IGovernor(address(governor)),
                timelock: TimelockController(payable(address(timelock))),
                distributor: distributor,
                guardian: guardian,
                baseStake: 10_000e18,
                perVehicleStake: 10e18,
                unbondingPeriod: 14 days,
                freezeDuration: 21 days,
                minGrantAge: MIN_GRANT_AGE
            }),
            address(timelock)
        );

        devices = new DeviceRegistry(address(timelock));
        vehicles = new VehicleRegistry(IDeviceRegistry(address(devices)), address(timelock));
        access = new DataAccess(IVehicleRegistry(address(vehicles)), IAccessCapacity(address(0)), address(timelock));
        // As deploy-suite.ts: the Timelock is the admin and the treasury; the drivers' share funds the distributor.
        credits = new DataCredits(
            DataCredits.Params({
                token: IERC20(address(token)),
                vault: vault,
                distributor: distributor,
                treasury: address(timelock),
                pricePerCredit: CREDIT_PRICE,
                noticePeriod: CREDIT_NOTICE,
                burnBps: CREDIT_BURN_BPS,
                treasuryBps: CREDIT_TREASURY_BPS
            }),
            address(timelock)
        );
        // The Timelock wires staking and data access both ways, and the device registry to the vehicle
        // registry (a device transfer unpairs), as the deployment's governance step does.
        Vm(VM_ADDRESS).startPrank(address(timelock));
        devices.setVehicleRegistry(address(vehicles));
        staking.setAccessRegistry(address(access));
        access.setCapacity(IAccessCapacity(address(staking)));
        Vm(VM_ADDRESS).stopPrank();

        token.transfer(address(vault), POOL);
        for (uint256 i = 0; i < ACTOR_COUNT; ++i) token.transfer(_actors[i], ACTOR_FUNDS);
        token.transfer(address(timelock), token.balanceOf(address(this)));
    }

    /// @notice The actors handlers act as.
    function actors() external view returns (address[] memory) {
        return _actors;
    }

    /// @notice The private key of actor `i` (test keys only).
    function actorKey(uint256 i) external pure returns (uint256) {
        return ACTOR_KEY_BASE + i;
    }
}
