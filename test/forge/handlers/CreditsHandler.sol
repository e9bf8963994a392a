// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDataCredits} from "../../../contracts/interfaces/IDataCredits.sol";
import {DataCredits} from "../../../contracts/data/DataCredits.sol";
import {bound} from "../lib/Test.sol";
import {Suite} from "../lib/Suite.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @title CreditsHandler
/// @notice Random bounded actions on DataCredits: consumers (the suite's actors, who hold keys) deposit, deposit
/// with an ERC-2612 permit, request and withdraw after the notice, and sign cumulative EIP-712 receipts with
/// `vm.sign`; two nodes redeem any receipt they hold (older ones too: one with a cumulative above the channel's
/// redeemed credits legitimately pays the difference) alone or in batches; forged, replayed, out-of-order,
/// above-signature, wrong-node and wrong-domain receipts are tried and must fail; the Timelock changes the
/// price, notice and split (valid and invalid values); an actor without a role tries the same doors; anyone
/// settles a week; time passes.
/// @dev Each redeem's outcome and charge is predicted from the ghost model (channel, balance, price) before the
/// call: a success the model refuses, a refusal it allows, or a charge other than (credits above the channel) ×
/// price sets `ghostMispredicted`. Every call into the contract is in the "calls" section below.
contract CreditsHandler is HandlerBase {
    uint256 public constant NODE_COUNT = 2;
    uint256 public constant MAX_SIGNED = 32; // receipts kept per channel
    uint256 public constant MAX_CREDITS_STEP = 100_000; // credits a consumer signs for in one receipt
    uint256 public constant MAX_DEPOSIT = 100_000e18; // wei per deposit
    uint256 public constant MAX_PRICE = 1e17; // wei per credit the Timelock sets (invalid values tried apart)
    uint256 public constant BATCH_MAX = 3;

    bytes32 private constant _RECEIPT_TYPEHASH = keccak256(
        "Receipt(address consumer,address node,uint256 cumulativeCredits,uint256 sequence,uint256 maxPricePerCredit)"
    );
    bytes32 private constant _PERMIT_TYPEHASH = keccak256(
        "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    );

    DataCredits internal immutable credits;
    address[] internal _nodes;

    /// @notice A receipt a consumer signed, kept by its node.
    struct Signed {
        IDataCredits.Receipt receipt;
        bytes signature;
    }

    // ---------------------------------------------------------------- ghost state
    mapping(address consumer => uint256 amount) public ghostDeposited; // wei
    mapping(address consumer => uint256 amount) public ghostRedeemed; // wei
    mapping(address consumer => uint256 amount) public ghostWithdrawn; // wei
    /// @notice Σ over the consumer's redeems of (credits charged × the receipt's signed maximum price).
    mapping(address consumer => uint256 amount) public ghostSignedCeiling; // wei
    mapping(address consumer => mapping(address node => Signed[])) internal _signed;
    /// @notice Highest cumulative credits the consumer signed on the channel.
    mapping(address consumer => mapping(address node => uint256 credits)) public ghostMaxSigned;
    mapping(address consumer => mapping(address node => uint256 sequence)) public ghostLastSignedSequence;
    /// @notice Cumulative credits and sequence redeemed on the channel, as the handler saw them.
    mapping(address consumer => mapping(address node => uint256 credits)) public ghostChannelCredits;
    mapping(address consumer => mapping(address node => uint256 sequence)) public ghostChannelSequence;
    mapping(uint256 week => uint256 amount) public ghostWeekCharged; // wei
    mapping(uint256 week => bool settled) public ghostWeekSettled;
    uint256 public ghostUnsettled; // wei charged, not yet settled
    uint256 public ghostSettledCharged; // wei of settled weeks' charges
    uint256 public ghostBurned; // wei
    uint256 public ghostToTreasury; // wei
    uint256 public ghostToDrivers; // wei
    uint256 public ghostPrice; // wei per credit
    uint256 public ghostNotice; // seconds
    uint256 public ghostBurnBps;
    uint256 public ghostTreasuryBps;
    /// @notice Set when a redeem's outcome or charge differs from the model's.
    bool public ghostMispredicted;
    /// @notice Set when a forged, replayed, out-of-order, above-signature, wrong-node or wrong-domain receipt paid.
    bool public ghostBadReceiptPaid;
    /// @notice Set when a settlement's shares were not the documented floors, did not add up, or moved other sums.
    bool public ghostSplitWrong;
    /// @notice Set when a withdrawal succeeded before `releaseAt`, paid other than min(pending, balance), or a
    /// request/withdrawal was refused or allowed against the rules.
    bool public ghostWithdrawalWrong;
    /// @notice Set when an actor without a role changed a parameter, or the Timelock's change did not follow the bounds.
    bool public ghostParameterWrong;

    constructor(Suite suite_) HandlerBase(suite_) {
        credits = suite_.credits();
        for (uint256 i = 0; i < NODE_COUNT; ++i) _nodes.push(address(uint160(0x90DE0 + i)));
        (ghostPrice, ghostNotice) = (credits.pricePerCredit(), credits.noticePeriod());
        (ghostBurnBps, ghostTreasuryBps) = credits.split();
    }

    // ---------------------------------------------------------------- consumers

    function deposit(uint256 consumerSeed, uint256 fromSeed, uint256 amountSeed) external {
        address consumer = _actor(consumerSeed);
        address from = _actor(fromSeed);
        uint256 amount = bound(amountSeed, 0, MAX_DEPOSIT);
        bool ok = _deposit(from, consumer, amount);
        if (ok != (amount != 0)) ghostWithdrawalWrong = true; // only a zero amount is refused
        if (ok) ghostDeposited[consumer] += amount;
        _count("deposit", ok);
    }

    function depositWithPermit(uint256 consumerSeed, uint256 amountSeed) external {
        uint256 i = consumerSeed % _actors.length;
        address consumer = _actors[i];
        uint256 amount = bound(amountSeed, 1, MAX_DEPOSIT);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = _digest(
            token.DOMAIN_SEPARATOR(),
            keccak256(
                abi.encode(_PERMIT_TYPEHASH, consumer, address(credits), amount, token.nonces(consumer), deadline)
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(suite.actorKey(i), digest);
        bool ok = _depositWithPermit(consumer, amount, deadline, v, r, s);
        if (!ok) ghostWithdrawalWrong = true; // a fresh permit within the balance always deposits
        if (ok) ghostDeposited[consumer] += amount;
        _count("depositWithPermit", ok);
    }

    function requestWithdrawal(uint256 consumerSeed, uint256 amountSeed) external {
        address consumer = _actor(consumerSeed);
        uint256 balance = credits.account(consumer).balance;
        uint256 amount = bound(amountSeed, 0, balance + 1); // zero and one above the balance are refused
        bool ok = _requestWithdrawal(consumer, amount);
        if (ok != (amount != 0 && amount <= balance)) ghostWithdrawalWrong = true;
        if (ok && credits.account(consumer).releaseAt != block.timestamp + ghostNotice) ghostWithdrawalWrong = true;
        _count("requestWithdrawal", ok);
    }

    function withdraw(uint256 consumerSeed) external {
        address consumer = _actor(consumerSeed);
        IDataCredits.Account memory a = credits.account(consumer);
        (bool ok, uint256 amount) = _withdraw(consumer);
        bool allowed = a.pendingWithdrawal != 0 && block.timestamp >= a.releaseAt;
        uint256 expected = a.pendingWithdrawal < a.balance ? a.pendingWithdrawal : a.balance;
        if (ok != allowed || (ok && amount != expected)) ghostWithdrawalWrong = true;
        if (ok) ghostWithdrawn[consumer] += amount;
        _count(ok && amount == 0 ? bytes32("withdraw.nothingLeft") : bytes32("withdraw"), ok);
    }

    /// @notice The consumer signs its next receipt on a channel: sequence up by 1 to 3, cumulative credits up by 0
    /// to `MAX_CREDITS_STEP` (0: a receipt that redeems nothing), a price ceiling from 3/4 of the price to 4 times it.
    function sign(uint256 consumerSeed, uint256 nodeSeed, uint256 creditsSeed, uint256 priceSeed) external {
        uint256 i = consumerSeed % _actors.length;
        (address consumer, address node) = (_actors[i], _nodes[nodeSeed % NODE_COUNT]);
        Signed[] storage list = _signed[consumer][node];
        if (list.length >= MAX_SIGNED) return;
        uint256 sequence = ghostLastSignedSequence[consumer][node] + 1 + (creditsSeed % 3);
        uint256 cumulative = ghostMaxSigned[consumer][node] + bound(creditsSeed >> 8, 0, MAX_CREDITS_STEP);
        uint256 maxPrice = bound(priceSeed, (ghostPrice * 3) / 4, ghostPrice * 4);
        IDataCredits.Receipt memory r = IDataCredits.Receipt(consumer, node, cumulative, sequence, maxPrice);
        list.push(Signed(r, _signReceipt(suite.actorKey(i), r, block.chainid, address(credits))));
        ghostLastSignedSequence[consumer][node] = sequence;
        ghostMaxSigned[consumer][node] = cumulative;
        calls["sign"]++;
    }

    // ---------------------------------------------------------------- nodes

    /// @notice The node redeems one receipt it holds, the newest or any older one.
    function redeem(uint256 consumerSeed, uint256 nodeSeed, uint256 indexSeed) external {
        (address consumer, address node) = (_actor(consumerSeed), _nodes[nodeSeed % NODE_COUNT]);
        Signed[] storage list = _signed[consumer][node];
        if (list.length == 0) return;
        // Half the time the newest receipt, else any.
        uint256 k = indexSeed % 2 == 0 ? list.length - 1 : (indexSeed >> 1) % list.length;
        Signed memory sr = list[k];
        (bool allowed, uint256 expected) = _predict(sr.receipt, 0);
        (bool ok, uint256 charge) = _redeem(node, sr.receipt, sr.signature);
        if (ok != allowed || (ok && charge != expected)) ghostMispredicted = true;
        if (ok) _book(sr.receipt, charge);
        _count(ok ? bytes32("redeem") : _refusal(sr.receipt), ok);
    }

    /// @notice A node redeems up to `BATCH_MAX` receipts of distinct consumers; all or nothing (one bad receipt
    /// refuses the batch and charges nothing).
    function redeemBatch(uint256 nodeSeed, uint256 pickSeed) external {
        address node = _nodes[nodeSeed % NODE_COUNT];
        uint256 n = 1 + (pickSeed % BATCH_MAX);
        IDataCredits.Receipt[] memory receipts = new IDataCredits.Receipt[](n);
        bytes[] memory signatures = new bytes[](n);
        uint256 found;
        uint256 start = pickSeed >> 2;
        for (uint256 j = 0; j < n; ++j) {
            pickSeed = uint256(keccak256(abi.encode(pickSeed, j)));
            address consumer = _actor(start + j); // distinct consumers (a repeated channel is redeem's and redeemBad's)
            Signed[] storage list = _signed[consumer][node];
            if (list.length == 0) continue;
            // Three times in four the newest receipt, else any; an already redeemed one is mostly skipped, so
            // that whole batches pass about as often as not.
            Signed memory sr = list[pickSeed % 4 != 0 ? list.length - 1 : (pickSeed >> 8) % list.length];
            if (sr.receipt.sequence <= ghostChannelSequence[consumer][node] && (pickSeed >> 16) % 4 != 0) continue;
            (receipts[found], signatures[found]) = (sr.receipt, sr.signature);
            found++;
        }
        if (found == 0) return;
        assembly ("memory-safe") {
            mstore(receipts, found)
            mstore(signatures, found)
        }
        // The model walks the batch in order against a scratch copy of the channels and balances it touches.
        (bool allowed, uint256[] memory expected, uint256 total) = _predictBatch(receipts);
        (bool ok, uint256 charged) = _redeemBatch(node, receipts, signatures);
        if (ok != allowed || (ok && charged != total)) ghostMispredicted = true;
        if (ok) for (uint256 j = 0; j < found; ++j) _book(receipts[j], expected[j]);
        _count(found == 1 ? bytes32("redeemBatch.one") : bytes32("redeemBatch"), ok);
    }

    /// @notice A receipt that must not pay, by `kindSeed`: 0 the channel's last redeemed receipt again (replay);
    /// 1 a held receipt with its cumulative raised above what was signed; 2 signed by another actor's key;
    /// 3 submitted by the other node; 4 signed for another chain id; 5 signed for another contract; 6 a held
    /// receipt whose sequence is not above the channel's (out of order), re-signed genuinely.
    function redeemBad(uint256 consumerSeed, uint256 nodeSeed, uint256 kindSeed) external {
        uint256 i = consumerSeed % _actors.length;
        (address consumer, address node) = (_actors[i], _nodes[nodeSeed % NODE_COUNT]);
        Signed[] storage list = _signed[consumer][node];
        if (list.length == 0) return;
        Signed memory sr = list[list.length - 1];
        IDataCredits.Receipt memory r = sr.receipt;
        bytes memory signature = sr.signature;
        address caller = node;
        uint256 kind = kindSeed % 7;
        if (kind == 0) {
            if (ghostChannelSequence[consumer][node] == 0) return;
            (bool found, uint256 at) = _findRedeemed(list, ghostChannelSequence[consumer][node]);
            if (!found) return;
            (r, signature) = (list[at].receipt, list[at].signature);
        } else if (kind == 1) {
            r.cumulativeCredits += 1 + bound(kindSeed >> 8, 0, MAX_CREDITS_STEP);
        } else if (kind == 2) {
            signature = _signReceipt(suite.actorKey((i + 1) % _actors.length), r, block.chainid, address(credits));
        } else if (kind == 3) {
            caller = _nodes[(nodeSeed + 1) % NODE_COUNT];
        } else if (kind == 4) {
            signature = _signReceipt(suite.actorKey(i), r, block.chainid + 1, address(credits));
        } else if (kind == 5) {
            signature = _signReceipt(suite.actorKey(i), r, block.chainid, address(distributor));
        } else {
            uint256 last = ghostChannelSequence[consumer][node];
            if (last == 0) return;
            r.sequence = bound(kindSeed >> 8, 1, last);
            r.cumulativeCredits = ghostChannelCredits[consumer][node] + 1 + bound(kindSeed >> 16, 0, MAX_CREDITS_STEP);
            signature = _signReceipt(suite.actorKey(i), r, block.chainid, address(credits));
        }
        (bool ok, uint256 charge) = _redeem(caller, r, signature);
        if (ok) {
            ghostBadReceiptPaid = true;
            _book(r, charge); // keep the books true to the chain so the other invariants still compare
        }
        _count(bytes32(bytes.concat("redeemBad.", bytes1(uint8(0x30 + kind)))), !ok);
    }

    // ---------------------------------------------------------------- settlement

    /// @notice Anyone settles a week from 0 to the current one (the current one must be refused: not ended).
    function settle(uint256 weekSeed, uint256 bySeed) external {
        uint256 current = credits.currentWeek();
        uint256 w = current - bound(weekSeed, 0, current < 3 ? current : 3);
        IDataCredits.Week memory before = credits.week(w);
        bool allowed = !ghostWeekSettled[w] && block.timestamp >= vault.weekStart(w + 1);
        uint256 supplyBefore = token.totalSupply();
        uint256 treasuryBefore = token.balanceOf(timelock);
        uint256 fundedBefore = distributor.totalFunded();
        (bool ok, uint256 burned, uint256 toTreasury, uint256 toDrivers) = _settle(_actor(bySeed), w);
        if (ok != allowed) ghostSplitWrong = true;
        if (ok) {
            uint256 charged = before.charged;
            if (charged != ghostWeekCharged[w]) ghostSplitWrong = true;
            if (
                burned != (charged * ghostBurnBps) / 10_000 ||
                toTreasury != (charged * ghostTreasuryBps) / 10_000 ||
                burned + toTreasury + toDrivers != charged ||
                supplyBefore - token.totalSupply() != burned ||
                token.balanceOf(timelock) - treasuryBefore != toTreasury ||
                distributor.totalFunded() - fundedBefore != toDrivers
            ) ghostSplitWrong = true;
            ghostWeekSettled[w] = true;
            ghostUnsettled -= ghostWeekCharged[w];
            ghostSettledCharged += charged;
            ghostBurned += burned;
            ghostToTreasury += toTreasury;
            ghostToDrivers += toDrivers;
            if (charged == 0) calls["settle.empty"]++;
        }
        _count("settle", ok);
    }

    // ---------------------------------------------------------------- Timelock

    /// @notice The Timelock sets the price: usually within half to twice the current one (≤ `MAX_PRICE`), one time
    /// in eight 0 or above the contract's maximum (refused).
    function setPrice(uint256 priceSeed) external {
        uint256 max = credits.MAX_PRICE_PER_CREDIT();
        // Valid changes move the price within half to twice itself (a DAO does not jump it a hundredfold).
        uint256 low = ghostPrice / 2 == 0 ? 1 : ghostPrice / 2;
        uint256 high = ghostPrice * 2 > MAX_PRICE ? MAX_PRICE : ghostPrice * 2;
        uint256 price = priceSeed % 8 == 0 ? (priceSeed % 16 == 0 ? 0 : max + 1) : bound(priceSeed >> 3, low, high);
        bool ok = _setPrice(timelock, price);
        if (ok != (price != 0 && price <= max)) ghostParameterWrong = true;
        if (ok) ghostPrice = price;
        _count("setPrice", ok);
    }

    function setNotice(uint256 noticeSeed) external {
        uint256 notice = bound(noticeSeed, 0, 100 days);
        bool ok = _setNotice(timelock, notice);
        if (ok != (notice >= 1 days && notice <= 90 days)) ghostParameterWrong = true;
        if (ok) ghostNotice = notice;
        _count("setNotice", ok);
    }

    function setSplit(uint256 burnSeed, uint256 treasurySeed) external {
        uint256 burnBps = bound(burnSeed, 0, 10_000);
        uint256 treasuryBps = bound(treasurySeed, 0, 10_500 - burnBps); // up to 500 bps too many
        bool ok = _setSplit(timelock, burnBps, treasuryBps);
        if (ok != (burnBps + treasuryBps <= 10_000)) ghostParameterWrong = true;
        if (ok) (ghostBurnBps, ghostTreasuryBps) = (burnBps, treasuryBps);
        _count("setSplit", ok);
    }

    /// @notice An actor (or a node, or the guardian) holding no role tries the Timelock's doors.
    function unauthorised(uint256 actorSeed) external {
        address by =
            actorSeed % 3 == 0
                ? _nodes[0]
                : actorSeed % 3 == 1
                    ? guardian
                    : _actor(actorSeed >> 2);
        if (_setPrice(by, 1) || _setNotice(by, 1 days) || _setSplit(by, 0, 10_000)) ghostParameterWrong = true;
        calls["unauthorised"]++;
    }

    // ---------------------------------------------------------------- views for the invariants

    function nodes() external view returns (address[] memory) {
        return _nodes;
    }

    function signedCount(address consumer, address node) external view returns (uint256) {
        return _signed[consumer][node].length;
    }

    // ---------------------------------------------------------------- model

    function _predict(IDataCredits.Receipt memory r, uint256 spentBefore) private view returns (bool, uint256) {
        return
            _predictAgainst(
                r,
                ghostChannelCredits[r.consumer][r.node],
                ghostChannelSequence[r.consumer][r.node],
                credits.account(r.consumer).balance - spentBefore
            );
    }

    function _predictAgainst(
        IDataCredits.Receipt memory r,
        uint256 channelCredits,
        uint256 channelSequence,
        uint256 balance
    ) private view returns (bool, uint256) {
        if (r.sequence <= channelSequence || r.cumulativeCredits <= channelCredits) return (false, 0);
        if (ghostPrice > r.maxPricePerCredit) return (false, 0);
        uint256 charge = (r.cumulativeCredits - channelCredits) * ghostPrice;
        if (charge > balance) return (false, 0);
        return (true, charge);
    }

    function _predictBatch(
        IDataCredits.Receipt[] memory receipts
    ) private view returns (bool allowed, uint256[] memory expected, uint256 total) {
        uint256 n = receipts.length;
        expected = new uint256[](n);
        uint256[] memory chCredits = new uint256[](n);
        uint256[] memory chSequence = new uint256[](n);
        for (uint256 j = 0; j < n; ++j) {
            IDataCredits.Receipt memory r = receipts[j];
            (uint256 c, uint256 s) = (
                ghostChannelCredits[r.consumer][r.node],
                ghostChannelSequence[r.consumer][r.node]
            );
            uint256 spentBefore;
            for (uint256 k = 0; k < j; ++k) {
                if (receipts[k].consumer != r.consumer) continue;
                spentBefore += expected[k];
                if (receipts[k].node == r.node) (c, s) = (chCredits[k], chSequence[k]);
            }
            bool ok;
            (ok, expected[j]) = _predictAgainst(r, c, s, credits.account(r.consumer).balance - spentBefore);
            if (!ok) return (false, expected, 0);
            (chCredits[j], chSequence[j]) = (r.cumulativeCredits, r.sequence);
            total += expected[j];
        }
        allowed = true;
    }

    function _book(IDataCredits.Receipt memory r, uint256 charge) private {
        // Never reverts, even on a receipt that should not have paid: a revert would undo the chain's bad state too.
        uint256 before = ghostChannelCredits[r.consumer][r.node];
        uint256 chargedCredits = r.cumulativeCredits > before ? r.cumulativeCredits - before : 0;
        ghostSignedCeiling[r.consumer] += chargedCredits * r.maxPricePerCredit;
        ghostChannelCredits[r.consumer][r.node] = r.cumulativeCredits;
        ghostChannelSequence[r.consumer][r.node] = r.sequence;
        ghostRedeemed[r.consumer] += charge;
        uint256 w = credits.currentWeek();
        ghostWeekCharged[w] += charge;
        ghostUnsettled += charge;
    }

    function _refusal(IDataCredits.Receipt memory r) private view returns (bytes32) {
        if (r.sequence <= ghostChannelSequence[r.consumer][r.node]) return "redeem.stale";
        if (r.cumulativeCredits <= ghostChannelCredits[r.consumer][r.node]) return "redeem.nothing";
        if (ghostPrice > r.maxPricePerCredit) return "redeem.price";
        return "redeem.balance";
    }

    function _findRedeemed(Signed[] storage list, uint256 sequence) private view returns (bool, uint256) {
        for (uint256 k = list.length; k > 0; --k) if (list[k - 1].receipt.sequence == sequence) return (true, k - 1);
        return (false, 0);
    }

    function _signReceipt(
        uint256 key,
        IDataCredits.Receipt memory r,
        uint256 chainId,
        address verifyingContract
    ) private pure returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(_RECEIPT_TYPEHASH, r.consumer, r.node, r.cumulativeCredits, r.sequence, r.maxPricePerCredit)
        );
        return _sign(key, _domain("DIMO DataCredits", chainId, verifyingContract), structHash);
    }

    // ---------------------------------------------------------------- calls (the only place that calls in)

    function _deposit(address from, address consumer, uint256 amount) private returns (bool ok) {
        vm.startPrank(from);
        token.approve(address(credits), amount);
        try credits.deposit(consumer, amount) {
            ok = true;
        } catch {}
        vm.stopPrank();
    }

    function _depositWithPermit(
        address consumer,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) private returns (bool ok) {
        vm.prank(consumer);
        try credits.depositWithPermit(amount, deadline, v, r, s) {
            ok = true;
        } catch {}
    }

    function _requestWithdrawal(address consumer, uint256 amount) private returns (bool ok) {
        vm.prank(consumer);
        try credits.requestWithdrawal(amount) {
            ok = true;
        } catch {}
    }

    function _withdraw(address consumer) private returns (bool ok, uint256 amount) {
        vm.prank(consumer);
        try credits.withdraw() returns (uint256 out) {
            (ok, amount) = (true, out);
        } catch {}
    }

    function _redeem(
        address node,
        IDataCredits.Receipt memory r,
        bytes memory signature
    ) private returns (bool ok, uint256 charge) {
        vm.prank(node);
        try credits.redeem(r, signature) returns (uint256 out) {
            (ok, charge) = (true, out);
        } catch {}
    }

    function _redeemBatch(
        address node,
        IDataCredits.Receipt[] memory receipts,
        bytes[] memory signatures
    ) private returns (bool ok, uint256 total) {
        vm.prank(node);
        try credits.redeemBatch(receipts, signatures) returns (uint256 out) {
            (ok, total) = (true, out);
        } catch {}
    }

    function _settle(
        address by,
        uint256 w
    ) private returns (bool ok, uint256 burned, uint256 toTreasury, uint256 toDrivers) {
        vm.prank(by);
        try credits.settle(w) returns (uint256 b, uint256 t, uint256 d) {
            (ok, burned, toTreasury, toDrivers) = (true, b, t, d);
        } catch {}
    }

    function _setPrice(address by, uint256 price) private returns (bool ok) {
        vm.prank(by);
        try credits.setPricePerCredit(price) {
            ok = true;
        } catch {}
    }

    function _setNotice(address by, uint256 notice) private returns (bool ok) {
        vm.prank(by);
        try credits.setNoticePeriod(notice) {
            ok = true;
        } catch {}
    }

    function _setSplit(address by, uint256 burnBps, uint256 treasuryBps) private returns (bool ok) {
        vm.prank(by);
        try credits.setSplit(burnBps, treasuryBps) {
            ok = true;
        } catch {}
    }
}
