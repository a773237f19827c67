/** Written by the tasks screen's author; see docs/CONSOLE.md. */
export function TasksScreen({ args }: { args: string[] }) {
  return <h1>tasks {args.join('/')}</h1>;
}
