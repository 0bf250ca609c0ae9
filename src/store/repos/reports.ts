import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { RegistrationCategory, ReportAccount, ReportStore } from '../../core/store.ts';
import type { Engine } from '../engine.ts';
import type { Database } from '../schema.ts';
import { toMillis } from './time.ts';

/** Accounts whose exemption still counts at `now`: their own, or an excluded group's. */
const exemptIds = (now: number) => sql`select account_id from account_exemptions where review_at > ${now}
  union select ag.account_id from account_groups ag join groups g on g.name = ag.group_name
    where g.mfa_excluded = 1 and (g.exemption_review_at is null or g.exemption_review_at > ${now})`;

/**
 * One row of facts per account (its methods' kinds, a smartcard, an exemption that counts). For
 * every account (`few` false): the accounts joined to three grouped subqueries, one scan and
 * three hash joins at any size (the methods read from their partial index alone, migration
 * 0016). For one group's members: a probe of each index per member instead, so that one group
 * costs its members, not the whole directory (measured: 0.3 s instead of 2 s for 3,000 members
 * of 1,500,000; but 14 s instead of 4 s for the 150,000 members of a page of 50 groups).
 */
function facts(now: number, where: RawBuilder<unknown>, few = false) {
  if (few) {
    const has = (k: string) =>
      sql`case when exists (select 1 from mfa_methods m where m.account_id = a.id and m.status = 'active' and m.kind = ${k}) then 1 else 0 end`;
    return sql`select a.id, a.mfa_enabled, a.shared_mailbox,
        ${has('authenticator_app')} as app, ${has('totp')} as totp, ${has('phone')} as phone,
        ${has('passkey')} as passkey,
        case when exists (select 1 from certificate_bindings c where c.account_id = a.id) then 1 else 0 end as smartcard,
        case when exists (select 1 from account_exemptions e where e.account_id = a.id and e.review_at > ${now})
          or exists (select 1 from account_groups xg join groups g on g.name = xg.group_name
            where xg.account_id = a.id and g.mfa_excluded = 1 and (g.exemption_review_at is null or g.exemption_review_at > ${now}))
          then 1 else 0 end as exempt_any
      from accounts a where ${where}`;
  }
  const kind = (k: string) => sql`max(case when kind = ${k} then 1 else 0 end)`;
  return sql`select a.id, a.mfa_enabled, a.shared_mailbox,
      coalesce(m.app, 0) as app, coalesce(m.totp, 0) as totp, coalesce(m.phone, 0) as phone,
      coalesce(m.passkey, 0) as passkey,
      case when c.account_id is null then 0 else 1 end as smartcard,
      case when x.account_id is null then 0 else 1 end as exempt_any
    from accounts a
    left join (select account_id, ${kind('authenticator_app')} as app, ${kind('totp')} as totp,
        ${kind('phone')} as phone, ${kind('passkey')} as passkey
      from mfa_methods where status = 'active' group by account_id) m on m.account_id = a.id
    left join (select distinct account_id from certificate_bindings) c on c.account_id = a.id
    left join (${exemptIds(now)}) x on x.account_id = a.id
    where ${where}`;
}

/** Each category as a condition on a row of facts. */
const onFacts: Record<RegistrationCategory, string> = {
  all: '1 = 1',
  mfa_enabled: 'mfa_enabled = 1',
  mfa_not_enabled: 'mfa_enabled = 0',
  'method:authenticator_app': 'app = 1',
  'method:totp': 'totp = 1',
  'method:phone': 'phone = 1',
  'method:smartcard': 'smartcard = 1',
  'method:passkey': 'passkey = 1',
  exempt: 'shared_mailbox = 0 and exempt_any = 1',
  shared_mailbox: 'shared_mailbox = 1',
  none: 'shared_mailbox = 0 and exempt_any = 0 and app = 0 and totp = 0 and phone = 0 and passkey = 0 and smartcard = 0',
};

/**
 * The same categories as conditions on one account `a` (for the lists, read in email order a
 * page at a time: each condition an index probe per account, no aggregate over all of them).
 * The test suite checks on both engines that each list holds exactly as many as its count.
 */
function onAccount(category: RegistrationCategory, now: number): RawBuilder<unknown> {
  const active = (kind?: string) =>
    sql`exists (select 1 from mfa_methods m where m.account_id = a.id and m.status = 'active'${kind ? sql` and m.kind = ${kind}` : sql``})`;
  const smartcard = sql`exists (select 1 from certificate_bindings c where c.account_id = a.id)`;
  const ownExemption = sql`exists (select 1 from account_exemptions e where e.account_id = a.id and e.review_at > ${now})`;
  const groupExemption = sql`exists (select 1 from account_groups ag join groups g on g.name = ag.group_name
    where ag.account_id = a.id and g.mfa_excluded = 1 and (g.exemption_review_at is null or g.exemption_review_at > ${now}))`;
  switch (category) {
    case 'all':
      return sql`1 = 1`;
    case 'mfa_enabled':
      return sql`a.mfa_enabled = 1`;
    case 'mfa_not_enabled':
      return sql`a.mfa_enabled = 0`;
    case 'method:smartcard':
      return smartcard;
    case 'exempt':
      return sql`a.shared_mailbox = 0 and (${ownExemption} or ${groupExemption})`;
    case 'shared_mailbox':
      return sql`a.shared_mailbox = 1`;
    case 'none':
      return sql`a.shared_mailbox = 0 and not ${active()} and not ${smartcard} and not ${ownExemption} and not ${groupExemption}`;
    default:
      return active(category.slice('method:'.length));
  }
}

const inGroup = (group: string | undefined) =>
  group === undefined
    ? sql`1 = 1`
    : sql`a.id in (select account_id from account_groups where group_name = ${group})`;

/** The registration report's one statement (exported for the benchmark's EXPLAIN). */
export function registrationCounts(categories: readonly RegistrationCategory[], now: number, group?: string) {
  const columns = categories.map(
    (c, i) => sql`sum(case when ${sql.raw(onFacts[c])} then 1 else 0 end) as ${sql.ref(`c${i}`)}`,
  );
  return sql<Record<string, number | null>>`select ${sql.join(columns)}
    from (${facts(now, inGroup(group), group !== undefined)}) as f`;
}

export function reportRepo(db: Kysely<Database>, _engine: Engine): ReportStore {
  return {
    async countRegistration(categories, at, group) {
      const { rows } = await registrationCounts(categories, toMillis(at), group).execute(db);
      const row = rows[0] ?? {};
      return Object.fromEntries(categories.map((c, i) => [c, Number(row[`c${i}`] ?? 0)])) as Record<
        RegistrationCategory,
        number
      >;
    },

    async listRegistration(category, at, { group, afterEmail, limit }) {
      const now = toMillis(at);
      const { rows } = await sql<{
        email: string;
        display_name: string;
        mfa_enabled: number;
        disabled_at: number | null;
      }>`select a.email, a.display_name, a.mfa_enabled, a.disabled_at from accounts a
        where ${onAccount(category, now)} and ${inGroup(group)}
          ${afterEmail === undefined ? sql`` : sql`and a.email > ${afterEmail}`}
        order by a.email limit ${limit}`.execute(db);
      return rows.map(
        (r): ReportAccount => ({
          email: r.email,
          displayName: r.display_name,
          mfaEnabled: Number(r.mfa_enabled) === 1,
          disabled: r.disabled_at !== null,
        }),
      );
    },

    async groupRegistration(at, afterName, limit) {
      const now = toMillis(at);
      let query = db
        .selectFrom('groups')
        .select(['name', 'mfa_excluded', 'exemption_review_at'])
        .orderBy('name')
        .limit(limit);
      if (afterName !== undefined) query = query.where('name', '>', afterName);
      const groups = await query.execute();
      if (groups.length === 0) return [];
      const names = groups.map((g) => g.name);
      const members = sql`a.id in (select account_id from account_groups where group_name in (${sql.join(names)}))`;
      const sum = (category: RegistrationCategory) =>
        sql.raw(`sum(case when ${onFacts[category]} then 1 else 0 end)`);
      const { rows } = await sql<Record<string, string | number>>`select ag.group_name, count(*) as members,
          ${sum('mfa_enabled')} as mfa_enabled,
          sum(case when app = 1 or totp = 1 or phone = 1 or smartcard = 1 then 1 else 0 end) as registered,
          ${sum('exempt')} as exempt, ${sum('none')} as none
        from account_groups ag join (${facts(now, members)}) as f on f.id = ag.account_id
        where ag.group_name in (${sql.join(names)})
        group by ag.group_name`.execute(db);
      const byName = new Map(rows.map((r) => [String(r.group_name), r]));
      return groups.map((g) => {
        const r = byName.get(g.name);
        const review = g.exemption_review_at;
        return {
          group: g.name,
          excluded: g.mfa_excluded === 1 && (review === null || review === undefined || Number(review) > now),
          members: Number(r?.members ?? 0),
          counts: {
            mfa_enabled: Number(r?.mfa_enabled ?? 0),
            registered: Number(r?.registered ?? 0),
            exempt: Number(r?.exempt ?? 0),
            none: Number(r?.none ?? 0),
          },
        };
      });
    },
  };
}
