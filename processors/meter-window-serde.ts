/**
 * The serde of a meter window store's values: the event count, then the
 * accumulator in its aggregation's layout. One serde per meter store, chosen
 * by the meter's aggregation.
 */
import type { AggregationName, InternalRecordFormat } from '../schemas/config-types.js';
import { internalRecordSerde, type BinaryCodec, type Serde } from '../schemas/index.js';
import { aggregationFor } from './aggregations/index.js';
import type { MeterWindowValue } from './aggregations/aggregation.js';

function meterWindowCodec(aggregation: AggregationName): BinaryCodec<MeterWindowValue> {
  const accumulator = aggregationFor(aggregation).codec;
  return {
    name: `meter window (${aggregation})`,
    version: 1,
    write: (writer, value) => {
      writer.unsigned(value.count);
      accumulator.write(writer, value.acc);
    },
    read: (reader) => {
      const count = reader.unsigned();
      return { acc: accumulator.read(reader), count };
    },
  };
}

export function meterWindowValueSerde(aggregation: AggregationName, format: InternalRecordFormat): Serde<MeterWindowValue> {
  return internalRecordSerde(meterWindowCodec(aggregation), format);
}
