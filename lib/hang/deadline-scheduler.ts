/**
 * Deadlines for every operation in flight, with one timer for all of them.
 *
 * Operations with the same timeout are kept in one doubly linked list; since each is appended at
 * "now + timeout", every list is sorted by deadline for free, so add and remove are O(1) and
 * the earliest deadline is the minimum over list heads (there are few distinct timeouts).
 * The single timer is moved earlier when needed and never later: when it fires early (its
 * operation finished), it re-arms for the next head. The timer keeps the process alive only
 * while an operation is in flight, so a finished program is never held open by hangwatch.
 */
export interface DeadlineEntry {
  deadline: number;
  /** Whether this deadline keeps the process alive while pending. */
  keepsAlive: boolean;
  prev: DeadlineEntry | null;
  next: DeadlineEntry | null;
  list: DeadlineList | null;
}

export class DeadlineList {
  head: DeadlineEntry | null = null;
  tail: DeadlineEntry | null = null;
}

/** The clock and the one timer of a scheduler: real ones by default, injected by tests. */
export interface SchedulerClock {
  now(): number;
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(timer: TimerHandle): void;
}

/** What the scheduler does with its timer besides clearing it: keep the process alive or not. */
export interface TimerHandle {
  ref(): unknown;
  unref(): unknown;
}

const REAL_CLOCK: SchedulerClock = {
  now: Date.now,
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

export class DeadlineScheduler<E extends DeadlineEntry> {
  private readonly lists = new Map<number, DeadlineList>();
  /** The list of the last `add` (most operations share one timeout): skips the map lookup. */
  private lastTimeout = -1;
  private lastList: DeadlineList | undefined;
  private timer: TimerHandle | undefined;
  /** The timer callback; its name marks hangwatch's own frame in captured stacks. */
  private readonly fire: () => void;
  private timerAt = Infinity;
  /** Entries in flight that keep the process alive: the timer is ref'd only while there are some. */
  private keepingAlive = 0;

  /**
   * @param onExpired called for each entry whose deadline has passed; the entry is already
   *   removed and may be re-added (repeat).
   * @param onArm told the earliest deadline whenever the timer is (re)armed, 0 when idle.
   */
  constructor(
    private readonly onExpired: (entry: E, now: number) => void,
    private readonly onArm: (deadline: number) => void,
    private readonly onTimerRan: (now: number) => void,
    private readonly clock: SchedulerClock = REAL_CLOCK,
  ) {
    const self = this;
    this.fire = function hangwatchDeadlineTimer(): void {
      self.run(self.clock.now());
    };
  }

  add(entry: E, timeoutMs: number, now: number): void {
    entry.deadline = now + timeoutMs;
    let list = timeoutMs === this.lastTimeout ? this.lastList : this.lists.get(timeoutMs);
    if (!list) {
      list = new DeadlineList();
      this.lists.set(timeoutMs, list);
    }
    this.lastTimeout = timeoutMs;
    this.lastList = list;
    entry.list = list;
    entry.next = null;
    entry.prev = list.tail;
    if (list.tail) list.tail.next = entry;
    else list.head = entry;
    list.tail = entry;
    if (entry.keepsAlive && ++this.keepingAlive === 1) this.timer?.ref();
    if (entry.deadline < this.timerAt) this.arm(entry.deadline);
  }

  remove(entry: E): void {
    const list = entry.list;
    if (!list) return;
    if (entry.prev) entry.prev.next = entry.next;
    else list.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else list.tail = entry.prev;
    entry.prev = entry.next = null;
    entry.list = null;
    if (entry.keepsAlive && --this.keepingAlive === 0) this.timer?.unref();
  }

  /** Entries whose deadline is at or before `now`, oldest first per list (without removing them). */
  *expired(now: number): Generator<E> {
    for (const list of this.lists.values()) {
      for (let e = list.head; e && e.deadline <= now; e = e.next) yield e as E;
    }
  }

  /** Name of the timer callback as it appears in stacks. */
  static readonly timerFunctionName = 'hangwatchDeadlineTimer';

  /** Earliest deadline strictly after `now`, or Infinity. */
  nextAfter(now: number): number {
    let min = Infinity;
    for (const list of this.lists.values()) {
      let e = list.head;
      while (e && e.deadline <= now) e = e.next;
      if (e && e.deadline < min) min = e.deadline;
    }
    return min;
  }

  private earliest(): number {
    let min = Infinity;
    for (const [key, list] of this.lists) {
      if (!list.head) {
        this.lists.delete(key);
        if (list === this.lastList) this.lastTimeout = -1;
        continue;
      }
      if (list.head.deadline < min) min = list.head.deadline;
    }
    return min;
  }

  private arm(at: number): void {
    this.timerAt = at;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = this.clock.setTimer(this.fire, Math.max(0, at - this.clock.now()));
    if (this.keepingAlive === 0) this.timer.unref();
    this.onArm(at);
  }

  run(now: number): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.onTimerRan(now);
    // Due entries of every list, in deadline order: after a stall, several timeouts can be due at
    // once, and their reports come in the order their deadlines passed (an inner operation's
    // before the outer one's), not in the order the timeouts were first used. Each list is
    // already sorted; the lists are few.
    const due: E[] = [];
    for (const list of this.lists.values()) {
      for (let e = list.head; e && e.deadline <= now; e = e.next) due.push(e as E);
    }
    if (this.lists.size > 1 && due.length > 1) due.sort((x, y) => x.deadline - y.deadline);
    for (const e of due) {
      // Settled (removed), or removed and added again, by an expiry before it in this run.
      if (!e.list || e.deadline > now) continue;
      this.remove(e);
      this.onExpired(e, now);
    }
    // Deadlines that fell due while this run was building reports are not missed: the main
    // thread was busy with them here, and the timer re-fires for them at once.
    this.onTimerRan(this.clock.now());
    const next = this.earliest();
    if (next !== Infinity) this.arm(next);
    else this.onArm(0);
  }
}
