/**
 * What a full MFA sign-in costs beyond its password hash: the same journey as bench/load.ts
 * (sign-in page, password, number page, the phone's signed list and approval, status, portal
 * page), in one process through app.inject, with a hasher that does no work. The CPU figure is
 * server and client together; it is the part that profiling (--cpu-prof) and optimisation aim at.
 *
 *   node --import tsx bench/overhead.ts [sqlite|postgres] [rounds]
 */
import { performance } from 'node:perf_hooks';
import { systemClock } from '../src/core/clock.ts';
import type { PasswordHasher } from '../src/core/passwords/hasher.ts';
import { InjectClient } from '../test/helpers/inject-client.ts';
import { startTestPortal, TEST_PASSWORD } from '../test/helpers/portal.ts';
import { numberOn, pushJourneys } from '../test/helpers/push-journeys.ts';

const engine = (process.argv[2] ?? 'sqlite') as 'sqlite' | 'postgres';
const rounds = Number(process.argv[3] ?? 300);
const noWork: PasswordHasher = {
  hash: async (password) => `plain:${password}`,
  verify: async (hash, password) => hash === `plain:${password}`,
  needsRehash: () => false,
};
const portal = await startTestPortal({ engine, hasher: noWork });
const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
const { email, phone } = await flows.registered();

async function fullSignIn() {
  const pc = new InjectClient(portal.app);
  await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
  const number = numberOn((await pc.get('/mfa/verify')).body);
  const [id] = await phone.pendingIds();
  if (!number || !id) throw new Error('no request to approve');
  await phone.answer(id, 'approve', number);
  const status = await pc.get('/mfa/verify/status');
  if ((await pc.get(status.json().next)).statusCode !== 200) throw new Error('portal page not reached');
}

for (let i = 0; i < 50; i++) await fullSignIn();
const cpu = process.cpuUsage();
const start = performance.now();
for (let i = 0; i < rounds; i++) await fullSignIn();
const used = process.cpuUsage(cpu);
console.log(
  `${engine}: a full MFA sign-in without its hash: ${((performance.now() - start) / rounds).toFixed(2)} ms, ` +
    `${((used.user + used.system) / 1000 / rounds).toFixed(2)} ms CPU (server and client in one process, ${rounds} rounds)`,
);
await portal.close();
