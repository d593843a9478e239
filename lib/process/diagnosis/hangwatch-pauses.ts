/** hangwatch's own pauses of the program, as the notes of a diagnosis: shown apart, never blamed on the program. */
import { describeSelfPauseReason } from '../../capture/self-pause.js';
import type { HangwatchPause, HangwatchPauseNote } from '../../report/diagnosis.js';
import { formatMs } from '../../report/format-units.js';
import { max } from './series.js';

/** Only pauses this long are listed in the report (they all count in `summary.hangwatchPauseMs`). */
const LISTED_PAUSE_MS = 10;

/** Each pause of a reason seen once or twice; a reason seen more often (the live-heap probe) as one line. */
export function describePauses(pauses: HangwatchPause[]): HangwatchPauseNote[] {
  const byReason = new Map<HangwatchPause['reason'], HangwatchPause[]>();
  for (const p of pauses) byReason.set(p.reason, [...(byReason.get(p.reason) ?? []), p]);
  const notes: HangwatchPauseNote[] = [];
  for (const [reason, list] of byReason) {
    const listed = list.filter((p) => p.durationMs >= LISTED_PAUSE_MS);
    if (listed.length <= 2) {
      for (const p of listed)
        notes.push({
          ...p,
          count: 1,
          longestMs: p.durationMs,
          text: `hangwatch paused the program for ${formatMs(p.durationMs)} to ${describeSelfPauseReason(reason)} (at ${formatMs(p.atMs)})`,
        });
      continue;
    }
    const total = list.reduce((a, p) => a + p.durationMs, 0);
    const longest = max(list.map((p) => p.durationMs));
    notes.push({
      reason,
      atMs: (list[0] as HangwatchPause).atMs,
      durationMs: total,
      count: list.length,
      longestMs: longest,
      text: `hangwatch paused the program ${list.length} times, ${formatMs(total)} in all (longest ${formatMs(longest)}), to ${describeSelfPauseReason(reason)}`,
    });
  }
  return notes.sort((a, b) => a.atMs - b.atMs);
}
