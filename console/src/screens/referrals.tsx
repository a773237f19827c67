/** Written by the referrals screen's author; see docs/CONSOLE.md. */
export function ReferralsScreen({ args }: { args: string[] }) {
  return <h1>referrals {args.join('/')}</h1>;
}
