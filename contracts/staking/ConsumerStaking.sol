// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IConsumerStaking} from "../interfaces/IConsumerStaking.sol";
import {IDimoToken} from "../interfaces/IDimoToken.sol";
import {IRewardDistributor} from "../interfaces/IRewardDistributor.sol";

/// @title ConsumerStaking
/// @notice See {IConsumerStaking}.
contract ConsumerStaking is IConsumerStaking, AccessControl {
    using SafeERC20 for IERC20;

    /// @notice Role of the guardian (security council): may freeze.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Longest freeze duration the DAO may configure (a freeze lasts longer only when the governance
    /// cycle itself has grown past it; see `effectiveFreezeDuration`).
    uint256 public constant MAX_FREEZE_DURATION = 60 days; // seconds
    /// @notice Longest unbonding period.
    uint256 public constant MAX_UNBONDING_PERIOD = 365 days; // seconds
    /// @notice Margin added to the governance cycle when it outgrows the configured unbonding period or freeze
    /// duration.
    uint256 public constant CYCLE_MARGIN = 1 days; // seconds
    /// @notice Largest `baseStake` or `perVehicleStake`: the whole DIMO supply, 1,000,000,000 DIMO. It keeps
    /// `requiredStake(n)` far from overflowing for any number of grants a position can hold (`n` < 2^64).
    uint256 public constant MAX_STAKE_PARAMETER = 1_000_000_000e18; // wei
    /// @notice Shortest `minGrantAge` the DAO may set: a grant made in the last day before a freeze never earns
    /// compensation.
    uint256 public constant MIN_MIN_GRANT_AGE = 1 days; // seconds
    /// @notice Longest `minGrantAge` the DAO may set.
    uint256 public constant MAX_MIN_GRANT_AGE = 90 days; // seconds

    IERC20 private immutable _token;
    IGovernor private immutable _governor;
    TimelockController private immutable _timelock;
    IRewardDistributor private immutable _distributor;
    address private _accessRegistry;

    uint256 private _baseStake; // wei
    uint256 private _perVehicleStake; // wei
    uint256 private _unbondingPeriod; // seconds
    uint256 private _freezeDuration; // seconds
    uint256 private _minGrantAge; // seconds
    uint256 private _totalStaked; // wei
    uint256 private _totalUnbonding; // wei
    uint256 private _slashCount;

    mapping(address consumer => Position) private _positions;
    mapping(address consumer => uint64 frozenAt) private _frozenAt;

    /// @notice Construction parameters.
    struct Params {
        IERC20 token;
        IGovernor governor;
        TimelockController timelock;
        IRewardDistributor distributor;
        address guardian;
        uint256 baseStake;
        uint256 perVehicleStake;
        uint256 unbondingPeriod;
        uint256 freezeDuration;
        uint256 minGrantAge;
    }

    /// @param p Token, governance contracts, distributor, guardian and the initial parameters. The Timelock is
    /// the admin; the data-access registry is set once by the Timelock (or at deployment) with
    /// `setAccessRegistry`.
    constructor(Params memory p, address initialAdmin) {
        if (
            address(p.token) == address(0) ||
            address(p.governor) == address(0) ||
            address(p.timelock) == address(0) ||
            address(p.distributor) == address(0) ||
            p.guardian == address(0) ||
            initialAdmin == address(0)
        ) revert StakingZeroAddress();
        _token = p.token;
        _governor = p.governor;
        _timelock = p.timelock;
        _distributor = p.distributor;
        _grantRole(DEFAULT_ADMIN_ROLE, initialAdmin);
        _grantRole(GUARDIAN_ROLE, p.guardian);
        _setStakeParameters(p.baseStake, p.perVehicleStake);
        _setUnbondingPeriod(p.unbondingPeriod);
        _setFreezeDuration(p.freezeDuration);
        _setMinGrantAge(p.minGrantAge);
    }

    // ---------------------------------------------------------------- consumers

    /// @inheritdoc IConsumerStaking
    function stake(uint256 amount) public {
        if (amount == 0) revert StakingInvalidAmount(0, 0);
        _token.safeTransferFrom(msg.sender, address(this), amount);
        Position storage p = _positions[msg.sender];
        p.staked += amount;
        _totalStaked += amount;
        emit Staked(msg.sender, amount, p.staked);
    }

    /// @inheritdoc IConsumerStaking
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external {
        // A front-run permit (already used) still leaves the allowance in place: try, then stake.
        try IERC20Permit(address(_token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        stake(amount);
    }

    /// @inheritdoc IConsumerStaking
    function requestUnstake(uint256 amount) external {
        Position storage p = _positions[msg.sender];
        if (amount == 0 || amount > p.staked) revert StakingInvalidAmount(amount, p.staked);
        uint256 remaining = p.staked - amount;
        if (p.vehiclesAccessed != 0) {
            uint256 required = requiredStake(p.vehiclesAccessed);
            if (remaining < required) revert StakingInsufficientStake(msg.sender, remaining, required);
        }
        p.staked = remaining;
        p.unbonding += amount;
        // One release time for the whole unbonding balance: it only moves later, never earlier, so stake already
        // unbonding keeps at least the release it had (a shorter period set since does not pull it forward).
        uint64 releaseAt = uint64(block.timestamp + effectiveUnbondingPeriod());
        if (releaseAt > p.releaseAt) p.releaseAt = releaseAt;
        _totalStaked -= amount;
        _totalUnbonding += amount;
        emit UnstakeRequested(msg.sender, amount, p.releaseAt);
    }

    /// @inheritdoc IConsumerStaking
    function withdraw() external returns (uint256 amount) {
        Position storage p = _positions[msg.sender];
        amount = p.unbonding;
        if (amount == 0) revert StakingNothingToWithdraw(msg.sender);
        if (block.timestamp < p.releaseAt) revert StakingStillUnbonding(msg.sender, p.releaseAt);
        if (block.timestamp < p.frozenUntil) revert StakingFrozen(msg.sender, p.frozenUntil);
        p.unbonding = 0;
        _totalUnbonding -= amount;
        _token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    // ---------------------------------------------------------------- capacity (data-access registry)

    /// @inheritdoc IConsumerStaking
    function setAccessRegistry(address registry) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_accessRegistry != address(0)) revert StakingAccessRegistryAlreadySet(_accessRegistry);
        if (registry == address(0)) revert StakingZeroAddress();
        _accessRegistry = registry;
        emit AccessRegistrySet(registry);
    }

    /// @inheritdoc IConsumerStaking
    function accessRegistry() external view returns (address) {
        return _accessRegistry;
    }

    /// @notice Reserves one more vehicle for `consumer`; see {IAccessCapacity}.
    function reserveAccess(address consumer) external {
        _onlyAccessRegistry();
        Position storage p = _positions[consumer];
        if (block.timestamp < p.frozenUntil) revert StakingFrozen(consumer, p.frozenUntil);
        uint256 required = requiredStake(uint256(p.vehiclesAccessed) + 1);
        if (p.staked < required) revert StakingInsufficientStake(consumer, p.staked, required);
        p.vehiclesAccessed += 1;
    }

    /// @notice Checks that a record already held may be rewritten; see {IAccessCapacity}.
    function renewAccess(address consumer) external view {
        Position storage p = _positions[consumer];
        if (block.timestamp < p.frozenUntil) revert StakingFrozen(consumer, p.frozenUntil);
        uint256 required = requiredStake(p.vehiclesAccessed);
        if (p.staked < required) revert StakingInsufficientStake(consumer, p.staked, required);
    }

    /// @notice Releases one vehicle of `consumer`; see {IAccessCapacity}.
    function releaseAccess(address consumer) external {
        _onlyAccessRegistry();
        _positions[consumer].vehiclesAccessed -= 1;
    }

    /// @notice Grant records `consumer` holds; see {IAccessCapacity}.
    function vehiclesAccessed(address consumer) external view returns (uint256) {
        return _positions[consumer].vehiclesAccessed;
    }

    /// @notice Whether the stake covers one more vehicle now; see {IAccessCapacity}.
    function coversOneMore(address consumer) external view returns (bool) {
        Position storage p = _positions[consumer];
        return block.timestamp >= p.frozenUntil && p.staked >= requiredStake(uint256(p.vehiclesAccessed) + 1);
    }

    /// @notice Whether the stake covers the grant records held now; see {IAccessCapacity}.
    function isCovered(address consumer) external view returns (bool) {
        Position storage p = _positions[consumer];
        return p.staked >= requiredStake(p.vehiclesAccessed);
    }

    // ---------------------------------------------------------------- guardian and DAO

    /// @inheritdoc IConsumerStaking
    function freeze(address consumer) external {
        Position storage p = _positions[consumer];
        if (hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            // The DAO's own freeze does not spend the guardian's.
        } else if (hasRole(GUARDIAN_ROLE, msg.sender)) {
            if (p.guardianFreezeSpent) revert StakingFreezeSpent(consumer);
            p.guardianFreezeSpent = true;
        } else {
            revert AccessControlUnauthorizedAccount(msg.sender, GUARDIAN_ROLE);
        }
        // A freeze of a consumer not frozen starts a new episode; one during a freeze leaves its start in place.
        if (block.timestamp >= p.frozenUntil) _frozenAt[consumer] = uint64(block.timestamp);
        uint64 until = uint64(block.timestamp + effectiveFreezeDuration());
        if (until > p.frozenUntil) p.frozenUntil = until;
        emit Frozen(consumer, p.frozenUntil, msg.sender);
    }

    /// @inheritdoc IConsumerStaking
    function extendFreeze(address consumer, uint64 until) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (until <= block.timestamp) revert StakingInvalidParameter("until", until);
        Position storage p = _positions[consumer];
        if (p.frozenUntil == 0 || block.timestamp >= p.frozenUntil) revert StakingNotFrozen(consumer);
        // Not an answer to the guardian: its freeze stays spent until an unfreeze or a slash.
        p.frozenUntil = until;
        emit Frozen(consumer, until, msg.sender);
    }

    /// @inheritdoc IConsumerStaking
    function unfreeze(address consumer) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Position storage p = _positions[consumer];
        // A guardian freeze that lapsed unanswered still awaits the DAO: lifting it gives the guardian its freeze back.
        if (block.timestamp >= p.frozenUntil && !p.guardianFreezeSpent) revert StakingNotFrozen(consumer);
        p.frozenUntil = 0;
        p.guardianFreezeSpent = false;
        emit Unfrozen(consumer);
    }

    /// @inheritdoc IConsumerStaking
    function slash(
        address consumer,
        uint256 amount,
        uint256 compensation,
        Remainder remainderTo,
        uint64 affectedAsOf,
        bytes32 evidenceHash,
        string calldata evidenceURI
    ) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 slashId) {
        Position storage p = _positions[consumer];
        uint256 slashable = p.staked + p.unbonding;
        if (amount == 0 || compensation > amount || slashable == 0) {
            revert StakingInvalidSlash(amount, compensation, slashable);
        }
        if (affectedAsOf == 0) {
            affectedAsOf = _frozenAt[consumer];
            if (affectedAsOf == 0) revert StakingInvalidParameter("affectedAsOf", 0);
        } else if (affectedAsOf > block.timestamp) {
            revert StakingInvalidParameter("affectedAsOf", affectedAsOf);
        }
        // Stake may have left while the vote ran: take what is there, and compensate at most that.
        if (amount > slashable) amount = slashable;
        if (compensation > amount) compensation = amount;
        _take(p, amount);
        p.guardianFreezeSpent = false;
        slashId = ++_slashCount;
        uint256 remainder = _payOut(slashId, amount, compensation, remainderTo);
        emit Slashed(
            consumer,
            slashId,
            amount,
            compensation,
            remainder,
            remainderTo,
            affectedAsOf,
            evidenceHash,
            evidenceURI
        );
    }

    /// @inheritdoc IConsumerStaking
    function setStakeParameters(uint256 baseStake, uint256 perVehicleStake) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setStakeParameters(baseStake, perVehicleStake);
    }

    /// @inheritdoc IConsumerStaking
    function setUnbondingPeriod(uint256 unbondingPeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setUnbondingPeriod(unbondingPeriod);
    }

    /// @inheritdoc IConsumerStaking
    function setFreezeDuration(uint256 freezeDuration) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setFreezeDuration(freezeDuration);
    }

    /// @inheritdoc IConsumerStaking
    function setMinGrantAge(uint256 minGrantAge_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMinGrantAge(minGrantAge_);
    }

    /// @inheritdoc IConsumerStaking
    function minGrantAge() external view returns (uint256) {
        return _minGrantAge;
    }

    /// @inheritdoc IConsumerStaking
    function sweepExcess(address to) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 amount) {
        if (to == address(0)) revert StakingZeroAddress();
        uint256 balance = _token.balanceOf(address(this));
        uint256 owed = _totalStaked + _totalUnbonding;
        if (balance <= owed) revert StakingNoExcess(balance, owed);
        amount = balance - owed;
        _token.safeTransfer(to, amount);
        emit ExcessSwept(to, amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IConsumerStaking
    function requiredStake(uint256 vehicles) public view returns (uint256) {
        return _baseStake + _perVehicleStake * vehicles;
    }

    /// @inheritdoc IConsumerStaking
    function position(address consumer) external view returns (Position memory) {
        return _positions[consumer];
    }

    /// @inheritdoc IConsumerStaking
    function frozenAt(address consumer) external view returns (uint256) {
        return _frozenAt[consumer];
    }

    /// @inheritdoc IConsumerStaking
    function governanceCycle() public view returns (uint256) {
        return _governor.votingDelay() + _governor.votingPeriod() + _timelock.getMinDelay();
    }

    /// @inheritdoc IConsumerStaking
    function effectiveUnbondingPeriod() public view returns (uint256) {
        uint256 cycle = governanceCycle();
        return _unbondingPeriod > cycle ? _unbondingPeriod : cycle + CYCLE_MARGIN;
    }

    /// @inheritdoc IConsumerStaking
    function effectiveFreezeDuration() public view returns (uint256) {
        uint256 minimum = governanceCycle() + CYCLE_MARGIN;
        return _freezeDuration > minimum ? _freezeDuration : minimum;
    }

    /// @inheritdoc IConsumerStaking
    function stakeParameters()
        external
        view
        returns (uint256 baseStake, uint256 perVehicleStake, uint256 unbondingPeriod, uint256 freezeDuration)
    {
        return (_baseStake, _perVehicleStake, _unbondingPeriod, _freezeDuration);
    }

    /// @inheritdoc IConsumerStaking
    function totals() external view returns (uint256 staked, uint256 unbonding) {
        return (_totalStaked, _totalUnbonding);
    }

    /// @inheritdoc IConsumerStaking
    function slashCount() external view returns (uint256) {
        return _slashCount;
    }

    /// @inheritdoc IConsumerStaking
    function token() external view returns (address) {
        return address(_token);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Removes `amount` from the position, unbonding stake (on its way out) first.
    function _take(Position storage p, uint256 amount) private {
        uint256 fromUnbonding = amount < p.unbonding ? amount : p.unbonding;
        p.unbonding -= fromUnbonding;
        p.staked -= amount - fromUnbonding;
        _totalUnbonding -= fromUnbonding;
        _totalStaked -= amount - fromUnbonding;
    }

    /// @dev Sends the compensation to the distributor and burns or sends the remainder to the treasury.
    function _payOut(
        uint256 slashId,
        uint256 amount,
        uint256 compensation,
        Remainder remainderTo
    ) private returns (uint256 remainder) {
        remainder = amount - compensation;
        if (compensation != 0) {
            _token.forceApprove(address(_distributor), compensation);
            _distributor.fund(compensation, bytes32(abi.encodePacked("compensation:", uint32(slashId))));
        }
        if (remainder != 0) {
            if (remainderTo == Remainder.Burn) IDimoToken(address(_token)).burn(remainder);
            else _token.safeTransfer(address(_timelock), remainder);
        }
    }

    function _onlyAccessRegistry() private view {
        if (msg.sender != _accessRegistry) revert StakingNotAccessRegistry(msg.sender);
    }

    function _setStakeParameters(uint256 baseStake, uint256 perVehicleStake) private {
        if (baseStake > MAX_STAKE_PARAMETER) revert StakingInvalidParameter("baseStake", baseStake);
        if (perVehicleStake == 0 || perVehicleStake > MAX_STAKE_PARAMETER) {
            revert StakingInvalidParameter("perVehicleStake", perVehicleStake);
        }
        _baseStake = baseStake;
        _perVehicleStake = perVehicleStake;
        emit StakeParametersSet(baseStake, perVehicleStake);
    }

    function _setUnbondingPeriod(uint256 unbondingPeriod) private {
        uint256 cycle = governanceCycle();
        if (unbondingPeriod <= cycle) revert StakingUnbondingTooShort(unbondingPeriod, cycle);
        if (unbondingPeriod > MAX_UNBONDING_PERIOD) revert StakingInvalidParameter("unbondingPeriod", unbondingPeriod);
        _unbondingPeriod = unbondingPeriod;
        emit UnbondingPeriodSet(unbondingPeriod);
    }

    function _setFreezeDuration(uint256 freezeDuration) private {
        uint256 cycle = governanceCycle();
        if (freezeDuration <= cycle) revert StakingFreezeTooShort(freezeDuration, cycle);
        if (freezeDuration > MAX_FREEZE_DURATION) revert StakingInvalidParameter("freezeDuration", freezeDuration);
        _freezeDuration = freezeDuration;
        emit FreezeDurationSet(freezeDuration);
    }

    function _setMinGrantAge(uint256 minGrantAge_) private {
        if (minGrantAge_ < MIN_MIN_GRANT_AGE || minGrantAge_ > MAX_MIN_GRANT_AGE) {
            revert StakingInvalidParameter("minGrantAge", minGrantAge_);
        }
        _minGrantAge = minGrantAge_;
        emit MinGrantAgeSet(minGrantAge_);
    }
}
