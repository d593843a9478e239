/**
 * The valid name a misspelt one most likely meant: the same name in another case first, then the
 * nearest by edit distance (Levenshtein, case-insensitive), if near enough to be a typo.
 */
export function closestName(given: string, valid: Iterable<string>): string | undefined {
  const lower = given.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of valid) {
    const candidate = name.toLowerCase();
    if (candidate === lower) return name;
    const distance = editDistance(lower, candidate);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  // A typo changes a few characters; a prefix or suffix of the valid name (`timeout` for `timeoutMs`) too.
  if (best === undefined) return undefined;
  const shorter = Math.min(lower.length, best.length);
  const isAffix =
    shorter >= 4 &&
    (best.toLowerCase().startsWith(lower) ||
      lower.startsWith(best.toLowerCase()) ||
      best.toLowerCase().endsWith(lower));
  return bestDistance <= Math.max(2, Math.floor(best.length / 3)) || isAffix ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
