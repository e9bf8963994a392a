// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAccessCapacity} from "./IAccessCapacity.sol";

/// @title Data-consumer staking
/// @notice Data consumers (app developers) stake DIMO to be allowed to read vehicle data: reading `n`
/// vehicles needs `requiredStake(n) = baseStake + perVehicleStake * n`. Unstaking starts an unbonding period
/// longer than a whole governance cycle (voting delay + voting period + timelock delay), and unbonding stake
/// stays slashable, so misuse found late can still be punished.
/// @dev Warning: only the Timelock (a passed DAO vote) can slash, change parameters, extend or lift a freeze
/// and sweep DIMO sent to the contract by mistake. The guardian can only freeze a consumer at once, for
/// `effectiveFreezeDuration()` (always longer than a governance cycle, so a slash vote started at the freeze can
/// execute before it ends), and only once until the DAO has acted on that consumer (lifted the freeze or
/// slashed): the guardian alone cannot keep a consumer frozen forever. Slashed DIMO goes to the reward
/// distributor as compensation for the owners of the vehicles the consumer could read, as of `affectedAsOf`
/// (the start of the freeze episode when there was a freeze, else the time the slash proposal was made); any
/// remainder is burned or sent to the treasury, as the proposal says.
/// Compensation rule (off chain, `lib/rewards/compensation.ts`, run by `staking:compensation`): a vehicle is
/// affected only when, at `affectedAsOf`, the consumer's grant on it counted, it could really be read (a paired
/// device, or a software/OEM connection attested by an integration that still held its role), its owner was not the
/// consumer, and the grant had counted since at least `minGrantAge()` before `affectedAsOf` (`grantedAt +
/// minGrantAge <= affectedAsOf`), so vehicles a consumer grants itself on the eve of a freeze get nothing.
/// Warning: unbonding stake has one release time (`releaseAt`), which a later request only moves later. It is
/// computed when requested: a governance cycle that grows afterwards does not extend it. What covers misuse found
/// late is the freeze: `effectiveFreezeDuration()` follows the live cycle, so a freeze made before `releaseAt` holds
/// the unbonding stake until a slash vote started at the freeze can execute.
/// Warning: grants count only while the stake covers them (`isCovered`): after a slash or a rise of the stake
/// formula, the data-access registry stops every read of the consumer until it tops up or enough grants are
/// revoked or pruned.
/// The contract's DIMO balance equals the sum of staked and unbonding amounts (`totals()`), plus any DIMO sent
/// to it directly (not staked, owed to nobody), which only the Timelock can take out, with `sweepExcess`.
interface IConsumerStaking is IAccessCapacity {
    /// @notice What happens to the part of a slash not used as compensation.
    enum Remainder {
        Burn,
        Treasury
    }

    /// @notice A consumer's position.
    /// @param staked Active stake, in wei.
    /// @param unbonding Stake waiting for `releaseAt`, in wei (still slashable).
    /// @param releaseAt When `unbonding` can be withdrawn.
    /// @param frozenUntil No withdrawal and no new grant before this time.
    /// @param vehiclesAccessed Grant records the consumer holds.
    /// @param guardianFreezeSpent The guardian froze this consumer and the DAO has not acted since.
    struct Position {
        uint256 staked;
        uint256 unbonding;
        uint64 releaseAt;
        uint64 frozenUntil;
        uint64 vehiclesAccessed;
        bool guardianFreezeSpent;
    }

    /// @notice The stake does not cover what is asked.
    error StakingInsufficientStake(address consumer, uint256 staked, uint256 required);
    /// @notice The consumer is frozen until `frozenUntil`.
    error StakingFrozen(address consumer, uint256 frozenUntil);
    /// @notice The unbonding period has not ended.
    error StakingStillUnbonding(address consumer, uint256 releaseAt);
    /// @notice Nothing is unbonding.
    error StakingNothingToWithdraw(address consumer);
    /// @notice The amount is zero or above what is available (`stake(0)`: both zero).
    error StakingInvalidAmount(uint256 amount, uint256 available);
    /// @notice The slash is zero, its compensation exceeds it, or the consumer has nothing slashable (`slashable`
    /// = staked + unbonding).
    error StakingInvalidSlash(uint256 amount, uint256 compensation, uint256 slashable);
    /// @notice The unbonding period is not longer than a governance cycle.
    error StakingUnbondingTooShort(uint256 unbondingPeriod, uint256 governanceCycle);
    /// @notice The freeze duration is not longer than a governance cycle.
    error StakingFreezeTooShort(uint256 freezeDuration, uint256 governanceCycle);
    /// @notice The contract holds no DIMO beyond what it owes (`owed` = total staked + total unbonding).
    error StakingNoExcess(uint256 balance, uint256 owed);
    /// @notice The guardian already froze this consumer and the DAO has not acted since.
    error StakingFreezeSpent(address consumer);
    /// @notice The consumer is not frozen (and, for `unfreeze`, no guardian freeze awaits the DAO's answer).
    error StakingNotFrozen(address consumer);
    /// @notice The caller is not the data-access registry.
    error StakingNotAccessRegistry(address caller);
    /// @notice A parameter is out of bounds.
    error StakingInvalidParameter(string name, uint256 value);
    /// @notice A zero address was given.
    error StakingZeroAddress();
    /// @notice The data-access registry is already set.
    error StakingAccessRegistryAlreadySet(address registry);

    /// @notice Emitted after `consumer` staked `amount`.
    event Staked(address indexed consumer, uint256 amount, uint256 staked);
    /// @notice Emitted after `consumer` moved `amount` into unbonding until `releaseAt`.
    event UnstakeRequested(address indexed consumer, uint256 amount, uint256 releaseAt);
    /// @notice Emitted after `consumer` withdrew `amount`.
    event Withdrawn(address indexed consumer, uint256 amount);
    /// @notice Emitted after `consumer` was frozen until `frozenUntil` by `by` (the guardian or the Timelock).
    event Frozen(address indexed consumer, uint256 frozenUntil, address indexed by);
    /// @notice Emitted after the Timelock lifted a freeze (or answered a guardian freeze that had lapsed).
    event Unfrozen(address indexed consumer);
    /// @notice Emitted after the Timelock slashed `consumer`. The amounts are those actually moved (capped at
    /// what the consumer had when the slash executed).
    /// @param slashId Sequential id of the slash.
    /// @param amount Total slashed, in wei.
    /// @param compensation Part sent to the distributor for the affected drivers, in wei.
    /// @param remainder Part burned or sent to the treasury, in wei.
    /// @param affectedAsOf The time at which the affected vehicles are counted (see the contract notes).
    /// @param evidenceHash Hash of the evidence file.
    /// @param evidenceURI Where the evidence is.
    event Slashed(
        address indexed consumer,
        uint256 indexed slashId,
        uint256 amount,
        uint256 compensation,
        uint256 remainder,
        Remainder remainderTo,
        uint256 affectedAsOf,
        bytes32 evidenceHash,
        string evidenceURI
    );
    /// @notice Emitted after the stake parameters changed.
    event StakeParametersSet(uint256 baseStake, uint256 perVehicleStake);
    /// @notice Emitted after the unbonding period changed.
    event UnbondingPeriodSet(uint256 unbondingPeriod);
    /// @notice Emitted after the freeze duration changed.
    event FreezeDurationSet(uint256 freezeDuration);
    /// @notice Emitted after the minimum grant age for compensation changed.
    event MinGrantAgeSet(uint256 minGrantAge);
    /// @notice Emitted after the data-access registry was set (once).
    event AccessRegistrySet(address indexed registry);
    /// @notice Emitted after the Timelock sent `amount` of DIMO held beyond the totals (sent to the contract
    /// directly, never staked) to `to`.
    event ExcessSwept(address indexed to, uint256 amount);

    /// @notice Stakes `amount` from the caller (more than zero). Allowed while frozen.
    function stake(uint256 amount) external;

    /// @notice Stakes `amount` from the caller using an EIP-2612 permit.
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Moves `amount` of active stake into unbonding. What stays must cover the current grants (records
    /// held, expired and stale ones included until pruned: `IDataAccess.prune`/`pruneMany`). The whole unbonding
    /// balance is released at `max(releaseAt, now + effectiveUnbondingPeriod())`: never earlier than before.
    function requestUnstake(uint256 amount) external;

    /// @notice Withdraws the unbonding stake once its period has ended and the consumer is not frozen.
    function withdraw() external returns (uint256 amount);

    /// @notice Freezes a consumer now, for `effectiveFreezeDuration()` (a freeze in force is never shortened).
    /// Only the guardian (once until the DAO acts) or the Timelock. A freeze of a consumer not frozen starts a
    /// freeze episode and sets `frozenAt`; a freeze during a freeze does not move it.
    function freeze(address consumer) external;

    /// @notice Sets the end of a freeze in force (extends or shortens it). Only the Timelock. It does not give
    /// the guardian its freeze back (only `unfreeze` and `slash` do).
    function extendFreeze(address consumer, uint64 until) external;

    /// @notice Lifts a freeze and gives the guardian its freeze back. Only the Timelock. Also accepted when a
    /// guardian freeze lapsed unanswered (the consumer is no longer frozen but `guardianFreezeSpent`): it then
    /// only gives the guardian its freeze back.
    function unfreeze(address consumer) external;

    /// @notice Slashes `amount` of the consumer's stake + unbonding, unbonding stake first, and gives the
    /// guardian its freeze back. Only the Timelock. When less than `amount` is left at execution (stake withdrawn
    /// while the vote ran), everything left is slashed and the compensation is capped at that; the Slashed event
    /// reports the amounts actually moved.
    /// @param amount What the proposal slashes; more than zero.
    /// @param compensation Part sent to the distributor for the affected drivers; at most `amount`.
    /// @param remainderTo What happens to the slashed amount minus the compensation.
    /// @param affectedAsOf When to count the vehicles the consumer could read: not in the future; 0 means the
    /// start of the freeze episode (`frozenAt`, which must exist).
    function slash(
        address consumer,
        uint256 amount,
        uint256 compensation,
        Remainder remainderTo,
        uint64 affectedAsOf,
        bytes32 evidenceHash,
        string calldata evidenceURI
    ) external returns (uint256 slashId);

    /// @notice Sets the stake formula. Only the Timelock. `perVehicleStake` must be more than zero and both at
    /// most the DIMO supply (1,000,000,000 DIMO). A rise applies at once to the grants already held: a consumer
    /// left short is not covered (`isCovered`) and its grants stop counting until it tops up.
    function setStakeParameters(uint256 baseStake, uint256 perVehicleStake) external;

    /// @notice Sets the unbonding period; it must stay longer than the governance cycle. Only the Timelock.
    function setUnbondingPeriod(uint256 unbondingPeriod) external;

    /// @notice Sets the freeze duration; it must be longer than the governance cycle and at most
    /// `MAX_FREEZE_DURATION`. Only the Timelock.
    function setFreezeDuration(uint256 freezeDuration) external;

    /// @notice Sets the minimum grant age for compensation (see the contract notes), between `MIN_MIN_GRANT_AGE`
    /// (1 day) and `MAX_MIN_GRANT_AGE` (90 days). Only the Timelock.
    function setMinGrantAge(uint256 minGrantAge_) external;

    /// @notice How long before `affectedAsOf` a grant must have counted for its vehicle to share a slash's
    /// compensation, in seconds.
    function minGrantAge() external view returns (uint256);

    /// @notice Sends the DIMO the contract holds beyond total staked + total unbonding (sent to it directly,
    /// owed to nobody) to `to`. Only the Timelock.
    /// @return amount The DIMO sent, in wei.
    function sweepExcess(address to) external returns (uint256 amount);

    /// @notice Sets the data-access registry, the only caller of `reserveAccess`/`releaseAccess`. Once; only
    /// the admin.
    function setAccessRegistry(address registry) external;

    /// @notice The data-access registry.
    function accessRegistry() external view returns (address);

    /// @notice When the consumer's current (or last) freeze episode started: the time of a freeze made while
    /// it was not frozen; a freeze during a freeze does not move it (0 when never frozen).
    function frozenAt(address consumer) external view returns (uint256);

    /// @notice The stake formula and periods.
    function stakeParameters()
        external
        view
        returns (uint256 baseStake, uint256 perVehicleStake, uint256 unbondingPeriod, uint256 freezeDuration);

    /// @notice Number of slashes so far (slash ids are 1..slashCount).
    function slashCount() external view returns (uint256);

    /// @notice The DIMO token.
    function token() external view returns (address);

    /// @notice `baseStake + perVehicleStake * vehicles`, in wei.
    function requiredStake(uint256 vehicles) external view returns (uint256);

    /// @notice A consumer's position.
    function position(address consumer) external view returns (Position memory);

    /// @notice Voting delay + voting period + timelock delay, read live from the Governor and Timelock.
    function governanceCycle() external view returns (uint256);

    /// @notice The unbonding period a request made now gets: the configured period, or a day more than the
    /// governance cycle if governance has grown longer since.
    function effectiveUnbondingPeriod() external view returns (uint256);

    /// @notice How long a freeze made now lasts: the longer of the configured duration and the governance cycle
    /// plus `CYCLE_MARGIN` (a day), so that a slash vote started at the freeze can execute before it ends even when
    /// governance has grown longer since the duration was set.
    function effectiveFreezeDuration() external view returns (uint256);

    /// @notice Total active stake and total unbonding, in wei.
    function totals() external view returns (uint256 staked, uint256 unbonding);
}
