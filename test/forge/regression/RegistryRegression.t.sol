// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVehicleRegistry} from "../../../contracts/interfaces/IVehicleRegistry.sol";
import {RegistrySetup} from "../invariants/Registry.invariant.t.sol";

/// @title RegistryRegression
/// @notice Shrunk sequences of the registry campaign kept as plain tests: each replays forge's shrunk calls on the
/// handler, with their exact arguments, checking every registry invariant after each call.
/// @dev How a sequence gets here: see StakingWithdrawalRegression.
contract RegistryRegression is RegistrySetup {
    /// @notice Shrunk from 156 calls to 9 by forge when the campaign was checked against a deliberately broken
    /// VehicleRegistry (a vehicle transfer no longer ended the pairing): two vehicles minted through a relayer, a
    /// device minted, a pairing signed and held, then submitted, a third vehicle minted and a forged relayed mint
    /// refused, and the paired vehicle transferred. It pins that held pairings really pair and that a transfer
    /// ends the pairing.
    function test_heldPairingThenTransfer() public {
        handler.mintVehicleFor(19277219281601, 77522542, 132975164, 32288546265028218036296553513639816765728726);
        _checkRegistry();
        handler.mintVehicleFor(21124, 864000, 8516, 11748);
        _checkRegistry();
        handler.mintDevice(48, 48096800941346667378485910053780323012825947439790941035596108893552680957421, 1e15);
        _checkRegistry();
        handler.signPairing(837386, 1e27, 7776000);
        _checkRegistry();
        handler.submitHeld(5184000, 837386);
        _checkRegistry();
        handler.mintVehicleFor(
            1150664221319977599589407000932570366469726239940,
            55647464415373035017012741251464805102090367495735382259886188024274198057971,
            1e22,
            108630757895
        );
        _checkRegistry();
        handler.mintVehicle(168269688508088, 188409650716721752003040468139091057164807281434922450, 2126);
        _checkRegistry();
        handler.mintVehicleFor(
            450000000000000000000000000,
            70043340206336787492773900336553936208102297839582880702465185197318335300737,
            29988,
            1626278243926332682621379687683784579818617122
        );
        _checkRegistry();
        assertEq(handler.calls("submitHeld"), 1, "the held pairing paired");
        uint256 paired;
        for (uint256 id = 1; id <= vehicles.totalVehicles(); ++id) if (vehicles.pairedDevice(id) != 0) paired = id;
        assertTrue(paired != 0, "a vehicle is paired before the transfer");
        handler.transferVehicle(1173650810, 198);
        _checkRegistry();
        assertEq(handler.calls("transferVehicle"), 1, "the sequence transfers");
        assertEq(vehicles.pairedDevice(paired), 0, "the transfer ended the pairing");
    }

    /// @notice Shrunk from 211 calls to 4 by forge when the campaign was checked against a deliberately broken
    /// VehicleRegistry (pairing no longer refused a device whose manufacturer lost its role): a device minted by
    /// the approved manufacturer, a vehicle minted through a relayer, the manufacturer revoked by the Timelock,
    /// and a genuinely signed pairing of that device, which must be refused.
    function test_revokedManufacturerCannotPair() public {
        handler.mintDevice(
            86775409050933144477120057766223247854561279025014284563,
            13667329605423814016940349398800293094800600396015063543254462967195865245228,
            12963783361814953202727233701372135539012629646487
        );
        _checkRegistry();
        handler.mintVehicleFor(
            594231471734449171286129238125221,
            2016057936622043129322823991792031872436194267261,
            33247183940074469754,
            152760930667946258750035289514401042424591346546614984846455230202283
        );
        _checkRegistry();
        handler.setManufacturer(387950270222573010823235400063111750, false, 644);
        _checkRegistry();
        handler.pairDevice(
            183188360530073875278551566339077179969312555618969419975,
            582171152293498274494805332017808887618762,
            2393054098425367485543702381926649864853113925891589897563378181155522,
            2326909284299140867764894167277167290336
        );
        _checkRegistry();
        assertEq(handler.refused("pairDevice.unapproved"), 1, "the pairing was tried and refused");
        assertEq(devices.totalDevices(), 1, "one device");
        assertEq(vehicles.pairedVehicle(1), 0, "the revoked manufacturer's device stays unpaired");
    }

    /// @notice Shrunk from 36 calls to 2 by forge when the campaign was checked against a deliberately broken
    /// VehicleRegistry (every connection recorded as Software, whatever the integration's role): a vehicle minted,
    /// then every integration holding a role (three of them OEM) connects. Only the digest of the registries
    /// differed from the ghost's, so it pins the item-by-item diagnosis ("connection kinds == kinds at attestation").
    function test_connectionKindsAsAttested() public {
        handler.mintVehicle(
            168269688508088,
            65,
            48096800941346667378485910053780323012825947439790941035596108893552680957421
        );
        _checkRegistry();
        handler.connectAll(
            115792089237316195423570985008687907853269984665640564039457584007913129639932,
            1716235603732379941774840248943800331588224593352443261
        );
        _checkRegistry();
        assertEq(handler.calls("connectAll"), 8, "eight integrations connected");
        assertEq(handler.refused("connectAll.full"), 1, "the ninth refused: MAX_CONNECTIONS");
        (, IVehicleRegistry.ConnectionKind[] memory kinds) = vehicles.connections(1);
        uint256 oem;
        for (uint256 c = 0; c < kinds.length; ++c) if (kinds[c] == IVehicleRegistry.ConnectionKind.Oem) oem++;
        assertGe(oem, 2, "OEM connections recorded as OEM");
    }
}
