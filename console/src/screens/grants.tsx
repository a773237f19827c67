import { useT } from '../lib/i18n';
import { m } from './grants/messages';
import { GrantProgress } from './grants/progress';
import { SegmentPreview } from './grants/segment';
import { StartGrant } from './grants/start';

/** `#/grants`: start a grant and preview a segment; `#/grants/<id>`: also follow that grant until it is done. */
export function GrantsScreen({ args }: { args: string[] }) {
  const t = useT(m);
  const [id] = args;
  return (
    <>
      <h1>{t('title')}</h1>
      {id && <GrantProgress key={id} id={id} />}
      <StartGrant key={id ?? 'new'} />
      <SegmentPreview />
    </>
  );
}
