// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Weekly reward distributor
/// @notice Pays DIMO rewards from weekly Merkle roots over *cumulative* per-account amounts: one claim pays
/// every week earned so far. Leaves are OpenZeppelin StandardMerkleTree leaves of
/// `(address account, uint256 cumulativeAmount)`: `keccak256(bytes.concat(keccak256(abi.encode(account,
/// cumulativeAmount))))`, hashed in sorted pairs.
/// @dev Warning: the publisher (the rewards oracle) can only propose roots: week N only after week N has
/// ended by the issuance vault's clock (`vault.weekStart(N + 1) <= block.timestamp`) and after week N - 1,
/// computed under the policy whose hash the Timelock set (`policyHash()`), with a cumulative total that never
/// decreases and never exceeds what was funded. A root becomes claimable only after the challenge window
/// (default 24 h, from 1 h to 7 days), during which the guardian or the Timelock can revoke it.
/// @dev Warning: the guardian can revoke a pending root, or uphold a dispute (which revokes it), at most
/// `MAX_GUARDIAN_REVOCATIONS` (3) times in a row: the count restarts only when a root activates. After the
/// third, only the Timelock can revoke until a root activates, so the guardian alone can hold rewards back for
/// at most three publications (each pending for one challenge window, plus at most one dispute hold of
/// `DISPUTE_PERIOD`) and never stop them. The Timelock's revocations are not bounded. Undo: the Timelock
/// removes the guardian (`revokeRole(GUARDIAN_ROLE, guardian)`) and publishes again.
/// @dev Warning: the guardian can dismiss a dispute (the bond goes to the Timelock and the root may activate
/// once its window has passed): a guardian colluding with the publisher can let a bad root through a
/// dispute. Bound: the Timelock can still revoke that root while its challenge window is open.
/// @dev Warning: disputes. Anyone may dispute the pending root, once per publication and inside its challenge
/// window, by putting up `disputeBond()` DIMO (set by the Timelock; 10,000 DIMO by default at deploy). An open
/// dispute holds activation, and therefore the next publication, until the guardian or the Timelock resolves
/// it: upheld revokes the root and returns the bond; dismissed sends the bond to the Timelock (treasury). A
/// dispute nobody resolves lapses `DISPUTE_PERIOD` (14 days) after it was opened: it can no longer be
/// resolved, the root activates as if undisputed and the bond goes back to the disputer. While a dispute is
/// open `revokePendingRoot` is refused: the root is decided through `resolveDispute`.
/// @dev Warning: how the DAO acts inside the challenge window (review finding I-3). The window (≤ 7 days) is
/// shorter than a governance cycle (default 1 day delay + 7 days vote + 2 days Timelock = 10 days), so a
/// proposal to revoke a root would come too late. Instead a DAO member disputes the root: the dispute holds
/// activation for up to `DISPUTE_PERIOD` (14 days, longer than the cycle), long enough for a proposal calling
/// `resolveDispute(true)` (or `resolveDispute(false)`) to pass and execute. A DAO that lengthens its cycle
/// beyond 14 days loses this path.
/// @dev Warning: the Timelock sets the policy hash, the challenge window, the dispute bond and every role.
///
/// Cheap claims: with each root the publisher may post one whole layer of the tree (at most
/// `MAX_CACHED_NODES` nodes, e.g. the layer 10 levels below the root of a million-leaf tree). The contract
/// checks that the layer hashes up to the root and keeps it in contract code (cheap to read). A claim then
/// carries only the proof from its leaf up to that layer plus the node's position (`anchor`): at depth 20
/// that is 10 siblings instead of 20. A full proof to the root (`anchor == 0`) always works too; it is a
/// plain OpenZeppelin `MerkleProof` proof. Layers follow the merkletreejs rule: pairs `(2j, 2j + 1)` are
/// hashed sorted, an odd last node is carried up unchanged. The layer is optional per root: an empty
/// `cachedLayer` publishes the root alone (cheap to publish, every claim then carries a full proof).
///
/// @dev Warning: who may claim for whom. `claim(account, …)` and `claimMany` pay the account itself and anyone
/// may send them: a third party can therefore front-run a relayed `claimToWithSig` with `claim(account)`. The
/// money still goes to the account (never to the third party), not to the signed recipient; the relayed call
/// then reverts with `RewardsNothingToClaim` without using the nonce, so the signature stays valid for the
/// amounts of later weeks. There is no opt-out: an opt-out bit would cost every claim ~90 gas (measured).
/// A relayer should treat `RewardsNothingToClaim` as "already paid to the account". A signed `ClaimTo` is
/// cancelled by `invalidateNonce()`, and the account's own `claimTo` uses the nonce too, so an older signature
/// cannot redirect later claims.
///
/// There is deliberately no on-chain running total of claims (it would cost every claim a
/// storage write): the total claimed is the sum of `Claimed` and `ClaimedTo` events, and the balance always
/// covers `totalFunded` minus that sum (plus the bond of an open dispute). Funds arrive only from the issuance
/// vault (`pullIssuance`) and explicit `fund` calls (slashing compensation, referral budget).
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

    /// @notice The dispute of the pending root.
    /// @param disputer Who put up the bond (zero when the pending root has no open dispute).
    /// @param bond The DIMO held, in wei.
    /// @param resolvesBy When the dispute lapses if nobody resolved it (unix seconds).
    struct DisputeInfo {
        address disputer;
        uint256 bond;
        uint256 resolvesBy;
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
    /// @notice Week `week` has not ended yet by the issuance vault's clock: it ends at `endsAt`.
    error RewardsWeekNotEnded(uint256 week, uint256 endsAt);
    /// @notice The root was computed under another policy than the one the Timelock set.
    error RewardsPolicyMismatch(bytes32 given, bytes32 expected);
    /// @notice The policy hash is zero.
    error RewardsZeroPolicyHash();
    /// @notice A pending root is still in its challenge window.
    error RewardsRootPending(uint256 week, uint256 activatesAt);
    /// @notice No pending root.
    error RewardsNoPendingRoot();
    /// @notice The pending root's challenge window has not passed yet.
    error RewardsChallengeWindowOpen(uint256 activatesAt, uint256 timestamp);
    /// @notice The pending root's challenge window has passed: it can no longer be revoked or disputed.
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
    /// @notice The caller may not revoke or resolve (not the guardian nor the Timelock).
    error RewardsNotRevoker(address caller);
    /// @notice The guardian has revoked `count` roots since the last activation, the most it may: only the
    /// Timelock can revoke until a root activates.
    error RewardsGuardianRevocationLimit(uint256 count, uint256 max);
    /// @notice The pending root of week `week` has an open dispute, which lapses at `resolvesBy`.
    error RewardsRootDisputed(uint256 week, uint256 resolvesBy);
    /// @notice The pending root of week `week` was already disputed once.
    error RewardsAlreadyDisputed(uint256 week);
    /// @notice The pending root has no open dispute.
    error RewardsNoOpenDispute();
    /// @notice The dispute lapsed at `resolvesBy`: it can no longer be resolved.
    error RewardsDisputeLapsed(uint256 resolvesBy, uint256 timestamp);
    /// @notice The dispute bond is out of bounds.
    error RewardsInvalidDisputeBond(uint256 bond, uint256 min, uint256 max);

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
    /// @notice Emitted after a pending root was revoked (directly, or by an upheld dispute).
    event RootRevoked(uint256 indexed week, bytes32 indexed root, address indexed by);
    /// @notice Emitted after a pending root became the active (claimable) root.
    event RootActivated(uint256 indexed week, bytes32 indexed root, uint256 cumulativeTotal);
    /// @notice Emitted after `disputer` put up `bond` DIMO to dispute the pending root.
    event RootDisputed(
        uint256 indexed week,
        bytes32 indexed root,
        address indexed disputer,
        uint256 bond,
        bytes32 evidenceHash
    );
    /// @notice Emitted after the guardian or the Timelock (`by`) resolved the dispute of week `week`'s root.
    event DisputeResolved(uint256 indexed week, bytes32 indexed root, bool upheld, address indexed by);
    /// @notice Emitted after an unresolved dispute lapsed and its bond went back to the disputer.
    event DisputeLapsed(uint256 indexed week, bytes32 indexed root, address indexed disputer, uint256 bond);
    /// @notice Emitted after `amount` was paid to `account` itself (its claimed total is `claimed(account)`).
    event Claimed(address indexed account, uint256 amount);
    /// @notice Emitted after `amount` due to `account` was paid to another `recipient`.
    event ClaimedTo(address indexed account, address indexed recipient, uint256 amount);
    /// @notice Emitted after the Timelock changed the challenge window.
    event ChallengeWindowSet(uint256 window);
    /// @notice Emitted after the Timelock set the policy hash roots must be computed under.
    event PolicyHashSet(bytes32 policyHash);
    /// @notice Emitted after the Timelock set the dispute bond.
    event DisputeBondSet(uint256 bond);
    /// @notice Emitted after `account` cancelled its `ClaimTo` signatures of nonce `nonce`.
    event NonceInvalidated(address indexed account, uint256 nonce);

    /// @notice Releases every ended week from the issuance vault to this contract. Anyone.
    function pullIssuance() external returns (uint256 amount);

    /// @notice Adds `amount` DIMO from the caller (approval needed) to the funds. `reason` labels it.
    function fund(uint256 amount, bytes32 reason) external;

    /// @notice Posts week `week`'s root. Only the publisher, only once week `week` has ended by the vault's
    /// clock. Activates a matured, undisputed (or lapsed) pending root first.
    /// @param policyHash Hash of the rewards policy the root was computed under; must equal `policyHash()`.
    /// @param cachedLayer Empty (no layer), or the concatenated 32-byte nodes of one layer of the tree (at most
    /// `MAX_CACHED_NODES`), which must hash up to `root`.
    function publishRoot(
        uint256 week,
        bytes32 root,
        uint256 cumulativeTotal,
        bytes32 contentHash,
        bytes32 policyHash,
        bytes calldata cachedLayer
    ) external;

    /// @notice Revokes the pending root during its challenge window. The guardian (bounded, see above) or the
    /// Timelock. Refused while a dispute is open.
    function revokePendingRoot() external;

    /// @notice Makes the pending root claimable once its challenge window has passed and no open dispute
    /// holds it. Anyone.
    function activateRoot() external;

    /// @notice Disputes the pending root inside its challenge window, pulling `disputeBond()` DIMO from the
    /// caller (approval needed). Anyone, once per publication.
    /// @param evidenceHash Hash of the evidence (e.g. of a `rewards:verify` report), logged only.
    function disputePendingRoot(bytes32 evidenceHash) external;

    /// @notice Resolves the open dispute before it lapses. The guardian or the Timelock. `upheld` revokes the
    /// root (a guardian revocation counts against its bound) and returns the bond; otherwise the bond goes to
    /// the Timelock and the root may activate once its window has passed.
    function resolveDispute(bool upheld) external;

    /// @notice Pays `account` what its cumulative amount under the active root exceeds its claims. Anyone.
    /// @param anchor 0 when `proof` reaches the root; `k + 1` when it reaches node `k` of the cached layer.
    function claim(
        address account,
        uint256 cumulativeAmount,
        uint256 anchor,
        bytes32[] calldata proof
    ) external returns (uint256);

    /// @notice The caller claims its own rewards to `recipient`. Uses the caller's `ClaimTo` nonce, so that
    /// no signature given earlier can redirect later claims.
    function claimTo(
        uint256 cumulativeAmount,
        uint256 anchor,
        bytes32[] calldata proof,
        address recipient
    ) external returns (uint256);

    /// @notice A relayer claims `account`'s rewards to `recipient`, carrying the account's EIP-712 signature
    /// of `ClaimTo(address account,address recipient,uint256 nonce,uint256 deadline)`, valid until
    /// `deadline` inclusive. Reverts with `RewardsNothingToClaim` when nothing is left (the nonce is not used).
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

    /// @notice Cancels every `ClaimTo` signature of the caller's current nonce.
    /// @return nonce The nonce cancelled.
    function invalidateNonce() external returns (uint256 nonce);

    /// @notice Sets the policy hash roots must carry. Only the Timelock.
    function setPolicyHash(bytes32 policyHash) external;

    /// @notice Sets the DIMO bond of future disputes. Only the Timelock.
    function setDisputeBond(uint256 bond) external;

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

    /// @notice The open dispute of the pending root (zero disputer when none).
    function pendingDispute() external view returns (DisputeInfo memory);

    /// @notice Guardian revocations since the last activation (at most `MAX_GUARDIAN_REVOCATIONS`).
    function guardianRevocations() external view returns (uint256);

    /// @notice The next week the publisher may post.
    function nextWeek() external view returns (uint256);

    /// @notice Cumulative amount already paid for `account`.
    function claimed(address account) external view returns (uint256);

    /// @notice All DIMO ever funded (vault releases and `fund`), in wei.
    function totalFunded() external view returns (uint256);

    /// @notice The challenge window, in seconds.
    function challengeWindow() external view returns (uint256);

    /// @notice Hash of the rewards policy roots must be computed under (set by the Timelock).
    function policyHash() external view returns (bytes32);

    /// @notice DIMO bond of a dispute, in wei.
    function disputeBond() external view returns (uint256);

    /// @notice Where dismissed dispute bonds go (the Timelock given at deploy).
    function treasury() external view returns (address);

    /// @notice The DIMO token.
    function token() external view returns (IERC20);

    /// @notice Claim-signature nonce of `account`.
    function nonces(address account) external view returns (uint256);
}
