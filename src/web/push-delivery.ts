/**
 * Calls `observe` once per push request, the first time this instance hands it to a device (over
 * its event stream or its list), with the seconds since the request was raised. A request seen
 * again (the list re-read, a reconnect) is not counted twice; the memory of what was seen is
 * bounded, oldest first.
 */
export function pushDeliveryTimer(
  observe: (seconds: number) => void,
  now: () => number,
  remembered = 10_000,
): (requests: readonly { id: string; createdAt: Date }[]) => void {
  const seen = new Set<string>();
  return (requests) => {
    for (const request of requests) {
      if (seen.has(request.id)) continue;
      seen.add(request.id);
      if (seen.size > remembered) seen.delete(seen.values().next().value as string);
      observe(Math.max(0, now() - request.createdAt.getTime()) / 1000);
    }
  };
}
