import { useEffect, useState } from 'preact/hooks';
import { ErrorBox, Loading, Section, Time } from '../../components/ui';
import { call } from '../../lib/api';
import { useT } from '../../lib/i18n';
import { href } from '../../lib/router';
import { useFormat } from '../../lib/session';
import { m, type Grant } from './messages';

const POLL_MS = 1000;

/** Follows a grant's job (GET /v1/admin/benefit-grants/:id) until it is done, a read a second. */
export function GrantProgress({ id }: { id: string }) {
  const t = useT(m);
  const f = useFormat();
  const [grant, setGrant] = useState<Grant>();
  const [error, setError] = useState<Error>();
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = () =>
      call<{ grant: Grant }>('GET', `/v1/admin/benefit-grants/${encodeURIComponent(id)}`).then(
        ({ grant: g }) => {
          if (stopped) return;
          setGrant(g);
          setError(undefined);
          if (g.status === 'running') timer = setTimeout(read, POLL_MS);
        },
        (err: Error) => !stopped && setError(err),
      );
    void read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id, attempt]);

  const skipped = grant ? grant.processed - grant.issued - grant.failed : 0;
  return (
    <Section title={t('progress', { id })}>
      {error && <ErrorBox error={error} retry={() => setAttempt((n) => n + 1)} />}
      {!grant && !error && <Loading />}
      {grant && (
        <>
          <progress max={Math.max(grant.total, 1)} value={grant.total === 0 ? 1 : grant.processed} aria-label={t('progressLabel')} />
          <dl class="facts" aria-live="polite">
            <dt>{t('benefit')}</dt>
            <dd>
              <a href={href('benefits', grant.benefitCode)}>{grant.benefitCode}</a>
            </dd>
            <dt>{t('status')}</dt>
            <dd data-testid="grant-status">{t(grant.status)}</dd>
            <dt>{t('total')}</dt>
            <dd>{f.number(grant.total)}</dd>
            <dt>{t('processed')}</dt>
            <dd>{f.number(grant.processed)}</dd>
            <dt>{t('issued')}</dt>
            <dd>{f.number(grant.issued)}</dd>
            <dt>{t('failed')}</dt>
            <dd>{f.number(grant.failed)}</dd>
            <dt>{t('skipped')}</dt>
            <dd>{f.number(skipped)}</dd>
            {grant.segment && (
              <>
                <dt>{t('segment')}</dt>
                <dd>{t(`seg.${grant.segment}`)}</dd>
              </>
            )}
            {grant.note && (
              <>
                <dt>{t('note')}</dt>
                <dd>{grant.note}</dd>
              </>
            )}
            <dt>{t('started')}</dt>
            <dd>
              <Time iso={grant.createdAt} />
            </dd>
          </dl>
        </>
      )}
    </Section>
  );
}
