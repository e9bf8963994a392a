/**
 * Whether a week's root should be published with its cached layer (see IRewardDistributor): the layer
 * costs the publisher gas once (storing it as contract code) and saves every claim of that root the proof
 * levels between the layer and the root. It pays when the expected claims times the saving per claim exceed
 * the extra publication gas. Figures come from `gas-snapshot.json` (measured by scripts/gas-snapshot.ts).
 */
import { InputError } from "../errors";

export const LAYER_MODES = ["always", "never", "auto"] as const;
export type LayerMode = (typeof LAYER_MODES)[number];

/** Levels between the snapshot's 1,024-node layer and its root (a depth-20 tree cached at depth 10). */
const SNAPSHOT_LAYER_NODES = 1024;
const SNAPSHOT_LEVELS_SKIPPED = 10;

/** The measured figures the estimate uses, per unit. */
export interface LayerGasModel {
  /** Extra gas of publishing with a layer, per node. */
  publishGasPerNode: number;
  /** Gas a claim saves per proof level the layer skips. */
  claimGasPerLevel: number;
}

/** Reads the model from the gas snapshot's entries; fails naming the missing entry. */
export function layerGasModel(snapshot: Record<string, unknown>, source: string): LayerGasModel {
  const entry = (key: string): number => {
    const v = snapshot[key];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new InputError(source, key, "missing or not a positive number (run `npm run gas:snapshot`)");
    }
    return v;
  };
  const publishExtra = entry("rewards.publish.layer") - entry("rewards.publish.noLayer");
  const claimSaving = entry("claim.repeat.depth20.fullProof") - entry("claim.repeat.depth20");
  if (publishExtra <= 0) throw new InputError(source, "rewards.publish.layer", "is not above rewards.publish.noLayer");
  if (claimSaving <= 0) {
    throw new InputError(source, "claim.repeat.depth20.fullProof", "is not above claim.repeat.depth20");
  }
  return {
    publishGasPerNode: publishExtra / SNAPSHOT_LAYER_NODES,
    claimGasPerLevel: claimSaving / SNAPSHOT_LEVELS_SKIPPED,
  };
}

export interface LayerChoice {
  useLayer: boolean;
  mode: LayerMode;
  /** Expected claims of the root (average per week of the recent weeks). */
  expectedClaims: number;
  /** Extra gas of posting this layer. */
  publishExtraGas: number;
  /** Gas each claim saves with this layer. */
  savingPerClaimGas: number;
  /** Claims above which the layer pays (Infinity when it saves nothing). */
  breakEvenClaims: number;
}

/**
 * Decides for a layer of `nodes` nodes, `levelsSkipped` levels below the root: `always` and `never` force the
 * answer; `auto` posts the layer only when `expectedClaims` exceeds the break-even count.
 */
export function chooseLayer(
  mode: LayerMode,
  model: LayerGasModel,
  layer: { nodes: number; levelsSkipped: number },
  expectedClaims: number,
): LayerChoice {
  const publishExtraGas = Math.round(model.publishGasPerNode * layer.nodes);
  const savingPerClaimGas = Math.round(model.claimGasPerLevel * layer.levelsSkipped);
  const breakEvenClaims = savingPerClaimGas > 0 ? Math.ceil(publishExtraGas / savingPerClaimGas) : Infinity;
  const useLayer = layer.nodes > 0 && (mode === "always" || (mode === "auto" && expectedClaims > breakEvenClaims));
  return { useLayer, mode, expectedClaims, publishExtraGas, savingPerClaimGas, breakEvenClaims };
}

/**
 * Average claims per week over the recent weeks: `claimBlocks` are the blocks of `Claimed`/`ClaimedTo`
 * events, `activationBlocks` those of the last `RootActivated` events (one a week). Claims from the oldest
 * activation counted on, divided by the number of activations; 0 without any activation.
 */
export function claimsPerWeek(activationBlocks: readonly number[], claimBlocks: readonly number[], weeks = 4): number {
  const recent = [...activationBlocks].sort((a, b) => a - b).slice(-weeks);
  if (recent.length === 0) return 0;
  const from = recent[0];
  const n = claimBlocks.filter((b) => b >= from).length;
  return Math.round(n / recent.length);
}

/** Parses `--layer`; an unknown value is an InputError naming the argument. */
export function parseLayerMode(value: string): LayerMode {
  if ((LAYER_MODES as readonly string[]).includes(value)) return value as LayerMode;
  throw new InputError("--layer", "value", `"${value}" is not one of ${LAYER_MODES.join(", ")}`);
}

/**
 * The claim arguments for a root: the short proof up to the cached layer when that layer was posted on chain
 * (`layerOnChain`, e.g. `cachedLayerStores(root)` has code), else the full proof to the root (anchor 0).
 */
export function claimProof(
  p: { anchor: number; shortProof: string[]; proof: string[] },
  layerOnChain: boolean,
): { anchor: number; proof: string[] } {
  return layerOnChain ? { anchor: p.anchor, proof: p.shortProof } : { anchor: 0, proof: p.proof };
}
