// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IDataCredits} from "../interfaces/IDataCredits.sol";
import {IDimoToken} from "../interfaces/IDimoToken.sol";
import {IIssuanceVault} from "../interfaces/IIssuanceVault.sol";
import {IRewardDistributor} from "../interfaces/IRewardDistributor.sol";

/// @title DataCredits
/// @notice See {IDataCredits}.
contract DataCredits is IDataCredits, AccessControl, EIP712 {
    using SafeERC20 for IERC20;

    /// @notice EIP-712 type hash of `Receipt`.
    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(address consumer,address node,uint256 cumulativeCredits,uint256 sequence,uint256 maxPricePerCredit)"
    );
    /// @notice Highest price per credit: 1,000 DIMO (far above any plausible price of one signal value).
    uint256 public constant MAX_PRICE_PER_CREDIT = 1_000e18; // wei
    /// @notice Shortest notice period: one day, time for a node to redeem what it holds.
    uint256 public constant MIN_NOTICE_PERIOD = 1 days; // seconds
    /// @notice Longest notice period.
    uint256 public constant MAX_NOTICE_PERIOD = 90 days; // seconds
    /// @notice Basis-point denominator of the split.
    uint256 public constant BPS = 10_000;

    IERC20 private immutable _token;
    IIssuanceVault private immutable _vault;
    IRewardDistributor private immutable _distributor;
    address private immutable _treasury;

    uint256 private _pricePerCredit; // wei
    uint256 private _noticePeriod; // seconds
    uint256 private _burnBps;
    uint256 private _treasuryBps;
    uint256 private _totalBalance; // wei
    uint256 private _totalUnsettled; // wei

    mapping(address consumer => Account) private _accounts;
    mapping(address consumer => mapping(address node => Channel)) private _channels;
    mapping(uint256 week => Week) private _weeks;

    /// @notice Construction parameters.
    struct Params {
        IERC20 token;
        IIssuanceVault vault;
        IRewardDistributor distributor;
        address treasury;
        uint256 pricePerCredit;
        uint256 noticePeriod;
        uint256 burnBps;
        uint256 treasuryBps;
    }

    /// @param p Token, vault (weeks), distributor (drivers' share), treasury and the initial parameters.
    /// @param admin Holder of `DEFAULT_ADMIN_ROLE`: the Timelock, which alone sets price, notice and split.
    constructor(Params memory p, address admin) EIP712("DIMO DataCredits", "1") {
        if (
            address(p.token) == address(0) ||
            address(p.vault) == address(0) ||
            address(p.distributor) == address(0) ||
            p.treasury == address(0) ||
            admin == address(0)
        ) revert CreditsZeroAddress();
        _token = p.token;
        _vault = p.vault;
        _distributor = p.distributor;
        _treasury = p.treasury;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setPricePerCredit(p.pricePerCredit);
        _setNoticePeriod(p.noticePeriod);
        _setSplit(p.burnBps, p.treasuryBps);
    }

    // ---------------------------------------------------------------- consumers

    /// @inheritdoc IDataCredits
    function deposit(address consumer, uint256 amount) public {
        if (consumer == address(0)) revert CreditsZeroAddress();
        if (amount == 0) revert CreditsInvalidAmount(0, 0);
        _token.safeTransferFrom(msg.sender, address(this), amount);
        Account storage a = _accounts[consumer];
        a.balance += amount;
        a.deposited += amount;
        _totalBalance += amount;
        emit Deposited(consumer, msg.sender, amount, a.balance);
    }

    /// @inheritdoc IDataCredits
    function depositWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external {
        // A front-run permit (already used) still leaves the allowance in place: try, then deposit.
        try IERC20Permit(address(_token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        deposit(msg.sender, amount);
    }

    /// @inheritdoc IDataCredits
    function requestWithdrawal(uint256 amount) external {
        Account storage a = _accounts[msg.sender];
        if (amount == 0 || amount > a.balance) revert CreditsInvalidAmount(amount, a.balance);
        a.pendingWithdrawal = amount;
        // The cast cannot truncate: a timestamp plus at most MAX_NOTICE_PERIOD.
        a.releaseAt = uint64(block.timestamp + _noticePeriod);
        emit WithdrawalRequested(msg.sender, amount, a.releaseAt);
    }

    /// @inheritdoc IDataCredits
    function withdraw() external returns (uint256 amount) {
        Account storage a = _accounts[msg.sender];
        uint256 requested = a.pendingWithdrawal;
        if (requested == 0) revert CreditsNothingToWithdraw(msg.sender);
        if (block.timestamp < a.releaseAt) revert CreditsNoticeNotOver(msg.sender, a.releaseAt);
        // Redeems during the notice came first: only what they left is paid.
        amount = requested < a.balance ? requested : a.balance;
        a.pendingWithdrawal = 0;
        a.releaseAt = 0;
        a.balance -= amount;
        a.withdrawn += amount;
        _totalBalance -= amount;
        if (amount != 0) _token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount, requested);
    }

    // ---------------------------------------------------------------- nodes

    /// @inheritdoc IDataCredits
    function redeem(Receipt calldata receipt, bytes calldata signature) external returns (uint256 charge) {
        uint256 w = _vault.currentWeek();
        charge = _redeem(receipt, signature, w);
        _weeks[w].charged += charge;
        _totalUnsettled += charge;
    }

    /// @inheritdoc IDataCredits
    function redeemBatch(Receipt[] calldata receipts, bytes[] calldata signatures) external returns (uint256 total) {
        uint256 n = receipts.length;
        if (n == 0 || n != signatures.length) revert CreditsBatchLength(n, signatures.length);
        uint256 w = _vault.currentWeek();
        for (uint256 i = 0; i < n; ++i) total += _redeem(receipts[i], signatures[i], w);
        _weeks[w].charged += total;
        _totalUnsettled += total;
    }

    function _redeem(Receipt calldata r, bytes calldata signature, uint256 w) private returns (uint256 charge) {
        if (msg.sender != r.node) revert CreditsNotReceiptNode(msg.sender, r.node);
        Channel storage c = _channels[r.consumer][r.node];
        if (r.sequence <= c.sequence) revert CreditsStaleReceipt(r.consumer, r.node, r.sequence, c.sequence);
        if (r.cumulativeCredits <= c.credits)
            revert CreditsNothingToRedeem(r.consumer, r.node, r.cumulativeCredits, c.credits);
        uint256 price = _pricePerCredit;
        if (price > r.maxPricePerCredit) revert CreditsPriceAboveSigned(price, r.maxPricePerCredit);
        if (!SignatureChecker.isValidSignatureNow(r.consumer, _hashReceipt(r), signature))
            revert CreditsInvalidSignature(r.consumer, r.node, r.sequence);
        uint256 credits = r.cumulativeCredits - c.credits;
        charge = credits * price;
        Account storage a = _accounts[r.consumer];
        if (charge > a.balance) revert CreditsInsufficientBalance(r.consumer, charge, a.balance);
        c.credits = r.cumulativeCredits;
        c.sequence = r.sequence;
        a.balance -= charge;
        a.redeemed += charge;
        _totalBalance -= charge;
        emit ReceiptRedeemed(r.consumer, r.node, w, r.sequence, r.cumulativeCredits, credits, price, charge);
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc IDataCredits
    function settle(uint256 index) external returns (uint256 burned, uint256 toTreasury, uint256 toDrivers) {
        Week storage wk = _weeks[index];
        if (wk.settled) revert CreditsWeekSettled(index);
        uint256 endsAt = _vault.weekStart(index + 1);
        if (block.timestamp < endsAt) revert CreditsWeekNotEnded(index, endsAt);
        wk.settled = true;
        uint256 charged = wk.charged;
        burned = (charged * _burnBps) / BPS;
        toTreasury = (charged * _treasuryBps) / BPS;
        toDrivers = charged - burned - toTreasury;
        _totalUnsettled -= charged;
        if (burned != 0) IDimoToken(address(_token)).burn(burned);
        if (toTreasury != 0) _token.safeTransfer(_treasury, toTreasury);
        if (toDrivers != 0) {
            _token.forceApprove(address(_distributor), toDrivers);
            _distributor.fund(toDrivers, dataUseReason(index));
        }
        emit WeekSettled(index, charged, burned, toTreasury, toDrivers);
    }

    /// @notice The `reason` passed to `RewardDistributor.fund`: `bytes32("data-use:" ‖ uint32(week))`.
    function dataUseReason(uint256 index) public pure returns (bytes32) {
        // The cast truncates only past 2^32 weeks (82 million years).
        return bytes32(abi.encodePacked("data-use:", uint32(index)));
    }

    // ---------------------------------------------------------------- Timelock

    /// @inheritdoc IDataCredits
    function setPricePerCredit(uint256 pricePerCredit_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPricePerCredit(pricePerCredit_);
    }

    /// @inheritdoc IDataCredits
    function setNoticePeriod(uint256 noticePeriod_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setNoticePeriod(noticePeriod_);
    }

    /// @inheritdoc IDataCredits
    function setSplit(uint256 burnBps, uint256 treasuryBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setSplit(burnBps, treasuryBps);
    }

    function _setPricePerCredit(uint256 price) private {
        if (price == 0 || price > MAX_PRICE_PER_CREDIT) revert CreditsInvalidPrice(price, MAX_PRICE_PER_CREDIT);
        _pricePerCredit = price;
        emit PriceSet(price);
    }

    function _setNoticePeriod(uint256 period) private {
        if (period < MIN_NOTICE_PERIOD || period > MAX_NOTICE_PERIOD)
            revert CreditsInvalidNoticePeriod(period, MIN_NOTICE_PERIOD, MAX_NOTICE_PERIOD);
        _noticePeriod = period;
        emit NoticePeriodSet(period);
    }

    function _setSplit(uint256 burnBps, uint256 treasuryBps) private {
        if (burnBps + treasuryBps > BPS) revert CreditsInvalidSplit(burnBps, treasuryBps);
        _burnBps = burnBps;
        _treasuryBps = treasuryBps;
        emit SplitSet(burnBps, treasuryBps);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDataCredits
    function available(address consumer) public view returns (uint256) {
        Account storage a = _accounts[consumer];
        return a.balance > a.pendingWithdrawal ? a.balance - a.pendingWithdrawal : 0;
    }

    /// @inheritdoc IDataCredits
    function creditsServable(address consumer, address node, uint256 signedCredits) external view returns (uint256) {
        uint256 redeemedCredits = _channels[consumer][node].credits;
        uint256 owed = signedCredits > redeemedCredits ? (signedCredits - redeemedCredits) * _pricePerCredit : 0;
        uint256 avail = available(consumer);
        return avail > owed ? (avail - owed) / _pricePerCredit : 0;
    }

    /// @inheritdoc IDataCredits
    function account(address consumer) external view returns (Account memory) {
        return _accounts[consumer];
    }

    /// @inheritdoc IDataCredits
    function channel(address consumer, address node) external view returns (Channel memory) {
        return _channels[consumer][node];
    }

    /// @inheritdoc IDataCredits
    function week(uint256 index) external view returns (Week memory) {
        return _weeks[index];
    }

    /// @inheritdoc IDataCredits
    function currentWeek() external view returns (uint256) {
        return _vault.currentWeek();
    }

    /// @inheritdoc IDataCredits
    function receiptDigest(Receipt calldata receipt) external view returns (bytes32) {
        return _hashReceipt(receipt);
    }

    /// @inheritdoc IDataCredits
    function pricePerCredit() external view returns (uint256) {
        return _pricePerCredit;
    }

    /// @inheritdoc IDataCredits
    function noticePeriod() external view returns (uint256) {
        return _noticePeriod;
    }

    /// @inheritdoc IDataCredits
    function split() external view returns (uint256 burnBps, uint256 treasuryBps) {
        return (_burnBps, _treasuryBps);
    }

    /// @inheritdoc IDataCredits
    function totalBalance() external view returns (uint256) {
        return _totalBalance;
    }

    /// @inheritdoc IDataCredits
    function totalUnsettled() external view returns (uint256) {
        return _totalUnsettled;
    }

    /// @notice The DIMO token.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice Where the treasury share goes.
    function treasury() external view returns (address) {
        return _treasury;
    }

    function _hashReceipt(Receipt calldata r) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        RECEIPT_TYPEHASH,
                        r.consumer,
                        r.node,
                        r.cumulativeCredits,
                        r.sequence,
                        r.maxPricePerCredit
                    )
                )
            );
    }
}
