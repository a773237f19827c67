import { useState } from 'preact/hooks';
import { Field, Problem } from '../components/ui';
import { setToken, tokenClaims } from '../lib/auth';
import { messages, useT } from '../lib/i18n';

const m = messages(
  {
    title: 'Sign in to the loyalty console',
    intro: 'Paste an ops token (a JWT with role "ops"). It is kept in this tab only and forgotten when the tab closes.',
    token: 'Ops token',
    signIn: 'Sign in',
    notJwt: 'This does not look like a JWT (three parts separated by dots).',
    notOps: 'This token’s role is "{role}"; the console needs an ops token.',
    expired: 'This token has expired.',
    devHint: 'In development, `npm start` prints a one-click console link with a fresh token.',
  },
  {
    title: '登录积分运营后台',
    intro: '请粘贴运营令牌（role 为 "ops" 的 JWT）。令牌只保存在当前标签页，关闭即失效。',
    token: '运营令牌',
    signIn: '登录',
    notJwt: '这不像是 JWT（应为以点分隔的三段）。',
    notOps: '该令牌的角色是 "{role}"，后台需要运营（ops）令牌。',
    expired: '该令牌已过期。',
    devHint: '开发环境下，`npm start` 会打印带临时令牌的一键登录链接。',
  },
);

/** Sign-in: the service runs no login flow, so the operator brings a token; the first API call proves it. */
export function SignIn({ reason, onSignedIn }: { reason?: string | undefined; onSignedIn: () => void }) {
  const t = useT(m);
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string>();
  const submit = (e: Event) => {
    e.preventDefault();
    const claims = tokenClaims(value.trim());
    if (!claims) return setProblem(t('notJwt'));
    if (claims.role && claims.role !== 'ops') return setProblem(t('notOps', { role: claims.role }));
    if (claims.exp && claims.exp * 1000 < Date.now()) return setProblem(t('expired'));
    setToken(value);
    onSignedIn();
  };
  return (
    <main class="signin">
      <h1>{t('title')}</h1>
      <p>{t('intro')}</p>
      <Problem text={problem ?? reason} />
      <form onSubmit={submit}>
        <Field label={t('token')}>
          <textarea name="token" rows={4} required value={value} onInput={(e) => setValue(e.currentTarget.value)} autocomplete="off" spellcheck={false} />
        </Field>
        <button type="submit" class="primary">
          {t('signIn')}
        </button>
      </form>
      <p>
        <small>{t('devHint')}</small>
      </p>
    </main>
  );
}
