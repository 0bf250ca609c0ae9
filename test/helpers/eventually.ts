import { setTimeout as sleep } from 'node:timers/promises';

/** Waits until `check` holds (things that happen on another socket a moment later); fails after 10 s. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 20) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`still not true after 10 s: ${what}`);
}
