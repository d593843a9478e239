// Which inspector port a target is configured with, from its Node flags (command line and NODE_OPTIONS).
import t from 'tap';
import { hasInspectFlag, inspectPortOf } from '../../lib/attach/target-process.js';

t.test('inspectPortOf: the default, each flag form, the last one wins', async (t) => {
  t.equal(inspectPortOf([]), 9229);
  t.equal(inspectPortOf(['--max-old-space-size=100']), 9229);
  t.equal(inspectPortOf(['--inspect-port=0']), 0);
  t.equal(inspectPortOf(['--inspect-port=9333']), 9333);
  t.equal(inspectPortOf(['--debug-port=9444']), 9444);
  t.equal(inspectPortOf(['--inspect=9555']), 9555);
  t.equal(inspectPortOf(['--inspect=127.0.0.1:9666']), 9666);
  t.equal(inspectPortOf(['--inspect-brk=[::1]:9777']), 9777);
  t.equal(inspectPortOf(['--inspect-wait=0.0.0.0:0']), 0);
  t.equal(inspectPortOf(['--inspect']), 9229, '--inspect alone keeps the port');
  t.equal(inspectPortOf(['--inspect-port=1234', '--inspect=127.0.0.1:4321']), 4321);
});

t.test('hasInspectFlag: --inspect, --inspect-brk, --inspect-wait, with or without a value', async (t) => {
  for (const flag of [
    '--inspect',
    '--inspect=0',
    '--inspect-brk',
    '--inspect-brk=127.0.0.1:9',
    '--inspect-wait',
    '--inspect-wait=9',
  ])
    t.ok(hasInspectFlag([flag]), flag);
  for (const flag of ['--inspect-port=0', '--inspect-publish-uid=http', '--debug-port=1', '--import=x'])
    t.notOk(hasInspectFlag([flag]), flag);
});
