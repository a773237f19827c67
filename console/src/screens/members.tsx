import { useState } from 'preact/hooks';
import { Field, Section } from '../components/ui';
import { useT } from '../lib/i18n';
import { navigate } from '../lib/router';
import { m } from './members/messages';
import { Profile } from './members/profile';

/** Members: find one by id (`#/members/<id>`), then its profile, balances, history, adjustments and status. */
export function MembersScreen({ args }: { args: string[] }) {
  const t = useT(m);
  const id = args[0];
  const [query, setQuery] = useState(id ?? '');
  const submit = (e: Event) => {
    e.preventDefault();
    const wanted = query.trim();
    if (wanted) navigate('members', wanted);
  };
  return (
    <div class="members">
      <h1>{id ? t('member', { id }) : t('title')}</h1>
      <Section title={t('search')}>
        <form class="row" role="search" onSubmit={submit}>
          <Field label={t('memberId')}>
            <input type="search" name="memberId" required value={query} onInput={(e) => setQuery(e.currentTarget.value)} autocomplete="off" />
          </Field>
          <button type="submit" class="primary">
            {t('find')}
          </button>
        </form>
        {!id && <p class="state empty">{t('searchHint')}</p>}
      </Section>
      {id && <Profile key={id} memberId={id} />}
    </div>
  );
}
