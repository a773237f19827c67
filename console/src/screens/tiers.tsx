import { useEffect, useState } from 'preact/hooks';
import { ConfirmStep, useIntent } from '../components/confirm';
import { Refusal } from '../components/editing';
import { ErrorBox, Loading, Problem, Section, Time } from '../components/ui';
import { ApiError, call } from '../lib/api';
import { useLoad } from '../lib/hooks';
import { useT } from '../lib/i18n';
import { useFormat } from '../lib/session';
import { bodyOf, draftOf, type Draft, type Ladder, type Preview } from './tiers/ladder';
import { LadderEditor } from './tiers/ladder-editor';
import { m } from './tiers/messages';

/** Members per tier today under the saved ladder (the preview with no body); none while no ladder is set. */
const currentCounts = () =>
  call<Preview>('POST', '/v1/admin/tiers/preview', { body: {} }).catch((err: Error) => {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  });

/**
 * The tier ladder (#/tiers): the saved ladder with its members per tier, an editor, a what-if preview of the edit
 * against today's members, and a save that is allowed only once the exact edit was previewed.
 */
export function TiersScreen(_: { args: string[] }) {
  const t = useT(m);
  const ladder = useLoad(() => call<{ ladder: Ladder }>('GET', '/v1/tiers').then((r) => r.ladder), []);
  const version = ladder.data?.version;
  const counts = useLoad(currentCounts, [version]);
  const [draft, setDraft] = useState<Draft>();
  const [preview, setPreview] = useState<{ of: string; result: Preview }>();
  const [previewing, setPreviewing] = useState(false);
  const [previewError, setPreviewError] = useState<Error>();
  const [savedVersion, setSavedVersion] = useState<number>();
  useEffect(() => {
    if (ladder.data) setDraft(draftOf(ladder.data));
  }, [version]);

  const built = draft ? bodyOf(draft) : undefined;
  const body = built?.ok ? built.body : undefined;
  const fingerprint = body ? JSON.stringify(body) : '';
  const previewed = preview !== undefined && preview.of === fingerprint;
  const save = useIntent(
    (asked: unknown) => call<{ ladder: Ladder }>('PUT', '/v1/admin/tiers', { body: asked }),
    (saved) => {
      setSavedVersion(saved.ladder.version);
      setPreview(undefined);
      ladder.reload();
    },
    { closeOnRefusal: true },
  );
  const runPreview = () => {
    if (!body) return;
    setPreviewing(true);
    setPreviewError(undefined);
    // A new preview starts over: a refusal of the last save was about another draft.
    save.cancel();
    call<Preview>('POST', '/v1/admin/tiers/preview', { body: { ladder: body } }).then(
      (result) => {
        setPreview({ of: fingerprint, result });
        setPreviewing(false);
      },
      (err: Error) => {
        setPreview(undefined);
        setPreviewing(false);
        setPreviewError(err);
      },
    );
  };

  if (ladder.state === 'loading' || (ladder.state === 'ready' && !draft)) return <Loading />;
  if (ladder.state === 'error') return <ErrorBox error={ladder.error} retry={ladder.reload} />;
  const edit = (next: Draft) => {
    setDraft(next);
    setSavedVersion(undefined);
  };
  return (
    <>
      <h1>{t('title')}</h1>
      <CurrentLadder ladder={ladder.data} counts={counts.state === 'ready' ? counts.data : null} countsError={counts.error} />
      <Section
        title={t('editor')}
        actions={
          <button type="button" onClick={() => edit(draftOf(ladder.data))}>
            {t('reset')}
          </button>
        }
      >
        <LadderEditor draft={draft!} onChange={edit} />
        <Problem text={built && !built.ok ? built.error : undefined} />
        <Refusal error={previewError ?? save.error} />
        <div class="row tiers-actions">
          <button type="button" disabled={!body || previewing} onClick={runPreview}>
            {previewing ? t('previewing') : t('preview')}
          </button>
          <button type="button" class="primary" disabled={!previewed || save.busy} onClick={() => body && save.ask(body)}>
            {t('saveLadder')}
          </button>
          {!previewed && <span class="state">{preview ? t('stale') : t('previewFirst')}</span>}
          {savedVersion !== undefined && (
            <span class="state ok" role="status">
              {t('savedVersion', { version: savedVersion })}
            </span>
          )}
        </div>
        <ConfirmStep intent={save} label={t('saveLadder')}>
          {t('confirmSave')}
        </ConfirmStep>
      </Section>
      {preview && <PreviewTable preview={preview.result} now={counts.data ?? null} codes={draft!.tiers.map((r) => r.code.trim())} />}
    </>
  );
}

function CurrentLadder({ ladder, counts, countsError }: { ladder: Ladder; counts: Preview | null; countsError: Error | undefined }) {
  const t = useT(m);
  const f = useFormat();
  return (
    <Section title={t('current')}>
      {ladder.version === 0 ? (
        <p class="state empty">{t('noLadder')}</p>
      ) : (
        <>
          <p>
            {t('version', { version: ladder.version })}
            <Time iso={ladder.updatedAt} />
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('code')}</th>
                <th scope="col">{t('name')}</th>
                <th scope="col" class="num">{t('threshold')}</th>
                <th scope="col" class="num">{t('keepThreshold')}</th>
                <th scope="col" class="num">{t('earnMultiplier')}</th>
                <th scope="col" class="num">{t('membersToday')}</th>
              </tr>
            </thead>
            <tbody>
              {ladder.tiers.map((tier) => (
                <tr key={tier.code}>
                  <td>{tier.code}</td>
                  <td>{tier.name}</td>
                  <td class="num">{f.number(tier.threshold)}</td>
                  <td class="num">{f.number(tier.keepThreshold ?? tier.threshold)}</td>
                  <td class="num">×{tier.earnMultiplier ?? 1}</td>
                  <td class="num">{counts ? f.number(counts.counts[tier.code] ?? 0) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {countsError && <ErrorBox error={countsError} />}
    </Section>
  );
}

/** Members per tier today: the saved ladder's beside the edited one's, for every code either ladder has. */
function PreviewTable({ preview, now, codes }: { preview: Preview; now: Preview | null; codes: string[] }) {
  const t = useT(m);
  const f = useFormat();
  const all = [...codes, ...Object.keys(now?.counts ?? {}).filter((c) => !codes.includes(c))];
  return (
    <Section title={t('previewTitle')}>
      <p>{t('previewIntro', { members: f.number(preview.members) })}</p>
      <table class="tiers-preview">
        <thead>
          <tr>
            <th scope="col">{t('tier')}</th>
            <th scope="col" class="num">{t('nowCount')}</th>
            <th scope="col" class="num">{t('previewCount')}</th>
            <th scope="col" class="num">{t('change')}</th>
          </tr>
        </thead>
        <tbody>
          {all.map((code) => {
            const before = now?.counts[code];
            const after = preview.counts[code];
            const diff = (after ?? 0) - (before ?? 0);
            return (
              <tr key={code}>
                <th scope="row">{code}</th>
                <td class="num">{before === undefined ? '—' : f.number(before)}</td>
                <td class="num">{after === undefined ? t('notInLadder') : f.number(after)}</td>
                <td class="num">{diff > 0 ? `+${f.number(diff)}` : f.number(diff)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Section>
  );
}
