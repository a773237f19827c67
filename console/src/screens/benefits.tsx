/** Written by the benefits screen's author; see docs/CONSOLE.md. */
export function BenefitsScreen({ args }: { args: string[] }) {
  return <h1>benefits {args.join('/')}</h1>;
}
