// The diagnostics handler's refusals are typed errors with stable codes and the HTTP status they answer with.
import t from 'tap';
import { captureFormat, captureSeconds } from '../../lib/diagnostics/capture-query.js';
import {
  DiagnosticsBadRequestError,
  DiagnosticsRequestError,
  DiagnosticsTooLargeError,
} from '../../lib/diagnostics/errors.js';
import { HangwatchError } from '../../lib/errors.js';

const url = (query: string): URL => new URL(`http://localhost/cpu-profile${query}`);
const limits = { defaultSeconds: 5, maxSeconds: 30 };

t.test('?seconds and ?format: the default, a valid value, and a 400 for the rest', async (t) => {
  t.equal(captureSeconds(url(''), limits), 5);
  t.equal(captureSeconds(url('?seconds=0.5'), limits), 0.5);
  t.equal(captureFormat(url(''), ['cpuprofile', 'pprof']), 'cpuprofile');
  t.equal(captureFormat(url('?format=pprof'), ['cpuprofile', 'pprof']), 'pprof');
  for (const query of ['?seconds=0', '?seconds=31', '?seconds=abc', '?seconds=']) {
    t.throws(
      () => captureSeconds(url(query), limits),
      { code: 'ERR_DIAGNOSTICS_BAD_REQUEST', status: 400, message: 'seconds must be a number in (0, 30]' },
      query,
    );
  }
  t.throws(() => captureFormat(url('?format=svg'), ['cpuprofile', 'pprof']), {
    code: 'ERR_DIAGNOSTICS_BAD_REQUEST',
    status: 400,
    message: 'format must be one of cpuprofile, pprof',
  });
});

t.test('the classes: HangwatchErrors with literal codes and their status', async (t) => {
  const bad = new DiagnosticsBadRequestError('why');
  const big = new DiagnosticsTooLargeError('why');
  for (const e of [bad, big]) {
    t.ok(e instanceof DiagnosticsRequestError);
    t.ok(e instanceof HangwatchError);
  }
  t.same([bad.code, bad.status, bad.name], ['ERR_DIAGNOSTICS_BAD_REQUEST', 400, 'DiagnosticsBadRequestError']);
  t.same([big.code, big.status, big.name], ['ERR_DIAGNOSTICS_TOO_LARGE', 413, 'DiagnosticsTooLargeError']);
});
