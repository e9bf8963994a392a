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
    /// @notice Role of the guardian (security council), which may revoke a pending root.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Shortest challenge window the Timelock may set.
    uint256 public constant MIN_CHALLENGE_WINDOW = 1 hours; // seconds
    /// @notice Longest challenge window the Timelock may set.
    uint256 public constant MAX_CHALLENGE_WINDOW = 7 days; // seconds
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

    /// @inheritdoc IRewardDistributor
    IERC20 public immutable token;
    IIssuanceVault private immutable _vault;
    bytes32 private immutable _storeInitCodeHash = keccak256(type(LayerStore).creationCode);

    RootInfo private _active;
    RootInfo private _pending;
    uint256 private _nextWeek;
    uint256 private _challengeWindow; // seconds
    uint256 private _totalFunded; // wei
    mapping(address account => uint256 amount) private _claimed;

    /// @param token_ The DIMO token.
    /// @param vault The issuance vault (this contract must hold its DISTRIBUTOR_ROLE).
    /// @param admin Holder of `DEFAULT_ADMIN_ROLE` (the Timelock).
    /// @param publisher The rewards oracle.
    /// @param guardian The security council.
    /// @param challengeWindow_ Seconds between publication and activation (default 24 h).
    constructor(
        IERC20 token_,
        IIssuanceVault vault,
        address admin,
        address publisher,
        address guardian,
        uint256 challengeWindow_
    ) EIP712("DIMO RewardDistributor", "1") {
        if (
            address(token_) == address(0) ||
            address(vault) == address(0) ||
            admin == address(0) ||
            publisher == address(0) ||
            guardian == address(0)
        ) revert RewardsZeroAddress();
        token = token_;
        _vault = vault;
        _setChallengeWindow(challengeWindow_);
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
        bytes calldata cachedLayer_
    ) external onlyRole(PUBLISHER_ROLE) {
        if (_pending.root != bytes32(0)) {
            if (block.timestamp < _pending.activatesAt) revert RewardsRootPending(_pending.week, _pending.activatesAt);
            _activate();
        }
        if (week != _nextWeek) revert RewardsUnexpectedWeek(week, _nextWeek);
        if (root == bytes32(0)) revert RewardsZeroRoot();
        if (cumulativeTotal < _active.cumulativeTotal) {
            revert RewardsTotalDecreased(cumulativeTotal, _active.cumulativeTotal);
        }
        if (cumulativeTotal > _totalFunded) revert RewardsInsufficientFunds(cumulativeTotal, _totalFunded);
        if (cachedLayer_.length != 0) _storeLayer(root, cachedLayer_);
        uint64 activatesAt = uint64(block.timestamp + _challengeWindow);
        _pending = RootInfo(root, uint64(week), activatesAt, cumulativeTotal, contentHash);
        _nextWeek = week + 1;
        emit RootPublished(week, root, cumulativeTotal, contentHash, activatesAt);
    }

    /// @inheritdoc IRewardDistributor
    function revokePendingRoot() external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert RewardsNotRevoker(msg.sender);
        }
        RootInfo memory p = _pending;
        if (p.root == bytes32(0)) revert RewardsNoPendingRoot();
        if (block.timestamp >= p.activatesAt) revert RewardsChallengeWindowClosed(p.activatesAt, block.timestamp);
        delete _pending;
        _nextWeek = p.week; // the same week may be published again
        emit RootRevoked(p.week, p.root, msg.sender);
    }

    /// @inheritdoc IRewardDistributor
    function activateRoot() external {
        if (_pending.root == bytes32(0)) revert RewardsNoPendingRoot();
        if (block.timestamp < _pending.activatesAt) {
            revert RewardsChallengeWindowOpen(_pending.activatesAt, block.timestamp);
        }
        _activate();
    }

    /// @notice Sets the challenge window for roots published from now on. Only the Timelock.
    function setChallengeWindow(uint256 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setChallengeWindow(window);
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
        return _active;
    }

    /// @inheritdoc IRewardDistributor
    function pendingRoot() external view returns (RootInfo memory) {
        return _pending;
    }

    /// @inheritdoc IRewardDistributor
    function nextWeek() external view returns (uint256) {
        return _nextWeek;
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
        return _challengeWindow;
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
        bytes32 root = _active.root;
        bytes32 target = anchor == 0 ? root : _cachedNode(root, anchor - 1);
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
            let end := add(proof.offset, shl(5, proof.length))
            for {
                let p := proof.offset
            } lt(p, end) {
                p := add(p, 0x20)
            } {
                let sibling := calldataload(p)
                // Smaller hash first: write h at 0x20 when sibling < h, else at 0x00.
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

    function _activate() private {
        RootInfo memory p = _pending;
        p.activatesAt = 0;
        _active = p;
        delete _pending;
        emit RootActivated(p.week, p.root, p.cumulativeTotal);
    }

    function _setChallengeWindow(uint256 window) private {
        if (window < MIN_CHALLENGE_WINDOW || window > MAX_CHALLENGE_WINDOW) {
            revert RewardsInvalidChallengeWindow(window, MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW);
        }
        _challengeWindow = window;
        emit ChallengeWindowSet(window);
    }
}
