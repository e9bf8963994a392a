// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IDataCredits
/// @notice Consumers pre-fund a DIMO balance and pay node operators' reads with cumulative EIP-712 receipts: a
/// one-way payment channel per (consumer, node). The consumer signs, as it reads, "I have consumed
/// `cumulativeCredits` credits from `node` up to read `sequence`"; the node redeems the newest receipt it holds
/// and the contract charges only the credits above what that channel already redeemed, at the Timelock's price
/// per credit (never above the `maxPricePerCredit` the consumer signed). One credit is one signal value read
/// (one signal of one vehicle at one timestamp, the unit the data API's access log records), so a charge can be
/// re-derived from the access log and the driver whose vehicle was read is known per credit.
/// Charges accumulate per settlement week (the issuance vault's weeks, as the distributor's roots) and a
/// week's total is settled once: a burn share burned, a treasury share to the treasury, the rest (drivers'
/// share, which also takes every rounding remainder) funded into the reward distributor.
/// Withdrawal of the unspent balance takes a notice period (request, wait, withdraw); the balance stays
/// chargeable throughout the notice, so a receipt signed before the request is redeemable until `releaseAt`.
interface IDataCredits {
    /// @notice A consumer's signed, cumulative receipt (EIP-712 struct `Receipt`).
    /// @param consumer The account whose balance pays (EOA, or an ERC-1271 contract).
    /// @param node The node operator served; only it redeems the receipt.
    /// @param cumulativeCredits All credits consumed from `node` since the channel opened.
    /// @param sequence Index of the last read covered; strictly increasing per channel.
    /// @param maxPricePerCredit Highest price per credit, in wei, the consumer accepts for this receipt.
    struct Receipt {
        address consumer;
        address node;
        uint256 cumulativeCredits;
        uint256 sequence;
        uint256 maxPricePerCredit;
    }

    /// @notice A consumer's balance.
    /// @param balance DIMO held for the consumer, in wei, including any amount requested for withdrawal.
    /// @param pendingWithdrawal Amount requested back, in wei (paid as min(pending, balance) at withdrawal).
    /// @param releaseAt Earliest withdrawal time of the pending amount (0 when none).
    /// @param deposited All DIMO ever deposited, in wei.
    /// @param redeemed All DIMO ever charged by redeemed receipts, in wei.
    /// @param withdrawn All DIMO ever withdrawn, in wei.
    struct Account {
        uint256 balance;
        uint256 pendingWithdrawal;
        uint64 releaseAt;
        uint256 deposited;
        uint256 redeemed;
        uint256 withdrawn;
    }

    /// @notice A (consumer, node) channel.
    /// @param credits Cumulative credits already redeemed.
    /// @param sequence Sequence of the last redeemed receipt (0 before any).
    struct Channel {
        uint256 credits;
        uint256 sequence;
    }

    /// @notice A settlement week.
    /// @param charged DIMO charged by receipts redeemed during the week, in wei.
    /// @param settled Whether `settle` moved it.
    struct Week {
        uint256 charged;
        bool settled;
    }

    /// @notice A zero address or zero amount was given where one is required.
    error CreditsZeroAddress();
    /// @notice `amount` is zero or above `limit`.
    error CreditsInvalidAmount(uint256 amount, uint256 limit);
    /// @notice The consumer has no pending withdrawal.
    error CreditsNothingToWithdraw(address consumer);
    /// @notice The withdrawal's notice period ends at `releaseAt`.
    error CreditsNoticeNotOver(address consumer, uint256 releaseAt);
    /// @notice The caller is not the receipt's node.
    error CreditsNotReceiptNode(address caller, address node);
    /// @notice The signature is not the consumer's (ECDSA or ERC-1271).
    error CreditsInvalidSignature(address consumer, address node, uint256 sequence);
    /// @notice The receipt's sequence is not above the channel's last redeemed sequence (replay, out of order).
    error CreditsStaleReceipt(address consumer, address node, uint256 sequence, uint256 lastSequence);
    /// @notice The receipt's cumulative credits are not above those already redeemed on the channel.
    error CreditsNothingToRedeem(address consumer, address node, uint256 cumulativeCredits, uint256 redeemedCredits);
    /// @notice The Timelock's price is above the price the consumer signed.
    error CreditsPriceAboveSigned(uint256 pricePerCredit, uint256 maxPricePerCredit);
    /// @notice The charge exceeds the consumer's balance.
    error CreditsInsufficientBalance(address consumer, uint256 charge, uint256 balance);
    /// @notice The receipt and signature arrays differ in length, or are empty.
    error CreditsBatchLength(uint256 receipts, uint256 signatures);
    /// @notice The week has not ended (it ends at `endsAt`).
    error CreditsWeekNotEnded(uint256 week, uint256 endsAt);
    /// @notice The week was already settled.
    error CreditsWeekSettled(uint256 week);
    /// @notice The burn and treasury shares add to more than 10,000 basis points.
    error CreditsInvalidSplit(uint256 burnBps, uint256 treasuryBps);
    /// @notice The price is zero or above `MAX_PRICE_PER_CREDIT`.
    error CreditsInvalidPrice(uint256 pricePerCredit, uint256 max);
    /// @notice The notice period is outside [`MIN_NOTICE_PERIOD`, `MAX_NOTICE_PERIOD`].
    error CreditsInvalidNoticePeriod(uint256 noticePeriod, uint256 min, uint256 max);

    /// @notice Emitted after `from` deposited `amount` for `consumer`.
    event Deposited(address indexed consumer, address indexed from, uint256 amount, uint256 balance);
    /// @notice Emitted after `consumer` asked `amount` back, payable from `releaseAt`.
    event WithdrawalRequested(address indexed consumer, uint256 amount, uint256 releaseAt);
    /// @notice Emitted after `consumer` withdrew `amount` (of `requested`).
    event Withdrawn(address indexed consumer, uint256 amount, uint256 requested);
    /// @notice Emitted after `node` redeemed a receipt of `consumer` charging `credits` at `pricePerCredit`.
    event ReceiptRedeemed(
        address indexed consumer,
        address indexed node,
        uint256 indexed week,
        uint256 sequence,
        uint256 cumulativeCredits,
        uint256 credits,
        uint256 pricePerCredit,
        uint256 charge
    );
    /// @notice Emitted after a week's charges were moved: `burned` + `toTreasury` + `toDrivers` == `charged`.
    event WeekSettled(uint256 indexed week, uint256 charged, uint256 burned, uint256 toTreasury, uint256 toDrivers);
    /// @notice Emitted after the Timelock set the price per credit.
    event PriceSet(uint256 pricePerCredit);
    /// @notice Emitted after the Timelock set the notice period.
    event NoticePeriodSet(uint256 noticePeriod);
    /// @notice Emitted after the Timelock set the fee split.
    event SplitSet(uint256 burnBps, uint256 treasuryBps);

    /// @notice Deposits `amount` DIMO (approval needed) to `consumer`'s balance.
    /// @dev Warning: reverts with `CreditsInvalidAmount(0, 0)` on a zero amount, `CreditsZeroAddress` on a zero
    /// consumer.
    function deposit(address consumer, uint256 amount) external;

    /// @notice `deposit` to the caller's own balance with an ERC-2612 permit (a front-run permit is tolerated when
    /// the allowance is already in place).
    function depositWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Asks `amount` of the caller's balance back after the notice period. A new request replaces the
    /// previous one and restarts the notice. Redeems stay valid against the whole balance until withdrawal.
    /// @dev Warning: reverts with `CreditsInvalidAmount(amount, balance)` when `amount` is zero or above the
    /// balance.
    function requestWithdrawal(uint256 amount) external;

    /// @notice Pays the pending withdrawal, capped at the balance left after the notice's redeems.
    /// @dev Warning: reverts before `releaseAt` (`CreditsNoticeNotOver`; at exactly `releaseAt` it succeeds).
    function withdraw() external returns (uint256 amount);

    /// @notice Redeems one receipt; the caller must be `receipt.node`. Returns the DIMO charged.
    /// @dev Warning: refuses a sequence not above the channel's (`CreditsStaleReceipt`), cumulative credits not
    /// above those redeemed (`CreditsNothingToRedeem`), a price above the signed one, and a charge above the
    /// balance (`CreditsInsufficientBalance`, nothing charged).
    function redeem(Receipt calldata receipt, bytes calldata signature) external returns (uint256 charge);

    /// @notice Redeems several receipts (several consumers) in one call; all or nothing.
    function redeemBatch(Receipt[] calldata receipts, bytes[] calldata signatures) external returns (uint256 total);

    /// @notice Moves an ended week's charges: burn share burned, treasury share to the treasury, the rest to the
    /// distributor (`fund`, reason `bytes32("data-use:" ‖ uint32(week))`). Anyone may call it, once per week.
    /// @dev burned = charged · burnBps / 10,000 (floor); toTreasury = charged · treasuryBps / 10,000 (floor);
    /// toDrivers = charged − burned − toTreasury (the drivers take the remainder). The split in force at
    /// settlement applies.
    function settle(uint256 week) external returns (uint256 burned, uint256 toTreasury, uint256 toDrivers);

    /// @notice Timelock only: the price per credit in wei.
    /// @dev Warning: bounded by (0, `MAX_PRICE_PER_CREDIT`].
    function setPricePerCredit(uint256 pricePerCredit) external;

    /// @notice Timelock only: the withdrawal notice period in seconds (applies to later requests).
    /// @dev Warning: bounded by [`MIN_NOTICE_PERIOD`, `MAX_NOTICE_PERIOD`].
    function setNoticePeriod(uint256 noticePeriod) external;

    /// @notice Timelock only: the fee split (drivers get 10,000 − burnBps − treasuryBps and the remainders).
    /// @dev Warning: burnBps + treasuryBps ≤ 10,000.
    function setSplit(uint256 burnBps, uint256 treasuryBps) external;

    /// @notice DIMO a node may still count on: balance minus the pending withdrawal (0 when the pending amount
    /// covers it). A node serves while its unredeemed signed charges stay below this, and redeems before the
    /// consumer's `releaseAt`.
    function available(address consumer) external view returns (uint256);

    /// @notice Credits a node may still serve `consumer` at the current price: `available / price` minus the
    /// channel's signed-but-unredeemed credits (`signedCredits` the node holds).
    function creditsServable(address consumer, address node, uint256 signedCredits) external view returns (uint256);

    /// @notice The consumer's account.
    function account(address consumer) external view returns (Account memory);

    /// @notice The (consumer, node) channel.
    function channel(address consumer, address node) external view returns (Channel memory);

    /// @notice A week's charges and whether they were settled.
    function week(uint256 index) external view returns (Week memory);

    /// @notice The settlement week running now (the vault's `currentWeek`).
    function currentWeek() external view returns (uint256);

    /// @notice EIP-712 digest of `receipt` under this contract's domain.
    function receiptDigest(Receipt calldata receipt) external view returns (bytes32);

    /// @notice Price per credit, in wei.
    function pricePerCredit() external view returns (uint256);

    /// @notice Withdrawal notice period, in seconds.
    function noticePeriod() external view returns (uint256);

    /// @notice Burn and treasury shares in basis points.
    function split() external view returns (uint256 burnBps, uint256 treasuryBps);

    /// @notice Sum of all consumers' balances, in wei.
    function totalBalance() external view returns (uint256);

    /// @notice Charged but not yet settled, in wei.
    function totalUnsettled() external view returns (uint256);
}
