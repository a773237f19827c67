import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorBox, Loading } from './components/ui';
import { ApiError, call, onSignedOut } from './lib/api';
import { clearToken, getToken, tokenClaims } from './lib/auth';
import { initialLocale, LocaleContext, LOCALES, messages, rememberLocale, useT, type Locale } from './lib/i18n';
import { href, useRoute } from './lib/router';
import { SessionContext, type Calendar, type Session } from './lib/session';
import { AuditScreen } from './screens/audit';
import { BenefitsScreen } from './screens/benefits';
import { CheckinsScreen } from './screens/checkins';
import { DashboardScreen } from './screens/dashboard';
import { GrantsScreen } from './screens/grants';
import { MembersScreen } from './screens/members';
import { ReferralsScreen } from './screens/referrals';
import { RulesScreen } from './screens/rules';
import { SignIn } from './screens/signin';
import { TasksScreen } from './screens/tasks';
import { TiersScreen } from './screens/tiers';

const m = messages(
  {
    product: 'Loyalty console',
    dashboard: 'Dashboard',
    members: 'Members',
    program: 'Program',
    tiers: 'Tiers',
    rules: 'Earning rules',
    checkins: 'Check-ins',
    tasks: 'Tasks',
    benefits: 'Benefits',
    grants: 'Grants',
    referrals: 'Referrals',
    audit: 'Audit log',
    language: 'Language',
    signOut: 'Sign out',
    signedInAs: 'Signed in as {sub}',
    timezone: 'Program time zone: {tz}',
    refused: 'The service refused this token (expired or not valid here). Sign in again.',
    notOps: 'This token may not read the console ({message}). Sign in with an ops token.',
    notFound: 'No such screen.',
    nav: 'Main',
  },
  {
    product: '积分运营后台',
    dashboard: '数据看板',
    members: '会员',
    program: '方案配置',
    tiers: '等级',
    rules: '积分规则',
    checkins: '签到',
    tasks: '任务',
    benefits: '权益商城',
    grants: '权益发放',
    referrals: '邀请推荐',
    audit: '操作日志',
    language: '语言',
    signOut: '退出',
    signedInAs: '当前登录：{sub}',
    timezone: '方案时区：{tz}',
    refused: '服务拒绝了该令牌（已过期或在此无效）。请重新登录。',
    notOps: '该令牌无权使用后台（{message}）。请使用运营令牌登录。',
    notFound: '页面不存在。',
    nav: '主导航',
  },
);

type Key = keyof (typeof m)['en'];

/** Each screen takes the route's remaining parts (`#/members/m-1` gives MembersScreen `['m-1']`). */
const SCREENS: { path: string; label: Key; group?: 'program'; screen: ComponentType<{ args: string[] }> }[] = [
  { path: 'dashboard', label: 'dashboard', screen: DashboardScreen },
  { path: 'members', label: 'members', screen: MembersScreen },
  { path: 'tiers', label: 'tiers', group: 'program', screen: TiersScreen },
  { path: 'rules', label: 'rules', group: 'program', screen: RulesScreen },
  { path: 'checkins', label: 'checkins', group: 'program', screen: CheckinsScreen },
  { path: 'tasks', label: 'tasks', group: 'program', screen: TasksScreen },
  { path: 'benefits', label: 'benefits', group: 'program', screen: BenefitsScreen },
  { path: 'grants', label: 'grants', group: 'program', screen: GrantsScreen },
  { path: 'referrals', label: 'referrals', group: 'program', screen: ReferralsScreen },
  { path: 'audit', label: 'audit', group: 'program', screen: AuditScreen },
];

type Phase = { kind: 'signin'; reason?: string } | { kind: 'checking' } | { kind: 'failed'; error: Error } | { kind: 'ready'; session: Session };

export function App() {
  const [locale, setLocale] = useState<Locale>(initialLocale);
  const [phase, setPhase] = useState<Phase>(() => (getToken() ? { kind: 'checking' } : { kind: 'signin' }));
  useEffect(() => onSignedOut(() => setPhase({ kind: 'signin', reason: 'refused' })), []);
  useEffect(() => {
    if (phase.kind !== 'checking') return;
    // The first call proves the token: 401 refused, 403 not an ops token; it also gives the program's calendar.
    call<Calendar>('GET', '/v1/admin/stats/calendar').then(
      (calendar) => setPhase({ kind: 'ready', session: { calendar, sub: tokenClaims(getToken() ?? '')?.sub } }),
      (error: Error) => {
        if (error instanceof ApiError && error.status === 401) return setPhase({ kind: 'signin', reason: 'refused' });
        if (error instanceof ApiError && error.status === 403) {
          clearToken();
          return setPhase({ kind: 'signin', reason: `notOps:${error.message}` });
        }
        setPhase({ kind: 'failed', error });
      },
    );
  }, [phase.kind]);
  const choose = (next: Locale) => {
    rememberLocale(next);
    setLocale(next);
  };
  return (
    <LocaleContext.Provider value={locale}>
      <Shell phase={phase} setPhase={setPhase} locale={locale} choose={choose} />
    </LocaleContext.Provider>
  );
}

function Shell({ phase, setPhase, locale, choose }: { phase: Phase; setPhase: (p: Phase) => void; locale: Locale; choose: (l: Locale) => void }) {
  const t = useT(m);
  const route = useRoute();
  const languages = (
    <label class="language">
      <span>{t('language')}</span>
      <select value={locale} onChange={(e) => choose(e.currentTarget.value as Locale)}>
        {LOCALES.map((l) => (
          <option key={l} value={l}>
            {l === 'en' ? 'English' : '简体中文'}
          </option>
        ))}
      </select>
    </label>
  );
  if (phase.kind === 'signin') {
    const reason = phase.reason === 'refused' ? t('refused') : phase.reason?.startsWith('notOps:') ? t('notOps', { message: phase.reason.slice(7) }) : undefined;
    return (
      <>
        <div class="topbar">{languages}</div>
        <SignIn reason={reason} onSignedIn={() => setPhase({ kind: 'checking' })} />
      </>
    );
  }
  if (phase.kind === 'checking') return <Loading />;
  if (phase.kind === 'failed') return <ErrorBox error={phase.error} retry={() => setPhase({ kind: 'checking' })} />;
  const [path = 'dashboard', ...args] = route;
  const current = SCREENS.find((s) => s.path === path);
  const link = (s: (typeof SCREENS)[number]) => (
    <li key={s.path}>
      <a href={href(s.path)} aria-current={s === current ? 'page' : undefined}>
        {t(s.label)}
      </a>
    </li>
  );
  const signOut = () => {
    clearToken();
    setPhase({ kind: 'signin' });
  };
  const Screen = current?.screen;
  return (
    <SessionContext.Provider value={phase.session}>
      <div class="layout">
        <nav class="sidebar" aria-label={t('nav')}>
          <p class="product">{t('product')}</p>
          <ul>{SCREENS.filter((s) => !s.group).map(link)}</ul>
          <p class="group">{t('program')}</p>
          <ul>{SCREENS.filter((s) => s.group === 'program').map(link)}</ul>
        </nav>
        <div class="content">
          <header class="topbar">
            <span>{t('timezone', { tz: phase.session.calendar.timezone })}</span>
            {phase.session.sub && <span>{t('signedInAs', { sub: phase.session.sub })}</span>}
            {languages}
            <button type="button" onClick={signOut}>
              {t('signOut')}
            </button>
          </header>
          <main>{Screen ? <Screen key={path} args={args} /> : <p class="state error">{t('notFound')}</p>}</main>
        </div>
      </div>
    </SessionContext.Provider>
  );
}
