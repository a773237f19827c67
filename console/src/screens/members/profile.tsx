import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { Empty, ErrorBox, Loading, PagedTable, Section, Time } from '../../components/ui';
import { ApiError, call, type Page } from '../../lib/api';
import { useLoad, usePages } from '../../lib/hooks';
import { useT } from '../../lib/i18n';
import { useFormat } from '../../lib/session';
import { AdjustPoints } from './adjust';
import { History } from './history';
import { m } from './messages';
import { StatusControl } from './status';
import type { Balance, CheckinCalendar, Member, MemberReferral, MemberWithSummary, TierChange } from './types';

const path = (id: string, rest = '') => `/v1/members/${encodeURIComponent(id)}${rest}`;

/**
 * One member: GET /v1/members/:id (404: the not-found state), then its balances, check-ins, referral, tier history and
 * points history, each read on its own so one failing part does not hide the others.
 */
export function Profile({ memberId }: { memberId: string }) {
  const t = useT(m);
  const found = useLoad(() => call<MemberWithSummary>('GET', path(memberId)), [memberId]);
  // Bumped by an adjustment: the balance and the history read again.
  const [version, setVersion] = useState(0);
  // The member as the last status change answered it, over the first read.
  const [changed, setChanged] = useState<Member>();
  if (found.state === 'loading') return <Loading />;
  if (found.state === 'error') {
    if (found.error instanceof ApiError && found.error.status === 404) {
      return (
        <p class="state empty" role="alert">
          {t('notFound', { id: memberId })}
        </p>
      );
    }
    return <ErrorBox error={found.error} retry={found.reload} />;
  }
  const member = changed ?? found.data.member;
  return (
    <>
      <Facts member={member} summary={found.data.summary} actions={<StatusControl member={member} onChanged={setChanged} />} />
      <Balances memberId={memberId} version={version} adjust={(balance) => <AdjustPoints memberId={memberId} balance={balance} onAdjusted={() => setVersion((v) => v + 1)} />} />
      <History memberId={memberId} version={version} />
      <Checkins memberId={memberId} />
      <Referral memberId={memberId} />
      <TierHistory memberId={memberId} />
    </>
  );
}

/** A message with `{at}` left in it, the instant shown there (in the program's zone, UTC on hover). */
function Phrase({ text, iso }: { text: string; iso: string }) {
  const [before = '', after = ''] = text.split('{at}');
  return (
    <>
      {before}
      <Time iso={iso} />
      {after}
    </>
  );
}

function Facts({ member, summary, actions }: { member: Member; summary: MemberWithSummary['summary']; actions: ComponentChildren }) {
  const t = useT(m);
  const f = useFormat();
  return (
    <Section title={t('profile')} actions={actions}>
      <dl class="facts">
        <dt>{t('memberId')}</dt>
        <dd>{member.memberId}</dd>
        <dt>{t('displayName')}</dt>
        <dd>{member.displayName ?? '—'}</dd>
        <dt>{t('status')}</dt>
        <dd>
          <span class={`members-status ${member.status}`} data-status={member.status}>
            {t(member.status)}
          </span>
        </dd>
        <dt>{t('tier')}</dt>
        <dd>
          {summary.tier ? (
            <>
              {summary.tier.name} ({summary.tier.code})
              {summary.tier.since && (
                <>
                  {' · '}
                  <Phrase text={t('tierSince', {})} iso={summary.tier.since} />
                </>
              )}
              {summary.tier.validUntil && (
                <>
                  {' · '}
                  <Phrase text={t('validUntil', {})} iso={summary.tier.validUntil} />
                </>
              )}
            </>
          ) : (
            t('noTier')
          )}
        </dd>
        {summary.growth && (
          <>
            <dt>{t('growth')}</dt>
            <dd>
              {f.number(summary.growth.value)}
              {summary.growth.nextTier && summary.growth.missingToNext !== null && ` (${t('toNext', { missing: f.number(summary.growth.missingToNext), tier: summary.growth.nextTier })})`}
            </dd>
          </>
        )}
        <dt>{t('timezone')}</dt>
        <dd>{member.timezone}</dd>
        <dt>{t('registered')}</dt>
        <dd>
          <Time iso={member.createdAt} />
        </dd>
        <dt>{t('badges')}</dt>
        <dd>{summary.badges?.length ? summary.badges.map((b) => b.name).join(', ') : t('noBadges')}</dd>
      </dl>
    </Section>
  );
}

function Balances({ memberId, version, adjust }: { memberId: string; version: number; adjust: (b: Balance) => ComponentChildren }) {
  const t = useT(m);
  const f = useFormat();
  const balance = useLoad(() => call<Balance>('GET', path(memberId, '/points')), [memberId, version]);
  // Keep the last balance on screen while the next one loads, so the form below it stays put.
  const last = useRef<Balance>();
  if (balance.state === 'ready') last.current = balance.data;
  const b = last.current;
  return (
    <Section title={t('balances')}>
      {balance.state === 'error' && <ErrorBox error={balance.error} retry={balance.reload} />}
      {!b && balance.state === 'loading' && <Loading />}
      {b && (
        <>
          <ul class="cards members-balances" aria-busy={balance.state === 'loading'}>
            <li class="card" data-balance="available">
              <div class="label">{t('available')}</div>
              <div class="value">{f.number(b.available)}</div>
            </li>
            <li class="card" data-balance="held">
              <div class="label">{t('held')}</div>
              <div class="value">{f.number(b.held)}</div>
            </li>
            <li class="card" data-balance="pending">
              <div class="label">{t('pending')}</div>
              <div class="value">{f.number(b.pending)}</div>
              {b.becomingAvailable.map((p) => (
                <div class="label" key={p.availableAt}>
                  <Phrase text={t('becoming', { points: f.number(p.points) })} iso={p.availableAt} />
                </div>
              ))}
            </li>
            <li class="card" data-balance="expiring">
              <div class="label">{t('expiringSoon')}</div>
              <div class="value">{f.number(b.expiringIn30Days)}</div>
              {b.expiring.slice(0, 3).map((x) => (
                <div class="label" key={x.expiresAt}>
                  <Phrase text={t('expiresOn', { points: f.number(x.points) })} iso={x.expiresAt} />
                </div>
              ))}
            </li>
            {b.debt > 0 && (
              <li class="card" data-balance="debt">
                <div class="label">{t('debt')}</div>
                <div class="value">{f.number(b.debt)}</div>
              </li>
            )}
          </ul>
          <p class="dashboard-note">
            {t('lifetime', {
              earned: f.number(b.lifetime.earned),
              spent: f.number(b.lifetime.spent),
              expired: f.number(b.lifetime.expired),
              reversed: f.number(b.lifetime.reversed),
              adjusted: f.number(b.lifetime.adjusted),
            })}
          </p>
          {adjust(b)}
        </>
      )}
    </Section>
  );
}

function Checkins({ memberId }: { memberId: string }) {
  const t = useT(m);
  const f = useFormat();
  const cal = useLoad(() => call<CheckinCalendar>('GET', path(memberId, '/checkins')), [memberId]);
  return (
    <Section title={t('checkins')}>
      {cal.state === 'loading' && <Loading />}
      {cal.state === 'error' && <ErrorBox error={cal.error} retry={cal.reload} />}
      {cal.state === 'ready' && (
        <dl class="facts">
          <dt>{t('streak')}</dt>
          <dd data-fact="streak">{t('days', { n: f.number(cal.data.currentStreak) })}</dd>
          <dt>{t('bestStreak')}</dt>
          <dd>{t('days', { n: f.number(cal.data.bestStreak) })}</dd>
          <dt>{t('totalCheckins')}</dt>
          <dd>{f.number(cal.data.totalCheckins)}</dd>
          <dt>{t('checkedToday')}</dt>
          <dd>{cal.data.checkedInToday ? '✓' : '—'}</dd>
        </dl>
      )}
    </Section>
  );
}

function Referral({ memberId }: { memberId: string }) {
  const t = useT(m);
  const f = useFormat();
  // The page's facts come with its first page of invitees.
  const [facts, setFacts] = useState<MemberReferral>();
  const invitees = usePages(
    async (cursor): Promise<Page<MemberReferral['invitees'][number]>> => {
      const page = await call<MemberReferral>('GET', path(memberId, '/referral'), { query: { cursor, limit: 20 } });
      if (!cursor) setFacts(page);
      return { items: page.invitees, nextCursor: page.nextCursor };
    },
    [memberId],
  );
  return (
    <Section title={t('referral')}>
      {facts && (
        <dl class="facts">
          <dt>{t('code')}</dt>
          <dd>{facts.code}</dd>
          <dt>{t('invited')}</dt>
          <dd>{f.number(facts.invitedCount)}</dd>
          <dt>{t('rewards')}</dt>
          <dd>{t('rewardsValue', { points: f.number(facts.rewards.points), count: f.number(facts.rewards.count) })}</dd>
          <dt>{t('referredBy')}</dt>
          <dd>
            {facts.referredBy ? (
              <>
                <Phrase text={t('referredState', { state: facts.referredBy.state })} iso={facts.referredBy.boundAt} />
              </>
            ) : (
              t('notReferred')
            )}
          </dd>
        </dl>
      )}
      <PagedTable
        pages={invitees}
        head={
          <>
            <th scope="col">{t('invitee')}</th>
            <th scope="col">{t('state')}</th>
            <th scope="col">{t('boundAt')}</th>
          </>
        }
        row={(i) => (
          <tr key={`${i.memberId ?? i.name}-${i.boundAt}`}>
            <td>{i.memberId ? <a href={`#/members/${encodeURIComponent(i.memberId)}`}>{i.name}</a> : i.name}</td>
            <td>{i.state}</td>
            <td>
              <Time iso={i.boundAt} />
            </td>
          </tr>
        )}
        emptyText={t('noInvitees')}
      />
    </Section>
  );
}

function TierHistory({ memberId }: { memberId: string }) {
  const t = useT(m);
  const f = useFormat();
  const changes = useLoad(() => call<{ items: TierChange[] }>('GET', path(memberId, '/tier-history')), [memberId]);
  return (
    <Section title={t('tierHistory')}>
      {changes.state === 'loading' && <Loading />}
      {changes.state === 'error' && <ErrorBox error={changes.error} retry={changes.reload} />}
      {changes.state === 'ready' && changes.data.items.length === 0 && <Empty>{t('noTierHistory')}</Empty>}
      {changes.state === 'ready' && changes.data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('at')}</th>
              <th scope="col">{t('from')}</th>
              <th scope="col">{t('to')}</th>
              <th scope="col">{t('reason')}</th>
              <th scope="col" class="num">
                {t('growth')}
              </th>
              <th scope="col">{t('validUntilCol')}</th>
            </tr>
          </thead>
          <tbody>
            {changes.data.items.map((c) => (
              <tr key={c.seq}>
                <td>
                  <Time iso={c.at} />
                </td>
                <td>{c.from ?? '—'}</td>
                <td>{c.to}</td>
                <td>{c.reason}</td>
                <td class="num">{f.number(c.growth)}</td>
                <td>
                  <Time iso={c.validUntil} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
