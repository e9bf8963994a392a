/// <reference types="vite/client" />

/** The network name the page was built for (`DIMO_APP_NETWORK`, see vite.config.ts). */
declare const __DIMO_NETWORK__: string;
/** Week files up to this size are read whole and checked against their content hash (DIMO_APP_WHOLE_FILE_LIMIT). */
declare const __DIMO_WHOLE_FILE_LIMIT__: number;
/** Weeks of history read at first and per "Show earlier weeks" (DIMO_APP_HISTORY_PAGE). */
declare const __DIMO_HISTORY_PAGE__: number;
/** Seconds between re-reads of the chain while the page is in view (DIMO_APP_REFRESH_SECONDS). */
declare const __DIMO_REFRESH_SECONDS__: number;
/** Whether the page was built with a data node under `node/` beside it (DIMO_APP_NODE): the access-log panels. */
declare const __DIMO_NODE__: boolean;
/** `npm run app` only: the local node the demo wallet forwards to (DIMO_APP_DEV_RPC); "" in any other build. */
declare const __DIMO_DEV_RPC__: string;

interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] | object }): Promise<unknown>;
  on?(event: string, listener: (...args: unknown[]) => void): void;
  removeListener?(event: string, listener: (...args: unknown[]) => void): void;
}

interface Window {
  ethereum?: Eip1193Provider;
}
