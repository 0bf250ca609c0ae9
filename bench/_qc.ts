import SqliteDatabase from 'better-sqlite3';
import { systemClock } from '../src/core/clock.ts';
import { startTestPortal } from '../test/helpers/portal.ts';
import { numberOn, pushJourneys } from '../test/helpers/push-journeys.ts';
import { InjectClient } from '../test/helpers/inject-client.ts';
import { TEST_PASSWORD } from '../test/helpers/portal.ts';
const proto = Object.getPrototypeOf(new SqliteDatabase(':memory:').prepare('select 1'));
const counts = new Map<string, number>(); let phase = '';
for (const m of ['all', 'run', 'get', 'iterate']) { const orig = proto[m]; proto[m] = function (...a: unknown[]) { const k = `${phase} | ${this.source.slice(0, 110)}`; counts.set(k, (counts.get(k) ?? 0) + 1); return orig.apply(this, a); }; }
const portal = await startTestPortal({});
const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
const { email, phone } = await flows.registered();
counts.clear();
const pc = new InjectClient(portal.app);
phase = 'GET /signin'; const page = await pc.get('/signin');
phase = 'POST /signin'; const posted = await pc.post('/signin', { email, password: TEST_PASSWORD, _csrf: /name="_csrf" value="([^"]+)"/.exec(page.body)![1]! });
phase = 'GET /mfa/verify'; const number = numberOn((await pc.get('/mfa/verify')).body)!;
phase = 'device list'; const [id] = await phone.pendingIds();
phase = 'device answer'; await phone.answer(id!, 'approve', number);
phase = 'GET status'; const st = await pc.get('/mfa/verify/status');
phase = 'GET /'; await pc.get(st.json().next);
let total = 0; const per = new Map<string, number>();
for (const [k, v] of counts) { total += v; const p = k.split(' | ')[0]!; per.set(p, (per.get(p) ?? 0) + v); }
console.log('total', total, [...per]);
for (const [k, v] of counts) console.log(v, k);
await portal.close();
