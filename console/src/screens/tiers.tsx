/** Written by the tiers screen's author; see docs/CONSOLE.md. */
export function TiersScreen({ args }: { args: string[] }) {
  return <h1>tiers {args.join('/')}</h1>;
}
