import { useEffect, useState } from 'preact/hooks';
import { ConfirmStep, useIntent } from '../../components/confirm';
import { ErrorBox, Field, Loading, Section, Time } from '../../components/ui';
import { ApiError, call } from '../../lib/api';
import { common } from '../../lib/common.messages';
import { useLoad } from '../../lib/hooks';
import { useT } from '../../lib/i18n';
import { href } from '../../lib/router';
import { useFormat } from '../../lib/session';
import { Editor } from './editor';
import { bodyOf, m, type Benefit } from './messages';
import { Redemptions } from './redemptions';

type Loaded = { benefit: Benefit | null };

/** One benefit: its definition, restock, the editor, and its redemptions. A code not defined yet opens the editor to create it. */
export function BenefitPage({ code }: { code: string }) {
  const t = useT(m);
  const loaded = useLoad(
    () =>
      call<{ benefit: Benefit }>('GET', `/v1/admin/benefits/${encodeURIComponent(code)}`).catch((err: unknown) =>
        err instanceof ApiError && err.status === 404 ? { benefit: null } : Promise.reject(err),
      ) as Promise<Loaded>,
    [code],
  );
  // A save answers the benefit as saved (with its stock left): shown at once, without reloading the page.
  const [saved, setSaved] = useState<Benefit>();
  useEffect(() => setSaved(undefined), [code]);
  const loadedBenefit = loaded.data?.benefit ?? null;
  const benefit = saved && (!loadedBenefit || saved.version >= loadedBenefit.version) ? saved : loadedBenefit;
  return (
    <>
      <p>
        <a href={href('benefits')}>← {t('back')}</a>
      </p>
      <h1>
        {t('title')}: {benefit?.name ?? code}
      </h1>
      {loaded.state === 'loading' && <Loading />}
      {loaded.state === 'error' && <ErrorBox error={loaded.error} retry={loaded.reload} />}
      {loaded.state === 'ready' && <Ready code={code} benefit={benefit} onSaved={setSaved} />}
    </>
  );
}

function Ready({ code, benefit, onSaved }: { code: string; benefit: Benefit | null; onSaved: (b: Benefit) => void }) {
  const t = useT(m);
  return (
    <>
      {benefit ? (
        <>
          <Definition benefit={benefit} />
          <Restock benefit={benefit} onSaved={onSaved} />
        </>
      ) : (
        <p class="state">{t('notDefined', { code })}</p>
      )}
      <Editor key={benefit?.version ?? 0} code={code} benefit={benefit} onSaved={onSaved} />
      {benefit && <Redemptions code={code} />}
    </>
  );
}

function Definition({ benefit: b }: { benefit: Benefit }) {
  const t = useT(m);
  const tc = useT(common);
  const f = useFormat();
  return (
    <Section title={t('definition')}>
      <dl class="facts">
        <dt>{t('code')}</dt>
        <dd>{b.code}</dd>
        <dt>{t('name')}</dt>
        <dd>{b.name}</dd>
        {b.description && (
          <>
            <dt>{t('description')}</dt>
            <dd>{b.description}</dd>
          </>
        )}
        <dt>{t('kind')}</dt>
        <dd>{t(`kind.${b.kind}`)}</dd>
        <dt>{t('cost')}</dt>
        <dd>{f.number(b.costPoints)}</dd>
        <dt>{t('stock')}</dt>
        <dd>{b.stock === null ? t('unlimited') : f.number(b.stock)}</dd>
        <dt>{t('stockLeft')}</dt>
        <dd data-testid="stock-left">{b.stockLeft === null ? t('unlimited') : f.number(b.stockLeft)}</dd>
        <dt>{t('tiers')}</dt>
        <dd>{b.tiers ? b.tiers.join(', ') : t('allTiers')}</dd>
        <dt>{t('perMemberLimit')}</dt>
        <dd>{b.perMemberLimit ? t('limitValue', { count: b.perMemberLimit.count, period: t(`period.${b.perMemberLimit.period}` as 'period.day') }) : tc('none')}</dd>
        <dt>{t('window')}</dt>
        <dd>
          {b.validFrom || b.validTo ? (
            <>
              <Time iso={b.validFrom} /> – <Time iso={b.validTo} />
            </>
          ) : (
            t('always')
          )}
        </dd>
        <dt>{t('voucherDays')}</dt>
        <dd>{b.voucherValidDays === null ? tc('none') : f.number(b.voucherValidDays)}</dd>
        <dt>{t('active')}</dt>
        <dd>{b.active ? tc('yes') : tc('no')}</dd>
        <dt>{t('version')}</dt>
        <dd>{b.version}</dd>
        <dt>{t('created')}</dt>
        <dd>
          <Time iso={b.createdAt} />
        </dd>
        <dt>{t('updated')}</dt>
        <dd>
          <Time iso={b.updatedAt} />
        </dd>
      </dl>
    </Section>
  );
}

/**
 * Restock: the API keeps a benefit's total units (`stock`), so a restock of N saves the definition read fresh with
 * its total plus N; the stock chains move by the difference (docs/BENEFITS.md). A repeat of the same save moves nothing.
 */
function Restock({ benefit, onSaved }: { benefit: Benefit; onSaved: (b: Benefit) => void }) {
  const t = useT(m);
  const f = useFormat();
  const [units, setUnits] = useState('');
  const [done, setDone] = useState<string>();
  const restock = useIntent(
    async (add: number) => {
      const fresh = (await call<{ benefit: Benefit }>('GET', `/v1/admin/benefits/${encodeURIComponent(benefit.code)}`)).benefit;
      const target = benefit.stock! + add;
      // Someone else restocked since the confirm step opened: add on top of theirs, not over it.
      const stock = fresh.stock === null ? target : fresh.stock + (target - benefit.stock!);
      const saved = await call<{ benefit: Benefit }>('PUT', `/v1/admin/benefits/${encodeURIComponent(benefit.code)}`, { body: bodyOf(fresh, stock) });
      setDone(t('restocked', { left: f.number(saved.benefit.stockLeft) }));
      setUnits('');
      onSaved(saved.benefit);
    },
  );
  if (benefit.stock === null) {
    return (
      <Section title={t('restock')}>
        <p class="state">{t('unlimitedNoRestock')}</p>
      </Section>
    );
  }
  const n = Number(units);
  const valid = units !== '' && Number.isInteger(n) && n > 0;
  const add = restock.asked ?? 0;
  return (
    <Section title={t('restock')}>
      {done && (
        <p class="state ok" role="status">
          {done}
        </p>
      )}
      <div class="row">
        <Field label={t('addUnits')}>
          <input type="number" min={1} step={1} value={units} onInput={(e) => setUnits(e.currentTarget.value)} />
        </Field>
        <button type="button" disabled={!valid || restock.asking} onClick={() => (setDone(undefined), restock.ask(n))}>
          {t('restockAsk')}
        </button>
      </div>
      <ConfirmStep intent={restock} label={t('confirmRestock')} role="group">
        {t('restockConfirm', {
          units: f.number(add),
          name: benefit.name,
          before: f.number(benefit.stock),
          after: f.number(benefit.stock + add),
          left: f.number(benefit.stockLeft),
          leftAfter: f.number((benefit.stockLeft ?? 0) + add),
        })}
      </ConfirmStep>
    </Section>
  );
}
