/** Written by the rules screen's author; see docs/CONSOLE.md. */
export function RulesScreen({ args }: { args: string[] }) {
  return <h1>rules {args.join('/')}</h1>;
}
