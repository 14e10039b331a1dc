/**
 * `POST /v1/events`: one CloudEvent or a JSON array of them. Each event goes
 * through the pipeline's own ingest decision (`classifyEvent`: decode with the
 * shared event rules, CloudEvents validation, the future bound, meter values
 * and group-by values), so the API refuses
 * exactly what the pipeline would dead-letter. Valid events (also those no
 * meter reads) are written to `topics.events`, keyed by subject; the answer
 * is 202 `{ accepted, rejected: [{ index, id?, reason, message }] }`, or 400
 * with the same lists when no event is valid. `rejected` lists at most the
 * first 100; `rejectedNotListed` then counts the others.
 */
import { classifyEvent, compileMeterPlans, jsonEventDecoder, type IngestSettings } from '../../processors/index.js';
import { checkEventValue, type TallyConfig } from '../../schemas/index.js';
import { HttpError, errorBody } from '../api-errors.js';
import type { EventProducer } from '../event-producer.js';
import type { Route, RouteRequest, RouteResponse } from '../http/router.js';

export interface EventsRouteOptions {
  readonly config: TallyConfig;
  readonly producer: EventProducer;
  readonly wallClockMs: () => number;
  readonly observeIngestApi: (accepted: number, rejectedByReason: ReadonlyMap<string, number>) => void;
}

export interface RejectedEvent {
  readonly index: number;
  readonly id?: string;
  readonly reason: string;
  readonly message: string;
}

export const eventMediaTypes = ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json'] as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A request's events, each either accepted (ready to write, keyed by subject) or rejected with its reason. */
export interface ClassifiedBatch {
  readonly total: number;
  readonly accepted: readonly { key: string; value: Buffer }[];
  readonly rejected: readonly RejectedEvent[];
}

/** The ingest steps both event routes share: read and classify a request's events, write the accepted ones. */
export interface EventBatches {
  /** Checks the content type, parses the body and runs every event through the pipeline's ingest decision. */
  classify(request: RouteRequest): Promise<ClassifiedBatch>;
  /** Writes accepted events to `topics.events`; 503 `kafka-unavailable` when Kafka does not take them. */
  write(accepted: ClassifiedBatch['accepted']): Promise<void>;
  /** Counts what a request accepted and rejected (metrics). */
  observe(accepted: number, rejected: readonly RejectedEvent[]): void;
}

export function createEventBatches(options: EventsRouteOptions): EventBatches {
  const settings: IngestSettings = { decoder: jsonEventDecoder(), maxFutureSkewMs: options.config.ingest.maxFutureSkewMs, plans: compileMeterPlans(options.config.meters) };
  return {
    async classify(request) {
      checkContentType(request.headers['content-type']);
      const events = parseEvents(await request.body());
      const nowMs = options.wallClockMs();
      const accepted: { key: string; value: Buffer }[] = [];
      const rejected: RejectedEvent[] = [];
      events.forEach((event, index) => {
        // The decoder's first rule, applied before JSON.stringify recurses into the event (it overflows
        // the stack on data nested thousands of levels deep); same function, same reason and message.
        const violation = checkEventValue(event);
        if (violation !== undefined) {
          rejected.push({ index, reason: violation.reason, message: violation.message });
          return;
        }
        const value = Buffer.from(JSON.stringify(event), 'utf8');
        const outcome = classifyEvent(value, nowMs, settings);
        if (outcome.kind === 'valid' || outcome.kind === 'unmatched') accepted.push({ key: outcome.event.subject, value });
        else if (outcome.kind === 'dead-letter') rejected.push({ index, ...idOf(outcome.failure.eventId), reason: outcome.failure.reason, message: outcome.failure.message });
        else rejected.push({ index, reason: 'unknown-schema', message: 'the event needs a schema the service has not loaded; send CloudEvents JSON' });
      });
      return { total: events.length, accepted, rejected };
    },
    write: (accepted) => send(options, accepted),
    observe(accepted, rejected) {
      const rejectedByReason = new Map<string, number>();
      for (const r of rejected) rejectedByReason.set(r.reason, (rejectedByReason.get(r.reason) ?? 0) + 1);
      options.observeIngestApi(accepted, rejectedByReason);
    },
  };
}

export function eventsRoute(options: EventsRouteOptions): Route {
  const batches = createEventBatches(options);
  return {
    method: 'POST',
    pattern: '/v1/events',
    async handle(request) {
      const { total, accepted, rejected } = await batches.classify(request);
      if (accepted.length > 0) await batches.write(accepted);
      batches.observe(accepted.length, rejected);
      return answer(total, accepted.length, rejected);
    },
  };
}

function idOf(id: string | undefined): { id?: string } {
  return id === undefined ? {} : { id };
}

async function send(options: EventsRouteOptions, messages: ClassifiedBatch['accepted']): Promise<void> {
  try {
    await options.producer.send(options.config.topics.events, messages);
  } catch (error) {
    throw new HttpError(
      503,
      'kafka-unavailable',
      `${(error as Error).message}: none of the events is accepted; retry later (retrying is safe: events are deduplicated by source and id)`,
      {},
      { 'Retry-After': '5' },
    );
  }
}

/** At most this many rejected events are listed in an answer; the others are only counted (`rejectedNotListed`). */
export const maxListedRejections = 100;

/** `rejected` (the first {@link maxListedRejections}) and, when some are left out, `rejectedNotListed`: how many. */
export function rejectionList(rejected: readonly RejectedEvent[]): { rejected: readonly RejectedEvent[]; rejectedNotListed?: number } {
  if (rejected.length <= maxListedRejections) return { rejected };
  return { rejected: rejected.slice(0, maxListedRejections), rejectedNotListed: rejected.length - maxListedRejections };
}

function answer(total: number, accepted: number, rejected: readonly RejectedEvent[]): RouteResponse {
  if (accepted > 0) return { status: 202, json: { accepted, ...rejectionList(rejected) } };
  const what = total === 1 ? 'the event is invalid' : `none of the ${total} events is valid`;
  return { status: 400, json: { ...errorBody('events-invalid', `${what}: see rejected for each event's reason; nothing was written`), accepted: 0, ...rejectionList(rejected) } };
}

function checkContentType(header: string | undefined): void {
  const [mediaType = '', ...parameters] = (header ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (!(eventMediaTypes as readonly string[]).includes(mediaType) || (charset !== undefined && charset !== 'utf-8')) {
    throw new HttpError(415, 'unsupported-media-type', `Content-Type ${JSON.stringify(header ?? '(none)')} is not accepted: send UTF-8 JSON as ${eventMediaTypes.join(', ')}`);
  }
}

/** The body as a list of candidate events: an object is one event, an array is many. */
function parseEvents(body: Buffer): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(body));
  } catch (error) {
    throw new HttpError(400, 'invalid-json', `the body is not UTF-8 JSON (${(error as Error).message}): send one CloudEvent object or an array of them`);
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) throw new HttpError(400, 'no-events', 'the body is an empty array: send at least one CloudEvent');
    return parsed;
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new HttpError(400, 'not-an-event', `the body is JSON ${parsed === null ? 'null' : `a ${typeof parsed}`}: send one CloudEvent object or an array of them`);
  }
  return [parsed];
}
