/** Typed errors of the exporters. Codes are stable; messages are for humans. */
import { HangwatchError } from '../errors.js';

/** The exporter's metric names are already taken in the registry (a second exporter on the same registry). */
export class MetricsAlreadyRegisteredError extends HangwatchError {
  declare readonly code: 'ERR_METRICS_ALREADY_REGISTERED';
  constructor(name: string, options: { cause?: unknown } = {}) {
    super(
      'ERR_METRICS_ALREADY_REGISTERED',
      `a metric named ${name} is already registered; use another registry or prefix, or stop() the other exporter`,
      options,
    );
  }
}
