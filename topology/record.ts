/**
 * An immutable record flowing through a topology. `with*` returns a copy, so a
 * processor can never change what its siblings see.
 */
export type Headers = Readonly<Record<string, string>>;

export interface RecordInit<K, V> {
  readonly key: K;
  readonly value: V;
  readonly timestampMs: number;
  readonly headers?: Headers;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;
}

const noHeaders: Headers = Object.freeze({});

export class StreamRecord<K, V> {
  readonly key: K;
  readonly value: V;
  /** Event time in epoch milliseconds. */
  readonly timestampMs: number;
  readonly headers: Headers;
  /** Where the input record that caused this one came from; -1 / '' when unknown. */
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;

  constructor(init: RecordInit<K, V>) {
    this.key = init.key;
    this.value = init.value;
    this.timestampMs = init.timestampMs;
    this.headers = init.headers ?? noHeaders;
    this.topic = init.topic ?? '';
    this.partition = init.partition ?? -1;
    this.offset = init.offset ?? -1;
  }

  withKey<K2>(key: K2): StreamRecord<K2, V> {
    return this.#copy(key, this.value, this.timestampMs, this.headers);
  }

  withValue<V2>(value: V2): StreamRecord<K, V2> {
    return this.#copy(this.key, value, this.timestampMs, this.headers);
  }

  withTimestamp(timestampMs: number): StreamRecord<K, V> {
    return this.#copy(this.key, this.value, timestampMs, this.headers);
  }

  withHeaders(headers: Headers): StreamRecord<K, V> {
    return this.#copy(this.key, this.value, this.timestampMs, { ...this.headers, ...headers });
  }

  /** Field by field: spreading a class instance into an options object costs more than the record. */
  #copy<K2, V2>(key: K2, value: V2, timestampMs: number, headers: Headers): StreamRecord<K2, V2> {
    return new StreamRecord<K2, V2>({ key, value, timestampMs, headers, topic: this.topic, partition: this.partition, offset: this.offset });
  }
}

/** A window's bounds, half-open: [startMs, endMs). */
export interface TimeWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** The key of a windowed aggregate's output. */
export interface Windowed<K> {
  readonly key: K;
  readonly window: TimeWindow;
}

/** What a table-shaped node forwards: the value after and before an update. */
export interface Change<V> {
  readonly newValue: V | undefined;
  readonly oldValue: V | undefined;
}
