/**
 * The events-by-subject repartition's values in the binary internal-record
 * form: the input offset, the CloudEvent's envelope fields as strings and
 * its event time as a varint, and `data` as JSON text (it is arbitrary JSON,
 * and JSON is what it arrived as).
 */
import type { InternalRecordFormat } from '../../schemas/config-types.js';
import { internalRecordSerde, NotEncodable, type BinaryCodec, type Serde } from '../../schemas/index.js';
import type { IngestedEvent } from './ingested-event.js';

const ingestedEventCodec: BinaryCodec<IngestedEvent> = {
  name: 'ingested event',
  version: 1,
  write: (writer, { event, offset }) => {
    if (event.specversion !== '1.0') throw new NotEncodable(`specversion ${JSON.stringify(event.specversion)}`);
    writer.signed(offset);
    writer.string(event.id);
    writer.string(event.source);
    writer.string(event.type);
    writer.string(event.subject);
    writer.string(event.time);
    writer.signed(event.timeMs);
    writer.string(JSON.stringify(event.data));
  },
  read: (reader) => {
    const offset = reader.signed();
    // Fields in the order the ingest builds them, so a re-serialized event reads as before.
    const id = reader.string();
    const source = reader.string();
    const type = reader.string();
    const subject = reader.string();
    const time = reader.string();
    const timeMs = reader.signed();
    const data = JSON.parse(reader.string()) as IngestedEvent['event']['data'];
    return { event: { specversion: '1.0', id, source, type, subject, time, timeMs, data }, offset };
  },
};

export function ingestedEventSerdeFor(format: InternalRecordFormat): Serde<IngestedEvent> {
  return internalRecordSerde(ingestedEventCodec, format);
}
