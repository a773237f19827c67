/** Written by the checkins screen's author; see docs/CONSOLE.md. */
export function CheckinsScreen({ args }: { args: string[] }) {
  return <h1>checkins {args.join('/')}</h1>;
}
