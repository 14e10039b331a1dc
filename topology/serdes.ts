/** Serdes the runtime adds to the leaf ones in schemas/. */
import type { Serde } from '../schemas/index.js';
import type { Windowed } from './record.js';

/** A windowed string key as JSON: `{"key":"k","startMs":0,"endMs":60000}`. */
export const windowedKeySerde: Serde<Windowed<string>> = {
  serialize: (w) => Buffer.from(JSON.stringify({ key: w.key, startMs: w.window.startMs, endMs: w.window.endMs }), 'utf8'),
  deserialize: (bytes) => {
    const parsed = JSON.parse(bytes.toString('utf8')) as { key: string; startMs: number; endMs: number };
    return { key: parsed.key, window: { startMs: parsed.startMs, endMs: parsed.endMs } };
  },
};
