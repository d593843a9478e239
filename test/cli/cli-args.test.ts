// The one command-line parser of the `hangwatch` commands and its one UsageError, in-process.
import t from 'tap';
import { numberArg, parseCommandLine } from '../../lib/cli/cli-args.js';
import { UsageError } from '../../lib/cli/errors.js';
import { pidArg } from '../../lib/cli/pid-arg.js';
import { HangwatchError } from '../../lib/errors.js';

const OPTIONS = { out: { type: 'string', short: 'o' }, json: { type: 'boolean' } } as const;

function usageErrorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('no UsageError thrown');
}

t.test('options before --, the command after it', async (t) => {
  const r = parseCommandLine(['--out', 'x.json', '--json', '--', 'node', '--inspect', 'app.js'], OPTIONS);
  t.same(r.values, { out: 'x.json', json: true });
  t.same(r.positionals, []);
  t.same(r.command, ['node', '--inspect', 'app.js'], "the command's own options are left to it");
  t.same(parseCommandLine(['-o', 'y'], OPTIONS).command, [], 'no --: no command');
});

t.test(
  'commandAtFirstPositional: the command starts at the first argument that is no option nor option value',
  async (t) => {
    const r = parseCommandLine(['--out', 'p.cpuprofile', 'node', '--bogus', 'app.js'], OPTIONS, {
      commandAtFirstPositional: true,
    });
    t.same(r.values, { out: 'p.cpuprofile' });
    t.same(r.command, ['node', '--bogus', 'app.js'], 'options after the command belong to it');
    t.same(
      parseCommandLine(['--json', '--', '--weird-name'], OPTIONS, { commandAtFirstPositional: true }).command,
      ['--weird-name'],
      '-- still ends the options',
    );
    t.same(
      parseCommandLine(['--out=a', 'node'], OPTIONS, { commandAtFirstPositional: true }).values,
      { out: 'a' },
      'an inline value',
    );
    t.equal(
      usageErrorOf(() => parseCommandLine(['--bogus', 'node'], OPTIONS, { commandAtFirstPositional: true })).message,
      "Unknown option '--bogus'",
    );
  },
);

t.test('bad command lines are a UsageError: a HangwatchError with the stable code ERR_USAGE', async (t) => {
  const unknown = usageErrorOf(() => parseCommandLine(['--bogus'], OPTIONS));
  t.ok(unknown instanceof HangwatchError);
  t.equal(unknown.code, 'ERR_USAGE');
  t.equal(unknown.name, 'UsageError');
  t.match(unknown.message, /Unknown option '--bogus'/);
  t.match(
    usageErrorOf(() => parseCommandLine(['--out'], OPTIONS)).message,
    /Option '-o, --out <value>' argument missing/,
  );
  t.match(
    usageErrorOf(() => parseCommandLine(['file'], OPTIONS)).message,
    /Unexpected argument 'file'/,
    'positionals only when allowed',
  );
  t.same(parseCommandLine(['a', 'b'], OPTIONS, { allowPositionals: true }).positionals, ['a', 'b']);
  t.equal(
    usageErrorOf(() => numberArg({ n: '5' }, 'n', { min: 10, max: 20 })).message,
    '--n must be a number from 10 to 20; got "5"',
  );
  t.equal(usageErrorOf(() => pidArg('0')).code, 'ERR_USAGE');
});

t.test('--help wins over the mistakes next to it', async (t) => {
  t.same(parseCommandLine(['--bogus', '-h'], OPTIONS).values, { help: true });
  t.same(parseCommandLine(['--help', '--out'], OPTIONS).values, { help: true });
  t.equal(
    usageErrorOf(() => parseCommandLine(['--out', '-h'], OPTIONS)).code,
    'ERR_USAGE',
    '-h as the value of --out is no request for help',
  );
});
