/** Written by the dashboard screen's author; see docs/CONSOLE.md. */
export function DashboardScreen({ args }: { args: string[] }) {
  return <h1>dashboard {args.join('/')}</h1>;
}
