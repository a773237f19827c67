/** Written by the grants screen's author; see docs/CONSOLE.md. */
export function GrantsScreen({ args }: { args: string[] }) {
  return <h1>grants {args.join('/')}</h1>;
}
