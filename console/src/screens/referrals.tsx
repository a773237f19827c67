import { useT } from '../lib/i18n';
import { m } from './referrals/messages';
import { ReferralList } from './referrals/list';
import { ProgramEditor } from './referrals/program';
import { ReferralPage } from './referrals/referral';

/** `#/referrals`: the review queue, every referral by state and the program; `#/referrals/<invitee>`: one referral. */
export function ReferralsScreen({ args }: { args: string[] }) {
  const t = useT(m);
  const [id] = args;
  if (id) return <ReferralPage key={id} id={id} />;
  return (
    <>
      <h1>{t('title')}</h1>
      <ReferralList />
      <ProgramEditor />
    </>
  );
}
