/**
 * Build a pprof profile (gzip-compressed protobuf, what `go tool pprof`, Pyroscope, Google Cloud
 * Profiler and Datadog read) from stacks of `StackFrame`s, with `pprof-format` as the encoder.
 * Functions and locations are deduplicated; stacks are given leaf first, as pprof wants.
 */
import { gzipSync } from 'node:zlib';
import { Function as PprofFunction, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import type { StackFrame } from '../capture/stack-frame.js';

export interface PprofSpec {
  /** e.g. `[['samples', 'count'], ['cpu', 'nanoseconds']]` */
  sampleTypes: Array<[type: string, unit: string]>;
  periodType: [type: string, unit: string];
  period: number;
  /** Wall-clock start, ms since the epoch. */
  startEpochMs?: number;
  durationNanos?: number;
}

export class PprofBuilder {
  readonly #strings = new StringTable();
  readonly #functions: PprofFunction[] = [];
  readonly #locations: Location[] = [];
  readonly #samples: Sample[] = [];
  readonly #functionIds = new Map<string, number>();
  readonly #locationIds = new Map<string, number>();
  readonly #spec: PprofSpec;

  constructor(spec: PprofSpec) {
    this.#spec = spec;
  }

  locationOf(frame: StackFrame): number {
    const key = `${frame.functionName}\0${frame.file}\0${frame.line}\0${frame.column}`;
    let id = this.#locationIds.get(key);
    if (id !== undefined) return id;
    const fnKey = `${frame.functionName}\0${frame.file}\0${frame.line}`;
    let fnId = this.#functionIds.get(fnKey);
    if (fnId === undefined) {
      fnId = this.#functions.length + 1;
      const name = this.#strings.dedup(frame.functionName);
      this.#functions.push(
        new PprofFunction({
          id: fnId,
          name,
          systemName: name,
          filename: this.#strings.dedup(frame.file),
          startLine: Math.max(0, frame.line),
        }),
      );
      this.#functionIds.set(fnKey, fnId);
    }
    id = this.#locations.length + 1;
    this.#locations.push(
      new Location({
        id,
        line: [new Line({ functionId: fnId, line: Math.max(0, frame.line), column: Math.max(0, frame.column) })],
      }),
    );
    this.#locationIds.set(key, id);
    return id;
  }

  /** One sample: stack leaf first, one value per sample type. */
  addSample(leafFirst: readonly StackFrame[], values: readonly number[]): void {
    this.#samples.push(
      new Sample({ locationId: leafFirst.map((f) => this.locationOf(f)), value: values.map((v) => Math.round(v)) }),
    );
  }

  /** Encoded, gzip-compressed pprof. */
  encode(): Buffer {
    const s = this.#spec;
    const vt = ([type, unit]: [string, string]): ValueType =>
      new ValueType({ type: this.#strings.dedup(type), unit: this.#strings.dedup(unit) });
    const profile = new Profile({
      sampleType: s.sampleTypes.map(vt),
      periodType: vt(s.periodType),
      period: Math.round(s.period),
      sample: this.#samples,
      location: this.#locations,
      function: this.#functions,
      stringTable: this.#strings,
      ...(s.startEpochMs !== undefined ? { timeNanos: BigInt(Math.round(s.startEpochMs)) * 1_000_000n } : {}),
      ...(s.durationNanos !== undefined ? { durationNanos: Math.round(s.durationNanos) } : {}),
    });
    return gzipSync(profile.encode());
  }
}
