/**
 * Source of the preload script `hangwatch cpu` injects through `NODE_OPTIONS=--require=...` when
 * the command is not `node` itself (npm, npx, a shell script...): `--cpu-prof` is not allowed in
 * NODE_OPTIONS, so every Node process started by the command profiles itself with the inspector
 * and writes a `.cpuprofile` at exit, like `--cpu-prof` does. It is written to the temporary
 * profile directory at run time, so it needs no path inside the installed package.
 */
export const CPU_PRELOAD_SOURCE = `'use strict';
(function () {
  var dir = process.env.HANGWATCH_CPU_PROF_DIR;
  if (!dir) return;
  var interval = Number(process.env.HANGWATCH_CPU_PROF_INTERVAL) || 1000;
  var inspector, fs, path, session;
  try {
    inspector = require('node:inspector'); fs = require('node:fs'); path = require('node:path');
    session = new inspector.Session();
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: interval });
    session.post('Profiler.start');
  } catch (e) { return; }
  var written = false;
  process.on('exit', function () {
    if (written) return;
    written = true;
    try {
      session.post('Profiler.stop', function (err, res) {
        if (err || !res) return;
        var stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '.').slice(0, 15);
        var file = path.join(dir, 'CPU.' + stamp + '.' + process.pid + '.0.hangwatch.cpuprofile');
        // Complete or absent (as lib/atomic-file.ts, which this standalone source cannot import).
        var temporary = file + '.' + process.pid + '.hangwatch-tmp';
        try {
          fs.writeFileSync(temporary, JSON.stringify(res.profile));
          fs.renameSync(temporary, file);
        } catch (e) {
          try { fs.unlinkSync(temporary); } catch (e2) { /* never created */ }
        }
      });
    } catch (e) { /* never break the profiled program's exit */ }
  });
})();
`;
