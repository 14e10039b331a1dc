/**
 * How far a task has finalized its meter windows, kept in a small logged
 * key-value store so it survives restarts and rebalances (docs/metering.md, "Windows, lateness and emission"): finals
 * are emitted once per window, never again after a restart, and never lost.
 */
import type { InternalRecordFormat } from '../schemas/config-types.js';
import { integerFieldsCodec, internalRecordSerde } from '../schemas/index.js';
import type { KeyValueStore, StoreSpec } from '../state/index.js';

export const meterCloseStateStoreName = 'meter-close-state';

export interface MeterCloseState {
  /** Every window starting before this has had its final record emitted (epoch ms). */
  readonly closedBeforeStartMs: number;
  /** The stream time or wall clock that last moved the bound (epoch ms); -1 before any. */
  readonly closedAtMs: number;
}

export const initialCloseState: MeterCloseState = { closedBeforeStartMs: 0, closedAtMs: -1 };

const stateKey = 'close';

const closeStateCodec = integerFieldsCodec<MeterCloseState, keyof MeterCloseState>('meter close state', ['closedBeforeStartMs', 'closedAtMs']);

export function meterCloseStateStoreSpec(format: InternalRecordFormat = 'binary'): StoreSpec<MeterCloseState> {
  return { name: meterCloseStateStoreName, kind: 'keyValue', persistent: true, caching: true, logging: true, valueSerde: internalRecordSerde(closeStateCodec, format) };
}

export function loadCloseState(store: KeyValueStore<MeterCloseState>): MeterCloseState {
  return store.get(stateKey) ?? initialCloseState;
}

export function saveCloseState(store: KeyValueStore<MeterCloseState>, state: MeterCloseState, timestampMs: number): void {
  store.put(stateKey, state, timestampMs);
}
