// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Weekly reward distributor
/// @notice Pays DIMO rewards from weekly Merkle roots over *cumulative* per-account amounts: one claim pays
/// every week earned so far. Leaves are OpenZeppelin StandardMerkleTree leaves of
/// `(address account, uint256 cumulativeAmount)`: `keccak256(bytes.concat(keccak256(abi.encode(account,
/// cumulativeAmount))))`, hashed in sorted pairs.
/// @dev Warning: the publisher (the rewards oracle) can only propose roots: week N only after week N - 1,
/// with a cumulative total that never decreases and never exceeds what was funded. A root becomes
/// claimable only after the challenge window (default 24 h), during which the guardian or the Timelock can
/// revoke it.
///
/// Cheap claims: with each root the publisher may post one whole layer of the tree (at most
/// `MAX_CACHED_NODES` nodes, e.g. the layer 10 levels below the root of a million-leaf tree). The contract
/// checks that the layer hashes up to the root and keeps it in contract code (cheap to read). A claim then
/// carries only the proof from its leaf up to that layer plus the node's position (`anchor`): at depth 20
/// that is 10 siblings instead of 20. A full proof to the root (`anchor == 0`) always works too; it is a
/// plain OpenZeppelin `MerkleProof` proof. Layers follow the merkletreejs rule: pairs `(2j, 2j + 1)` are
/// hashed sorted, an odd last node is carried up unchanged.
///
/// There is deliberately no on-chain running total of claims (it would cost every claim a
/// storage write): the total claimed is the sum of `Claimed` events, and the balance always covers
/// `totalFunded` minus that sum. Funds arrive only from the issuance vault (`pullIssuance`) and explicit `fund` calls
/// (slashing compensation, referral budget). The Timelock administers every role and the window.
interface IRewardDistributor {
    /// @notice A published root.
    /// @param root Merkle root.
    /// @param week The week it covers (cumulative through that week).
    /// @param cumulativeTotal Sum of every account's cumulative amount in the tree, in wei.
    /// @param contentHash SHA-256/keccak of the full distribution file, so anyone can check it.
    /// @param activatesAt When a pending root may be activated (0 for the active root).
    struct RootInfo {
        bytes32 root;
        uint64 week;
        uint64 activatesAt;
        uint256 cumulativeTotal;
        bytes32 contentHash;
    }

    /// @notice One claim of a batch (see `claim` for `anchor`).
    struct Claim {
        address account;
        uint256 cumulativeAmount;
        uint256 anchor;
        bytes32[] proof;
    }

    /// @notice The week published is not the next one.
    error RewardsUnexpectedWeek(uint256 week, uint256 expected);
    /// @notice A pending root is still in its challenge window.
    error RewardsRootPending(uint256 week, uint256 activatesAt);
    /// @notice No pending root.
    error RewardsNoPendingRoot();
    /// @notice The pending root's challenge window has not passed yet.
    error RewardsChallengeWindowOpen(uint256 activatesAt, uint256 timestamp);
    /// @notice The pending root's challenge window has passed: it can no longer be revoked.
    error RewardsChallengeWindowClosed(uint256 activatesAt, uint256 timestamp);
    /// @notice The root's cumulative total exceeds the DIMO funded to the distributor.
    error RewardsInsufficientFunds(uint256 cumulativeTotal, uint256 funded);
    /// @notice The root's cumulative total is below the active root's.
    error RewardsTotalDecreased(uint256 cumulativeTotal, uint256 previous);
    /// @notice The root is zero.
    error RewardsZeroRoot();
    /// @notice The proof does not prove `(account, cumulativeAmount)` under the active root.
    error RewardsInvalidProof(address account, uint256 cumulativeAmount);
    /// @notice Nothing left to claim: the cumulative amount is not above what was already claimed.
    error RewardsNothingToClaim(address account, uint256 cumulativeAmount, uint256 claimed);
    /// @notice The claim signature has expired.
    error RewardsSignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The claim signature is not the account's (wrong signer, nonce, chain or contract).
    error RewardsInvalidSignature(address account);
    /// @notice A zero address was given.
    error RewardsZeroAddress();
    /// @notice The challenge window is out of bounds.
    error RewardsInvalidChallengeWindow(uint256 window, uint256 min, uint256 max);
    /// @notice The cached layer is malformed (length not a multiple of 32, too many nodes) or does not
    /// hash up to the root.
    error RewardsInvalidCachedLayer(uint256 length, bytes32 computedRoot);
    /// @notice The caller may not revoke (not the guardian nor the Timelock).
    error RewardsNotRevoker(address caller);

    /// @notice Emitted after the vault released weeks `[fromWeek, toWeek)` to the distributor.
    event IssuancePulled(uint256 indexed fromWeek, uint256 toWeek, uint256 amount);
    /// @notice Emitted after `from` funded the distributor (compensation, referral budget…).
    event Funded(address indexed from, uint256 amount, bytes32 indexed reason);
    /// @notice Emitted after the publisher posted week `week`'s root, claimable from `activatesAt`.
    event RootPublished(
        uint256 indexed week,
        bytes32 indexed root,
        uint256 cumulativeTotal,
        bytes32 contentHash,
        uint256 activatesAt
    );
    /// @notice Emitted after a pending root was revoked during its challenge window.
    event RootRevoked(uint256 indexed week, bytes32 indexed root, address indexed by);
    /// @notice Emitted after a pending root became the active (claimable) root.
    event RootActivated(uint256 indexed week, bytes32 indexed root, uint256 cumulativeTotal);
    /// @notice Emitted after `amount` was paid to `account` itself (its claimed total is `claimed(account)`).
    event Claimed(address indexed account, uint256 amount);
    /// @notice Emitted after `amount` due to `account` was paid to another `recipient`.
    event ClaimedTo(address indexed account, address indexed recipient, uint256 amount);
    /// @notice Emitted after the Timelock changed the challenge window.
    event ChallengeWindowSet(uint256 window);

    /// @notice Releases every ended week from the issuance vault to this contract. Anyone.
    function pullIssuance() external returns (uint256 amount);

    /// @notice Adds `amount` DIMO from the caller (approval needed) to the funds. `reason` labels it.
    function fund(uint256 amount, bytes32 reason) external;

    /// @notice Posts week `week`'s root. Only the publisher. Activates a matured pending root first.
    /// @param cachedLayer Empty, or the concatenated 32-byte nodes of one layer of the tree (at most
    /// `MAX_CACHED_NODES`), which must hash up to `root`.
    function publishRoot(
        uint256 week,
        bytes32 root,
        uint256 cumulativeTotal,
        bytes32 contentHash,
        bytes calldata cachedLayer
    ) external;

    /// @notice Revokes the pending root during its challenge window. The guardian or the Timelock.
    function revokePendingRoot() external;

    /// @notice Makes the pending root claimable once its challenge window has passed. Anyone.
    function activateRoot() external;

    /// @notice Pays `account` what its cumulative amount under the active root exceeds its claims. Anyone.
    /// @param anchor 0 when `proof` reaches the root; `k + 1` when it reaches node `k` of the cached layer.
    function claim(
        address account,
        uint256 cumulativeAmount,
        uint256 anchor,
        bytes32[] calldata proof
    ) external returns (uint256);

    /// @notice The caller claims its own rewards to `recipient`.
    function claimTo(
        uint256 cumulativeAmount,
        uint256 anchor,
        bytes32[] calldata proof,
        address recipient
    ) external returns (uint256);

    /// @notice A relayer claims `account`'s rewards to `recipient`, carrying the account's EIP-712 signature
    /// of `ClaimTo(address account,address recipient,uint256 nonce,uint256 deadline)`.
    function claimToWithSig(
        address account,
        uint256 cumulativeAmount,
        uint256 anchor,
        bytes32[] calldata proof,
        address recipient,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256);

    /// @notice Many claims, each paid to its account. Entries with nothing left to claim are skipped.
    /// @return total The DIMO paid in all.
    function claimMany(Claim[] calldata claims) external returns (uint256 total);

    /// @notice The nodes of the cached layer of `root` (empty when none was posted).
    function cachedLayer(bytes32 root) external view returns (bytes32[] memory nodes);

    /// @notice Where the cached layer of `root` lives (code of up to two contracts; no code when none).
    function cachedLayerStores(bytes32 root) external view returns (address first, address second);

    /// @notice Used by the layer store's constructor while `publishRoot` runs: the chunk being stored.
    function layerChunk() external view returns (bytes memory);

    /// @notice The active (claimable) root.
    function activeRoot() external view returns (RootInfo memory);

    /// @notice The pending root (zero root when none).
    function pendingRoot() external view returns (RootInfo memory);

    /// @notice The next week the publisher may post.
    function nextWeek() external view returns (uint256);

    /// @notice Cumulative amount already paid for `account`.
    function claimed(address account) external view returns (uint256);

    /// @notice All DIMO ever funded (vault releases and `fund`), in wei.
    function totalFunded() external view returns (uint256);

    /// @notice The challenge window, in seconds.
    function challengeWindow() external view returns (uint256);

    /// @notice The DIMO token.
    function token() external view returns (IERC20);

    /// @notice Claim-signature nonce of `account`.
    function nonces(address account) external view returns (uint256);
}
