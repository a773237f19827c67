import { useT } from '../../lib/i18n';
import { m } from './messages';

/** Leaves of a record as dotted paths (`after.rewards.referrer.points`), arrays kept whole: what a diff compares. */
function leaves(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, '{}');
    for (const [k, v] of entries) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix || value !== undefined) {
    out.set(prefix || '·', JSON.stringify(value));
  }
  return out;
}

/** What a record changed: each path whose value differs, before → after; then both records whole. */
export function Diff({ before, after }: { before: unknown; after: unknown }) {
  const t = useT(m);
  const a = leaves(before ?? undefined);
  const b = leaves(after ?? undefined);
  const paths = [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p));
  return (
    <div class="audit-diff">
      {paths.length === 0 ? (
        <p class="state">{t('noChange')}</p>
      ) : (
        <table>
          <caption class="sr-only">{t('changes')}</caption>
          <thead>
            <tr>
              <th>{t('field')}</th>
              <th>{t('before')}</th>
              <th>{t('after')}</th>
            </tr>
          </thead>
          <tbody>
            {paths.map((p) => (
              <tr key={p}>
                <td>
                  <code>{p}</code>
                </td>
                <td>
                  <code>{a.get(p) ?? '—'}</code>
                </td>
                <td>
                  <code>{b.get(p) ?? '—'}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <details>
        <summary>{t('whole')}</summary>
        <div class="audit-pair">
          <div>
            <h3>{t('before')}</h3>
            <pre>{JSON.stringify(before, null, 2)}</pre>
          </div>
          <div>
            <h3>{t('after')}</h3>
            <pre>{JSON.stringify(after, null, 2)}</pre>
          </div>
        </div>
      </details>
    </div>
  );
}
