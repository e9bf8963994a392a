// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Inline assembly is confined to the claim hot path (proof hashing, layer-store reads, the token transfer)
// and to the layer store's transient chunk; each block says what it does and tests compare it with
// OpenZeppelin's MerkleProof.
// solhint-disable no-inline-assembly

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IRewardDistributor} from "../interfaces/IRewardDistributor.sol";
import {IIssuanceVault} from "../interfaces/IIssuanceVault.sol";

/// @title LayerStore
/// @notice Holds one chunk of a root's cached layer as its code (read with EXTCODECOPY). Its code is the
/// chunk the deploying distributor exposes through `layerChunk()` during `publishRoot`: a 0x00 byte (so
/// that calling it stops at once) followed by up to 512 32-byte nodes.
contract LayerStore {
    constructor() {
        bytes memory chunk = IRewardDistributor(msg.sender).layerChunk();
        assembly ("memory-safe") {
            return(add(chunk, 0x20), mload(chunk))
        }
    }
}

/// @title RewardDistributor
/// @notice See {IRewardDistributor}.
/// @dev No reentrancy guard: the only external calls are to the DIMO token (no hooks) and the issuance vault,
/// both trusted, and every claim updates `_claimed` before transferring (checks-effects-interactions).
contract RewardDistributor is IRewardDistributor, AccessControl, EIP712, Nonces {
    using SafeERC20 for IERC20;

    /// @notice Role of the rewards oracle that posts weekly roots.
    bytes32 public constant PUBLISHER_ROLE = keccak256("PUBLISHER_ROLE");
    /// @notice Role of the guardian (security council), which may revoke a pending root (bounded).
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Shortest challenge window the Timelock may set.
    uint256 public constant MIN_CHALLENGE_WINDOW = 1 hours; // seconds
    /// @notice Longest challenge window the Timelock may set.
    uint256 public constant MAX_CHALLENGE_WINDOW = 7 days; // seconds
    /// @notice Most guardian revocations (direct or by upholding a dispute) between two activations.
    uint256 public constant MAX_GUARDIAN_REVOCATIONS = 3;
    /// @notice How long an unresolved dispute holds the pending root, from its opening (longer than a
    /// default governance cycle of 10 days, so that the DAO can decide it).
    uint256 public constant DISPUTE_PERIOD = 14 days; // seconds
    /// @notice Largest dispute bond the Timelock may set (it is kept in 96 bits).
    uint256 public constant MAX_DISPUTE_BOND = type(uint96).max; // wei
    /// @notice Funding reason of vault releases.
    bytes32 public constant ISSUANCE = "issuance";

    /// @notice Most nodes of a cached layer.
    uint256 public constant MAX_CACHED_NODES = 1024;
    /// @dev Nodes per LayerStore (16 KiB of code, under the 24 KiB limit).
    uint256 private constant _NODES_PER_STORE = 512;
    /// @dev Transient slot of the chunk being stored (length, then the words).
    bytes32 private constant _CHUNK_SLOT = keccak256("dimo.rewards.layerChunk");

    bytes32 private constant _CLAIM_TO_TYPEHASH = keccak256(
        "ClaimTo(address account,address recipient,uint256 nonce,uint256 deadline)"
    );

    /// @dev Dispute status of the pending publication.
    uint8 private constant _UNDISPUTED = 0;
    uint8 private constant _DISPUTE_OPEN = 1;
    uint8 private constant _DISPUTE_DISMISSED = 2;

    /// @dev A root in three slots: the root alone (claims read only it), then week, activation time and
    /// cumulative total packed, then the content hash.
    struct Root {
        bytes32 root;
        uint64 week;
        uint64 activatesAt; // 0: none (pending) / always 0 (active)
        uint128 cumulativeTotal; // wei, at most totalFunded
        bytes32 contentHash;
    }

    /// @dev Everything publishing, activating, revoking and disputing update, in one slot.
    struct State {
        uint64 nextWeek;
        uint32 challengeWindow; // seconds, at most MAX_CHALLENGE_WINDOW
        uint8 guardianRevocations; // since the last activation
        uint8 dispute; // _UNDISPUTED, _DISPUTE_OPEN or _DISPUTE_DISMISSED, of the pending publication
        uint64 disputeResolvesBy; // unix seconds, when an open dispute lapses
    }

    /// @dev Who holds the open dispute's bond, and how much (wei).
    struct DisputeBond {
        address disputer;
        uint96 bond;
    }

    /// @inheritdoc IRewardDistributor
    IERC20 public immutable token;
    /// @inheritdoc IRewardDistributor
    address public immutable treasury;
    IIssuanceVault private immutable _vault;
    bytes32 private immutable _storeInitCodeHash = keccak256(type(LayerStore).creationCode);

    Root private _active;
    // A pending root is never deleted: clearing `activatesAt` retires it, so that the next publication
    // rewrites nonzero slots (5,000 gas each) instead of filling zero slots (22,100 gas each).
    Root private _pending;
    State private _state;
    uint256 private _totalFunded; // wei
    bytes32 private _policyHash;
    uint256 private _disputeBond; // wei
    DisputeBond private _heldBond;
    mapping(address account => uint256 amount) private _claimed;

    /// @param token_ The DIMO token.
    /// @param vault The issuance vault (this contract must hold its DISTRIBUTOR_ROLE).
    /// @param admin Holder of `DEFAULT_ADMIN_ROLE` (the Timelock), also the treasury of dismissed bonds.
    /// @param publisher The rewards oracle.
    /// @param guardian The security council.
    /// @param challengeWindow_ Seconds between publication and activation (default 24 h).
    /// @param policyHash_ Hash of the rewards policy in force (`policyHash()` of lib/rewards/policy.ts).
    /// @param disputeBond_ DIMO bond of a dispute, in wei.
    constructor(
        IERC20 token_,
        IIssuanceVault vault,
        address admin,
        address publisher,
        address guardian,
        uint256 challengeWindow_,
        bytes32 policyHash_,
        uint256 disputeBond_
    ) EIP712("DIMO RewardDistributor", "1") {
        if (
            address(token_) == address(0) ||
            address(vault) == address(0) ||
            admin == address(0) ||
            publisher == address(0) ||
            guardian == address(0)
        ) revert RewardsZeroAddress();
        token = token_;
        treasury = admin;
        _vault = vault;
        _setChallengeWindow(challengeWindow_);
        _setPolicyHash(policyHash_);
        _setDisputeBond(disputeBond_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PUBLISHER_ROLE, publisher);
        _grantRole(GUARDIAN_ROLE, guardian);
    }

    // ---------------------------------------------------------------- funding

    /// @inheritdoc IRewardDistributor
    function pullIssuance() external returns (uint256 amount) {
        uint256 fromWeek;
        uint256 toWeek;
        (fromWeek, toWeek, amount) = _vault.release();
        _totalFunded += amount;
        emit IssuancePulled(fromWeek, toWeek, amount);
    }

    /// @inheritdoc IRewardDistributor
    function fund(uint256 amount, bytes32 reason) external {
        token.safeTransferFrom(msg.sender, address(this), amount);
        _totalFunded += amount;
        emit Funded(msg.sender, amount, reason);
    }

    // ---------------------------------------------------------------- roots

    /// @inheritdoc IRewardDistributor
    function publishRoot(
        uint256 week,
        bytes32 root,
        uint256 cumulativeTotal,
        bytes32 contentHash,
        bytes32 policyHash_,
        bytes calldata cachedLayer_
    ) external onlyRole(PUBLISHER_ROLE) {
        State memory s = _state;
        uint256 pendingAt = _pending.activatesAt;
        if (pendingAt != 0) {
            if (block.timestamp < pendingAt) revert RewardsRootPending(_pending.week, pendingAt);
            _requireNotHeld(s);
            _activate(s);
        }
        if (week != s.nextWeek) revert RewardsUnexpectedWeek(week, s.nextWeek);
        uint256 endsAt = _vault.weekStart(week + 1);
        if (block.timestamp < endsAt) revert RewardsWeekNotEnded(week, endsAt);
        if (policyHash_ != _policyHash) revert RewardsPolicyMismatch(policyHash_, _policyHash);
        if (root == bytes32(0)) revert RewardsZeroRoot();
        uint256 previous = _active.cumulativeTotal;
        if (cumulativeTotal < previous) revert RewardsTotalDecreased(cumulativeTotal, previous);
        uint256 funded = _totalFunded;
        if (cumulativeTotal > funded) revert RewardsInsufficientFunds(cumulativeTotal, funded);
        if (cachedLayer_.length != 0) _storeLayer(root, cachedLayer_);
        uint256 activatesAt = block.timestamp + s.challengeWindow;
        // The casts cannot truncate: week == nextWeek (uint64); activatesAt is a timestamp plus at most
        // 7 days; cumulativeTotal <= totalFunded <= DIMO's supply (< 2^90 wei).
        _pending = Root(root, uint64(week), uint64(activatesAt), uint128(cumulativeTotal), contentHash);
        s.nextWeek = uint64(week + 1);
        s.dispute = _UNDISPUTED;
        _state = s;
        emit RootPublished(week, root, cumulativeTotal, contentHash, activatesAt);
    }

    /// @inheritdoc IRewardDistributor
    function revokePendingRoot() external {
        bool byGuardian = _revoker();
        uint256 at = _pending.activatesAt;
        if (at == 0) revert RewardsNoPendingRoot();
        if (block.timestamp >= at) revert RewardsChallengeWindowClosed(at, block.timestamp);
        State memory s = _state;
        if (s.dispute == _DISPUTE_OPEN) revert RewardsRootDisputed(_pending.week, s.disputeResolvesBy);
        _revoke(s, byGuardian);
    }

    /// @inheritdoc IRewardDistributor
    function activateRoot() external {
        uint256 at = _pending.activatesAt;
        if (at == 0) revert RewardsNoPendingRoot();
        if (block.timestamp < at) revert RewardsChallengeWindowOpen(at, block.timestamp);
        State memory s = _state;
        _requireNotHeld(s);
        _activate(s);
    }

    /// @inheritdoc IRewardDistributor
    function disputePendingRoot(bytes32 evidenceHash) external {
        uint256 at = _pending.activatesAt;
        if (at == 0) revert RewardsNoPendingRoot();
        if (block.timestamp >= at) revert RewardsChallengeWindowClosed(at, block.timestamp);
        State memory s = _state;
        uint256 week = _pending.week;
        if (s.dispute != _UNDISPUTED) revert RewardsAlreadyDisputed(week);
        uint256 bond = _disputeBond;
        s.dispute = _DISPUTE_OPEN;
        // Cannot truncate: a timestamp plus 14 days.
        s.disputeResolvesBy = uint64(block.timestamp + DISPUTE_PERIOD);
        _state = s;
        // Cannot truncate: setDisputeBond keeps the bond at most MAX_DISPUTE_BOND (2^96 - 1).
        _heldBond = DisputeBond(msg.sender, uint96(bond));
        token.safeTransferFrom(msg.sender, address(this), bond);
        emit RootDisputed(week, _pending.root, msg.sender, bond, evidenceHash);
    }

    /// @inheritdoc IRewardDistributor
    function resolveDispute(bool upheld) external {
        bool byGuardian = _revoker();
        State memory s = _state;
        if (_pending.activatesAt == 0 || s.dispute != _DISPUTE_OPEN) revert RewardsNoOpenDispute();
        if (block.timestamp >= s.disputeResolvesBy) revert RewardsDisputeLapsed(s.disputeResolvesBy, block.timestamp);
        DisputeBond memory held = _heldBond;
        delete _heldBond;
        uint256 week = _pending.week;
        bytes32 root = _pending.root;
        if (upheld) {
            s.dispute = _UNDISPUTED;
            _revoke(s, byGuardian);
            token.safeTransfer(held.disputer, held.bond);
        } else {
            s.dispute = _DISPUTE_DISMISSED;
            _state = s;
            token.safeTransfer(treasury, held.bond);
        }
        emit DisputeResolved(week, root, upheld, msg.sender);
    }

    /// @notice Sets the challenge window for roots published from now on. Only the Timelock.
    function setChallengeWindow(uint256 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setChallengeWindow(window);
    }

    /// @inheritdoc IRewardDistributor
    function setPolicyHash(bytes32 policyHash_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPolicyHash(policyHash_);
    }

    /// @inheritdoc IRewardDistributor
    function setDisputeBond(uint256 bond) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDisputeBond(bond);
    }

    // ---------------------------------------------------------------- claims

    /// @inheritdoc IRewardDistributor
    function claim(
        address account,
        uint256 cumulativeAmount,
        uint256 anchor,
        bytes32[] calldata proof
    ) external returns (uint256) {
        return _claim(account, cumulativeAmount, anchor, proof, account, true);
    }

    /// @inheritdoc IRewardDistributor
    function claimTo(
        uint256 cumulativeAmount,
        uint256 anchor,
        bytes32[] calldata proof,
        address recipient
    ) external returns (uint256) {
        if (recipient == address(0)) revert RewardsZeroAddress();
        _useNonce(msg.sender);
        return _claim(msg.sender, cumulativeAmount, anchor, proof, recipient, true);
    }

    /// @inheritdoc IRewardDistributor
    function claimToWithSig(
        address account,
        uint256 cumulativeAmount,
        uint256 anchor,
        bytes32[] calldata proof,
        address recipient,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256) {
        if (recipient == address(0)) revert RewardsZeroAddress();
        if (block.timestamp > deadline) revert RewardsSignatureExpired(deadline, block.timestamp);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(_CLAIM_TO_TYPEHASH, account, recipient, _useNonce(account), deadline))
        );
        if (!SignatureChecker.isValidSignatureNow(account, digest, signature)) revert RewardsInvalidSignature(account);
        return _claim(account, cumulativeAmount, anchor, proof, recipient, true);
    }

    /// @inheritdoc IRewardDistributor
    function claimMany(Claim[] calldata claims) external returns (uint256 total) {
        for (uint256 i = 0; i < claims.length; ++i) {
            Claim calldata c = claims[i];
            total += _claim(c.account, c.cumulativeAmount, c.anchor, c.proof, c.account, false);
        }
    }

    /// @inheritdoc IRewardDistributor
    function invalidateNonce() external returns (uint256 nonce) {
        nonce = _useNonce(msg.sender);
        emit NonceInvalidated(msg.sender, nonce);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IRewardDistributor
    function cachedLayer(bytes32 root) external view returns (bytes32[] memory nodes) {
        (address first, address second) = cachedLayerStores(root);
        uint256 n1 = first.code.length == 0 ? 0 : (first.code.length - 1) / 32;
        uint256 n2 = second.code.length == 0 ? 0 : (second.code.length - 1) / 32;
        nodes = new bytes32[](n1 + n2);
        for (uint256 i = 0; i < n1 + n2; ++i) nodes[i] = _cachedNode(root, i);
    }

    /// @inheritdoc IRewardDistributor
    function cachedLayerStores(bytes32 root) public view returns (address first, address second) {
        return (_storeAddress(root, 0), _storeAddress(root, 1));
    }

    /// @inheritdoc IRewardDistributor
    function layerChunk() external view returns (bytes memory chunk) {
        bytes32 slot = _CHUNK_SLOT;
        assembly ("memory-safe") {
            let len := tload(slot)
            chunk := mload(0x40)
            mstore(chunk, len)
            let words := shr(5, add(len, 31))
            for {
                let i := 0
            } lt(i, words) {
                i := add(i, 1)
            } {
                mstore(add(add(chunk, 0x20), shl(5, i)), tload(add(slot, add(i, 1))))
            }
            mstore(0x40, add(add(chunk, 0x20), shl(5, words)))
        }
    }

    /// @inheritdoc IRewardDistributor
    function activeRoot() external view returns (RootInfo memory) {
        return _info(_active);
    }

    /// @inheritdoc IRewardDistributor
    function pendingRoot() external view returns (RootInfo memory info) {
        if (_pending.activatesAt != 0) info = _info(_pending);
    }

    /// @inheritdoc IRewardDistributor
    function pendingDispute() external view returns (DisputeInfo memory info) {
        State memory s = _state;
        if (_pending.activatesAt != 0 && s.dispute == _DISPUTE_OPEN) {
            info = DisputeInfo(_heldBond.disputer, _heldBond.bond, s.disputeResolvesBy);
        }
    }

    /// @inheritdoc IRewardDistributor
    function guardianRevocations() external view returns (uint256) {
        return _state.guardianRevocations;
    }

    /// @inheritdoc IRewardDistributor
    function nextWeek() external view returns (uint256) {
        return _state.nextWeek;
    }

    /// @inheritdoc IRewardDistributor
    function claimed(address account) external view returns (uint256) {
        return _claimed[account];
    }

    /// @inheritdoc IRewardDistributor
    function totalFunded() external view returns (uint256) {
        return _totalFunded;
    }

    /// @inheritdoc IRewardDistributor
    function challengeWindow() external view returns (uint256) {
        return _state.challengeWindow;
    }

    /// @inheritdoc IRewardDistributor
    function policyHash() external view returns (bytes32) {
        return _policyHash;
    }

    /// @inheritdoc IRewardDistributor
    function disputeBond() external view returns (uint256) {
        return _disputeBond;
    }

    /// @inheritdoc IRewardDistributor
    function nonces(address account) public view override(IRewardDistributor, Nonces) returns (uint256) {
        return super.nonces(account);
    }

    // ---------------------------------------------------------------- internals

    /// @dev The hot path of every claim; see `_verify` and `_pay` for the gas-lean parts.
    function _claim(
        address account,
        uint256 cumulativeAmount,
        uint256 anchor,
        bytes32[] calldata proof,
        address recipient,
        bool strict
    ) private returns (uint256 amount) {
        uint256 already = _claimed[account];
        if (cumulativeAmount <= already) {
            if (strict) revert RewardsNothingToClaim(account, cumulativeAmount, already);
            return 0;
        }
        bytes32 target = _active.root;
        if (anchor != 0) target = _cachedNode(target, anchor - 1);
        if (!_verify(proof, target, account, cumulativeAmount)) {
            revert RewardsInvalidProof(account, cumulativeAmount);
        }
        // Cannot underflow: cumulativeAmount > already was checked above.
        unchecked {
            amount = cumulativeAmount - already;
        }
        _claimed[account] = cumulativeAmount;
        _pay(recipient, amount);
        if (recipient == account) emit Claimed(account, amount);
        else emit ClaimedTo(account, recipient, amount);
    }

    /// @dev Same result as OpenZeppelin's `MerkleProof.verifyCalldata` over the StandardMerkleTree leaf
    /// `keccak256(bytes.concat(keccak256(abi.encode(account, amount))))` with commutative (sorted) pair
    /// hashing, written in assembly over the scratch space because every claim pays for it.
    function _verify(
        bytes32[] calldata proof,
        bytes32 root,
        address account,
        uint256 amount
    ) private pure returns (bool ok) {
        assembly ("memory-safe") {
            mstore(0x00, account)
            mstore(0x20, amount)
            mstore(0x00, keccak256(0x00, 0x40))
            let h := keccak256(0x00, 0x20)
            let p := proof.offset
            let end := add(p, shl(5, proof.length))
            // Two levels per iteration (half the loop overhead), then the odd last level if any.
            let pairsEnd := sub(end, shl(5, and(proof.length, 1)))
            for {} lt(p, pairsEnd) {
                p := add(p, 0x40)
            } {
                // Smaller hash first: write h at 0x20 when sibling < h, else at 0x00.
                let sibling := calldataload(p)
                let swap := lt(sibling, h)
                mstore(shl(5, swap), h)
                mstore(shl(5, iszero(swap)), sibling)
                h := keccak256(0x00, 0x40)
                sibling := calldataload(add(p, 0x20))
                swap := lt(sibling, h)
                mstore(shl(5, swap), h)
                mstore(shl(5, iszero(swap)), sibling)
                h := keccak256(0x00, 0x40)
            }
            if lt(p, end) {
                let sibling := calldataload(p)
                let swap := lt(sibling, h)
                mstore(shl(5, swap), h)
                mstore(shl(5, iszero(swap)), sibling)
                h := keccak256(0x00, 0x40)
            }
            ok := eq(h, root)
        }
    }

    /// @dev Node `index` of `root`'s cached layer, zero when there is none (no proof hashes to zero).
    function _cachedNode(bytes32 root, uint256 index) private view returns (bytes32 node) {
        address store = _storeAddress(root, index / _NODES_PER_STORE);
        uint256 offset = 1 + (index % _NODES_PER_STORE) * 32;
        assembly ("memory-safe") {
            mstore(0x00, 0)
            extcodecopy(store, 0x00, offset, 0x20)
            node := mload(0x00)
        }
    }

    /// @dev CREATE2 address of LayerStore `part` of `root` (salt `keccak256(abi.encode(root, part))`).
    function _storeAddress(bytes32 root, uint256 part) private view returns (address store) {
        bytes32 initCodeHash = _storeInitCodeHash;
        assembly ("memory-safe") {
            mstore(0x00, root)
            mstore(0x20, part)
            let salt := keccak256(0x00, 0x40)
            let m := mload(0x40)
            mstore(m, or(shl(160, 0xff), address()))
            mstore(add(m, 0x20), salt)
            mstore(add(m, 0x40), initCodeHash)
            store := and(keccak256(add(m, 11), 85), 0xffffffffffffffffffffffffffffffffffffffff)
        }
    }

    /// @dev Checks that `layer` hashes up to `root` and stores it in LayerStores (once per root: a root
    /// published again, e.g. after a revocation, keeps its first stored layer, which is equally valid).
    function _storeLayer(bytes32 root, bytes calldata layer) private {
        uint256 n = layer.length / 32;
        if (layer.length % 32 != 0 || n > MAX_CACHED_NODES) revert RewardsInvalidCachedLayer(layer.length, 0);
        bytes32 computed = _layerRoot(layer, n);
        if (computed != root) revert RewardsInvalidCachedLayer(layer.length, computed);
        if (_storeAddress(root, 0).code.length != 0) return;
        bytes32 slot = _CHUNK_SLOT;
        for (uint256 part = 0; part * _NODES_PER_STORE < n; ++part) {
            uint256 from = part * _NODES_PER_STORE * 32;
            uint256 to = from + _NODES_PER_STORE * 32;
            if (to > layer.length) to = layer.length;
            bytes memory chunk = bytes.concat(bytes1(0), layer[from:to]);
            assembly ("memory-safe") {
                let len := mload(chunk)
                tstore(slot, len)
                let words := shr(5, add(len, 31))
                for {
                    let i := 0
                } lt(i, words) {
                    i := add(i, 1)
                } {
                    tstore(add(slot, add(i, 1)), mload(add(add(chunk, 0x20), shl(5, i))))
                }
            }
            new LayerStore{salt: keccak256(abi.encode(root, part))}();
        }
        assembly ("memory-safe") {
            tstore(slot, 0)
        }
    }

    /// @dev Hashes a layer up to its root: sorted pairs `(2j, 2j + 1)`, an odd last node carried up.
    function _layerRoot(bytes calldata layer, uint256 n) private pure returns (bytes32) {
        if (n == 0) return bytes32(0);
        bytes32[] memory nodes = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) nodes[i] = bytes32(layer[i * 32:(i + 1) * 32]);
        while (n > 1) {
            uint256 m = 0;
            for (uint256 i = 0; i + 1 < n; i += 2) {
                (bytes32 a, bytes32 b) = nodes[i] < nodes[i + 1] ? (nodes[i], nodes[i + 1]) : (nodes[i + 1], nodes[i]);
                nodes[m++] = keccak256(abi.encode(a, b));
            }
            if (n % 2 == 1) nodes[m++] = nodes[n - 1];
            n = m;
        }
        return nodes[0];
    }

    /// @dev `token.transfer(to, amount)`, reverting with the token's own error on failure. The DIMO token
    /// returns true or reverts; a false return is treated as a failure too.
    function _pay(address to, uint256 amount) private {
        address t = address(token);
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0xa9059cbb00000000000000000000000000000000000000000000000000000000) // transfer(address,uint256)
            mstore(add(m, 0x04), to)
            mstore(add(m, 0x24), amount)
            mstore(0x00, 0)
            // Arguments are evaluated right to left: the call runs before its return value is read.
            if iszero(and(eq(mload(0x00), 1), call(gas(), t, 0, m, 0x44, 0x00, 0x20))) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    /// @dev Reverts while an open dispute that has not lapsed holds the pending root.
    function _requireNotHeld(State memory s) private view {
        if (s.dispute == _DISPUTE_OPEN && block.timestamp < s.disputeResolvesBy) {
            revert RewardsRootDisputed(_pending.week, s.disputeResolvesBy);
        }
    }

    /// @dev Makes the pending root active (a lapsed dispute's bond goes back to its disputer) and stores `s`.
    function _activate(State memory s) private {
        Root memory p = _pending;
        _active = Root(p.root, p.week, 0, p.cumulativeTotal, p.contentHash);
        _pending.activatesAt = 0;
        s.guardianRevocations = 0;
        bool lapsed = s.dispute == _DISPUTE_OPEN;
        s.dispute = _UNDISPUTED;
        _state = s;
        emit RootActivated(p.week, p.root, p.cumulativeTotal);
        if (lapsed) {
            DisputeBond memory held = _heldBond;
            delete _heldBond;
            token.safeTransfer(held.disputer, held.bond);
            emit DisputeLapsed(p.week, p.root, held.disputer, held.bond);
        }
    }

    /// @dev Retires the pending root so that its week can be published again, counting a guardian's
    /// revocation against its bound, and stores `s`.
    function _revoke(State memory s, bool byGuardian) private {
        if (byGuardian) {
            if (s.guardianRevocations >= MAX_GUARDIAN_REVOCATIONS) {
                revert RewardsGuardianRevocationLimit(s.guardianRevocations, MAX_GUARDIAN_REVOCATIONS);
            }
            ++s.guardianRevocations;
        }
        uint64 week = _pending.week;
        _pending.activatesAt = 0;
        s.nextWeek = week;
        _state = s;
        emit RootRevoked(week, _pending.root, msg.sender);
    }

    /// @dev Whether the caller revokes as the guardian (bounded) rather than as the Timelock; reverts for
    /// anyone else. A caller holding both roles acts as the Timelock.
    function _revoker() private view returns (bool byGuardian) {
        if (hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) return false;
        if (!hasRole(GUARDIAN_ROLE, msg.sender)) revert RewardsNotRevoker(msg.sender);
        return true;
    }

    /// @dev The public view of a stored root.
    function _info(Root storage r) private view returns (RootInfo memory) {
        return RootInfo(r.root, r.week, r.activatesAt, r.cumulativeTotal, r.contentHash);
    }

    function _setPolicyHash(bytes32 policyHash_) private {
        if (policyHash_ == bytes32(0)) revert RewardsZeroPolicyHash();
        _policyHash = policyHash_;
        emit PolicyHashSet(policyHash_);
    }

    function _setDisputeBond(uint256 bond) private {
        if (bond == 0 || bond > MAX_DISPUTE_BOND) revert RewardsInvalidDisputeBond(bond, 1, MAX_DISPUTE_BOND);
        _disputeBond = bond;
        emit DisputeBondSet(bond);
    }

    function _setChallengeWindow(uint256 window) private {
        if (window < MIN_CHALLENGE_WINDOW || window > MAX_CHALLENGE_WINDOW) {
            revert RewardsInvalidChallengeWindow(window, MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW);
        }
        // Cannot truncate: at most 7 days.
        _state.challengeWindow = uint32(window);
        emit ChallengeWindowSet(window);
    }
}
