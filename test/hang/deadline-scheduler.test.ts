// The deadline scheduler's logic on an injected clock: no real time passes, so these hold on any
// machine, however loaded.
import t from 'tap';
import {
  DeadlineScheduler,
  type DeadlineEntry,
  type SchedulerClock,
  type TimerHandle,
} from '../../lib/hang/deadline-scheduler.js';

interface Entry extends DeadlineEntry {
  name: string;
}

const entry = (name: string, keepsAlive = false): Entry => ({
  name,
  deadline: 0,
  keepsAlive,
  prev: null,
  next: null,
  list: null,
});

class FakeTimer implements TimerHandle {
  refed = true;
  cleared = false;
  constructor(
    readonly fn: () => void,
    readonly at: number,
  ) {}
  ref(): this {
    this.refed = true;
    return this;
  }
  unref(): this {
    this.refed = false;
    return this;
  }
}

class FakeClock implements SchedulerClock {
  time = 1000;
  timers: FakeTimer[] = [];
  now(): number {
    return this.time;
  }
  setTimer(fn: () => void, ms: number): FakeTimer {
    const timer = new FakeTimer(fn, this.time + ms);
    this.timers.push(timer);
    return timer;
  }
  clearTimer(timer: TimerHandle): void {
    (timer as FakeTimer).cleared = true;
  }
  /** The armed (not cleared) timers. */
  get live(): FakeTimer[] {
    return this.timers.filter((x) => !x.cleared);
  }
  /** Move the clock to `time` and fire the armed timer if it is due (as the event loop would). */
  advance(time: number): void {
    this.time = time;
    const due = this.live.filter((x) => x.at <= time);
    for (const x of due) {
      x.cleared = true;
      x.fn();
    }
  }
}

function setup() {
  const clock = new FakeClock();
  const expired: { name: string; now: number }[] = [];
  const armed: number[] = [];
  const ran: number[] = [];
  const scheduler = new DeadlineScheduler<Entry>(
    (e, now) => expired.push({ name: e.name, now }),
    (deadline) => armed.push(deadline),
    (now) => ran.push(now),
    clock,
  );
  return { clock, expired, armed, ran, scheduler };
}

t.test('one timer, armed for the earliest deadline, moved earlier and never later', async (t) => {
  const { clock, armed, scheduler } = setup();
  scheduler.add(entry('a'), 500, clock.now());
  t.same(armed, [1500]);
  scheduler.add(entry('b'), 800, clock.now());
  t.same(armed, [1500], 'a later deadline does not re-arm');
  scheduler.add(entry('c'), 100, clock.now());
  t.same(armed, [1500, 1100], 'an earlier one does');
  t.equal(clock.live.length, 1, 'one timer at a time');
  t.equal(clock.live[0]?.at, 1100);
});

t.test('the timer expires what is due, in deadline order, and re-arms for the next deadline', async (t) => {
  const { clock, expired, armed, scheduler, ran } = setup();
  scheduler.add(entry('a'), 100, 1000);
  scheduler.add(entry('b'), 100, 1010);
  scheduler.add(entry('c'), 300, 1000);
  clock.advance(1105);
  t.same(expired, [{ name: 'a', now: 1105 }], 'only a is due');
  t.equal(ran[0], 1105, 'told when the timer ran');
  t.equal(armed.at(-1), 1110, 're-armed for b');
  clock.advance(1400);
  t.same(
    expired.map((e) => e.name),
    ['a', 'b', 'c'],
  );
  t.equal(armed.at(-1), 0, 'idle: nothing armed');
  t.equal(clock.live.length, 0);
});

t.test(
  'a late timer expires the due entries of every timeout in deadline order, not by which timeout came first',
  async (t) => {
    const { clock, expired, scheduler } = setup();
    // An outer operation (400 ms) begins, then an inner one (150 ms) inside it; the loop stalls past
    // both deadlines, so one run of the timer finds both due: the inner one's deadline came first.
    scheduler.add(entry('outer'), 400, 1000);
    scheduler.add(entry('inner'), 150, 1010);
    scheduler.add(entry('inner-2'), 150, 1020);
    clock.advance(1600);
    t.same(
      expired.map((e) => e.name),
      ['inner', 'inner-2', 'outer'],
    );
  },
);

t.test('an entry removed by an earlier expiry of the same run is not expired', async (t) => {
  const clock = new FakeClock();
  const a = entry('a');
  const b = entry('b');
  const names: string[] = [];
  const s = new DeadlineScheduler<Entry>(
    (e) => {
      names.push(e.name);
      if (e === a) s.remove(b);
    },
    () => {},
    () => {},
    clock,
  );
  s.add(a, 100, 1000);
  s.add(b, 200, 1000);
  clock.advance(1500);
  t.same(names, ['a'], "b was settled by a's expiry");
});

t.test('a removed entry is not expired; a timer that fires early finds nothing and re-arms', async (t) => {
  const { clock, expired, armed, scheduler } = setup();
  const a = entry('a');
  scheduler.add(a, 100, 1000);
  scheduler.add(entry('b'), 400, 1000);
  scheduler.remove(a);
  scheduler.remove(a);
  clock.advance(1100);
  t.same(expired, [], 'a was removed');
  t.equal(armed.at(-1), 1400, 'armed for b');
  clock.advance(1399);
  t.same(expired, []);
  clock.advance(1400);
  t.same(
    expired.map((e) => e.name),
    ['b'],
    'at its deadline exactly',
  );
});

t.test('expired() and nextAfter() see the deadlines around a time without removing anything', async (t) => {
  const { scheduler } = setup();
  scheduler.add(entry('a'), 100, 1000);
  scheduler.add(entry('b'), 100, 1050);
  scheduler.add(entry('c'), 500, 1000);
  t.same(
    [...scheduler.expired(1120)].map((e) => e.name),
    ['a'],
  );
  t.equal(scheduler.nextAfter(1120), 1150);
  t.equal(scheduler.nextAfter(1150), 1500);
  t.equal(scheduler.nextAfter(1500), Infinity);
  t.same([...scheduler.expired(2000)].map((e) => e.name).sort(), ['a', 'b', 'c'], 'still all there');
});

t.test('an expired entry may be added again (repeat) from the callback', async (t) => {
  const clock = new FakeClock();
  const seen: number[] = [];
  const scheduler: DeadlineScheduler<Entry> = new DeadlineScheduler<Entry>(
    (e, now) => {
      seen.push(now);
      if (seen.length < 3) scheduler.add(e, 200, now);
    },
    () => {},
    () => {},
    clock,
  );
  scheduler.add(entry('r'), 100, 1000);
  clock.advance(1100);
  clock.advance(1300);
  clock.advance(1500);
  clock.advance(1700);
  t.same(seen, [1100, 1300, 1500], 'every repeat interval, then no more');
});

t.test('the timer keeps the process alive only while an entry that asks for it is in flight', async (t) => {
  const { clock, scheduler } = setup();
  const quiet = entry('quiet');
  scheduler.add(quiet, 100, 1000);
  t.equal(clock.live[0]?.refed, false, "unref'd with no keep-alive entry");
  const alive = entry('alive', true);
  scheduler.add(alive, 200, 1000);
  t.equal(clock.live[0]?.refed, true, "ref'd while one is in flight");
  scheduler.remove(alive);
  t.equal(clock.live[0]?.refed, false, "unref'd again when it is removed");
});

t.test('deadlines that fell due while the timer callback ran are reported to onTimerRan', async (t) => {
  const clock = new FakeClock();
  const ran: number[] = [];
  const scheduler: DeadlineScheduler<Entry> = new DeadlineScheduler<Entry>(
    () => {
      clock.time += 50; // building a report takes time
    },
    () => {},
    (now) => ran.push(now),
    clock,
  );
  scheduler.add(entry('a'), 100, 1000);
  clock.advance(1100);
  t.same(ran, [1100, 1150], "before and after the expiries, with the clock's time");
});
