/** Written by the members screen's author; see docs/CONSOLE.md. */
export function MembersScreen({ args }: { args: string[] }) {
  return <h1>members {args.join('/')}</h1>;
}
