/**
 * Messages between the service (main thread) and its HTTP front (a worker
 * thread that owns the listening socket; see http-front.ts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ReplicaChange } from '../queries/entitlement-replica.js';
import type { EntitlementsOfCustomer } from '../../processors/index.js';
import type { HttpLimits } from './http-server.js';

/** A route as the front knows it: where it is and whether it needs a token; the main thread handles it. */
export interface RouteShape {
  readonly method: 'GET' | 'POST';
  readonly pattern: string;
  readonly public?: boolean;
}

/** What the front needs to answer entitlement reads from its replica. */
export interface FrontEntitlements {
  /** Patterns of the two public entitlement routes, and of the internal reads other instances make of the tasks here. */
  readonly allPattern: string;
  readonly onePattern: string;
  readonly statesPattern: string;
  readonly termsPattern: string;
  /** The config's customers (zone, anchor, entitlements if any): what a customer without a row on the customers topic declares. */
  readonly configured: readonly (EntitlementsOfCustomer & { readonly id: string })[];
}

export interface FrontSettings {
  readonly routes: readonly RouteShape[];
  readonly tokens: readonly string[];
  readonly maxBodyBytes: number;
  readonly limits: HttpLimits;
  /**
   * Entitlement reads answered in the front from its replica, with the
   * system clock; undefined: every request goes to the main thread.
   */
  readonly entitlements?: FrontEntitlements;
}

/** A request the front hands to the main thread: the index of its route in `routes`, and what the route needs. */
export interface ForwardedRequest {
  readonly route: number;
  readonly method: string;
  readonly url: string;
  readonly params: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly body: Uint8Array | undefined;
}

/** A route's answer, its JSON already text. */
export interface ForwardedResponse {
  readonly status: number;
  readonly text: string;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A route's failure, as the error body the API sends (the front shapes it for its path, e.g. as problem details). */
export interface ForwardedError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
}

export type ToFront =
  | { readonly type: 'listen'; readonly host: string; readonly port: number }
  | { readonly type: 'close'; readonly graceMs: number }
  | { readonly type: 'answer'; readonly id: number; readonly response?: ForwardedResponse; readonly error?: ForwardedError }
  | { readonly type: 'replica'; readonly change: ReplicaChange };

export type FromFront =
  | { readonly type: 'listening'; readonly host: string; readonly port: number }
  | { readonly type: 'listen-failed'; readonly message: string; readonly code: string | undefined }
  | { readonly type: 'closed' }
  | { readonly type: 'request'; readonly id: number; readonly request: ForwardedRequest }
  | { readonly type: 'observe'; readonly method: string; readonly route: string; readonly status: number; readonly seconds: number }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string };
