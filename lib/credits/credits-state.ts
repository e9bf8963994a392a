/**
 * The node's view of DataCredits (docs/data-api.md "Paying for reads"): the events it needs decoded
 * (`decodeCreditsLog`) and reduced into balances, channels and the price (`applyCreditsEvent`), so a read's budget
 * check costs no RPC call. ConsentIndex (lib/consent/chain-index.ts) polls these logs with the consent ones, under
 * the same staleness bound.
 *
 * Every figure follows the contract exactly: `balance` is the event's `balance` after a deposit, less each
 * withdrawal and charge; `pendingWithdrawal` is replaced by a request and cleared by `Withdrawn`; a redeem sets the
 * channel to the receipt's (cumulativeCredits, sequence). `available` is DataCredits.available.
 *
 * Pure: no I/O.
 */
import { getAddress, Interface, type Log } from "ethers";

export const CREDITS_EVENTS = new Interface([
  "event Deposited(address indexed consumer, address indexed from, uint256 amount, uint256 balance)",
  "event WithdrawalRequested(address indexed consumer, uint256 amount, uint256 releaseAt)",
  "event Withdrawn(address indexed consumer, uint256 amount, uint256 requested)",
  "event ReceiptRedeemed(address indexed consumer, address indexed node, uint256 indexed week, uint256 sequence, uint256 cumulativeCredits, uint256 credits, uint256 pricePerCredit, uint256 charge)",
  "event PriceSet(uint256 pricePerCredit)",
]);

export type CreditsEvent =
  | { kind: "Deposited"; consumer: string; amount: bigint; balance: bigint }
  | { kind: "WithdrawalRequested"; consumer: string; amount: bigint; releaseAt: bigint }
  | { kind: "Withdrawn"; consumer: string; amount: bigint }
  | {
      kind: "ReceiptRedeemed";
      consumer: string;
      node: string;
      sequence: bigint;
      cumulativeCredits: bigint;
      charge: bigint;
    }
  | { kind: "PriceSet"; pricePerCredit: bigint };

/** A consumer's account as DataCredits.account returns it (amounts in wei). */
export interface CreditsAccount {
  balance: bigint;
  pendingWithdrawal: bigint;
  releaseAt: bigint;
  deposited: bigint;
  redeemed: bigint;
  withdrawn: bigint;
}

/** A (consumer, node) channel: what was redeemed. */
export interface CreditsChannel {
  credits: bigint;
  sequence: bigint;
}

export interface CreditsState {
  /** Price per credit in wei; 0 until the constructor's `PriceSet` was indexed. */
  pricePerCredit: bigint;
  accounts: Map<string, CreditsAccount>;
  /** Keyed `consumer:node` (checksummed addresses). */
  channels: Map<string, CreditsChannel>;
}

export function emptyCreditsState(): CreditsState {
  return { pricePerCredit: 0n, accounts: new Map(), channels: new Map() };
}

const EMPTY_ACCOUNT: CreditsAccount = {
  balance: 0n,
  pendingWithdrawal: 0n,
  releaseAt: 0n,
  deposited: 0n,
  redeemed: 0n,
  withdrawn: 0n,
};

export function channelKey(consumer: string, node: string): string {
  return `${getAddress(consumer)}:${getAddress(node)}`;
}

export function accountOf(state: CreditsState, consumer: string): CreditsAccount {
  return state.accounts.get(getAddress(consumer)) ?? { ...EMPTY_ACCOUNT };
}

export function channelOf(state: CreditsState, consumer: string, node: string): CreditsChannel {
  return state.channels.get(channelKey(consumer, node)) ?? { credits: 0n, sequence: 0n };
}

/** DataCredits.available: balance minus the pending withdrawal, floored at 0. */
export function availableOf(a: CreditsAccount): bigint {
  return a.balance > a.pendingWithdrawal ? a.balance - a.pendingWithdrawal : 0n;
}

/** Decodes a DataCredits log (undefined for the events the node does not use). */
export function decodeCreditsLog(log: Pick<Log, "topics" | "data">): CreditsEvent | undefined {
  let parsed;
  try {
    parsed = CREDITS_EVENTS.parseLog({ topics: [...log.topics], data: log.data });
  } catch {
    return undefined;
  }
  if (parsed === null) return undefined;
  const a = parsed.args;
  switch (parsed.name) {
    case "Deposited":
      return { kind: "Deposited", consumer: getAddress(a.consumer), amount: a.amount, balance: a.balance };
    case "WithdrawalRequested":
      return {
        kind: "WithdrawalRequested",
        consumer: getAddress(a.consumer),
        amount: a.amount,
        releaseAt: a.releaseAt,
      };
    case "Withdrawn":
      return { kind: "Withdrawn", consumer: getAddress(a.consumer), amount: a.amount };
    case "ReceiptRedeemed":
      return {
        kind: "ReceiptRedeemed",
        consumer: getAddress(a.consumer),
        node: getAddress(a.node),
        sequence: a.sequence,
        cumulativeCredits: a.cumulativeCredits,
        charge: a.charge,
      };
    case "PriceSet":
      return { kind: "PriceSet", pricePerCredit: a.pricePerCredit };
  }
  return undefined;
}

/** Applies one event (in chain order). */
export function applyCreditsEvent(state: CreditsState, e: CreditsEvent): void {
  if (e.kind === "PriceSet") {
    state.pricePerCredit = e.pricePerCredit;
    return;
  }
  const a = accountOf(state, e.consumer);
  switch (e.kind) {
    case "Deposited":
      a.balance = e.balance;
      a.deposited += e.amount;
      break;
    case "WithdrawalRequested":
      a.pendingWithdrawal = e.amount;
      a.releaseAt = e.releaseAt;
      break;
    case "Withdrawn":
      a.balance -= e.amount;
      a.withdrawn += e.amount;
      a.pendingWithdrawal = 0n;
      a.releaseAt = 0n;
      break;
    case "ReceiptRedeemed":
      a.balance -= e.charge;
      a.redeemed += e.charge;
      state.channels.set(channelKey(e.consumer, e.node), { credits: e.cumulativeCredits, sequence: e.sequence });
      break;
  }
  state.accounts.set(getAddress(e.consumer), a);
}
