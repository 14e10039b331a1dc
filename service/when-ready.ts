/** The first time a started app is ready (every assigned task restored and processing), as a promise. */
import { TallyError } from '../schemas/index.js';
import type { KafkaApp } from '../topology/kafka/index.js';

const pollMs = 100;

/** Resolves when `app.ready` first holds; rejects if the app fails or closes before. Never keeps the process alive. */
export function whenReady(app: KafkaApp): Promise<void> {
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (app.ready) {
        clearInterval(timer);
        resolve();
      } else if (app.state === 'failed' || app.state === 'closed' || app.state === 'closing') {
        clearInterval(timer);
        reject(new TallyError('app-not-ready', `the pipeline is ${app.state} and never became ready`));
      }
    }, pollMs);
    timer.unref();
  });
  // Callers that never wait for readiness must not see an unhandled rejection.
  ready.catch(() => undefined);
  return ready;
}
